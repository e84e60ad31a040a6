"""Steering demo: funding lines, yearly objectives, the comité's highlights, two barometer rounds,
and two neighbour programmes on the same network level (so that ``reseau@demo.test`` compares three
programmes in the structuring table).

The neighbours are light on purpose (seeding stays fast): a few households and children with
pathways written directly, bodies, staff with FTE, partners and funding. Idempotent: everything is
``get_or_create`` or skipped when present.
"""

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from faker import Faker

from maillage.accounts.models import User
from maillage.demo import DEMO_PASSWORD
from maillage.governance.enums import BodyKind
from maillage.governance.models import Body
from maillage.pathways.enums import PathwayState
from maillage.pathways.models import Pathway
from maillage.people.enums import SchoolLevel, Sex
from maillage.people.models import Child, Household
from maillage.programmes.defaults import ensure_default_lists
from maillage.programmes.enums import LeadBodyType, ListKind, OrganisationKind, Role
from maillage.programmes.models import ListItem, Membership, Organisation, Programme
from maillage.steering import services
from maillage.steering.enums import ActorPosition, FundingSource, RoundState
from maillage.steering.indicators import Period
from maillage.steering.models import BarometerRound, CopilNote, FundingLine, Target

NEIGHBOURS = [
    # slug, name, prefix, lead body type, lead body name, veille year, children
    (
        "pre-voisine",
        "PRE de Ville-Voisine",
        "VOIS",
        LeadBodyType.CAISSE_DES_ECOLES,
        "Caisse des écoles de Ville-Voisine",
        2006,
        14,
    ),
    (
        "dre-bourg",
        "DRE de Bourg-sur-Démo",
        "BOURG",
        LeadBodyType.GIP,
        "GIP Réussite éducative du Bourg",
        None,
        9,
    ),
]

FUNDING = [
    (FundingSource.STATE_PRE, "Crédits politique de la ville — 1.1 PRE", Decimal("62000"), False),
    (FundingSource.COMMUNE, "Subvention de la commune", Decimal("24000"), False),
    (FundingSource.DEPARTEMENT, "Conseil départemental — prévention", Decimal("6000"), False),
    (FundingSource.CAF, "CAF — accompagnement à la scolarité", Decimal("4500"), False),
    (FundingSource.COMMUNE, "Locaux et fluides mis à disposition", Decimal("9000"), True),
    (FundingSource.OTHER, "Temps de psychologue mis à disposition (CMP)", Decimal("3500"), True),
]

POSITIONS = {
    Role.COORDINATOR: ActorPosition.PROGRAMME_STAFF,
    Role.REFERENT: ActorPosition.PROGRAMME_STAFF,
    Role.MANAGER: ActorPosition.PROGRAMME_STAFF,
    Role.STEERING: ActorPosition.ELECTED,
    Role.EPS_MEMBER: ActorPosition.NATIONAL_EDUCATION,
    Role.REFERRER: ActorPosition.NATIONAL_EDUCATION,
    Role.PROVIDER: ActorPosition.ASSOCIATION,
}


def seed(programme: Programme, write) -> None:
    with transaction.atomic():
        coordinator = (
            Membership.objects.filter(programme=programme, role=Role.COORDINATOR)
            .select_related("user")
            .first()
        )
        by = coordinator.user if coordinator else None
        this_year = timezone.localdate().year
        for year, factor in ((this_year - 1, Decimal("0.95")), (this_year, Decimal("1"))):
            for source, label, amount, in_kind in FUNDING:
                FundingLine.objects.get_or_create(
                    programme=programme,
                    year=year,
                    label=label,
                    defaults={
                        "source": source,
                        "amount": (amount * factor).quantize(Decimal("1")),
                        "in_kind": in_kind,
                    },
                )
        school_year = Period.current().year
        for indicator, value in [
            ("children", 160),
            ("eps_delay_days", 20),
            ("review_rate", 100),
            ("steering_meetings", 2),
            ("eps_meetings", 10),
        ]:
            Target.objects.get_or_create(
                programme=programme, year=school_year, indicator=indicator, defaults={"value": Decimal(value)}
            )
        CopilNote.objects.get_or_create(
            programme=programme,
            year=school_year,
            defaults={
                "updated_by": by,
                "highlights": (
                    "Ouverture d'un atelier parents-enfants au centre social des Tilleuls.\n\n"
                    "Les délais d'examen en EPS ont baissé depuis la création de la seconde EPS."
                ),
            },
        )
        if by is not None and not BarometerRound.objects.filter(programme=programme).exists():
            _barometer(programme, by)
        if programme.network_level_id:
            for spec in NEIGHBOURS:
                _neighbour(programme, *spec)
    rounds = BarometerRound.objects.filter(programme=programme).count()
    neighbours = (
        Programme.objects.filter(network_level=programme.network_level_id).exclude(pk=programme.pk).count()
    )
    write(f"Pilotage : {rounds} baromètres, {neighbours} autres programmes sur le niveau réseau.")


