"""The journal search: the DPO and the coordinator read who did what, when, on which file."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from maillage import permissions as perms
from maillage.audit import queries
from maillage.audit.models import AuditEvent
from maillage.audit.services import record
from maillage.pathways import services
from maillage.pathways.enums import Circle
from maillage.programmes.enums import Role
from tests.factories import ChildFactory, MembershipFactory, open_pathway
from tests.www.journal.conftest import CHILD_LAST_NAME, client_for, text_of

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
SEARCH = reverse("journal:search")


def _view_pathway(user, pathway):
    assert client_for(user).get(reverse("pathways:detail", args=[pathway.pk])).status_code == 200


def _rows(response) -> list:
    return response.context["rows"]


@pytest.mark.parametrize("who", ["coordinator", "dpo"])
def test_the_coordinator_and_the_dpo_read_the_journal_of_their_programme(world, who):
    _view_pathway(world.referent.user, world.pathway)

    response = client_for(getattr(world, who).user).get(SEARCH)

    assert response.status_code == 200
    consulted = [row for row in _rows(response) if row.verb == "pathway.viewed"]
    assert len(consulted) == 1
    row = consulted[0]
    assert row.organisation == "Association Trait d'Union"
    assert row.role == "Référent·e de parcours"
    assert row.verb_label == "Consultation d'un parcours"
    assert row.target == f"Parcours — situation {world.pathway.case_code}"
    body = text_of(response)
    assert "Consultation d'un parcours" in body
    assert world.pathway.case_code in body


@pytest.mark.parametrize("role", [r for r in Role.values if r not in {Role.COORDINATOR, Role.DPO}])
def test_other_roles_get_a_404(world, role):
    member = MembershipFactory(programme=world.programme, role=role)
    assert client_for(member.user).get(SEARCH).status_code == 404


def test_no_entry_of_another_programme_is_shown(world):
    _view_pathway(world.foreign_coordinator.user, world.foreign_pathway)

    response = client_for(world.coordinator.user).get(SEARCH)

    programmes = {row.event.programme_id for row in _rows(response)}
    assert programmes == {world.programme.pk}
    assert world.foreign_pathway.case_code not in text_of(response)


def test_the_journal_never_names_the_child_nor_shows_what_was_written(world):
    secret = "Texte-de-note-confidentiel sur la santé de la mère"
    services.note_add(
        pathway=world.pathway,
        body=secret,
        by=world.coordinator.user,
        circle=Circle.TEAM,
        membership=world.coordinator,
    )
    _view_pathway(world.coordinator.user, world.pathway)

    for who in (world.coordinator, world.dpo):
        body = text_of(client_for(who.user).get(SEARCH))
        assert "Ajout d'une note" in body
        assert secret not in body
        assert CHILD_LAST_NAME not in body.upper() and CHILD_LAST_NAME not in body


def test_the_circles_shown_and_whether_the_name_was_shown_are_listed(world):
    services.note_add(
        pathway=world.pathway,
        body="Note",
        by=world.coordinator.user,
        circle=Circle.TEAM,
        membership=world.coordinator,
    )
    _view_pathway(world.coordinator.user, world.pathway)

    response = client_for(world.dpo.user).get(SEARCH, {"verb": "pathway.viewed"})

    (row,) = _rows(response)
    assert row.circles == ["Équipe"]
    assert row.identity is True
    body = text_of(response)
    assert "Cercles affichés : Équipe" in body
    assert "Nom de l'enfant affiché" in body


def test_the_coordinator_finds_a_childs_entries_by_name(world):
    _view_pathway(world.coordinator.user, world.pathway)
    _view_pathway(world.coordinator.user, world.other_pathway)
    coordinator = client_for(world.coordinator.user)
    coordinator.get(reverse("people:household", args=[world.child.household_id]))
    coordinator.get(reverse("people:child", args=[world.child.pk]))

    response = client_for(world.coordinator.user).get(SEARCH, {"child": "sentinelle journal"})

    targets = {(row.event.target_type, row.event.target_id) for row in _rows(response)}
    assert ("pathways.pathway", str(world.pathway.pk)) in targets
    assert ("people.household", str(world.child.household_id)) in targets
    assert ("people.child", str(world.child.pk)) in targets
    assert ("pathways.pathway", str(world.other_pathway.pk)) not in targets
    assert "1 enfant correspond à cette recherche." in text_of(response)


@pytest.mark.parametrize("who", ["dpo", "coordinator"])
@pytest.mark.parametrize(
    "text",
    ["Sentinelle-Journal", "sentinelle journal", "PHILOMENE", "philomène", "Philomene SENTINELLE-journal"]
    + ["journal philomène", "  sentinelle  "],
)
def test_the_dpo_and_the_coordinator_find_a_child_by_name_whatever_the_case_and_accents(world, who, text):
    _view_pathway(world.coordinator.user, world.pathway)
    _view_pathway(world.coordinator.user, world.other_pathway)

    response = client_for(getattr(world, who).user).get(SEARCH, {"child": text})

    pathways = {row.event.target_id for row in _rows(response) if row.event.target_type == "pathways.pathway"}
    assert pathways == {str(world.pathway.pk)}
    assert "1 enfant correspond à cette recherche." in text_of(response)
    assert CHILD_LAST_NAME not in text_of(response).replace(f'value="{text}"', "")


@pytest.mark.parametrize("who", ["dpo", "coordinator"])
def test_a_child_of_the_same_name_in_another_programme_is_never_matched(world, who):
    namesake = ChildFactory(programme=world.elsewhere, first_name="Philomène", last_name=CHILD_LAST_NAME)
    foreign = open_pathway(programme=world.elsewhere, by=world.foreign_coordinator.user, child=namesake)
    _view_pathway(world.foreign_coordinator.user, foreign)
    _view_pathway(world.coordinator.user, world.pathway)

    for text in ("Philomène Sentinelle-Journal", "sentinelle", foreign.case_code):
        response = client_for(getattr(world, who).user).get(SEARCH, {"child": text})
        targets = {(row.event.target_type, row.event.target_id) for row in _rows(response)}
        assert ("pathways.pathway", str(foreign.pk)) not in targets
        assert ("people.child", str(namesake.pk)) not in targets
        assert namesake.pk not in [
            child.pk for child in queries.children_matching(getattr(world, who).user, text)
        ]
    # The foreign programme's own coordinator finds their child, and not ours.
    found = queries.children_matching(world.foreign_coordinator.user, "philomene sentinelle")
    assert list(found.values_list("pk", flat=True)) == [namesake.pk]


def test_the_dpo_finds_a_child_by_case_code(world):
    _view_pathway(world.coordinator.user, world.pathway)
    by_code = client_for(world.dpo.user).get(SEARCH, {"child": world.pathway.case_code.lower()})
    assert {row.event.target_id for row in _rows(by_code) if row.event.target_type == "pathways.pathway"} == {
        str(world.pathway.pk)
    }


def test_a_name_that_matches_no_child_finds_nothing(world):
    _view_pathway(world.coordinator.user, world.pathway)
    response = client_for(world.dpo.user).get(SEARCH, {"child": "Sentinelle Inconnue"})
    assert _rows(response) == []
    assert "Aucune entrée ne correspond" in text_of(response)


def test_a_case_code_of_another_programme_finds_nothing(world):
    _view_pathway(world.foreign_coordinator.user, world.foreign_pathway)

    response = client_for(world.coordinator.user).get(SEARCH, {"child": world.foreign_pathway.case_code})

    assert _rows(response) == []


def test_filter_by_the_professionals_email(world):
    _view_pathway(world.referent.user, world.pathway)
    _view_pathway(world.coordinator.user, world.pathway)

    response = client_for(world.dpo.user).get(SEARCH, {"email": "referente.nommee", "verb": "pathway.viewed"})

    assert [row.event.actor_id for row in _rows(response)] == [world.referent.user.pk]
    assert "referente.nommee@exemple.test" in text_of(response)


def test_dates_are_days_in_paris_time(world):
    # 23:30 UTC on 31 March is 1 April 01:30 in Paris (summer time).
    late = datetime.datetime(2026, 3, 31, 23, 30, tzinfo=datetime.UTC)
    with time_machine.travel(late, tick=False):
        record(
            verb="pathway.viewed", actor=world.referent.user, target=world.pathway, membership=world.referent
        )
    dpo = client_for(world.dpo.user)

    on_first = dpo.get(SEARCH, {"date_from": "2026-04-01", "date_to": "2026-04-01"})
    on_31st = dpo.get(SEARCH, {"date_from": "2026-03-31", "date_to": "2026-03-31"})

    assert [row.occurred_at for row in _rows(on_first)] == [late.astimezone(PARIS)]
    assert _rows(on_31st) == []
    assert "01/04/2026 01:30" in text_of(on_first)


def test_an_end_date_before_the_start_date_is_refused_with_a_message(world):
    response = client_for(world.dpo.user).get(SEARCH, {"date_from": "2026-04-02", "date_to": "2026-04-01"})

    assert response.status_code == 200
    assert _rows(response) == []
    assert "La date de fin doit être postérieure ou égale à la date de début." in text_of(response)


def test_the_verb_filter_offers_every_known_verb_in_french(world):
    response = client_for(world.dpo.user).get(SEARCH, {"verb": "break_glass.opened"})

    choices = dict(response.context["form"].fields["verb"].choices)
    assert choices["break_glass.opened"] == "Accès exceptionnel à un dossier (motif obligatoire)"
    assert choices["child.viewed"] == "Consultation de la fiche d'un enfant"
    assert response.context["form"].is_valid()


def test_an_unknown_verb_is_a_form_error_not_a_crash(world):
    response = client_for(world.dpo.user).get(SEARCH, {"verb": "drop.table"})

    assert response.status_code == 200
    assert not response.context["form"].is_valid()


def test_reading_the_journal_is_journaled(world):
    client_for(world.dpo.user).get(SEARCH, {"email": "referente", "verb": "pathway.viewed"})

    entry = AuditEvent.objects.filter(verb="journal.searched").get()
    assert entry.actor == world.dpo.user
    assert entry.role == Role.DPO
    assert entry.programme == world.programme
    assert entry.payload["filters"] == {"email": "referente", "verb": "pathway.viewed"}


def test_a_search_naming_one_child_is_journaled_against_that_child(world):
    client_for(world.coordinator.user).get(SEARCH, {"child": world.pathway.case_code})

    entry = AuditEvent.objects.filter(verb="journal.searched").get()
    assert (entry.target_type, entry.target_id) == ("people.child", str(world.child.pk))
    assert CHILD_LAST_NAME not in str(entry.payload)  # the ids, never the typed name


def test_results_are_paginated(world):
    for _ in range(55):
        record(
            verb="pathway.viewed", actor=world.referent.user, target=world.pathway, membership=world.referent
        )
    dpo = client_for(world.dpo.user)

    first = dpo.get(SEARCH, {"verb": "pathway.viewed"})
    second = dpo.get(SEARCH, {"verb": "pathway.viewed", "page": 2})

    assert len(_rows(first)) == 50
    assert len(_rows(second)) == 5
    assert "55 entrées" in text_of(first)


def _queries(client, params) -> int:
    client.get(SEARCH, params)  # warm-up: one-off rows (the journal's chain head after a flush)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(SEARCH, params).status_code == 200
    return len(captured)


def test_the_search_runs_in_constant_queries(world):
    dpo = client_for(world.dpo.user)
    dpo.get(SEARCH)  # warm the session
    targets = [world.pathway, world.child, world.child.household]
    for target in targets:
        record(verb="pathway.viewed", actor=world.referent.user, target=target, membership=world.referent)
    few = _queries(dpo, {"child": world.pathway.case_code})
    for _ in range(10):
        for target in targets:
            record(verb="pathway.viewed", actor=world.referent.user, target=target, membership=world.referent)
    many = _queries(dpo, {"child": world.pathway.case_code})

    assert few == many


def test_only_the_coordinator_and_the_dpo_who_signed_the_charter_may_read_the_journal(world):
    unsigned_dpo = MembershipFactory(programme=world.programme, role=Role.DPO, signed_charter=False)

    assert perms.can_read_journal(world.coordinator.user, world.programme)
    assert perms.can_read_journal(world.dpo.user, world.programme)
    assert not perms.can_read_journal(world.referent.user, world.programme)
    assert not perms.can_read_journal(unsigned_dpo.user, world.programme)
    assert not perms.can_read_journal(world.foreign_coordinator.user, world.programme)
