"""Ville de Démo: territory, partners, one account per role, charter, 60 households."""

import datetime
import random
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from faker import Faker
from shapely.geometry import Point, shape

from maillage.accounts.models import User
from maillage.demo import DEMO_PASSWORD, DEMO_SLUG
from maillage.demo.charter import CHARTER_BODY, CHARTER_TITLE
from maillage.people.enums import GuardianRelation, SchoolLevel, Sex
from maillage.people.models import Child, Guardian, Household
from maillage.programmes.enums import LeadBodyType, OrganisationKind, Role
from maillage.programmes.models import (
    CharterSignature,
    CharterVersion,
    Membership,
    NetworkLevel,
    Organisation,
    Programme,
)
from maillage.territories import importers
from maillage.territories.models import Commune, PriorityArea, School

DATA = Path(importers.__file__).resolve().parent / "data"

# Second factor of the demo accounts (demo only, published in the README): the TOTP secret to type
# into an authenticator app (or ``oathtool --totp -b SECRET``). The aggregate roles (steering,
# manager, network) have none: for them it is the programme's choice, off in the demo.
DEMO_TOTP_SECRETS = {
    "coordination@demo.test": "XN6PVZJHQPLJ562MFEOU2F6OMUPBZGMO",
    "referente@demo.test": "CFMXPLSGJ7TGIHRXGV5PWEVFQBZ6ZIFJ",
    "enseignant@demo.test": "YB4GEHT5MOPNPLOI4UYD67PQZ7L2VEUU",
    "assistante-sociale@demo.test": "VM4T472DPS4CVAB4QVYWZGSCKMH3CGTU",
    "orienteur@demo.test": "F3NNFZRLRSUWZABVMCFAGTZPMCHW6ZE3",
    "intervenant@demo.test": "BW3ZGVZQTHR2RY3CDAJA37SZEFWGJM26",
    "dpo@demo.test": "HCDR5WUJJFJLI7FEUB5MSKC4FRR7I7J7",
}


def _enrol_demo_totp(user: User) -> None:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    secret = DEMO_TOTP_SECRETS.get(user.email)
    if secret and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, secret)


HOUSEHOLDS = 60

ORGANISATIONS = [
    ("CCAS de Ville de Démo", OrganisationKind.CCAS, "Porte le programme de réussite éducative."),
    (
        "Circonscription Éducation nationale Démo-Centre",
        OrganisationKind.EN_SERVICE,
        "IEN, RASED, santé scolaire.",
    ),
    ("Maison départementale des solidarités", OrganisationKind.CD_SOCIAL, "Service social départemental."),
    ("PMI du quartier des Tilleuls", OrganisationKind.PMI, "Protection maternelle et infantile."),
    ("CAF — antenne de Ville de Démo", OrganisationKind.CAF, "Accès aux droits, aides aux loisirs."),
    ("Association Lire et Grandir", OrganisationKind.ASSOCIATION, "Accompagnement à la scolarité (CLAS)."),
    ("Compagnie Théâtre en Herbe", OrganisationKind.ASSOCIATION, "Ateliers de théâtre pour enfants."),
    ("Union sportive des Quartiers", OrganisationKind.CLUB, "Football, judo, multisport."),
    ("Centre médico-psycho-pédagogique", OrganisationKind.HEALTH, "Consultations, bilans, orthophonie."),
    ("Service jeunesse de la ville", OrganisationKind.TOWN, "Accueils de loisirs, séjours."),
    ("Collège Lucie Aubrac", OrganisationKind.SCHOOL, "Collège REP+."),
    ("Groupe scolaire Jean Jaurès", OrganisationKind.SCHOOL, "École élémentaire REP."),
]

