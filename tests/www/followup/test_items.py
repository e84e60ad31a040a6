"""The follow-up: contacts, notes and bilans, each in a circle its author chose."""

import datetime

import pytest

from maillage.audit.models import AuditEvent
from maillage.pathways import services
from maillage.pathways.enums import Circle, ObjectiveStatus, Rating, ReviewKind
from maillage.pathways.models import Contact, Note, Objective, Pathway, Review, ReviewRating
from maillage.pathways.services import JourneyError
from tests.factories import MembershipFactory
from tests.www.followup.conftest import TODAY, detail, url

pytestmark = pytest.mark.django_db

YESTERDAY = (TODAY - datetime.timedelta(days=1)).isoformat()
TOMORROW = (TODAY + datetime.timedelta(days=1)).isoformat()


def _circle_values(response) -> list[str]:
    page = response.content.decode()
    return [c for c in Circle.values if f'name="circle" value="{c}"' in page]


# --- contacts --------------------------------------------------------------------------------------


def test_a_contact_is_logged_in_the_team_circle_by_default(world):
    page = world.client("referent").get(url("contact_add", world.pathway)).content.decode()
    assert 'value="team" dsfr="dsfr" id="id_circle_0" required checked' in page
    assert "Vous (référent·e du parcours) et la coordination du programme." in page

    response = world.client("referent").post(
        url("contact_add", world.pathway),
        {
            "kind": "home_visit",
            "occurred_on": YESTERDAY,
            "duration_minutes": "45",
            "participants": "La mère, la référente",
            "summary": "Point sur les devoirs du soir.",
            "circle": "team",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == detail(world.pathway, "suivi")
    contact = Contact.objects.get()
    assert (contact.kind, contact.duration_minutes, contact.circle) == ("home_visit", 45, Circle.TEAM)
    assert contact.summary == "Point sur les devoirs du soir."
    assert contact.author == world.referent.user
    assert Pathway.objects.get(pk=world.pathway.pk).last_contact_on.isoformat() == YESTERDAY
    assert AuditEvent.objects.filter(verb="contact.added").latest("pk").payload["circle"] == "team"


def test_a_contact_in_the_future_is_refused(world):
    response = world.client("referent").post(
        url("contact_add", world.pathway), {"kind": "phone", "occurred_on": TOMORROW, "circle": "team"}
    )

    assert response.status_code == 200
    assert "La date du contact ne peut pas être dans le futur." in response.content.decode()
    assert not Contact.objects.exists()


def test_the_case_team_teacher_logs_a_contact_in_the_circles_open_to_them(world):
    response = world.client("teacher").get(url("contact_add", world.pathway))
    # A teacher is not bound by professional secrecy: the secret circle is not theirs to write in.
    assert _circle_values(response) == ["team", "partners"]
    assert "(référent·e du parcours)" in response.content.decode()

    world.client("teacher").post(
        url("contact_add", world.pathway),
        {
            "kind": "school_meeting",
            "occurred_on": YESTERDAY,
            "summary": "Rencontre avec la mère.",
            "circle": "partners",
        },
    )

    contact = Contact.objects.get()
    assert (contact.author, contact.circle) == (world.teacher.user, Circle.PARTNERS)


# --- notes -----------------------------------------------------------------------------------------


def test_a_note_is_written_in_the_chosen_circle(world):
    response = world.client("coordinator").post(
        url("note_add", world.pathway), {"body": "La famille déménage en juin.", "circle": "secret"}
    )

    assert response.status_code == 302
    assert response["Location"] == detail(world.pathway, "suivi")
    note = Note.objects.get()
    assert (note.body, note.circle, note.health_related) == (
        "La famille déménage en juin.",
        Circle.SECRET,
        False,
    )
    assert AuditEvent.objects.filter(verb="note.added").latest("pk").payload == {
        "note": note.pk,
        "circle": "secret",
    }


def test_a_health_note_never_goes_to_the_partners(world):
    response = world.client("referent").post(
        url("note_add", world.pathway),
        {"body": "Suivi orthophonique.", "health_related": "on", "circle": "partners"},
    )

    assert response.status_code == 200
    assert "Une information de santé ne peut pas être partagée au-delà du secret partagé." in (
        response.content.decode()
    )
    assert 'href="#id_circle_0"' in response.content.decode()
    assert not Note.objects.exists()

    world.client("referent").post(
        url("note_add", world.pathway),
        {"body": "Suivi orthophonique.", "health_related": "on", "circle": "secret"},
    )
    assert Note.objects.get().health_related is True


def test_the_case_team_teacher_writes_a_note(world):
    world.client("teacher").post(
        url("note_add", world.pathway), {"body": "Cahier oublié trois fois.", "circle": "team"}
    )

    assert Note.objects.get().author == world.teacher.user


def test_a_member_who_refuses_the_shared_secret_writes_notes_for_the_team_only(world):
    refusing = MembershipFactory(
        programme=world.pathway.programme, role="referent", bound_by_secrecy=True, refuses_shared_secret=True
    )
    services.referent_assign(pathway=world.pathway, referent=refusing.user, by=world.coordinator.user)
    world.refusing = refusing

    response = world.client("refusing").get(url("note_add", world.pathway))
    assert _circle_values(response) == ["team"]
    for circle in ("secret", "partners"):
        world.client("refusing").post(url("note_add", world.pathway), {"body": "Note.", "circle": circle})
    assert not Note.objects.exists()

    world.client("refusing").post(url("note_add", world.pathway), {"body": "Note.", "circle": "team"})
    assert Note.objects.get().circle == Circle.TEAM


def test_an_empty_note_is_refused(world):
    response = world.client("referent").post(url("note_add", world.pathway), {"body": "", "circle": "team"})

    assert "Écrivez la note." in response.content.decode()
    assert not Note.objects.exists()


def test_a_refusal_of_the_rules_is_shown_on_the_note_form(world, monkeypatch):
    def refuse(**kwargs):
        raise JourneyError(
            "Vous avez refusé le secret partagé : vos écrits restent dans le cercle de l'équipe."
        )

    monkeypatch.setattr(services, "note_add", refuse)

    response = world.client("referent").post(
        url("note_add", world.pathway), {"body": "Note.", "circle": "secret"}
    )

    assert response.status_code == 200
    assert "vos écrits restent dans le cercle" in response.content.decode()
    assert not Note.objects.exists()


# --- bilans ----------------------------------------------------------------------------------------


@pytest.fixture
def objectives(world):
    return [
        services.objective_add(
            pathway=world.pathway, dimension=dimension, wording=wording, by=world.referent.user
        )
        for dimension, wording in [
            ("school", "Lire couramment"),
            ("sport_leisure", "S'inscrire au club de judo"),
        ]
    ]


def _review_data(objectives, **extra):
    data = {"kind": "intermediate", "held_on": YESTERDAY, "summary": "Des progrès nets.", "circle": "team"}
    for objective, rating in zip(objectives, [Rating.PARTLY, Rating.REACHED], strict=True):
        data[f"rating_{objective.pk}"] = rating
        data[f"comment_{objective.pk}"] = f"Commentaire sur {objective.wording}"
    return {**data, **extra}


def test_an_intermediate_bilan_rates_every_objective(world, objectives):
    response = world.client("referent").post(url("review_add", world.pathway), _review_data(objectives))

    assert response.status_code == 302
    assert response["Location"] == detail(world.pathway, "bilans")
    review = Review.objects.get()
    assert (review.kind, review.circle, review.summary) == (
        ReviewKind.INTERMEDIATE,
        Circle.TEAM,
        "Des progrès nets.",
    )
    ratings = {r.objective_id: (r.rating, r.comment) for r in ReviewRating.objects.all()}
    assert ratings == {
        objectives[0].pk: ("partly", "Commentaire sur Lire couramment"),
        objectives[1].pk: ("reached", "Commentaire sur S'inscrire au club de judo"),
    }
    # An intermediate bilan leaves the objectives open and sets the next one.
    assert set(Objective.objects.values_list("status", flat=True)) == {ObjectiveStatus.OPEN}
    assert Pathway.objects.get(pk=world.pathway.pk).next_review_on is not None
    assert AuditEvent.objects.filter(verb="review.added").exists()


def test_a_bilan_must_rate_every_objective(world, objectives):
    data = _review_data(objectives)
    del data[f"rating_{objectives[1].pk}"]

    response = world.client("referent").post(url("review_add", world.pathway), data)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Évaluez cet objectif." in page
    assert f'href="#id_rating_{objectives[1].pk}_0"' in page
    assert not Review.objects.exists()
    assert not ReviewRating.objects.exists()


def test_a_final_bilan_sets_the_state_of_each_objective(world, objectives):
    world.client("coordinator").post(url("review_add", world.pathway), _review_data(objectives, kind="final"))

    assert Review.objects.get().kind == ReviewKind.FINAL
    assert [o.status for o in Objective.objects.order_by("pk")] == ["partly", "reached"]


def test_a_bilan_in_the_future_is_refused(world, objectives):
    response = world.client("referent").post(
        url("review_add", world.pathway), _review_data(objectives, held_on=TOMORROW)
    )

    assert "La date du bilan ne peut pas être dans le futur." in response.content.decode()
    assert not Review.objects.exists()


def test_the_case_team_teacher_may_write_an_intermediate_bilan_but_not_a_final_one(world, objectives):
    page = world.client("teacher").get(url("review_add", world.pathway)).content.decode()
    assert 'value="final"' not in page

    world.client("teacher").post(url("review_add", world.pathway), _review_data(objectives, kind="final"))
    assert not Review.objects.exists()

    world.client("teacher").post(
        url("review_add", world.pathway), _review_data(objectives, circle="partners")
    )
    review = Review.objects.get()
    assert (review.kind, review.author, review.circle) == (
        ReviewKind.INTERMEDIATE,
        world.teacher.user,
        Circle.PARTNERS,
    )
    assert set(Objective.objects.values_list("status", flat=True)) == {ObjectiveStatus.OPEN}


def test_a_bilan_without_objectives_says_it_covers_the_summary_only(world):
    page = world.client("referent").get(url("review_add", world.pathway)).content.decode()

    assert "ce bilan ne portera que sur la synthèse" in page
