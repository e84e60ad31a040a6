"""« Mes orientations » (the referrer's own, state only) and « Orientations » (the programme's list)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from maillage.audit.models import AuditEvent
from maillage.pathways.services import pathway_close
from maillage.programmes.enums import ListKind, Role
from maillage.referrals import services
from maillage.referrals.enums import ReferralState
from maillage.referrals.models import Referral
from tests.factories import MembershipFactory
from tests.www.referrals.helpers import CONTEXT, SENTINEL, item, make_referral, text_of

pytestmark = pytest.mark.django_db

ALL_ROLES = list(Role.values)
LIST_ROLES = {Role.COORDINATOR, Role.REFERENT}


def shown(response) -> list[int]:
    return [referral.pk for referral in response.context["page_obj"]]


# --- « Mes orientations » -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_my_referrals_open_only_to_referrers(client, login_as, journey_programme, role):
    membership = login_as(role, programme=journey_programme)
    make_referral(journey_programme, by=membership.user)

    response = client.get(reverse("referrals:mine"))

    if role == Role.REFERRER:
        assert response.status_code == 200
        assert "Inès Q." in text_of(response)
    else:
        assert response.status_code == 404
        assert "Inès" not in text_of(response)


def test_a_referrer_sees_their_own_referrals_and_no_one_elses(client, login_as, journey_programme):
    membership = login_as(Role.REFERRER, programme=journey_programme)
    mine = make_referral(journey_programme, by=membership.user, child_first_name="Noé")
    make_referral(journey_programme, child_first_name="Zéphyr")  # another referrer's

    response = client.get(reverse("referrals:mine"))

    assert shown(response) == [mine.pk]
    assert "Zéphyr" not in text_of(response)


def test_my_referrals_show_first_name_initial_date_and_state_never_the_context(
    client, login_as, journey_programme
):
    membership = login_as(Role.REFERRER, programme=journey_programme)
    make_referral(journey_programme, by=membership.user)

    body = text_of(client.get(reverse("referrals:mine")))

    assert "Inès Q." in body
    assert SENTINEL not in body
    assert CONTEXT not in body
    assert timezone.localdate().strftime("%d/%m/%Y") in body
    assert "Transmise, en attente d'examen" in body


def test_the_referrer_follows_the_state_up_to_the_end_of_the_pathway(client, login_as, journey_programme):
    membership = login_as(Role.REFERRER, programme=journey_programme)
    coordinator = MembershipFactory(programme=journey_programme, role=Role.COORDINATOR).user
    referral = make_referral(journey_programme, by=membership.user, school=journey_programme.rep_school)
    url = reverse("referrals:mine")

    def status() -> str:
        return text_of(client.get(url))

    assert "Transmise, en attente d'examen" in status()
    services.referral_transition(referral=referral, to_state=ReferralState.UNDER_REVIEW, by=coordinator)
    assert "En cours d'examen par la coordination" in status()
    pathway = services.referral_accept(referral=referral, by=coordinator)
    assert "Acceptée — Parcours en cours" in status()
    pathway_close(
        pathway=pathway,
        exit_reason=item(journey_programme, ListKind.EXIT_REASON, "refus_famille"),
        closed_on=timezone.localdate(),
        by=coordinator,
        note="Famille partie sans laisser d'adresse",
    )
    body = status()
    assert "Acceptée — Parcours terminé" in body
    # Nothing else of the pathway: neither its code, nor its exit reason, nor the decision's context.
    assert pathway.case_code not in body
    assert "Refus de la famille" not in body
    assert "sans laisser d'adresse" not in body
    assert CONTEXT not in body


@pytest.mark.parametrize(
    ("to_state", "label"),
    [
        (ReferralState.DECLINED, "Non retenue"),
        (ReferralState.REDIRECTED, "Réorientée vers un autre partenaire"),
    ],
)
def test_a_decision_shows_as_a_state_without_its_reason(client, login_as, journey_programme, to_state, label):
    membership = login_as(Role.REFERRER, programme=journey_programme)
    coordinator = MembershipFactory(programme=journey_programme, role=Role.COORDINATOR).user
    referral = make_referral(journey_programme, by=membership.user)
    services.referral_transition(
        referral=referral,
        to_state=to_state,
        by=coordinator,
        reason="Motif-interne",
        redirected_to="CMP-interne",
    )

    body = text_of(client.get(reverse("referrals:mine")))

    assert label in body
    assert "Motif-interne" not in body
    assert "CMP-interne" not in body


def test_a_referrer_without_referrals_is_told_what_the_page_will_show(client, login_as, journey_programme):
    login_as(Role.REFERRER, programme=journey_programme)

    body = text_of(client.get(reverse("referrals:mine")))

    assert "Aucune orientation pour le moment" in body
    assert reverse("referrals:new") in body


def test_my_referrals_are_journaled_one_entry_per_row(client, login_as, journey_programme):
    membership = login_as(Role.REFERRER, programme=journey_programme)
    referrals = [make_referral(journey_programme, by=membership.user) for _ in range(3)]

    client.get(reverse("referrals:mine"))

    events = AuditEvent.objects.filter(verb="referral.listed_own", actor=membership.user)
    assert sorted(int(e.target_id) for e in events) == sorted(r.pk for r in referrals)


def _count_queries(client, url, params=None) -> int:
    client.get(url, params or {})  # warm-up: one-off rows (the journal's chain head after a flush)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def _bulk_referrals(programme, by, count):
    """``count`` referrals, faster than the service (the query count is what is measured)."""
    first = make_referral(programme, by=by)
    motifs = list(first.motifs.all())
    rows = []
    for index in range(count - 1):
        rows.append(
            Referral(
                programme=programme,
                submitted_by=by,
                referrer_type=first.referrer_type,
                referrer_organisation=first.referrer_organisation,
                child_first_name=f"Enfant{index}",
                child_last_name="Martin",
                child_birth_date=first.child_birth_date,
                child_sex="M",
                school=programme.rep_school,
                guardian_name="Parent Martin",
                family_informed=True,
                state=[ReferralState.SUBMITTED, ReferralState.ACCEPTED][index % 2],
            )
        )
    created = Referral.objects.bulk_create(rows)
    through = Referral.motifs.through
    through.objects.bulk_create(
        [through(referral_id=r.pk, listitem_id=m.pk) for r in created for m in motifs]
    )


@pytest.mark.parametrize("page", ["mine", "list"])
def test_list_pages_run_the_same_number_of_queries_for_5_and_200_rows(
    client, login_as, journey_programme, page
):
    role = Role.REFERRER if page == "mine" else Role.COORDINATOR
    membership = login_as(role, programme=journey_programme)
    url = reverse(f"referrals:{page}")
    _bulk_referrals(journey_programme, membership.user, 5)
    few = _count_queries(client, url)
    _bulk_referrals(journey_programme, membership.user, 195)
    many = _count_queries(client, url)
    assert len(client.get(url).context["page_obj"].object_list) == 25

    assert few == many


def test_the_programme_list_with_filters_runs_the_same_number_of_queries(client, login_as, journey_programme):
    membership = login_as(Role.COORDINATOR, programme=journey_programme)
    url = reverse("referrals:list")
    params = {"q": "martin", "motif": item(journey_programme, ListKind.REFERRAL_MOTIF, "absenteisme").pk}
    _bulk_referrals(journey_programme, membership.user, 5)
    few = _count_queries(client, url, params)
    _bulk_referrals(journey_programme, membership.user, 195)

    assert _count_queries(client, url, params) == few


# --- « Orientations » (coordination and référents) ----------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_programme_list_opens_to_coordinators_and_referents_only(
    client, login_as, journey_programme, role
):
    membership = login_as(role, programme=journey_programme)
    make_referral(journey_programme, by=membership.user if role == Role.REFERRER else None)

    response = client.get(reverse("referrals:list"))

    if role in LIST_ROLES:
        assert response.status_code == 200
        assert SENTINEL.upper() in text_of(response)
    else:
        assert response.status_code == 404
        assert SENTINEL.upper() not in text_of(response).upper()


def test_without_the_signed_charter_the_list_shows_no_name(client, login_as, journey_programme):
    login_as(Role.COORDINATOR, programme=journey_programme, signed_charter=False)
    make_referral(journey_programme)

    response = client.get(reverse("referrals:list"))

    assert response.status_code == 200
    # The charter gate answers instead: the charter and its sign button, never the file.
    assert "programmes/charter.html" in [t.name for t in response.templates]
    assert SENTINEL.upper() not in text_of(response).upper()


def test_the_list_shows_motifs_referrer_state_and_waiting_time(client, login_as, journey_programme):
    login_as(Role.COORDINATOR, programme=journey_programme)
    referral = make_referral(
        journey_programme,
        motifs=[
            item(journey_programme, ListKind.REFERRAL_MOTIF, "absenteisme"),
            item(journey_programme, ListKind.REFERRAL_MOTIF, "sante"),
        ],
    )
    Referral.objects.filter(pk=referral.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=12))

    body = text_of(client.get(reverse("referrals:list")))

    assert f"{SENTINEL.upper()} Inès" in body
    assert "Absentéisme, Santé" in body
    assert "École, collège ou lycée" in body
    assert "Transmise" in body
    assert "en attente depuis 12 jours" in body
    assert reverse("referrals:detail", args=[referral.pk]) in body


def test_a_decided_referral_shows_how_long_the_decision_took(client, login_as, journey_programme):
    membership = login_as(Role.COORDINATOR, programme=journey_programme)
    referral = make_referral(journey_programme)
    Referral.objects.filter(pk=referral.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=5))
    services.referral_transition(
        referral=referral, to_state=ReferralState.DECLINED, by=membership.user, reason="Hors secteur"
    )

    assert "décidée en 5 jours" in text_of(client.get(reverse("referrals:list")))


def test_referrals_waiting_for_a_decision_come_first(client, login_as, journey_programme):
    membership = login_as(Role.COORDINATOR, programme=journey_programme)
    waiting = make_referral(journey_programme, child_first_name="Ancienne")
    Referral.objects.filter(pk=waiting.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=3))
    decided = make_referral(journey_programme, child_first_name="Récente")
    services.referral_transition(
        referral=decided, to_state=ReferralState.DECLINED, by=membership.user, reason="Hors secteur"
    )

    assert shown(client.get(reverse("referrals:list"))) == [waiting.pk, decided.pk]


@pytest.fixture
def varied_referrals(journey_programme):
    programme = journey_programme
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR).user
    helene = make_referral(
        programme,
        child_first_name="Hélène",
        child_last_name="Le Gall",
        motifs=[item(programme, ListKind.REFERRAL_MOTIF, "sante")],
        referrer_type=item(programme, ListKind.REFERRER_TYPE, "pmi"),
    )
    jean = make_referral(
        programme,
        child_first_name="Jean-Édouard",
        child_last_name="D'Arc",
        motifs=[item(programme, ListKind.REFERRAL_MOTIF, "comportement")],
    )
    services.referral_transition(referral=jean, to_state=ReferralState.UNDER_REVIEW, by=coordinator)
    return {"helene": helene.pk, "jean": jean.pk}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "helene"}, ["helene"]),
        ({"q": "LE-GALL"}, ["helene"]),
        ({"q": "jean edouard d'arc"}, ["jean"]),
        ({"q": "martin"}, []),
        ({"state": "under_review"}, ["jean"]),
        ({"state": "submitted"}, ["helene"]),
        ({"motif": ("referral_motif", "comportement")}, ["jean"]),
        ({"referrer_type": ("referrer_type", "pmi")}, ["helene"]),
        ({"q": "helene", "state": "under_review"}, []),
    ],
)
def test_the_list_is_searched_by_normalised_name_and_filtered(
    client, login_as, journey_programme, varied_referrals, params, expected
):
    login_as(Role.COORDINATOR, programme=journey_programme)
    query = {
        key: item(journey_programme, *value).pk if isinstance(value, tuple) else value
        for key, value in params.items()
    }

    response = client.get(reverse("referrals:list"), query)

    assert sorted(shown(response)) == sorted(varied_referrals[name] for name in expected)
    if not expected:
        assert "Aucune orientation ne correspond à cette recherche" in text_of(response)


def test_the_list_is_paged_by_25(client, login_as, journey_programme):
    membership = login_as(Role.COORDINATOR, programme=journey_programme)
    _bulk_referrals(journey_programme, membership.user, 30)

    first = client.get(reverse("referrals:list"))
    second = client.get(reverse("referrals:list"), {"page": 2})

    assert len(shown(first)) == 25
    assert len(shown(second)) == 5
    assert not set(shown(first)) & set(shown(second))


def test_the_list_journals_one_entry_per_referral_shown(client, login_as, journey_programme):
    membership = login_as(Role.COORDINATOR, programme=journey_programme)
    _bulk_referrals(journey_programme, membership.user, 30)

    response = client.get(reverse("referrals:list"))

    events = AuditEvent.objects.filter(verb="referral.listed", actor=membership.user)
    assert sorted(int(e.target_id) for e in events) == sorted(shown(response))
    assert all(e.programme_id == journey_programme.pk for e in events)


def test_the_list_never_shows_referrals_of_another_programme(
    client, login_as, journey_programme, other_journey_programme
):
    login_as(Role.COORDINATOR, programme=journey_programme)
    make_referral(other_journey_programme, child_last_name="Zéphyrine-Isolée")

    for params in ({}, {"q": "zephyrine"}):
        response = client.get(reverse("referrals:list"), params)
        assert shown(response) == []
        assert "Zéphyrine" not in text_of(response)


def test_an_empty_list_explains_where_referrals_come_from(client, login_as, journey_programme):
    login_as(Role.REFERENT, programme=journey_programme)

    assert "Aucune orientation pour le moment" in text_of(client.get(reverse("referrals:list")))


MENU = {
    "Orienter un enfant": {Role.REFERRER, Role.COORDINATOR},
    "Mes orientations": {Role.REFERRER},
    "Orientations": {Role.COORDINATOR, Role.REFERENT},
}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_menu_offers_the_referral_pages_to_the_roles_that_may_open_them(
    client, login_as, journey_programme, role
):
    login_as(role, programme=journey_programme)

    labels = {entry["label"] for entry in client.get(reverse("home")).context["navigation"]}

    assert {label for label, roles in MENU.items() if role in roles} == labels & set(MENU)


def test_the_fiche_entry_is_the_current_one_on_the_fiche(client, login_as, journey_programme):
    login_as(Role.COORDINATOR, programme=journey_programme)

    navigation = client.get(reverse("referrals:new")).context["navigation"]

    assert [str(entry["label"]) for entry in navigation if entry["current"]] == ["Orienter un enfant"]
