"""The steering documents prepared by the task worker: who asks for them, who downloads them, the
progress the page shows, reuse of a job, failures and their retry, the journal, the retention."""

import datetime
import io
import json

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from maillage.audit.models import AuditEvent
from maillage.programmes.enums import Role
from maillage.programmes.models import NetworkLevel
from maillage.steering import documents, services
from maillage.steering.enums import ExportKind, ExportState
from maillage.steering.models import ExportJob
from maillage.steering.tasks import export_job_run
from tests.factories import ChildFactory, MembershipFactory, open_pathway, programme_with_lists
from tests.steering.prepared import prepared, request_document, run_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme():
    programme = programme_with_lists()
    for _ in range(3):
        open_pathway(
            programme=programme, child=ChildFactory(programme=programme, last_name="SENTINEL-Quillebœuf")
        )
    return programme


def _download(client, job):
    return client.get(reverse("steering:export_download", args=[job.pk]))


def _status(client, job):
    return client.get(reverse("steering:export_status", args=[job.pk]))


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- who asks, who downloads ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.MANAGER, Role.STEERING])
def test_the_roles_that_exported_the_documents_prepare_and_download_them(client, login_as, programme, role):
    login_as(role, programme=programme)
    pack = prepared(client, "steering:copil_pdf")
    assert pack["Content-Type"] == "application/pdf"
    assert "attachment" in pack["Content-Disposition"] and pack["X-Content-Type-Options"] == "nosniff"
    assert "Chiffres clés" in _pdf_text(pack.content)
    book = load_workbook(io.BytesIO(prepared(client, "steering:anct").content))
    assert book.sheetnames == ["Structure", "Financement", "Bénéficiaires", "Processus"]


@pytest.mark.parametrize("role", [Role.DPO, Role.EPS_MEMBER])
def test_a_role_reading_dashboards_without_the_export_right_gets_403_as_before(
    client, login_as, programme, role
):
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    client.force_login(coordinator.user)
    job = request_document(client, "steering:copil_pdf")
    run_worker()
    client.logout()
    login_as(role, programme=programme)
    if client.get(reverse("steering:dashboard")).status_code != 200:
        pytest.skip(f"{role} opens no dashboard here")
    for name in ("steering:copil_pdf", "steering:anct"):
        assert client.get(reverse(name)).status_code == 403, name
        assert client.post(reverse(name)).status_code == 403, name
    assert _status(client, job).status_code == 403
    assert _download(client, job).status_code == 403
    assert ExportJob.objects.count() == 1


@pytest.mark.parametrize("role", [Role.REFERENT, Role.REFERRER, Role.PROVIDER])
def test_a_role_without_dashboards_gets_404_and_cannot_follow_a_job(client, login_as, programme, role):
    client.force_login(MembershipFactory(programme=programme, role=Role.COORDINATOR).user)
    job = request_document(client, "steering:copil_pdf")
    run_worker()
    client.logout()
    login_as(role, programme=programme)
    for name in (
        "steering:copil_pdf",
        "steering:anct",
        "steering:network_anct",
        "steering:structuring_export",
    ):
        assert client.post(reverse(name)).status_code == 404, name
    assert _status(client, job).status_code == 404
    assert _download(client, job).status_code == 404


def test_a_job_of_programme_a_is_not_downloadable_by_a_member_of_programme_b(client, programme):
    other = programme_with_lists()
    client.force_login(MembershipFactory(programme=programme, role=Role.STEERING).user)
    job = request_document(client, "steering:copil_pdf")
    run_worker()
    assert _download(client, job).status_code == 200
    client.logout()
    client.force_login(MembershipFactory(programme=other, role=Role.COORDINATOR).user)
    assert _status(client, job).status_code == 404
    assert _download(client, job).status_code == 404
    # Their own page shows no job of programme A, and preparing theirs makes a job of their own.
    assert client.get(reverse("steering:copil_pdf")).context["job"] is None
    mine = request_document(client, "steering:copil_pdf")
    assert mine.pk != job.pk and mine.programme_id == other.pk


