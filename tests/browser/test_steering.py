"""The steering dashboard in a browser (issue 8): an elected member of the comité de pilotage opens
it, reads suppressed counts next to the charts, and the page passes axe; so does the barometer form."""

import datetime

import pytest
from django.urls import reverse

from maillage.pathways.models import Pathway
from maillage.programmes.enums import Role
from maillage.steering import services
from tests.browser.helpers import axe_check, force_login
from tests.factories import ChildFactory, MembershipFactory, programme_with_lists

pytestmark = pytest.mark.browser


@pytest.fixture
def programme(transactional_db):
    programme = programme_with_lists(name="PRE de Villeneuve-sur-Lot")
    for index in range(9):
        child = ChildFactory(
            programme=programme, sex="F" if index < 3 else "M", in_priority_area=index % 2 == 0
        )
        Pathway.objects.create(
            programme=programme, child=child, case_code=f"VSL-{index}", opened_on=datetime.date.today()
        )
    return programme


def test_an_elected_member_reads_a_suppressed_accessible_dashboard(page, live_server, programme):
    elected = MembershipFactory(programme=programme, role=Role.STEERING)
    force_login(page, live_server, elected.user)
    page.goto(live_server.url + reverse("steering:dashboard"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Tableau de bord")
    assert page.locator("svg[role='img']").count() > 3
    sex = page.locator("#indicator-children_by_sex table")
    assert "< 5" in sex.inner_text()
    axe_check(page)


def test_a_partner_answers_the_barometer_in_an_accessible_form(page, live_server, programme):
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    barometer = services.open_barometer_round(
        programme=programme, title="Baromètre 2026", by=coordinator.user
    )
    partner = MembershipFactory(programme=programme, role=Role.REFERRER)
    force_login(page, live_server, partner.user)
    page.goto(live_server.url + reverse("steering:barometer_answer", args=[barometer.pk]))
    axe_check(page)


def test_the_comite_pack_is_prepared_in_the_background_with_a_progress_bar_that_updates_itself(
    page, live_server, programme
):
    """« Préparer le document »: the page shows an accessible progress bar; the worker prepares the
    pack; the page's script sees it, announces it and shows the download, without a reload."""
    from tests.steering.prepared import run_worker

    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    force_login(page, live_server, coordinator.user)
    page.goto(live_server.url + reverse("steering:copil"))
    page.get_by_role("button", name="Préparer le document").click()
    page.wait_for_url(f"**{reverse('steering:copil_pdf')}")
    progress = page.get_by_role("progressbar")
    assert progress.count() == 1
    axe_check(page)
    page.evaluate("window.__notReloaded = true")
    run_worker()
    download = page.get_by_role("link", name="Télécharger")
    download.wait_for(timeout=15_000)
    assert page.evaluate("window.__notReloaded") is True  # swapped in place by the script
    assert page.locator("#export-job-announce").inner_text() == "Le document est prêt."
    assert page.evaluate("document.activeElement.id") == "export-job-download"
    with page.expect_download() as event:
        download.click()
    assert event.value.suggested_filename.startswith("comite-de-pilotage-")
    axe_check(page)
