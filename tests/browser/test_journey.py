"""The child's journey in Chromium, as new users would live it (issue 3).

A referring partner sends the fiche d'orientation, the coordination reviews and accepts it, the
référent leads the pathway from the family's agreement to its closure, and the referrer finally sees
only that the pathway is over. Everyone logs in through the real form; elements are found by role
and label, which is also a check that they have an accessible name; axe runs on every distinct page.
"""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from maillage.pathways import services as journey
from maillage.pathways.enums import Circle, ContactKind, Dimension, PathwayState
from maillage.pathways.models import Pathway
from maillage.programmes.enums import Role
from tests.browser.helpers import assert_no_csp_violation, assert_no_page_error, axe_check, login, menu_link
from tests.factories import (
    TEST_PASSWORD,
    MembershipFactory,
    OrganisationFactory,
    SchoolFactory,
    UserFactory,
    open_pathway,
    programme_with_lists,
)
from tests.governance.helpers import eps_decided

# Synthetic people and situation: nobody real.
CHILD_FIRST, CHILD_LAST = "Maëlys", "Fontaine"
GUARDIAN = "Samia Fontaine"
CONTEXT = (
    "Maëlys ne vient plus à l'aide aux devoirs depuis la rentrée ; sa maîtresse la trouve très fatiguée."
)
DIAGNOSIS_SCHOOL = "Lecture hésitante en CE2, l'enfant se décourage vite devant l'écrit."
DIAGNOSIS_FAMILY = "La mère élève seule trois enfants et travaille en horaires décalés."
OBJECTIVE = "Lire seule un album de jeunesse"
ACTION = "Accompagnement à la scolarité au centre social"
CONTACT_SUMMARY = "Visite au domicile avec la mère : point sur les devoirs du soir."
REVIEW_SUMMARY = "Maëlys lit désormais seule des albums courts et reprend confiance."


def small_pdf(text: str = "Accord signe par la famille") -> bytes:
    """A real one-page PDF (cross-reference table with exact offsets), a few hundred bytes long."""
    stream = f"BT /F1 18 Tf 72 760 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return pdf


# --- page helpers ------------------------------------------------------------------------------------


def follow(page, locator) -> None:
    """Click a link or a submit button and wait until the page it leads to has loaded.

    When the address names a part of the page (``#plan``), that part must exist: it is where the
    person is brought back after a form.
    """
    with page.expect_navigation():
        locator.click()
    if "#" in page.url:
        fragment = page.url.split("#", 1)[1]
        assert page.locator(":target").count() == 1, f"{page.url}: nothing on the page has id {fragment!r}"


def open_menu(page, entry: str) -> None:
    follow(page, menu_link(page, entry))


def arrive(page, heading, *, axe: bool = True) -> None:
    """The page shows ``heading`` as its h1; axe finds no serious or critical violation on it."""
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    if axe:
        axe_check(page)


def expect_message(page, text: str) -> None:
    """The page confirms with ``text``; when it shows an error instead, fail with what it says."""
    message = page.get_by_role("status").filter(has_text=text)
    errors = page.get_by_role("alert")
    expect(message.or_(errors).first).to_be_visible()
    if errors.count():
        pytest.fail(f"Expected « {text} » on {page.url}, the page says: {errors.all_inner_texts()}")


def log_out(page) -> None:
    follow(page, page.get_by_role("button", name="Se déconnecter"))


def log_in(page, live_server, membership) -> None:
    login(page, live_server, membership.user.email, TEST_PASSWORD)
    arrive(page, "Tableau de bord")


def field(scope, label: str):
    """The form control whose label starts with ``label`` (the label's raw text, hint included)."""
    return scope.get_by_label(re.compile(rf"^\s*{re.escape(label)}"))


def tick(control) -> None:
    """Tick a DSFR radio or checkbox as a person does, on its label: the DSFR draws the box there.

    A radio already chosen (the form's initial choice) is left as it is.
    """
    if not control.is_checked():
        control.page.locator(f"label[for='{control.get_attribute('id')}']").click()
    expect(control).to_be_checked()


def full_name(membership) -> str:
    return membership.user.get_full_name()