def test_a_member_whose_membership_ended_can_no_longer_download_the_job_they_asked_for(client, programme):
    membership = MembershipFactory(programme=programme, role=Role.STEERING)
    client.force_login(membership.user)
    job = request_document(client, "steering:anct")
    run_worker()
    assert _download(client, job).status_code == 200
    membership.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    membership.save(update_fields=["ends_on"])
    response = _download(client, job)
    assert response.status_code in (302, 404)  # signed out (no membership left), or not found
    assert "Content-Disposition" not in response


def test_the_coordinators_exact_workbook_is_not_served_to_a_suppressed_audience(client, programme):
    """The ANCT workbook of the coordinator has exact small counts: another job, and only an
    audience seeing exact counts downloads it; the steering member gets their own, suppressed."""
    client.force_login(MembershipFactory(programme=programme, role=Role.COORDINATOR).user)
    exact = request_document(client, "steering:anct")
    assert exact.parameters["suppressed"] is False
    run_worker()
    client.logout()
    client.force_login(MembershipFactory(programme=programme, role=Role.STEERING).user)
    assert _download(client, exact).status_code == 404
    assert _status(client, exact).status_code == 404
    suppressed = request_document(client, "steering:anct")
    assert suppressed.pk != exact.pk and suppressed.parameters["suppressed"] is True


def test_the_network_prepares_its_consolidated_exports_and_another_level_cannot_take_them(client):
    level = NetworkLevel.objects.create(name="GIP de test", kind="intercommunal")
    first = programme_with_lists(network_level=level)
    second = programme_with_lists(network_level=level)
    elsewhere = programme_with_lists(
        network_level=NetworkLevel.objects.create(name="Autre", kind="intercommunal")
    )
    client.force_login(MembershipFactory(programme=first, role=Role.NETWORK).user)
    workbook = load_workbook(io.BytesIO(prepared(client, "steering:network_anct").content))
    names = {row[2] for row in workbook["Structure"].iter_rows(min_row=2, values_only=True)}
    assert {first.name, second.name} <= names and elsewhere.name not in names
    table = load_workbook(io.BytesIO(prepared(client, "steering:structuring_export").content))
    assert sorted(row[0] for row in table.active.iter_rows(min_row=2, values_only=True)) == sorted(
        [first.name, second.name]
    )
    jobs = list(ExportJob.objects.filter(network_level=level))
    assert {job.kind for job in jobs} == {ExportKind.NETWORK_ANCT_XLSX, ExportKind.STRUCTURING_XLSX}
    client.logout()
    client.force_login(MembershipFactory(programme=elsewhere, role=Role.NETWORK).user)
    for job in jobs:
        assert _status(client, job).status_code == 404
        assert _download(client, job).status_code == 404
    client.logout()
    # The coordinator of a programme the level sums is not the network: no network job for them.
    client.force_login(MembershipFactory(programme=first, role=Role.COORDINATOR).user)
    for job in jobs:
        assert _download(client, job).status_code == 404


# --- one job per document ----------------------------------------------------------------------------


def test_a_second_request_reuses_the_job_being_prepared_whoever_asks(client, programme):
    client.force_login(MembershipFactory(programme=programme, role=Role.COORDINATOR).user)
    first = request_document(client, "steering:copil_pdf")
    assert first.state == ExportState.QUEUED
    again = request_document(client, "steering:copil_pdf")
    client.logout()
    client.force_login(MembershipFactory(programme=programme, role=Role.STEERING).user)
    theirs = request_document(client, "steering:copil_pdf")  # the pack is suppressed for everyone
    assert first.pk == again.pk == theirs.pk
    assert ExportJob.objects.count() == 1
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.count() == 1


def test_other_parameters_make_another_job(client, programme):
    client.force_login(MembershipFactory(programme=programme, role=Role.COORDINATOR).user)
    this_year = request_document(client, "steering:copil_pdf")
    last_year = request_document(
        client, "steering:copil_pdf", {"kind": "school", "year": str(this_year.parameters["year"] - 1)}
    )
    assert this_year.pk != last_year.pk
    assert last_year.parameters["year"] == this_year.parameters["year"] - 1


