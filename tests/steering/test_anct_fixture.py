"""Every figure of the indicators and of the ANCT workbook against a hand-computed fixture.

School year 2025-2026 (1 September 2025 – 31 August 2026), clock frozen on 15 September 2026.

34 children in pathways' files, 30 of them followed in the period; 8 collective beneficiaries.
The expected numbers below were counted by hand from the description of each child, not by code:

* followed (30): i = 0..29. Boys i < 17 (17), girls 13.
* age at 1 September 2025: i 0..5 born 2021 (4 y), i 6 born 15 Oct 2019 (turns 6 during the year:
  counts 2–5) → 2–5: 7; i 7 born 1 Sept 2019 (6 on the first day) and i 8..18 → 6–10: 12;
  i 19..27 → 11–16: 9; i 28, 29 → 17+: 2.
* school stage: maternelle i 0..6 (7), élémentaire 7..18 (12), collège 19..26 (8), other 27 (1),
  lycée 28 (1), not schooled 29 (1).
* QPV: i < 18 yes (18), 18..25 no (8), 26..29 unknown (4).
* school: REP+ i < 10 (10), REP 10..19 (10), outside 20..26 (7), none 27..29 (3).
* i 5 has a reopened pathway (closed 15 Oct 2025, reopened 10 Jan 2026): counted once.
* i 28's pathway closes on 1 Sept 2025 (first day: followed); i 29's opens on 31 Aug 2026 (last day).
* not followed: o1 (closed 30 June 2025), o2 (opens 5 Sept 2026), o3 (closed 31 Aug 2025), o4 (none).
* collective: b1, b2, b3 (left the group) count; b4 is linked to followed child 0 (pathway: not
  counted twice); b5 is linked to o1 (whose pathway ended before the period: counted collective);
  b6 waits only (not counted) → 4 collective-only; parents p1, p2 and one guardian → 3 parents.
* exits in the period: i 5's first pathway 228 days (déménagement), i 20 486 d (objectifs atteints),
  i 21 181 d (objectifs atteints), i 22 365 d (refus), i 28 488 d (refus) → 5 exits; mean 349.6 d =
  11.5 months, median 365 d = 12.0 months.
* referrals in the period: 12 (école 7, PMI 3, famille 2); motifs: résultats scolaires 12,
  isolement social 6; one referral of August 2025 is outside.
* EPS reviews (first held EPS meeting with a decision): delays 10, 20, 30, 14, 16, 40 days →
  mean 21.7, median 18.0; a cancelled meeting neither counts nor gives a review date.
* meetings held: EPS 3, comité de pilotage 2 (one more in June 2025, outside).
* staff: coordinator 1 post 1 FTE, référents 2 posts 1.3 FTE.
* funding: the school year 2025-2026 reads the budget of 2025, the calendar year it starts in:
  État 60 000, commune 25 000, CAF 5 000 direct (90 000); commune 8 000 in kind; a 2026 line
  (55 000) is outside. Cost per child: 90 000 / (30 + 4) = 2 647 €.
* plan actions (child 1): scolarité 2 (individual), famille 1 (collective), no objective 1
  (individual) → individual 3, collective 1. Bilans: 2 pathways of 31 → 6 %.
"""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook

from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem, Body, Decision, Meeting
from maillage.offers.models import Beneficiary, Enrolment, Group, Offer
from maillage.pathways.enums import ActionKind, Circle, Dimension, PathwayState, ReviewKind
from maillage.pathways.models import Objective, Pathway, PlanAction, Review
from maillage.people.enums import SchoolLevel, Sex
from maillage.programmes.enums import ListKind, Role
from maillage.programmes.models import ListItem
from maillage.referrals.models import Referral
from maillage.steering import indicators as ind
from maillage.steering.dashboard import present
from maillage.steering.models import FundingLine
from maillage.territories.enums import PriorityEducation
from tests.factories import (
    ChildFactory,
    GuardianFactory,
    MembershipFactory,
    SchoolFactory,
    programme_with_lists,
)
from tests.steering.prepared import prepared

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 9, 15, 12, tzinfo=datetime.UTC)
D = datetime.date