def step_button(page, state: str):
    return page.get_by_role("button", name=re.compile(rf"^Passer à «\s*{re.escape(state)}\s*»$"))


# --- data --------------------------------------------------------------------------------------------


@pytest.fixture
def team(transactional_db):
    """A programme with its lists and one REP school, a referring school, a coordinator, a référent."""
    programme = programme_with_lists(name="PRE de Villeneuve-sur-Lot")
    school = SchoolFactory(name="École élémentaire Paul Bert")
    programme.schools.add(school)

    def member(role, first_name, last_name, organisation):
        user = UserFactory(first_name=first_name, last_name=last_name)
        return MembershipFactory(programme=programme, role=role, user=user, organisation=organisation)

    referrer = member(
        Role.REFERRER, "Claire", "Dubois", OrganisationFactory(programme=programme, name="École Paul Bert")
    )
    coordinator = member(
        Role.COORDINATOR, "Nadia", "Lefebvre", OrganisationFactory(programme=programme, name="CCAS")
    )
    referent = member(
        Role.REFERENT, "Julien", "Marchand", OrganisationFactory(programme=programme, name="Centre social")
    )
    return {
        "programme": programme,
        "school": school,
        "referrer": referrer,
        "coordinator": coordinator,
        "referent": referent,
    }


# --- the journey -------------------------------------------------------------------------------------


def referrer_sends_the_fiche(page, live_server, team) -> None:
    referrer, school = team["referrer"], team["school"]
    log_in(page, live_server, referrer)

    open_menu(page, "Orienter un enfant")
    arrive(page, "Orienter un enfant")
    birth_date = timezone.localdate() - datetime.timedelta(days=9 * 365 + 30)
    field(page, "Type d'orienteur").select_option(label="École, collège ou lycée")
    field(page, "Personne à contacter").fill(f"{full_name(referrer)}, directrice")
    field(page, "Prénom de l'enfant").fill(CHILD_FIRST)
    field(page, "Nom de l'enfant").fill(CHILD_LAST)
    field(page, "Date de naissance").fill(birth_date.isoformat())
    tick(page.get_by_role("group", name="Sexe").get_by_role("radio", name="Fille", exact=True))
    field(page, "Établissement scolaire").select_option(
        label=f"{school.name} ({school.get_priority_education_display()})"
    )
    field(page, "Niveau scolaire").select_option(label="CE2")
    field(page, "Adresse de l'enfant").fill("12 rue des Tilleuls")
    field(page, "Code postal").fill("47300")
    field(page, "Nom du parent ou responsable").fill(GUARDIAN)
    field(page, "Lien avec l'enfant").select_option(label="Mère")
    field(page, "Téléphone").fill("06 12 34 56 78")
    motifs = page.get_by_role("group", name="Motifs d'orientation")
    tick(motifs.get_by_role("checkbox", name="Résultats scolaires", exact=True))
    tick(motifs.get_by_role("checkbox", name="Absentéisme", exact=True))
    field(page, "Contexte").fill(CONTEXT)
    tick(page.get_by_role("checkbox", name=re.compile(r"^La famille a été informée")))
    follow(page, page.get_by_role("button", name="Transmettre la fiche d'orientation"))

    arrive(page, "Mes orientations")
    expect_message(page, "Votre fiche d'orientation est transmise à la coordination du programme.")
    rows = page.get_by_role("table").get_by_role("row").filter(has_text=f"{CHILD_FIRST} F.")
    expect(rows).to_have_count(1)
    expect(rows.get_by_text("Transmise, en attente d'examen")).to_be_visible()
    log_out(page)