# email, first name, last name, role, organisation name, job title, bound by secrecy
ACCOUNTS = [
    (
        "coordination@demo.test",
        "Camille",
        "Moreau",
        Role.COORDINATOR,
        "CCAS de Ville de Démo",
        "Coordonnatrice PRE",
        True,
    ),
    (
        "referente@demo.test",
        "Inès",
        "Lambert",
        Role.REFERENT,
        "CCAS de Ville de Démo",
        "Référente de parcours",
        True,
    ),
    (
        "enseignant@demo.test",
        "Julien",
        "Garnier",
        Role.EPS_MEMBER,
        "Groupe scolaire Jean Jaurès",
        "Professeur des écoles",
        False,
    ),
    (
        "assistante-sociale@demo.test",
        "Nadia",
        "Benali",
        Role.EPS_MEMBER,
        "Maison départementale des solidarités",
        "Assistante sociale",
        True,
    ),
    (
        "orienteur@demo.test",
        "Olivier",
        "Perrin",
        Role.REFERRER,
        "Collège Lucie Aubrac",
        "Conseiller principal d'éducation",
        False,
    ),
    (
        "intervenant@demo.test",
        "Léa",
        "Fontaine",
        Role.PROVIDER,
        "Association Lire et Grandir",
        "Animatrice CLAS",
        False,
    ),
    (
        "elu@demo.test",
        "Bernard",
        "Roux",
        Role.STEERING,
        None,
        "Adjoint au maire chargé de l'éducation",
        False,
    ),
    (
        "gestion@demo.test",
        "Sophie",
        "Marchand",
        Role.MANAGER,
        "CCAS de Ville de Démo",
        "Gestionnaire administrative",
        False,
    ),
    ("dpo@demo.test", "Hugo", "Lefèvre", Role.DPO, None, "Délégué à la protection des données", True),
    (
        "reseau@demo.test",
        "Martine",
        "Chevalier",
        Role.NETWORK,
        None,
        "Chargée de mission GIP agglomération",
        False,
    ),
]

LEVELS_BY_AGE = {
    3: SchoolLevel.PS, 4: SchoolLevel.MS, 5: SchoolLevel.GS, 6: SchoolLevel.CP, 7: SchoolLevel.CE1,
    8: SchoolLevel.CE2, 9: SchoolLevel.CM1, 10: SchoolLevel.CM2, 11: SchoolLevel.SIXIEME,
    12: SchoolLevel.CINQUIEME, 13: SchoolLevel.QUATRIEME, 14: SchoolLevel.TROISIEME, 15: SchoolLevel.SECONDE,
    16: SchoolLevel.PREMIERE,
}  # fmt: skip


def seed(out) -> Programme:
    with transaction.atomic():
        importers.import_communes_file(DATA / "communes_demo.csv")
        network, _ = NetworkLevel.objects.get_or_create(
            name="GIP Réussite éducative de l'agglomération de Démo", defaults={"kind": "intercommunal"}
        )
        programme, created = Programme.objects.get_or_create(
            slug=DEMO_SLUG,
            defaults={
                "name": "PRE de Ville de Démo",
                "case_code_prefix": "DEMO",
                "lead_body_type": LeadBodyType.CCAS,
                "lead_body_name": "CCAS de Ville de Démo",
                "network_level": network,
                "prior_veille_educative": True,
                "prior_veille_year": 2004,
            },
        )
        importers.import_qpv_file(DATA / "qpv_demo.geojson", programme=programme)
        importers.import_schools_file(DATA / "schools_demo.csv")
        programme.communes.set(Commune.objects.filter(insee_code__in=["99101", "99102", "99103"]))
        programme.schools.set(School.objects.filter(commune_code__in=["99101", "99102", "99103"]))

        organisations = {}
        for name, kind, services in ORGANISATIONS:
            organisations[name], _ = Organisation.objects.get_or_create(
                programme=programme, name=name, defaults={"kind": kind, "services": services}
            )

        coordinator_user = None
        memberships = []
        start = timezone.localdate() - datetime.timedelta(days=400)
        for email, first, last, role, org_name, job, bound in ACCOUNTS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email, DEMO_PASSWORD, first_name=first, last_name=last)
            _enrol_demo_totp(user)
            membership, _ = Membership.objects.get_or_create(
                user=user,
                programme=programme,
                role=role,
                defaults={
                    "organisation": organisations.get(org_name),
                    "job_title": job,
                    "bound_by_secrecy": bound,
                    "starts_on": start,
                    "fte": 1 if role in {Role.COORDINATOR, Role.REFERENT} else None,
                },
            )
            memberships.append(membership)
            if role == Role.COORDINATOR:
                coordinator_user = user

        charter, _ = CharterVersion.objects.get_or_create(
            programme=programme,
            number=1,
            defaults={
                "title": CHARTER_TITLE,
                "body": CHARTER_BODY,
                "published_at": timezone.now() - datetime.timedelta(days=380),
                "published_by": coordinator_user,
            },
        )
        for membership in memberships:
            CharterSignature.objects.get_or_create(
                version=charter,
                membership=membership,
                defaults={"institution": membership.organisation.name if membership.organisation else ""},
            )

        if not programme.households.exists():
            _seed_households(programme)
    households, children = programme.households.count(), programme.children.count()
    out(f"Programme « {programme.name} » : {households} foyers, {children} enfants.")
    return programme