def at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def _birth(i: int) -> datetime.date:
    if i <= 5:
        return D(2021, 3, 1)
    if i == 6:
        return D(2019, 10, 15)
    if i == 7:
        return D(2019, 9, 1)
    if i <= 18:
        return D(2017, 5, 5)
    if i <= 27:
        return D(2012, 2, 2)
    return D(2008, 1, 1)


def _level(i: int) -> str:
    if i <= 6:
        return SchoolLevel.MS
    if i <= 18:
        return SchoolLevel.CE2
    if i <= 26:
        return SchoolLevel.QUATRIEME
    return {27: SchoolLevel.OTHER, 28: SchoolLevel.PREMIERE, 29: SchoolLevel.NOT_SCHOOLED}[i]


class Fixture:
    pass


@pytest.fixture
def world():
    with time_machine.travel(NOW, tick=False):
        yield _build()


def _build():
    f = Fixture()
    programme = f.programme = programme_with_lists()
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR, fte=Decimal("1"))
    MembershipFactory(programme=programme, role=Role.REFERENT, fte=Decimal("0.8"))
    MembershipFactory(programme=programme, role=Role.REFERENT, fte=Decimal("0.5"))
    f.user = coordinator.user
    items = {(i.kind, i.code): i for i in ListItem.objects.filter(programme=programme)}
    exit_reason = lambda code: items[(ListKind.EXIT_REASON, code)]  # noqa: E731
    rep_plus = SchoolFactory(priority_education=PriorityEducation.REP_PLUS)
    rep = SchoolFactory(priority_education=PriorityEducation.REP)
    ordinary = SchoolFactory(priority_education=PriorityEducation.NONE)
    counter = iter(range(1, 1000))

    def pathway(child, opened, closed=None, reason=None, referral=None, previous=None):
        return Pathway.objects.create(
            programme=programme,
            child=child,
            case_code=f"FIX-{next(counter):04d}",
            state=PathwayState.CLOSED if closed else PathwayState.ACTIVE,
            opened_on=opened,
            closed_on=closed,
            exit_reason=exit_reason(reason) if reason else None,
            referral=referral,
            previous=previous,
        )

    f.children = []
    for i in range(30):
        school = rep_plus if i < 10 else rep if i < 20 else ordinary if i < 27 else None
        qpv = True if i < 18 else False if i < 26 else None
        f.children.append(
            ChildFactory(
                programme=programme,
                sex=Sex.BOY if i < 17 else Sex.GIRL,
                birth_date=_birth(i),
                school_level=_level(i),
                school=school,
                in_priority_area=qpv,
            )
        )
    outside = [ChildFactory(programme=programme, birth_date=D(2016, 1, 1)) for _ in range(4)]

    # Referrals: 12 in the period, one before.
    types = ["ecole"] * 7 + ["pmi"] * 3 + ["famille"] * 2
    referral_children = list(range(10, 17)) + [17, 18, 19, 0, 1]
    submitted = [
        D(2025, 10, 10), D(2025, 9, 30), D(2025, 11, 1), D(2025, 11, 17), D(2026, 1, 31), D(2026, 1, 7),
        D(2026, 2, 1), D(2025, 9, 15), D(2025, 12, 1), D(2026, 3, 3), D(2026, 4, 4), D(2026, 5, 5),
    ]  # fmt: skip
    referrals = {}
    for k, (i, code, day) in enumerate(zip(referral_children, types, submitted, strict=True)):
        referral = Referral.objects.create(
            programme=programme,
            submitted_by=f.user,
            submitted_at=at(day),
            referrer_type=items[(ListKind.REFERRER_TYPE, code)],
            child=f.children[i],
            child_first_name="Anonyme",
            child_last_name="Fixture",
            child_birth_date=f.children[i].birth_date,
            child_sex=f.children[i].sex,
            guardian_name="Parent Fixture",
            family_informed=True,
        )
        referral.motifs.add(items[(ListKind.REFERRAL_MOTIF, "resultats_scolaires")])
        if k % 2 == 0:
            referral.motifs.add(items[(ListKind.REFERRAL_MOTIF, "isolement_social")])
        referrals[i] = referral
    Referral.objects.create(
        programme=programme,
        submitted_by=f.user,
        submitted_at=at(D(2025, 8, 15)),
        referrer_type=items[(ListKind.REFERRER_TYPE, "ecole")],
        child_first_name="Anonyme",
        child_last_name="Avant",
        child_birth_date=D(2016, 1, 1),
        child_sex=Sex.GIRL,
        guardian_name="Parent",
        family_informed=True,
    )

    # Pathways.
    pathways = {}
    for i, child in enumerate(f.children):
        if i == 5:
            first = pathway(child, D(2025, 3, 1), D(2025, 10, 15), "demenagement")
            pathways[i] = pathway(child, D(2026, 1, 10), previous=first)
        elif i == 20:
            pathways[i] = pathway(child, D(2024, 9, 1), D(2025, 12, 31), "objectifs_atteints")
        elif i == 21:
            pathways[i] = pathway(child, D(2025, 9, 1), D(2026, 3, 1), "objectifs_atteints")
        elif i == 22:
            pathways[i] = pathway(child, D(2025, 6, 1), D(2026, 6, 1), "refus_famille")
        elif i == 28:
            pathways[i] = pathway(child, D(2024, 5, 1), D(2025, 9, 1), "refus_famille")
        elif i == 29:
            pathways[i] = pathway(child, D(2026, 8, 31))
        else:
            pathways[i] = pathway(child, D(2025, 9, 20), referral=referrals.get(i))
    pathway(outside[0], D(2024, 1, 1), D(2025, 6, 30), "objectifs_atteints")
    pathway(outside[1], D(2026, 9, 5))
    pathway(outside[2], D(2024, 10, 1), D(2025, 8, 31), "perte_contact")

    # EPS meetings and decisions.
    eps = Body.objects.create(programme=programme, kind=BodyKind.EPS, name="EPS Centre", meetings_per_year=10)
    copil = Body.objects.create(
        programme=programme, kind=BodyKind.STEERING_COMMITTEE, name="Comité de pilotage", meetings_per_year=2
    )

    def meeting(body, day, cases=(), cancelled=False):
        m = Meeting.objects.create(body=body, starts_at=at(day), cancelled=cancelled)
        for position, i in enumerate(cases):
            item = AgendaItem.objects.create(meeting=m, pathway=pathways[i], position=position)
            Decision.objects.create(agenda_item=item, text="Accompagnement proposé.", decided_by=f.user)
        return m

    meeting(eps, D(2025, 10, 20), [10, 11])
    meeting(eps, D(2025, 12, 1), [12, 13, 10])
    meeting(eps, D(2026, 2, 16), [14, 15])
    meeting(eps, D(2026, 3, 1), [16], cancelled=True)
    meeting(copil, D(2025, 11, 15))
    meeting(copil, D(2026, 6, 15))
    meeting(copil, D(2025, 6, 15))

    # Funding.
    for year, source, label, amount, in_kind in [
        (2025, "state_pre", "Crédits politique de la ville", 60000, False),
        (2025, "commune", "Subvention communale", 25000, False),
        (2025, "caf", "CAF", 5000, False),
        (2025, "commune", "Locaux mis à disposition", 8000, True),
        (2026, "state_pre", "Crédits 2026", 55000, False),
    ]:
        FundingLine.objects.create(
            programme=programme, year=year, source=source, label=label, amount=amount, in_kind=in_kind
        )

    # Plan actions and bilans.
    objective = Objective.objects.create(pathway=pathways[1], dimension=Dimension.SCHOOL, wording="Lecture")
    family = Objective.objects.create(pathway=pathways[1], dimension=Dimension.FAMILY, wording="Parentalité")
    for obj, kind in [
        (objective, ActionKind.INDIVIDUAL),
        (objective, ActionKind.INDIVIDUAL),
        (family, ActionKind.COLLECTIVE),
        (None, ActionKind.INDIVIDUAL),
    ]:  # noqa: E501
        PlanAction.objects.create(
            pathway=pathways[1], objective=obj, kind=kind, title="Action", starts_on=D(2025, 10, 1)
        )
    for i in (2, 3):
        Review.objects.create(
            pathway=pathways[i],
            author=f.user,
            circle=Circle.TEAM,
            kind=ReviewKind.INTERMEDIATE,
            held_on=D(2026, 1, 5),
        )

    # Collective actions.
    offer = Offer.objects.create(programme=programme, title="Atelier lecture", kind=ActionKind.COLLECTIVE)
    group = Group.objects.create(
        offer=offer, name="Mercredi", starts_on=D(2025, 10, 1), ends_on=D(2026, 6, 30)
    )

    def beneficiary(sex, band, child=None, parent=False, status="enrolled"):
        b = Beneficiary.objects.create(
            programme=programme, first_name="Bénéficiaire", initial="F", age_band=band, sex=sex,
            is_parent=parent, child=child,
        )  # fmt: skip
        Enrolment.objects.create(
            group=group, beneficiary=b, status=status, position=1 if status == "waiting" else None
        )
        return b

    beneficiary("F", "6-10", child=None)
    beneficiary("M", "6-10")
    beneficiary("F", "2-5", status="left")
    beneficiary("M", "11-16", child=f.children[0])
    beneficiary("F", "6-10", child=outside[0])
    beneficiary("M", "6-10", status="waiting")
    beneficiary("F", "adult", parent=True)
    beneficiary("M", "adult", parent=True)
    Enrolment.objects.create(group=group, guardian=GuardianFactory(household=f.children[3].household))
    Enrolment.objects.create(group=group, child=f.children[4])
    f.scope = ind.Scope((programme.pk,), ind.Period("school", 2025))
    return f