def coordinator_accepts_it(page, live_server, team) -> str:
    """Returns the address of the pathway opened."""
    coordinator, referent, school = team["coordinator"], team["referent"], team["school"]
    log_in(page, live_server, coordinator)

    open_menu(page, "Orientations")
    arrive(page, "Orientations")
    follow(page, page.get_by_role("link", name=f"{CHILD_LAST.upper()} {CHILD_FIRST}"))
    arrive(page, f"Orientation de {CHILD_FIRST} {CHILD_LAST.upper()}")
    expect(page.get_by_text(CONTEXT)).to_be_visible()
    # The eligibility, explained in words.
    expect(page.get_by_role("heading", name="Éligibilité", level=2)).to_be_visible()
    expect(page.get_by_text("Remplit les critères du programme")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text=f"Scolarité : {school.name}, en REP")).to_be_visible()
    expect(page.get_by_text("Règle du programme")).to_have_text(
        re.compile(r"Règle du programme .*: remplie\.")
    )

    follow(page, page.get_by_role("button", name="Mettre à l'examen"))
    expect_message(page, "L'orientation est à l'examen")
    axe_check(page)  # the same page, now with the acceptance form

    toggle = page.get_by_role("button", name="Accepter et ouvrir le parcours", expanded=False)
    panel = page.locator(f"#{toggle.get_attribute('aria-controls')}")
    toggle.click()
    expect(panel).to_be_visible()
    tick(panel.get_by_role("radio", name=re.compile("enfant que le programme ne connaît pas encore")))
    referent_label = f"{full_name(referent)} — {referent.organisation.name}"
    field(panel, "Référent·e de parcours").select_option(label=referent_label)
    follow(page, panel.get_by_role("button", name="Accepter et ouvrir le parcours"))

    arrive(page, f"{CHILD_FIRST} {CHILD_LAST.upper()}")
    expect_message(page, "L'orientation est acceptée : le parcours")
    expect(page.get_by_role("heading", name="Premier contact", level=2)).to_be_visible()
    pathway_url = page.url.split("#", 1)[0]
    log_out(page)
    return pathway_url


