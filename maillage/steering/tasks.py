"""Tasks of the steering app, run by the task worker (``manage.py db_worker``, django-tasks).

``export_job_run`` prepares one document (``maillage.steering.documents``) and records its progress
on the ``ExportJob``, which the page polls. Each progress step is its own short write, committed at
once (the worker runs in autocommit), so that the page sees it while the document is rendered.
"""

import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django_tasks import task

from maillage.steering import documents
from maillage.steering.enums import ExportState
from maillage.steering.models import ExportJob

logger = logging.getLogger(__name__)


def _progress(job: ExportJob, percent: int) -> None:
    job.progress = max(0, min(100, percent))
    ExportJob.objects.filter(pk=job.pk).update(progress=job.progress, updated_at=timezone.now())


@task()
def export_job_run(job_id: str) -> str:
    """Prepare the document of job ``job_id``; returns its final state.

    A failure is recorded on the job with a French message the page shows (the exception goes to
    the log, never to the page: it could carry anything). Jobs already finished are left alone, so a
    task run twice prepares the document once.
    """
    from maillage.steering.services import EXPORT_FAILED_ERROR, export_jobs_purge

    claimed = ExportJob.objects.filter(pk=job_id, state=ExportState.QUEUED).update(
        state=ExportState.RUNNING, progress=5, started_at=timezone.now(), updated_at=timezone.now()
    )
    if not claimed:
        return "skipped"
    job = ExportJob.objects.select_related("programme", "network_level").get(pk=job_id)
    try:
        # Rendering only reads; each progress step commits on its own, for the page to see it.
        with translation.override(job.parameters.get("language") or settings.LANGUAGE_CODE):
            rendered = documents.render(job, lambda percent: _progress(job, percent))
        _progress(job, 90)
        with transaction.atomic():
            job.file.save(rendered.filename, ContentFile(rendered.content), save=False)
            job.filename = rendered.filename
            job.rows = rendered.rows
            job.size = len(rendered.content)
            job.summary = rendered.payload
            job.state = ExportState.DONE
            job.progress = 100
            job.finished_at = timezone.now()
            job.save(
                update_fields=[
                    "file",
                    "filename",
                    "size",
                    "rows",
                    "summary",
                    "state",
                    "progress",
                    "finished_at",
                    "updated_at",
                ]
            )
    except Exception:
        logger.exception("Export job %s (%s) failed", job_id, job.kind)
        if job.file:
            job.file.delete(save=False)
        ExportJob.objects.filter(pk=job_id).update(
            state=ExportState.FAILED,
            error=str(EXPORT_FAILED_ERROR),
            file="",
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        return ExportState.FAILED
    # Files past their retention go as new ones are made (also done by ``apply_retention``).
    export_jobs_purge()
    return ExportState.DONE
