"""Documents prepared by the task worker, in tests: request → worker → download, for real.

``run_worker`` runs django-tasks-db's own worker (``manage.py db_worker --batch``: every queued task,
then exit) in the test's process and transaction. Two things only are held back: the worker's
``close_old_connections`` (inside the test's transaction autocommit is off, and Django would close
the connection, losing the test's data) and the signal handlers it installs (restored after).
"""

import signal
from unittest import mock
from urllib.parse import urlencode

from django.core.management import call_command
from django.urls import reverse

from maillage.steering.models import ExportJob

_SIGNALS = [signal.SIGINT, signal.SIGTERM, *([signal.SIGQUIT] if hasattr(signal, "SIGQUIT") else [])]


def run_worker() -> None:
    handlers = {number: signal.getsignal(number) for number in _SIGNALS}
    try:
        with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
            call_command(
                "db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0", verbosity=0
            )
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


def document_url(url_name: str, query: dict | None = None) -> str:
    return reverse(url_name) + (f"?{urlencode(query)}" if query else "")


def request_document(client, url_name: str, query: dict | None = None, **post) -> ExportJob:
    """« Préparer le document » on the document's page: the job it shows afterwards."""
    url = document_url(url_name, query)
    response = client.post(url, post)
    assert response.status_code == 302, f"{url_name}: {response.status_code}"
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.context["job"]


def prepared(client, url_name: str, query: dict | None = None):
    """The document as the old synchronous view served it: asked for, prepared by the worker, then
    downloaded (the response of the download view)."""
    job = request_document(client, url_name, query)
    run_worker()
    job.refresh_from_db()
    assert job.ready, f"{url_name}: {job.state} {job.error}"
    response = client.get(reverse("steering:export_download", args=[job.pk]))
    assert response.status_code == 200, f"{url_name}: download {response.status_code}"
    return response