def referent_leads_the_pathway(page, live_server, team) -> None:
    referent = team["referent"]
    child_name = f"{CHILD_FIRST} {CHILD_LAST.upper()}"
    log_in(page, live_server, referent)

    open_menu(page, "Mes parcours")
    arrive(page, "Mes parcours")
    follow(page, page.get_by_role("link", name=f"{CHILD_LAST.upper()} {CHILD_FIRST}"))
    arrive(page, child_name)

    # The family's written agreement, with the signed paper.
    follow(page, page.get_by_role("link", name="Enregistrer un accord"))
    arrive(page, "Enregistrer l'accord de la famille")
    proof = small_pdf()
    tick(page.get_by_role("radio", name=f"{GUARDIAN} (Mère)"))
    field(page, "Date de l'accord").fill(timezone.localdate().isoformat())
    expect(page.get_by_role("checkbox", name=re.compile(r"^Accord pour l'accompagnement"))).to_be_checked()
    # Sharing with a partner named in the agreement opens the « secret partagé » circle.
    sharing = page.get_by_role("group", name="Partage d'informations avec ces partenaires")
    tick(sharing.get_by_role("checkbox", name=referent.organisation.name, exact=True))
    field(page, "Accord signé").set_input_files(
        {"name": "accord-signe.pdf", "mimeType": "application/pdf", "buffer": proof}
    )
    follow(page, page.get_by_role("button", name="Enregistrer l'accord"))
    arrive(page, child_name, axe=False)
    expect_message(page, "L'accord de la famille est enregistré.")
    consents = page.get_by_role("table", name="Accords écrits des titulaires de l'autorité parentale")
    expect(consents.get_by_role("row").filter(has_text=GUARDIAN)).to_contain_text("en vigueur")
    with page.expect_download() as download:
        consents.get_by_role("link", name="Télécharger l'accord signé").click()
    with open(download.value.path(), "rb") as stored:
        assert stored.read() == proof
    axe_check(page)  # the pathway page with a consent in force, as the référent sees it

    # Step « Diagnostic », then two sections of the diagnosis.
    follow(page, step_button(page, "Diagnostic"))
    expect_message(page, "Le parcours est passé à l'étape « Diagnostic ».")
    for dimension, difficulties, circle in (
        (Dimension.SCHOOL, DIAGNOSIS_SCHOOL, "Équipe du parcours"),
        (Dimension.FAMILY, DIAGNOSIS_FAMILY, "Secret partagé"),
    ):
        label = str(dimension.label)
        follow(
            page,
            page.get_by_role("link", name=re.compile(rf"^Écrire ou compléter\s*:\s*{re.escape(label)}$")),
        )
        arrive(page, re.compile(rf"^Diagnostic\s*:\s*{re.escape(label)}$"), axe=dimension == Dimension.SCHOOL)
        field(page, "Difficultés").fill(difficulties)
        field(page, "Ressources et leviers").fill("Aime dessiner ; une tante l'aide.")
        tick(page.get_by_role("radio", name=re.compile(rf"^{re.escape(circle)}")))
        follow(page, page.get_by_role("button", name="Enregistrer", exact=True))
        expect_message(page, f"Le diagnostic « {label} » est enregistré.")
        expect(page.get_by_text(difficulties)).to_be_visible()

    # The plan: one objective, one action towards it.
    follow(page, page.get_by_role("link", name="Ajouter un objectif"))
    arrive(page, "Ajouter un objectif")
    field(page, "Dimension").select_option(label=str(Dimension.SCHOOL.label))
    field(page, "Objectif").fill(OBJECTIVE)
    follow(page, page.get_by_role("button", name="Ajouter l'objectif"))
    expect_message(page, "L'objectif est ajouté au plan.")
    expect(page.get_by_role("heading", name=OBJECTIVE, level=3)).to_be_visible()

    follow(page, page.get_by_role("link", name="Ajouter une action", exact=True))
    arrive(page, "Ajouter une action au plan")
    field(page, "Objectif visé").select_option(label=f"{OBJECTIVE} ({Dimension.SCHOOL.label})")
    tick(page.get_by_role("radio", name="Individuelle", exact=True))
    field(page, "Action").fill(ACTION)
    field(page, "Fréquence").fill("Deux soirs par semaine")
    follow(page, page.get_by_role("button", name="Ajouter l'action"))
    expect_message(page, "L'action est ajoutée au plan.")
    expect(page.locator("#plan").get_by_role("listitem").filter(has_text=ACTION)).to_be_visible()

    # « Parcours en cours » only after an EPS that met decided on the situation (its own journey is
    # tests/browser/test_eps.py): the decision is recorded here as the EPS would have.
    pathway = Pathway.objects.get(child__last_name=CHILD_LAST, programme=team["programme"])
    eps_decided(pathway, by=team["coordinator"].user)
    page.reload()
    follow(page, step_button(page, "Parcours en cours"))
    expect_message(page, "Le parcours est passé à l'étape « Parcours en cours ».")
    axe_check(page)  # the pathway page, active, with its diagnosis and plan

    # A contact, then the final bilan rating the objective.
    follow(page, page.get_by_role("link", name="Noter un contact"))
    arrive(page, "Ajouter un contact")
    field(page, "Type de contact").select_option(label=str(ContactKind.HOME_VISIT.label))
    field(page, "Date").fill(timezone.localdate().isoformat())
    field(page, "Durée").fill("45")
    field(page, "Participants").fill("la mère, l'enfant")
    field(page, "Compte rendu").fill(CONTACT_SUMMARY)
    follow(page, page.get_by_role("button", name="Ajouter le contact"))
    expect_message(page, "Le contact est ajouté au suivi.")
    expect(page.get_by_text(CONTACT_SUMMARY)).to_be_visible()

    follow(page, page.get_by_role("link", name="Rédiger un bilan"))
    arrive(page, "Ajouter un bilan")
    tick(page.get_by_role("radio", name="Bilan final", exact=True))
    field(page, "Date du bilan").fill(timezone.localdate().isoformat())
    field(page, "Synthèse").fill(REVIEW_SUMMARY)
    rating = page.get_by_role("group", name=re.compile(rf"«\s*{re.escape(OBJECTIVE)}\s*».*résultat"))
    tick(rating.get_by_role("radio", name="Atteint", exact=True))
    field(page, "Commentaire sur").fill("Objectif atteint avant les vacances.")
    follow(page, page.get_by_role("button", name="Enregistrer le bilan"))
    expect_message(page, "Le bilan est enregistré.")
    expect(page.get_by_text(REVIEW_SUMMARY)).to_be_visible()

    # Closing, with an exit reason that needs the final bilan just written.
    follow(page, page.get_by_role("link", name="Clôturer le parcours"))
    arrive(page, "Clôturer le parcours")
    field(page, "Motif de sortie").select_option(label="Objectifs atteints (bilan final requis)")
    tick(page.get_by_role("checkbox", name=re.compile(r"^Je confirme la clôture")))
    follow(page, page.get_by_role("button", name="Clôturer le parcours"))
    arrive(page, child_name)
    expect_message(page, "Le parcours est clôturé.")
    expect(page.get_by_role("heading", name=re.compile(r"^Parcours clôturé le"))).to_be_visible()
    expect(page.get_by_text("Motif de sortie : Objectifs atteints")).to_be_visible()
    objective = page.locator("#plan").get_by_text("Atteint", exact=True)
    expect(objective).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Passer à"))).to_have_count(0)
    log_out(page)