def values(indicator) -> dict:
    return {row.key: row.value for row in indicator.rows}


def test_every_indicator_equals_the_hand_computed_figures(world):
    with time_machine.travel(NOW, tick=False):
        result = ind.compute(world.scope)
    assert values(result["pathway_vs_collective"]) == {"pathway": 30, "collective": 4}
    assert result["pathway_vs_collective"].total == 34
    assert values(result["children_by_sex"]) == {"F": 13, "M": 17}
    assert values(result["children_by_age"]) == {"2-5": 7, "6-10": 12, "11-16": 9, "17+": 2}
    assert values(result["children_by_school_level"]) == {
        "maternelle": 7, "elementaire": 12, "college": 8, "lycee": 1, "other": 1, "none": 1,
    }  # fmt: skip
    assert values(result["children_by_qpv"]) == {"yes": 18, "no": 8, "unknown": 4}
    assert values(result["children_by_priority_education"]) == {
        "REP+": 10,
        "REP": 10,
        "none": 7,
        "unknown": 3,
    }
    assert values(result["parents_reached"]) == {"parents": 3}
    assert values(result["referrals_by_referrer"]) == {"ecole": 7, "pmi": 3, "famille": 2}
    assert values(result["referrals_by_motif"]) == {"resultats_scolaires": 12, "isolement_social": 6}
    assert result["referrals_by_motif"].total == 12
    assert values(result["referral_to_eps_delay"]) == {"mean": 21.7, "median": 18.0}
    assert result["referral_to_eps_delay"].observations == 6
    assert values(result["pathway_duration"]) == {"mean": 11.5, "median": 12.0}
    assert values(result["exits_by_reason"]) == {
        "objectifs_atteints": 2,
        "demenagement": 1,
        "refus_famille": 2,
    }
    assert values(result["review_rate"]) == {"rate": 6}
    dims = values(result["plan_actions_by_dimension"])
    assert (dims["school"], dims["family"], dims["none"], dims["cultural"]) == (2, 1, 1, 0)
    assert values(result["plan_actions_by_kind"]) == {"individual": 3, "collective": 1}
    meetings = values(result["meetings_held"])
    assert (meetings["eps"], meetings["steering"]) == (3, 2)
    assert values(result["staff_by_role"]) == {"coordinator": Decimal("1"), "referent": Decimal("1.3")}
    assert values(result["funding_by_source"]) == {
        "state_pre": 60000, "commune": 25000, "departement": 0, "caf": 5000, "other": 0,
    }  # fmt: skip
    assert values(result["in_kind_by_source"])["commune"] == 8000
    assert result["cost_per_child"].total == Decimal("2647")