def test_a_finished_document_is_offered_again_and_prepared_afresh_on_demand(client, programme):
    client.force_login(MembershipFactory(programme=programme, role=Role.COORDINATOR).user)
    job = request_document(client, "steering:copil_pdf")
    run_worker()
    page = client.get(reverse("steering:copil_pdf"))
    assert page.context["job"].pk == job.pk
    body = page.content.decode()
    assert "Le document est prêt" in body and reverse("steering:export_download", args=[job.pk]) in body
    assert "Préparer à nouveau" in body
    assert request_document(client, "steering:copil_pdf").pk == job.pk  # same document, minutes later
    fresh = request_document(client, "steering:copil_pdf", fresh="1")
    assert fresh.pk != job.pk and fresh.state == ExportState.QUEUED
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):
        run_worker()
        later = request_document(client, "steering:copil_pdf")
    assert later.pk == fresh.pk  # the fresh one is the latest finished


def test_a_task_run_twice_prepares_the_document_once(client, programme):
    client.force_login(MembershipFactory(programme=programme, role=Role.COORDINATOR).user)
    job = request_document(client, "steering:anct")
    run_worker()
    job.refresh_from_db()
    name = job.file.name
    assert export_job_run.call(str(job.pk)) == "skipped"
    job.refresh_from_db()
    assert job.file.name == name and job.state == ExportState.DONE


# --- progress, failure, retry -----------------------------------------------------------------------------


def test_the_page_shows_an_accessible_progress_bar_that_refreshes_by_itself(client, programme):
    client.force_login(MembershipFactory(programme=programme, role=Role.COORDINATOR).user)
    page = client.get(reverse("steering:copil_pdf"))
    assert page.context["job"] is None
    assert "Préparer le document" in page.content.decode()
    response = client.post(reverse("steering:copil_pdf"))
    body = client.get(response["Location"]).content.decode()
    assert '<progress id="export-job-progress"' in body and 'aria-labelledby="export-job-label"' in body
    assert 'aria-live="polite"' in body
    assert "steering/export_job.js" in body  # polls the status
    assert "Actualiser" in body  # without JavaScript
    assert "Préparer le document" not in body  # nothing to ask for while it is prepared


def test_the_status_endpoint_says_the_state_and_progress_then_the_download(client, programme):
    client.force_login(MembershipFactory(programme=programme, role=Role.COORDINATOR).user)
    job = request_document(client, "steering:copil_pdf")
    data = json.loads(_status(client, job).content)
    assert data["state"] == "queued" and data["progress"] == 0 and data["download_url"] == ""
    assert "export-job-progress" in data["html"]
    ExportJob.objects.filter(pk=job.pk).update(state=ExportState.RUNNING, progress=40)
    data = json.loads(_status(client, job).content)
    assert (data["state"], data["progress"], data["label"]) == ("running", 40, "En préparation")
    ExportJob.objects.filter(pk=job.pk).update(state=ExportState.QUEUED, progress=0)
    run_worker()
    response = _status(client, job)
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["state"] == "done" and data["progress"] == 100
    assert data["download_url"] == reverse("steering:export_download", args=[job.pk])
    assert data["label"] == "Le document est prêt."
    assert "Télécharger" in data["html"]


def test_the_status_endpoint_runs_the_same_number_of_queries_whatever_the_number_of_jobs(client, programme):
    client.force_login(MembershipFactory(programme=programme, role=Role.STEERING).user)
    job = request_document(client, "steering:copil_pdf")
    _status(client, job)  # warm the session

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert _status(client, job).status_code == 200
        return len(queries)

    # At one instant: the session's activity is written at most once a minute, and not in both counts.
    instant = timezone.now()
    with time_machine.travel(instant, tick=False):
        before = count()
    for year in range(2015, 2025):
        services.export_job_request(
            kind=ExportKind.COPIL_PDF,
            programme=programme,
            parameters={"period_kind": "school", "year": year, "language": "fr"},
            by=None,
        )
    run_worker()
    job.refresh_from_db()
    ExportJob.objects.filter(pk=job.pk).update(state=ExportState.QUEUED)
    assert ExportJob.objects.count() == 11
    with time_machine.travel(instant, tick=False):
        assert count() == before