def _barometer(programme: Programme, by) -> None:
    rng = random.Random(2026)  # noqa: S311 -- demo data
    members = list(
        Membership.objects.filter(programme=programme, role__in=list(POSITIONS))
        .select_related("user")
        .order_by("pk")
    )
    today = timezone.localdate()
    for title, opened, bias, closed in [
        ("Baromètre du partenariat — automne dernier", today - datetime.timedelta(days=330), 0, True),
        ("Baromètre du partenariat — cette année", today - datetime.timedelta(days=20), 1, False),
    ]:
        barometer_round = services.open_barometer_round(programme=programme, title=title, by=by)
        BarometerRound.objects.filter(pk=barometer_round.pk).update(opened_on=opened)
        for membership in members:
            scores = {
                code: min(4, max(1, rng.choice([2, 3, 3, 4]) + (bias if rng.random() < 0.4 else 0)))
                for code in ("objectives", "trust", "information", "practice", "tools")
            }
            answers = [
                "Des retours plus réguliers après les EPS.",
                "",
                "Un annuaire des partenaires à jour.",
                "",
            ]
            services.answer_barometer(
                barometer_round=barometer_round,
                position=POSITIONS[membership.role],
                scores=scores,
                open_answer=rng.choice(answers),
                by=membership.user,
            )
        if closed:
            BarometerRound.objects.filter(pk=barometer_round.pk).update(state=RoundState.CLOSED)


def _neighbour(demo: Programme, slug, name, prefix, lead_type, lead_name, veille_year, children) -> None:
    programme, created = Programme.objects.get_or_create(
        slug=slug,
        defaults={
            "name": name,
            "case_code_prefix": prefix,
            "lead_body_type": lead_type,
            "lead_body_name": lead_name,
            "network_level": demo.network_level,
            "prior_veille_educative": veille_year is not None,
            "prior_veille_year": veille_year,
        },
    )
    if not created:
        return
    ensure_default_lists(programme)
    programme.priority_areas.set(list(demo.priority_areas.all()[: 1 + len(prefix) % 2]))
    programme.schools.set(list(demo.schools.all()[:4]))
    programme.communes.set(list(demo.communes.all()[:1]))
    for org_name, kind in [
        (f"Collège {name.split()[-1]}", OrganisationKind.SCHOOL),
        ("Centre social", OrganisationKind.ASSOCIATION),
        ("Maison départementale des solidarités", OrganisationKind.CD_SOCIAL),
    ]:
        Organisation.objects.get_or_create(programme=programme, name=org_name, defaults={"kind": kind})
    Body.objects.get_or_create(
        programme=programme,
        name="Comité de pilotage",
        defaults={"kind": BodyKind.STEERING_COMMITTEE, "meetings_per_year": 2},
    )
    Body.objects.get_or_create(
        programme=programme, name="EPS", defaults={"kind": BodyKind.EPS, "meetings_per_year": 8}
    )
    start = timezone.localdate() - datetime.timedelta(days=400)
    for local, role, fte in [
        ("coordination", Role.COORDINATOR, Decimal("1")),
        ("referent", Role.REFERENT, Decimal("0.8")),
    ]:
        email = f"{local}.{slug}@demo.test"
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email, DEMO_PASSWORD, first_name="Camille", last_name=prefix.title()
        )
        Membership.objects.get_or_create(
            user=user, programme=programme, role=role, defaults={"starts_on": start, "fte": fte}
        )
    year = timezone.localdate().year
    for source, label, amount, in_kind in FUNDING[:3] + FUNDING[4:5]:
        FundingLine.objects.create(
            programme=programme, year=year, source=source, label=label, amount=amount / 2, in_kind=in_kind
        )
    fake = Faker("fr_FR")
    fake.seed_instance(len(slug))
    rng = random.Random(slug)  # noqa: S311 -- demo data
    exit_reason = ListItem.objects.filter(
        programme=programme, kind=ListKind.EXIT_REASON, code="objectifs_atteints"
    ).first()
    today = timezone.localdate()
    levels = [
        SchoolLevel.GS,
        SchoolLevel.CP,
        SchoolLevel.CE2,
        SchoolLevel.CM1,
        SchoolLevel.SIXIEME,
        SchoolLevel.QUATRIEME,
    ]
    for index in range(children):
        last = fake.last_name()
        household = Household.objects.create(programme=programme, name=f"Foyer {last}")
        child = Child.objects.create(
            programme=programme,
            household=household,
            first_name=fake.first_name(),
            last_name=last,
            birth_date=today - datetime.timedelta(days=rng.randint(5 * 365, 14 * 365)),
            sex=rng.choice([Sex.GIRL, Sex.BOY]),
            school_level=rng.choice(levels),
            in_priority_area=rng.random() < 0.8,
        )
        opened = today - datetime.timedelta(days=rng.randint(30, 330))
        closed = index % 5 == 0
        Pathway.objects.create(
            programme=programme,
            child=child,
            case_code=f"{prefix}-{opened.year}-{index + 1:04d}",
            state=PathwayState.CLOSED if closed else PathwayState.ACTIVE,
            opened_on=opened,
            closed_on=min(today, opened + datetime.timedelta(days=200)) if closed else None,
            exit_reason=exit_reason if closed else None,
        )