def test_the_anct_workbook_carries_the_same_figures_cell_by_cell(client, world):
    client.force_login(world.user)
    with time_machine.travel(NOW, tick=False):
        response = prepared(client, "steering:anct", {"kind": "school", "year": "2025"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Structure", "Financement", "Bénéficiaires", "Processus"]

    def sheet(name) -> dict:
        return {(r[0], r[1]): r[2] for r in book[name].iter_rows(min_row=2, values_only=True)}

    ben = sheet("Bénéficiaires")
    by_sex = "Enfants suivis en parcours, par sexe"
    assert ben[(by_sex, "Fille")] == 13 and ben[(by_sex, "Garçon")] == 17 and ben[(by_sex, "Total")] == 30
    by_age = "Enfants suivis en parcours, par tranche d'âge"
    assert [ben[(by_age, b)] for b in ("2 à 5 ans", "6 à 10 ans", "11 à 16 ans", "17 ans et plus")] == [
        7,
        12,
        9,
        2,
    ]
    both = "Enfants bénéficiaires : parcours et actions collectives"
    assert ben[(both, "Enfants en parcours personnalisé")] == 30
    assert ben[(both, "Enfants bénéficiaires d'actions collectives uniquement")] == 4
    assert ben[(both, "Total")] == 34
    levels = "Enfants suivis en parcours, par type d'établissement fréquenté"
    assert [ben[(levels, s)] for s in ("Maternelle", "Élémentaire", "Collège", "Lycée")] == [7, 12, 8, 1]
    assert (
        ben[("Enfants suivis en parcours, selon la résidence en quartier prioritaire", "Réside en QPV")] == 18
    )
    assert (
        ben[
            (
                "Enfants suivis en parcours, selon l'éducation prioritaire de l'établissement",
                "Scolarisé·e en REP+",
            )
        ]
        == 10
    )

    proc = sheet("Processus")
    delay = "Délai entre l'orientation et l'examen en EPS"
    assert proc[(delay, "Moyenne (jours)")] == 21.7 and proc[(delay, "Médiane (jours)")] == 18.0
    duration = "Durée des parcours clôturés"
    assert proc[(duration, "Moyenne (mois)")] == 11.5 and proc[(duration, "Médiane (mois)")] == 12.0
    assert proc[("Orientations reçues, par type d'orienteur", "PMI")] == 3
    assert proc[("Orientations reçues, par motif", "Isolement social")] == 6
    assert proc[("Sorties de parcours, par motif", "Refus de la famille")] == 2
    assert proc[("Actions des parcours, par type", "Collective")] == 1

    fin = sheet("Financement")
    assert fin[("Financements, par source", "État — politique de la ville (PRE)")] == 60000
    assert fin[("Financements, par source", "Total")] == 90000
    assert fin[("Contributions en nature valorisées, par financeur", "Commune / EPCI")] == 8000
    assert fin[("Coût par enfant", "Coût par enfant (€)")] == 2647

    structure = sheet("Structure")
    assert structure[("Équipes pluridisciplinaires de soutien (EPS)", "Nombre")] == 1
    meetings = "Réunions tenues, par instance"
    assert structure[(meetings, "Équipe pluridisciplinaire de soutien (EPS)")] == 3
    assert structure[(meetings, "Comité de pilotage / CCRE")] == 2
    assert structure[("Postes par rôle", "Référent·e de parcours")] == 2
    assert structure[("ETP par rôle", "Référent·e de parcours")] == 1.3


def test_the_dashboard_takes_the_same_number_of_queries_with_twice_the_children(
    world, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with time_machine.travel(NOW, tick=False):
        with CaptureQueriesContext(connection) as first:
            present(ind.compute(world.scope), suppressed=True)
        for _ in range(30):
            child = ChildFactory(programme=world.programme)
            Pathway.objects.create(
                programme=world.programme, child=child, case_code=f"MORE-{child.pk}", opened_on=D(2025, 10, 1)
            )
        with CaptureQueriesContext(connection) as second:
            present(ind.compute(world.scope), suppressed=True)
    assert len(first) == len(second)
    assert ind.compute(world.scope)["pathway_vs_collective"].rows[0].value == 60


def test_a_steering_reader_gets_the_suppressed_figures_in_the_workbook(client, world):
    membership = MembershipFactory(programme=world.programme, role=Role.STEERING)
    client.force_login(membership.user)
    with time_machine.travel(NOW, tick=False):
        response = prepared(client, "steering:anct", {"kind": "school", "year": "2025"})
    book = load_workbook(io.BytesIO(response.content))
    rows = {(r[0], r[1]): r[2] for r in book["Bénéficiaires"].iter_rows(min_row=2, values_only=True)}
    assert rows[("Enfants suivis en parcours, par tranche d'âge", "17 ans et plus")] == "< 5"
    assert (
        rows[
            (
                "Enfants bénéficiaires : parcours et actions collectives",
                "Enfants bénéficiaires d'actions collectives uniquement",
            )
        ]
        == "< 5"
    )


def _pdf_lines(content: bytes) -> list[str]:
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return [" ".join(line.replace("\u00a0", " ").split()) for line in text.splitlines()]


def test_the_copil_pdf_carries_the_hand_computed_figures(client, world):
    client.force_login(world.user)
    with time_machine.travel(NOW, tick=False):
        response = prepared(client, "steering:copil_pdf", {"kind": "school", "year": "2025"})
    assert response.status_code == 200
    lines = set(_pdf_lines(response.content))
    # The pack is suppressed whoever downloads it: the hand-computed figures, counts 1-4 as "< 5" and
    # their complements as "s" (the smallest other cell of the breakdown).
    expected = [
        # key figures
        "Enfants en parcours personnalisé 30",
        "Orientations reçues 12",
        "Délai moyen orientation → EPS (jours) 21,7",
        "Réunions tenues 5",
        "Coût par enfant s",  # 90 000 / 34 would give back the hidden total of beneficiaries
        # beneficiaries
        "Fille 13",
        "Garçon 17",
        "Total 30",
        "2 à 5 ans s",
        "6 à 10 ans 12",
        "11 à 16 ans 9",
        "17 ans et plus < 5",
        "Maternelle 7",
        "Élémentaire 12",
        "Collège 8",
        "Lycée < 5",
        "Non scolarisé·e < 5",
        # One decision with the territory diagnosis's QPV × REP cross-table (same children): the
        # breakdowns hide what the cross-table and its margins would give back, the cheapest cells
        # first and the children living in a QPV (a headline figure) last.
        "Réside en QPV 18",
        "Ne réside pas en QPV s",
        "Résidence non localisée < 5",
        "Scolarisé·e en REP+ 10",
        "Scolarisé·e en REP s",
        "Hors éducation prioritaire 7",
        "Établissement non renseigné < 5",
        "Parents < 5",
        # process
        "École, collège ou lycée 7",
        "PMI < 5",
        "La famille elle-même < 5",
        "Résultats scolaires 12",
        "Isolement social 6",
        "Orientations 12",
        "Moyenne (jours) 21,7",
        "Médiane (jours) 18,0",
        "Moyenne (mois) 11,5",
        "Médiane (mois) 12,0",
        "Objectifs atteints < 5",
        "Déménagement < 5",
        "Refus de la famille < 5",
        "Total 5",
        "Part (%) 6 %",
        "Scolarité < 5",
        "Famille et parentalité < 5",
        "Sans objectif rattaché < 5",
        "Individuelle < 5",
        "Collective < 5",
        # meetings, staff, funding of the budget year 2025 (the calendar year 2025-2026 starts in)
        "Comité de pilotage / CCRE 2",
        "Équipe pluridisciplinaire de soutien (EPS) 3",
        "Coordination 1",
        "Référent·e de parcours 1,3",
        "État — politique de la ville (PRE) 60 000 €",
        "Commune / EPCI 25 000 €",
        "CAF 5 000 €",
        "Total 90 000 €",
        "Total 8 000 €",
        "Budget 2025",
        "Commune / EPCI 25 000 € 8 000 €",
        "Total 90 000 € 8 000 €",
        "Comité de pilotage — 15 novembre 2025",
        "Comité de pilotage — 15 juin 2026",
    ]
    missing = [line for line in expected if line not in lines]
    assert missing == []
    # Nothing withheld leaks: no exact small count next to its label, no cost per child, no 2025 line.
    for leaked in ("17 ans et plus 2", "Lycée 1", "PMI 3", "Parents 3", "2 647", "55 000", "Total 34"):
        assert not any(leaked in line for line in lines), leaked