def _random_point_in(area: PriorityArea, rng: random.Random) -> tuple[float, float]:
    polygon = shape(area.geometry)
    for _ in range(200):
        lon = rng.uniform(area.min_lon, area.max_lon)
        lat = rng.uniform(area.min_lat, area.max_lat)
        if polygon.contains(Point(lon, lat)):
            return lat, lon
    point = polygon.representative_point()
    return point.y, point.x


def _seed_households(programme: Programme) -> None:
    rng = random.Random(2026)  # noqa: S311 -- demo data, not security
    fake = Faker("fr_FR")
    fake.seed_instance(2026)
    areas = list(programme.priority_areas.all())
    schools = list(programme.schools.all())
    communes = list(programme.communes.all())
    today = timezone.localdate()
    for _ in range(HOUSEHOLDS):
        last_name = fake.last_name()
        commune = rng.choice(communes)
        household = Household.objects.create(
            programme=programme,
            name=f"Famille {last_name}",
            address=fake.street_address(),
            postcode="99" + commune.insee_code[-3:],
            commune=commune,
        )
        Guardian.objects.create(
            household=household,
            first_name=fake.first_name_female(),
            last_name=last_name,
            relation=GuardianRelation.MOTHER,
            has_parental_authority=True,
            phone=fake.phone_number(),
            email=f"{fake.user_name()}@exemple.test",
        )
        if rng.random() < 0.6:
            Guardian.objects.create(
                household=household,
                first_name=fake.first_name_male(),
                last_name=last_name if rng.random() < 0.7 else fake.last_name(),
                relation=GuardianRelation.FATHER,
                has_parental_authority=rng.random() < 0.9,
                phone=fake.phone_number(),
            )
        in_qpv = areas and rng.random() < 0.7
        lat, lon = _random_point_in(rng.choice(areas), rng) if in_qpv else (45.08 + rng.random() / 50, 4.08)
        for _ in range(rng.choice([1, 1, 2, 2, 3])):
            age = rng.randint(3, 16)
            birth_date = today - datetime.timedelta(days=age * 365 + rng.randint(0, 360))
            level = LEVELS_BY_AGE.get(age, SchoolLevel.OTHER)
            stage = SchoolLevel.stage(level)
            fitting = [s for s in schools if _school_fits(s.kind, stage)] or schools
            sex = rng.choice([Sex.GIRL, Sex.BOY])
            Child.objects.create(
                programme=programme,
                household=household,
                first_name=fake.first_name_female() if sex == Sex.GIRL else fake.first_name_male(),
                last_name=last_name,
                birth_date=birth_date,
                sex=sex,
                school=rng.choice(fitting) if fitting else None,
                school_level=level,
                address=household.address,
                postcode=household.postcode,
                commune=commune,
                latitude=round(lat, 6),
                longitude=round(lon, 6),
            )


def _school_fits(kind: str, stage: str) -> bool:
    return {
        "maternelle": kind in {"maternelle", "primaire"},
        "elementaire": kind in {"elementaire", "primaire"},
        "college": kind == "college",
        "lycee": kind == "lycee",
    }.get(stage, True)