def referrer_sees_only_that_it_is_over(page, live_server, team) -> None:
    log_in(page, live_server, team["referrer"])
    open_menu(page, "Mes orientations")
    arrive(page, "Mes orientations")

    rows = page.get_by_role("table").locator("tbody").get_by_role("row")
    expect(rows).to_have_count(1)
    expect(rows.get_by_role("cell").last).to_have_text("Acceptée — Parcours terminé")
    expect(page.get_by_text("Parcours en cours")).to_have_count(0)
    content = page.content()
    for secret in (CONTEXT, DIAGNOSIS_SCHOOL, OBJECTIVE, REVIEW_SUMMARY, GUARDIAN, CHILD_LAST):
        assert secret not in content, f"The referrer's page shows {secret!r}."


def test_a_child_goes_from_referral_to_closed_pathway_through_the_screens_of_each_role(
    page, live_server, team
):
    referrer_sends_the_fiche(page, live_server, team)
    pathway_url = coordinator_accepts_it(page, live_server, team)

    pathway = Pathway.objects.get(child__first_name=CHILD_FIRST)
    assert pathway_url == live_server.url + reverse("pathways:detail", args=[pathway.pk])
    assert pathway.referent == team["referent"].user
    assert pathway.referral.submitted_by == team["referrer"].user

    referent_leads_the_pathway(page, live_server, team)
    pathway.refresh_from_db()
    assert pathway.state == PathwayState.CLOSED
    assert pathway.exit_reason.code == "objectifs_atteints"
    assert pathway.consents.get().proof

    referrer_sees_only_that_it_is_over(page, live_server, team)
    assert_no_csp_violation(page)
    assert_no_page_error(page)


# --- on a phone --------------------------------------------------------------------------------------


def test_on_a_phone_the_referents_pathway_page_fits_the_screen_and_passes_axe(phone_page, live_server, team):
    referent, coordinator = team["referent"], team["coordinator"]
    by = referent.user
    pathway = open_pathway(programme=team["programme"], referent=by, by=coordinator.user)
    guardian = pathway.child.household.guardians.get()
    today = timezone.localdate()
    journey.consent_record(pathway=pathway, guardian=guardian, given_on=today, by=by)
    journey.pathway_transition(pathway=pathway, to_state=PathwayState.DIAGNOSTIC, by=by)
    journey.diagnostic_section_save(
        pathway=pathway,
        dimension=Dimension.SCHOOL,
        by=by,
        membership=referent,
        difficulties=DIAGNOSIS_SCHOOL,
        resources="Aime dessiner ; une tante l'aide.",
        circle=Circle.TEAM,
    )
    objective = journey.objective_add(pathway=pathway, dimension=Dimension.SCHOOL, wording=OBJECTIVE, by=by)
    journey.plan_action_add(pathway=pathway, title=ACTION, by=by, objective=objective)
    eps_decided(pathway, by=coordinator.user)  # « en cours » only after an EPS decided
    journey.pathway_transition(pathway=pathway, to_state=PathwayState.ACTIVE, by=by)
    journey.contact_add(
        pathway=pathway,
        by=by,
        membership=referent,
        kind=ContactKind.HOME_VISIT,
        occurred_on=today,
        summary=CONTACT_SUMMARY,
    )
    child = pathway.child

    login(phone_page, live_server, by.email, TEST_PASSWORD)
    phone_page.goto(live_server.url + reverse("pathways:detail", args=[pathway.pk]))
    phone_page.wait_for_load_state()

    arrive(phone_page, f"{child.first_name} {child.last_name.upper()}")
    expect(phone_page.get_by_role("heading", name=OBJECTIVE, level=3)).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
