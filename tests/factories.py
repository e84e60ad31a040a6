"""Factories for every model, with synthetic French data (Faker fr_FR). Never real people."""

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from maillage.accounts.models import User
from maillage.people.enums import GuardianRelation, SchoolLevel, Sex
from maillage.people.models import Child, Guardian, Household
from maillage.programmes.enums import LeadBodyType, OrganisationKind, Role
from maillage.programmes.models import CharterSignature, CharterVersion, Membership, Organisation, Programme
from maillage.territories.enums import PriorityEducation, SchoolKind
from maillage.territories.models import Commune, School

factory.Faker._DEFAULT_LOCALE = "fr_FR"

TEST_PASSWORD = "Motdepasse-de-test-2026"  # noqa: S105 -- test fixture only
# Every test account that must have a second factor gets a TOTP with this secret (tests only):
# ``totp_code()`` gives the current code, for the tests that log in through the forms.
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 -- test fixture only


def enrol_totp(user, secret: str = TEST_TOTP_SECRET):
    """Give ``user`` a TOTP second factor (once): the state of any account that sees names."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    return existing or TOTP.activate(user, secret).instance


def totp_code(secret: str = TEST_TOTP_SECRET, at: float | None = None) -> str:
    """The TOTP code of ``secret`` at the UNIX time ``at`` (now by default)."""
    import time

    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time() if at is None else at) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@exemple.test")
    # Professionals get names no child of a test can have: pages print the logged-in user's name,
    # and tests look for a child's name in them.
    first_name = factory.Sequence(lambda n: f"Agent{n}")
    last_name = factory.Sequence(lambda n: f"Maillon{n}")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()

    @factory.post_generation
    def second_factor(obj, create, extracted, **kwargs):
        """Staff accounts get a TOTP (``second_factor=False`` to leave them without)."""
        if create and extracted is not False and (extracted or obj.is_staff or obj.is_superuser):
            enrol_totp(obj)


class CommuneFactory(DjangoModelFactory):
    class Meta:
        model = Commune
        django_get_or_create = ["insee_code"]

    insee_code = factory.Sequence(lambda n: f"{99000 + n % 1000:05d}")
    name = factory.Faker("city")
    epci_siren = "200000001"


class SchoolFactory(DjangoModelFactory):
    class Meta:
        model = School

    uai = factory.Sequence(lambda n: f"{9900000 + n:07d}X")
    name = factory.Sequence(lambda n: f"École élémentaire Jules Ferry {n}")
    kind = SchoolKind.ELEMENTAIRE
    priority_education = PriorityEducation.REP


class ProgrammeFactory(DjangoModelFactory):
    class Meta:
        model = Programme

    slug = factory.Sequence(lambda n: f"programme-{n}")
    name = factory.Sequence(lambda n: f"PRE de la Ville {n}")
    case_code_prefix = factory.Sequence(lambda n: f"P{n}")
    lead_body_type = LeadBodyType.CCAS


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"Association des Quartiers {n}")
    kind = OrganisationKind.ASSOCIATION


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    programme = factory.SubFactory(ProgrammeFactory)
    organisation = factory.LazyAttribute(lambda o: OrganisationFactory(programme=o.programme))
    role = Role.COORDINATOR
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    bound_by_secrecy = factory.LazyAttribute(lambda o: o.role in {Role.COORDINATOR, Role.REFERENT})

    @factory.post_generation
    def signed_charter(obj, create, extracted, **kwargs):
        """Members sign their programme's current charter unless ``signed_charter=False``."""
        if not create or extracted is False:
            return
        version = obj.programme.charter_versions.published().order_by("-number").first()
        if version is None:
            version = CharterVersionFactory(programme=obj.programme, number=1)
        CharterSignature.objects.get_or_create(version=version, membership=obj)

    @factory.post_generation
    def second_factor(obj, create, extracted, **kwargs):
        """Members whose role sees names get a TOTP, as the login enforces (``second_factor=False``: none)."""
        from maillage.accounts.mfa import membership_requires_mfa

        if create and extracted is not False and (extracted or membership_requires_mfa(obj)):
            enrol_totp(obj.user)


class CharterVersionFactory(DjangoModelFactory):
    class Meta:
        model = CharterVersion

    programme = factory.SubFactory(ProgrammeFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = "Charte de confidentialité"
    body = "Les partenaires s'engagent à ne partager que les informations strictement nécessaires."
    published_at = factory.LazyFunction(timezone.now)


class CharterSignatureFactory(DjangoModelFactory):
    class Meta:
        model = CharterSignature

    version = factory.SubFactory(CharterVersionFactory)
    membership = factory.SubFactory(MembershipFactory)


class HouseholdFactory(DjangoModelFactory):
    class Meta:
        model = Household

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"Foyer {n}")
    address = factory.Faker("street_address")
    postcode = factory.Faker("postcode")


class GuardianFactory(DjangoModelFactory):
    class Meta:
        model = Guardian

    household = factory.SubFactory(HouseholdFactory)
    first_name = factory.Faker("first_name_female")
    last_name = factory.Faker("last_name")
    relation = GuardianRelation.MOTHER
    has_parental_authority = True
    phone = factory.Faker("phone_number")


class ChildFactory(DjangoModelFactory):
    class Meta:
        model = Child

    programme = factory.SubFactory(ProgrammeFactory)
    household = factory.LazyAttribute(lambda o: HouseholdFactory(programme=o.programme))
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    birth_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=9 * 365))
    sex = Sex.GIRL
    school_level = SchoolLevel.CE2


# --- journey ---------------------------------------------------------------------------------------


def programme_with_lists(**kwargs):
    """A programme with its default configurable lists (motifs, referrer types, exit reasons)."""
    from maillage.programmes.defaults import ensure_default_lists

    programme = ProgrammeFactory(**kwargs)
    ensure_default_lists(programme)
    return programme


def open_pathway(*, programme=None, referent=None, by=None, child=None):
    """A pathway in ``engagement`` for a new child (and household with one parent holding authority)."""
    from maillage.pathways.services import pathway_open

    programme = programme or programme_with_lists()
    child = child or ChildFactory(programme=programme)
    if not child.household.guardians.exists():
        GuardianFactory(household=child.household)
    by = by or referent or MembershipFactory(programme=programme, role=Role.COORDINATOR).user
    return pathway_open(child=child, by=by, referent=referent)
