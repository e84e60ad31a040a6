"""Plan objectives, plan actions and decision texts carry a circle (design/CONFIDENTIALITY.md).

The teacher (EPS member, not bound by secrecy) in the access window sees that the plan has an
objective — its state and dates — never the text of one outside the ``partners`` circle; the
bound social worker, covered by the family's consent, reads the ``secret`` ones; nobody but the
team reads a ``team`` one.
"""

import html

import pytest
from django.test import Client
from django.urls import reverse

from maillage import permissions as perms
from maillage.governance import services as governance
from maillage.pathways import documents
from maillage.pathways import services as journey
from maillage.pathways.enums import Circle, Dimension
from maillage.pathways.models import Objective, PlanAction
from maillage.programmes.enums import Role
from tests.factories import MembershipFactory, OrganisationFactory, programme_with_lists
from tests.governance.helpers import eps_world
from tests.pathways.test_documents import pdf_text

pytestmark = pytest.mark.django_db

SECRET_OBJECTIVE = "Rencontrer le CMP avec sa mère"
SECRET_ACTION = "Consultations au centre Pivoine"
SECRET_PROVIDER = "Centre médico-psychologique Pivoine"
SECRET_FREQUENCY = "Un mercredi sur deux à 14h"
TEAM_OBJECTIVE = "Apurer la dette de loyer avec la CAF"
PARTNERS_OBJECTIVE = "Soutien en lecture, mardi et jeudi"
PARTNERS_ACTION = "Aide aux devoirs Lire et Grandir"
SECRET_DECISION = "Décision-secret : orientation vers le CMP Pivoine"
PLACEHOLDER = "Objectif (contenu réservé)"
ACTION_PLACEHOLDER = "Action (contenu réservé)"
HIDDEN = [SECRET_OBJECTIVE, SECRET_ACTION, SECRET_PROVIDER, SECRET_FREQUENCY, TEAM_OBJECTIVE]


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def client_for(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.fixture
def world():
    programme = programme_with_lists()
    world = eps_world(programme)
    pathway, by = world["pathway"], world["coordinator"].user
    cmp = OrganisationFactory(programme=programme, name=SECRET_PROVIDER)
    secret = journey.objective_add(
        pathway=pathway,
        dimension=Dimension.PSYCHOLOGICAL,
        wording=SECRET_OBJECTIVE,
        by=by,
        circle=Circle.SECRET,
    )
    journey.plan_action_add(
        pathway=pathway,
        title=SECRET_ACTION,
        by=by,
        objective=secret,
        provider=cmp,
        frequency=SECRET_FREQUENCY,
        circle=Circle.SECRET,
    )
    journey.objective_add(pathway=pathway, dimension=Dimension.FAMILY, wording=TEAM_OBJECTIVE, by=by)
    partners = journey.objective_add(
        pathway=pathway, dimension=Dimension.SCHOOL, wording=PARTNERS_OBJECTIVE, by=by, circle=Circle.PARTNERS
    )
    journey.plan_action_add(
        pathway=pathway, title=PARTNERS_ACTION, by=by, objective=partners, circle=Circle.PARTNERS
    )
    world["decision"] = governance.decision_record(
        item=world["item"], text=SECRET_DECISION, by=by, circle=Circle.SECRET
    )
    world["referent"] = MembershipFactory(programme=programme, role=Role.REFERENT)
    return world


def test_the_text_scope_follows_the_circle_while_the_plan_scope_shows_every_row(world):
    teacher, bound = world["teacher"].user, world["bound"].user
    pathway = world["pathway"]

    def wordings(user, scope):
        return set(scope(user, Objective).filter(pathway=pathway).values_list("wording", flat=True))

    assert {SECRET_OBJECTIVE, TEAM_OBJECTIVE, PARTNERS_OBJECTIVE} <= wordings(teacher, perms.plan_visible_to)
    assert wordings(teacher, perms.plan_texts_readable_by) == {PARTNERS_OBJECTIVE}
    assert wordings(bound, perms.plan_texts_readable_by) == {PARTNERS_OBJECTIVE, SECRET_OBJECTIVE}
    coordinator = wordings(world["coordinator"].user, perms.plan_texts_readable_by)
    assert {SECRET_OBJECTIVE, TEAM_OBJECTIVE, PARTNERS_OBJECTIVE} <= coordinator
    titles = set(
        perms.plan_texts_readable_by(teacher, PlanAction)
        .filter(pathway=pathway)
        .values_list("title", flat=True)
    )
    assert titles == {PARTNERS_ACTION}


def test_the_teacher_sees_that_the_objectives_exist_on_the_pathway_page_not_their_text(world):
    page = client_for(world["teacher"]).get(reverse("pathways:detail", args=[world["pathway"].pk]))

    text = text_of(page)
    assert page.status_code == 200
    for hidden in [*HIDDEN, SECRET_DECISION]:
        assert hidden not in text  # plan, actions, history (timeline) and the decision's note
    assert PARTNERS_OBJECTIVE in text and PARTNERS_ACTION in text
    # The secret, team and pre-existing (team by default) objectives: there, without their text.
    assert text.count(PLACEHOLDER) >= 3 * 1
    assert ACTION_PLACEHOLDER in text
    assert "Objectif ajouté : Objectif (contenu réservé)" in text


def test_the_bound_social_worker_in_the_window_reads_the_secret_objective(world):
    page = client_for(world["bound"]).get(reverse("pathways:detail", args=[world["pathway"].pk]))

    text = text_of(page)
    assert page.status_code == 200
    assert SECRET_OBJECTIVE in text and SECRET_ACTION in text and SECRET_PROVIDER in text
    assert SECRET_DECISION in text
    assert TEAM_OBJECTIVE not in text and PLACEHOLDER in text


def test_the_referent_of_the_pathway_reads_every_objective(world):
    page = client_for(world["coordinator"]).get(reverse("pathways:detail", args=[world["pathway"].pk]))

    text = text_of(page)
    assert all(wording in text for wording in [SECRET_OBJECTIVE, TEAM_OBJECTIVE, PARTNERS_OBJECTIVE])
    assert PLACEHOLDER not in text


def test_the_eps_meeting_page_hides_the_decision_text_outside_its_circle(world):
    url = reverse("governance:meeting", args=[world["meeting"].pk])

    teacher = text_of(client_for(world["teacher"]).get(url))
    bound = text_of(client_for(world["bound"]).get(url))
    referent = text_of(client_for(world["referent"]).get(url))

    assert SECRET_DECISION not in teacher and "Décision (contenu réservé)" in teacher
    assert SECRET_DECISION not in referent  # a référent outside the case team
    assert SECRET_DECISION in bound


def test_the_plan_summary_pdf_shows_the_teacher_existence_only(world):
    pathway = world["pathway"]

    teacher = pdf_text(documents.plan_summary_pdf(pathway=pathway, user=world["teacher"].user))
    coordinator = pdf_text(documents.plan_summary_pdf(pathway=pathway, user=world["coordinator"].user))

    for hidden in HIDDEN:
        assert hidden not in teacher
    assert SECRET_OBJECTIVE in coordinator and TEAM_OBJECTIVE in coordinator and SECRET_ACTION in coordinator
    assert PARTNERS_OBJECTIVE in teacher and PLACEHOLDER in teacher
    # And the teacher cannot download it at all: they do not run the pathway.
    response = client_for(world["teacher"]).get(reverse("documents:plan_summary", args=[pathway.pk]))
    assert response.status_code == 404


def test_the_review_form_shows_the_teacher_placeholders_only(world):
    pathway = world["pathway"]
    journey.case_team_add(
        pathway=pathway, membership=world["teacher"], reason="Enseignante", by=world["coordinator"].user
    )

    page = client_for(world["teacher"]).get(reverse("followup:review_add", args=[pathway.pk]))

    text = text_of(page)
    assert page.status_code == 200
    assert SECRET_OBJECTIVE not in text and TEAM_OBJECTIVE not in text
    assert PLACEHOLDER in text and PARTNERS_OBJECTIVE in text


def test_a_health_objective_or_action_is_never_partners(world):
    pathway, by = world["pathway"], world["coordinator"].user
    before = Objective.objects.count(), PlanAction.objects.count()

    with pytest.raises(journey.JourneyError, match="santé"):
        journey.objective_add(
            pathway=pathway, dimension=Dimension.PSYCHOLOGICAL, wording="x", by=by, circle=Circle.PARTNERS
        )
    with pytest.raises(journey.JourneyError, match="santé"):
        journey.plan_action_add(
            pathway=pathway, title="x", by=by, health_related=True, circle=Circle.PARTNERS
        )
    health_objective = Objective.objects.get(wording=SECRET_OBJECTIVE)
    with pytest.raises(journey.JourneyError, match="santé"):
        journey.plan_action_add(
            pathway=pathway, title="x", by=by, objective=health_objective, circle=Circle.PARTNERS
        )

    client = client_for(world["coordinator"])
    form = client.post(
        reverse("followup:objective_add", args=[pathway.pk]),
        {"dimension": Dimension.PHYSICAL_HEALTH, "wording": "Bilan visuel", "circle": Circle.PARTNERS},
    )
    assert form.status_code == 200 and "santé" in text_of(form)
    action = client.post(
        reverse("followup:action_add", args=[pathway.pk]),
        {"kind": "individual", "title": "Orthoptiste", "health_related": "on", "circle": Circle.PARTNERS},
    )
    assert action.status_code == 200 and "santé" in text_of(action)
    assert (Objective.objects.count(), PlanAction.objects.count()) == before


def test_the_author_chooses_the_circle_and_team_is_the_default(world):
    pathway = world["pathway"]
    client = client_for(world["coordinator"])

    client.post(
        reverse("followup:objective_add", args=[pathway.pk]),
        {"dimension": Dimension.SCHOOL, "wording": "Objectif sans cercle choisi"},
    )
    client.post(
        reverse("followup:objective_add", args=[pathway.pk]),
        {
            "dimension": Dimension.SCHOOL,
            "wording": "Objectif pour les partenaires",
            "circle": Circle.PARTNERS,
        },
    )

    assert Objective.objects.get(wording="Objectif sans cercle choisi").circle == Circle.TEAM
    shared = Objective.objects.get(wording="Objectif pour les partenaires")
    assert shared.circle == Circle.PARTNERS and shared.author == world["coordinator"].user


def test_a_redacted_row_is_never_saved(world):
    from maillage.pathways.plan_text import redact_plan

    row = redact_plan(world["teacher"].user, Objective.objects.filter(wording=SECRET_OBJECTIVE))[0]
    with pytest.raises(ValueError):
        row.save()
    assert Objective.objects.filter(wording=SECRET_OBJECTIVE).exists()