def test_a_failed_preparation_says_so_in_french_and_offers_a_retry(client, programme, monkeypatch):
    client.force_login(MembershipFactory(programme=programme, role=Role.COORDINATOR).user)

    def broken(job, step):
        step(30)
        raise RuntimeError("WeasyPrint exploded")

    monkeypatch.setitem(documents.RENDERERS, ExportKind.COPIL_PDF, broken)
    job = request_document(client, "steering:copil_pdf")
    run_worker()
    job.refresh_from_db()
    assert job.state == ExportState.FAILED and not job.file
    assert job.error.startswith("La préparation du document a échoué")
    data = json.loads(_status(client, job).content)
    assert data["state"] == "failed" and "a échoué" in data["error"] and "exploded" not in data["html"]
    body = client.get(reverse("steering:copil_pdf")).content.decode()
    assert "pas pu être préparé" in body and "Relancer la préparation" in body
    assert "WeasyPrint" not in body
    assert _download(client, job).status_code == 404
    monkeypatch.undo()
    retry = request_document(client, "steering:copil_pdf")
    assert retry.pk != job.pk and retry.state == ExportState.QUEUED
    run_worker()
    retry.refresh_from_db()
    assert retry.ready
    assert _download(client, retry).status_code == 200


def test_a_job_left_pending_by_a_stopped_worker_is_shown_failed_and_can_be_retried(client, programme):
    client.force_login(MembershipFactory(programme=programme, role=Role.COORDINATOR).user)
    job = request_document(client, "steering:anct")
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=31))
    data = json.loads(_status(client, job).content)
    assert data["state"] == "failed" and "temps prévu" in data["error"]
    assert "Relancer la préparation" in client.get(reverse("steering:anct")).content.decode()
    retry = request_document(client, "steering:anct")
    assert retry.pk != job.pk
    job.refresh_from_db()
    assert job.state == ExportState.FAILED


# --- the journal ------------------------------------------------------------------------------------


def test_the_download_is_journaled_as_the_synchronous_export_was(client, programme):
    membership = MembershipFactory(programme=programme, role=Role.STEERING)
    client.force_login(membership.user)
    job = request_document(client, "steering:copil_pdf")
    requested = AuditEvent.objects.get(verb="steering.export_requested")
    assert requested.actor_id == membership.user_id and requested.programme_id == programme.pk
    run_worker()
    assert not AuditEvent.objects.filter(verb="export.copil_pack").exists()  # prepared is not downloaded
    response = _download(client, job)
    event = AuditEvent.objects.get(verb="export.copil_pack")
    assert event.actor_id == membership.user_id and event.programme_id == programme.pk
    assert event.membership_id == membership.pk
    job.refresh_from_db()
    assert event.payload["rows"] == job.rows > 0
    assert event.payload["format"] == "pdf" and event.payload["filename"] == job.filename
    assert job.filename in response["Content-Disposition"]
    assert event.payload["suppressed"] is True and event.payload["period"] == job.summary["period"]
    assert event.payload["job"] == str(job.pk)
    _download(client, job)
    assert AuditEvent.objects.filter(verb="export.copil_pack").count() == 2  # each download


def test_the_network_download_is_journaled_on_the_level(client):
    level = NetworkLevel.objects.create(name="GIP de test", kind="intercommunal")
    first = programme_with_lists(network_level=level)
    client.force_login(MembershipFactory(programme=first, role=Role.NETWORK).user)
    prepared(client, "steering:network_anct")
    event = AuditEvent.objects.get(verb="export.anct_survey")
    assert event.target_type.endswith("networklevel") and event.target_id == str(level.pk)
    assert event.payload["programmes"] == 1 and event.payload["suppressed"] is True


# --- retention ---------------------------------------------------------------------------------------


def test_prepared_files_are_deleted_after_their_retention(client, programme, settings):
    settings.MAILLAGE_EXPORT_RETENTION_DAYS = 7
    client.force_login(MembershipFactory(programme=programme, role=Role.COORDINATOR).user)
    job = request_document(client, "steering:anct")
    run_worker()
    job.refresh_from_db()
    storage, name = job.file.storage, job.file.name
    assert storage.exists(name) and name.startswith("exports/")
    with time_machine.travel(timezone.now() + datetime.timedelta(days=6)):
        assert services.export_jobs_purge() == 0
    out = io.StringIO()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        call_command("apply_retention", "--dry-run", stdout=out)
        assert "Prepared documents: 1 deleted" in out.getvalue()
        assert storage.exists(name)
        call_command("apply_retention", stdout=out)
    assert not storage.exists(name)
    assert not ExportJob.objects.filter(pk=job.pk).exists()
    assert _download(client, job).status_code == 404
