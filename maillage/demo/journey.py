"""Ville de Démo: about thirty referrals and the pathways they opened, over the last year.

Everything goes through the real services (``maillage.referrals.services``, ``maillage.pathways.services``),
so that the demo is journaled like real work; the dates are then moved back in time with queryset
``update`` calls, so that each story reads in order: referral, review, acceptance, the family's
consent, contacts, diagnosis, EPS, plan, bilans, exit. No date lies in the future (except what is
planned: the next EPS meeting, target dates, the end of running actions, the next bilan).

Built deterministically (``random.Random(2026)``, Faker ``fr_FR`` seeded) on the children of the 60
households of ``maillage.demo.foundation``. Runs once: a programme with referrals is left as it is.
"""

import datetime
import random
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from faker import Faker

from maillage.accounts.models import User
from maillage.demo import governance
from maillage.demo.governance import EPS_NORD, EPS_SUD, moment
from maillage.governance.enums import BodyKind
from maillage.governance.models import Body, Decision, Meeting
from maillage.pathways import services as pathways
from maillage.pathways.enums import (
    HEALTH_DIMENSIONS,
    ActionKind,
    Circle,
    ContactKind,
    Dimension,
    ObjectiveStatus,
    PathwayState,
    Rating,
    ReviewKind,
)
from maillage.pathways.models import (
    CaseTeamMember,
    Consent,
    Contact,
    DiagnosticSection,
    Note,
    Objective,
    Pathway,
    PathwayTransition,
    PlanAction,
    ReferentAssignment,
    Review,
    ReviewRating,
)
from maillage.people.enums import SchoolLevel
from maillage.people.models import Child, Guardian, Household
from maillage.programmes.defaults import ensure_default_lists
from maillage.programmes.enums import ListKind
from maillage.programmes.models import ListItem, Membership, Organisation, Programme
from maillage.referrals import services as referrals
from maillage.referrals.eligibility import age_on
from maillage.referrals.enums import ReferralState
from maillage.referrals.models import Referral, ReferralTransition
from maillage.territories.geo import locate

DAY = datetime.timedelta(days=1)
MDS = "Maison départementale des solidarités"
EPS_COMMUNES = {EPS_NORD: {"99101", "99102"}, EPS_SUD: {"99103"}}

COORDINATOR = "coordination@demo.test"
REFERENT = "referente@demo.test"
TEACHER = "enseignant@demo.test"
SOCIAL_WORKER = "assistante-sociale@demo.test"
REFERRER = "orienteur@demo.test"


@dataclass
class Story:
    """One referral and, when accepted, the life of its pathway.

    ``outcome``: a referral state (submitted, under_review, declined, redirected) or what became of
    the pathway (engagement, diagnostic, eps_review, active, closed, withdrawn, refused, reopened).
    ``days_ago``: when the referral was sent.
    """

    outcome: str
    days_ago: int
    by: str = COORDINATOR
    eps: str = EPS_NORD
    referent: str | None = REFERENT
    share_mds: bool = False
    team: tuple[str, ...] = ()
    overdue: bool = False
    exit: str = ""
    closed_days_ago: int = 0
    reassign: bool = False
    derogation: bool = False
    college: bool = False
    older: bool = False


STORIES = [
    # Referrals still waiting for a decision.
    Story("submitted", 3, by=REFERRER, college=True),
    Story("submitted", 6, by=REFERRER, college=True),
    Story("submitted", 9),
    Story("under_review", 12, eps=EPS_SUD),
    Story("under_review", 16, by=REFERRER, college=True),
    Story("under_review", 21),
    # Referrals not taken on.
    Story("declined", 95, eps=EPS_SUD),
    Story("declined", 180, by=REFERRER, college=True),
    Story("declined", 260, derogation=True),
    Story("redirected", 70),
    Story("redirected", 150, by=REFERRER, college=True, older=True),
    Story("redirected", 300, eps=EPS_SUD),
    # Pathways at the first steps.
    Story("engagement", 12, referent=None),
    Story("engagement", 19, eps=EPS_SUD),
    Story("engagement", 27, by=REFERRER, college=True, referent=COORDINATOR),
    Story("diagnostic", 38, share_mds=True),
    Story("diagnostic", 47, eps=EPS_SUD),
    Story("diagnostic", 58, by=REFERRER, college=True),
    # On the agenda of next week's EPS Nord.
    Story("eps_review", 50, share_mds=True),
    Story("eps_review", 56, by=REFERRER, college=True, share_mds=True),
    Story("eps_review", 63),
    # Running pathways.
    Story("active", 330, share_mds=True, team=(SOCIAL_WORKER,), overdue=True),
    Story("active", 290, by=REFERRER, college=True, team=(TEACHER,)),
    Story("active", 250, eps=EPS_SUD, referent=COORDINATOR, overdue=True),
    Story("active", 210, share_mds=True, team=(TEACHER, SOCIAL_WORKER), reassign=True),
    Story("active", 190, derogation=True, overdue=True),
    Story("active", 140, by=REFERRER, college=True, team=(TEACHER,)),
    Story("active", 118, eps=EPS_SUD, referent=COORDINATOR),
    # Exits.
    Story(
        "closed", 375, exit="objectifs_atteints", closed_days_ago=55, share_mds=True, team=(SOCIAL_WORKER,)
    ),
    Story("closed", 350, eps=EPS_SUD, exit="objectifs_atteints", closed_days_ago=30),
    Story("closed", 320, by=REFERRER, college=True, exit="relais_droit_commun", closed_days_ago=12),
    Story("withdrawn", 235, share_mds=True, team=(SOCIAL_WORKER,), closed_days_ago=95),
    Story("refused", 205, eps=EPS_SUD, referent=COORDINATOR, closed_days_ago=170),
    Story("reopened", 365, exit="demenagement", closed_days_ago=200),
]

MOTIFS_BY_STAGE = {
    "maternelle": ["langue", "parentalite", "sante", "comportement"],
    "elementaire": ["resultats_scolaires", "langue", "comportement", "loisirs_culture", "sante"],
    "college": ["absenteisme", "comportement", "resultats_scolaires", "isolement_social"],
    "lycee": ["absenteisme", "isolement_social", "resultats_scolaires"],
    "other": ["parentalite", "isolement_social"],
}

CONTEXT = {
    "resultats_scolaires": "Difficultés persistantes en lecture et en calcul, signalées par l'école.",
    "isolement_social": "L'enfant reste souvent seul, peu d'activités en dehors de l'école.",
    "comportement": "Tensions répétées avec les camarades, l'enfant a du mal à rester en classe.",
    "absenteisme": "Absences fréquentes depuis la rentrée, souvent le lundi matin.",
    "sante": "Fatigue importante, la famille n'a pas de médecin traitant depuis le déménagement.",
    "parentalite": "La mère se dit dépassée et demande un appui pour les devoirs et les horaires.",
    "loisirs_culture": "Aucune activité de loisirs, la famille ne connaît pas l'offre du quartier.",
    "langue": "La famille est arrivée récemment ; la langue française est peu parlée à la maison.",
    "autre": "Situation signalée lors d'un échange avec la famille.",
}

DECLINED = [
    "Les difficultés signalées sont ponctuelles et déjà suivies par l'équipe pédagogique.",
    "La famille, rencontrée, ne souhaite pas d'accompagnement pour le moment.",
    "Hors des critères du programme (résidence et scolarité hors géographie prioritaire), "
    "sans élément justifiant une dérogation.",
]

REDIRECTED = [
    ("La demande porte d'abord sur un besoin de soin.", "Centre médico-psycho-pédagogique"),
    (
        "Adolescent en rupture avec le collège : l'accompagnement relève de la prévention spécialisée.",
        "Prévention spécialisée — équipe éducative du Plateau",
    ),
    (
        "Difficultés d'abord matérielles : l'accompagnement social de droit commun est le bon cadre.",
        "Maison départementale des solidarités (service social de secteur)",
    ),
]

# dimension → difficulties, resources, facts, assessment
DIAGNOSIS = {
    Dimension.SCHOOL: (
        "Lecture hésitante, fatigue en fin de journée, devoirs rarement faits.",
        "Curieux, participe volontiers à l'oral ; bonne relation avec l'enseignant.",
        "Deux avertissements de travail au premier trimestre ; 6 demi-journées d'absence.",
        "Les difficultés tiennent au manque de cadre pour le travail à la maison plus qu'aux capacités.",
    ),
    Dimension.PHYSICAL_HEALTH: (
        "Troubles du sommeil signalés par la mère ; pas de bilan visuel récent.",
        "La famille est prête à reprendre un suivi médical.",
        "Dernière visite médicale en grande section.",
        "Un bilan de santé et un bilan visuel sont à organiser rapidement.",
    ),
    Dimension.PSYCHOLOGICAL: (
        "Anxiété importante avant l'école, pleurs fréquents le matin.",
        "Bonne capacité à exprimer ses émotions avec un adulte de confiance.",
        "Deux passages à l'infirmerie par semaine en moyenne.",
        "Une orientation vers une consultation au CMPP paraît utile, avec l'accord des parents.",
    ),
    Dimension.FAMILY: (
        "Mère seule avec trois enfants, horaires de travail décalés.",
        "Grand-mère présente dans le quartier ; parents très attachés à la réussite de l'enfant.",
        "La mère travaille de 5 h à 13 h ; l'aînée garde les plus jeunes le soir.",
        "Un appui à la parentalité centré sur l'organisation du quotidien serait bien accueilli.",
    ),
    Dimension.SOCIAL: (
        "Logement suroccupé (quatre personnes dans un deux-pièces), dettes de loyer.",
        "Droits CAF ouverts ; la famille connaît le centre social.",
        "Demande de logement social déposée il y a deux ans.",
        "Le manque d'espace pèse sur le travail scolaire ; relais à prévoir avec le service social.",
    ),
    Dimension.CULTURAL: (
        "Pas de sortie culturelle hors école ; pas d'inscription à la médiathèque.",
        "Aime dessiner et raconter des histoires.",
        "N'a jamais participé aux ateliers du quartier.",
        "Un atelier d'expression (théâtre) pourrait renforcer la confiance en soi.",
    ),
    Dimension.SPORT_LEISURE: (
        "Aucune activité sportive, beaucoup de temps devant les écrans.",
        "Intérêt pour le football et le judo.",
        "Inscription au club abandonnée l'an dernier faute de moyens.",
        "Une inscription avec aide financière est réaliste si le transport est organisé.",
    ),
}

# dimension → objectives
OBJECTIVES = {
    Dimension.SCHOOL: ["Retrouver le goût de la lecture", "Faire ses devoirs régulièrement avec un appui"],
    Dimension.PHYSICAL_HEALTH: ["Réaliser un bilan de santé et un bilan visuel"],
    Dimension.PSYCHOLOGICAL: ["Prendre en charge l'anxiété avec un professionnel du soin"],
    Dimension.FAMILY: ["Soutenir les parents dans le suivi de la scolarité"],
    Dimension.SOCIAL: ["Améliorer les conditions matérielles pour le travail scolaire"],
    Dimension.CULTURAL: ["Découvrir une pratique culturelle et prendre la parole en groupe"],
    Dimension.SPORT_LEISURE: ["Pratiquer une activité sportive régulière"],
}

# Plan rows the teacher may read (practical information); the others stay within the secret partagé.
PRACTICAL_DIMENSIONS = {Dimension.SCHOOL, Dimension.CULTURAL, Dimension.SPORT_LEISURE}


def plan_circle(pathway, dimension: str) -> str:
    """The circle a référent would choose for a plan row: « soutien en lecture » for the partners,
    the CMPP or the family's situation within the secret partagé; ``team`` when the family's
    consent shares with no partner."""
    if not pathway.consents.valid().filter(shared_with__isnull=False).exists():
        return Circle.TEAM
    return Circle.PARTNERS if dimension in PRACTICAL_DIMENSIONS else Circle.SECRET


# dimension → title, provider, kind, frequency, cost, funding line
ACTIONS = {
    Dimension.SCHOOL: (
        "Accompagnement à la scolarité (CLAS)",
        "Association Lire et Grandir",
        ActionKind.COLLECTIVE,
        "Deux soirs par semaine",
        None,
        "CAF — Contrat local d'accompagnement à la scolarité",
    ),
    Dimension.PHYSICAL_HEALTH: (
        "Bilan de santé et bilan visuel",
        "PMI du quartier des Tilleuls",
        ActionKind.INDIVIDUAL,
        "",
        None,
        "",
    ),
    Dimension.PSYCHOLOGICAL: (
        "Consultations au CMPP",
        "Centre médico-psycho-pédagogique",
        ActionKind.INDIVIDUAL,
        "Une séance tous les quinze jours",
        None,
        "",
    ),
    Dimension.FAMILY: (
        "Groupe de parole des parents",
        "CCAS de Ville de Démo",
        ActionKind.COLLECTIVE,
        "Un samedi matin par mois",
        Decimal("0"),
        "Crédits PRE — ANCT",
    ),
    Dimension.SOCIAL: (
        "Aide aux vacances et accès aux droits",
        "CAF — antenne de Ville de Démo",
        ActionKind.INDIVIDUAL,
        "",
        Decimal("250.00"),
        "CAF — Fonds publics et territoires",
    ),
    Dimension.CULTURAL: (
        "Atelier théâtre du mercredi",
        "Compagnie Théâtre en Herbe",
        ActionKind.COLLECTIVE,
        "Le mercredi après-midi",
        Decimal("90.00"),
        "Crédits PRE — ANCT",
    ),
    Dimension.SPORT_LEISURE: (
        "Inscription au club de judo",
        "Union sportive des Quartiers",
        ActionKind.INDIVIDUAL,
        "Deux entraînements par semaine",
        Decimal("120.00"),
        "Ville de Démo — politique éducative",
    ),
}

# dimension, circle: the circle each written section is shared in
SECTION_PLANS = [
    [
        (Dimension.SCHOOL, Circle.PARTNERS),
        (Dimension.FAMILY, Circle.SECRET),
        (Dimension.SPORT_LEISURE, Circle.TEAM),
    ],
    [(Dimension.SCHOOL, Circle.PARTNERS), (Dimension.PSYCHOLOGICAL, Circle.SECRET)],
    [
        (Dimension.SOCIAL, Circle.SECRET),
        (Dimension.CULTURAL, Circle.PARTNERS),
        (Dimension.SCHOOL, Circle.TEAM),
    ],
    [(Dimension.PHYSICAL_HEALTH, Circle.TEAM), (Dimension.SCHOOL, Circle.PARTNERS)],
    [
        (Dimension.FAMILY, Circle.TEAM),
        (Dimension.SPORT_LEISURE, Circle.PARTNERS),
        (Dimension.SCHOOL, Circle.SECRET),
    ],
]

CONTACTS = [
    (ContactKind.PHONE, "Mère, référente", "Point sur la semaine ; l'enfant va mieux le matin.", 15),
    (ContactKind.HOME_VISIT, "Parents, référente", "Visite à domicile : organisation des devoirs revue.", 60),
    (ContactKind.SCHOOL_MEETING, "Enseignant, référente", "Progrès en lecture, à encourager.", 30),
    (
        ContactKind.OFFICE_MEETING,
        "Mère, enfant, référente",
        "Entretien au bureau : retour sur l'atelier.",
        45,
    ),
    (
        ContactKind.PARTNER,
        "Animatrice CLAS, référente",
        "Assiduité correcte, bonne entente avec le groupe.",
        20,
    ),
    (ContactKind.PHONE, "Père, référente", "Le père souhaite être associé aux prochains rendez-vous.", 10),
]

NOTES = [
    ("Rendez-vous proposé à la famille pour présenter le programme et recueillir son accord.", False),
    ("La famille a demandé à décaler les rendez-vous après 17 h.", False),
    ("Le rendez-vous au CMPP est fixé ; la mère souhaite être accompagnée la première fois.", True),
    ("Penser à vérifier l'inscription à la cantine avec le CCAS.", False),
]

RATING_COMMENTS = {
    Rating.REACHED: "Objectif atteint, progrès nets constatés par l'école et la famille.",
    Rating.PARTLY: "Progrès réels mais encore fragiles.",
    Rating.NOT_REACHED: "Peu d'évolution : à reprendre avec la famille.",
    Rating.ABANDONED: "Objectif abandonné avec l'accord de la famille.",
}

TEAM_REASONS = {
    TEACHER: "Enseignant de l'enfant : suit les apprentissages en classe.",
    SOCIAL_WORKER: "Assistante sociale de secteur : accompagne déjà la famille.",
}

EXIT_NOTES = {
    "objectifs_atteints": ("", "Objectifs atteints ; la famille sait vers qui se tourner."),
    "relais_droit_commun": ("Centre médico-psycho-pédagogique", "Suivi poursuivi au CMPP et au CLAS."),
    "demenagement": ("", "La famille quitte la commune pour un logement plus grand."),
    "refus_famille": ("", "Après deux rendez-vous, la famille ne souhaite pas donner suite."),
}


def seed(programme: Programme, out) -> None:
    ensure_default_lists(programme)
    bodies = governance.seed(programme)
    if Referral.objects.filter(programme=programme).exists():
        out("Orientations et parcours déjà présents : inchangés.")
    else:
        with transaction.atomic():
            Journey(programme, bodies).run()
    _summary(programme, out)


def _summary(programme: Programme, out) -> None:
    referral_states = Counter(Referral.objects.filter(programme=programme).values_list("state", flat=True))
    pathway_states = Counter(Pathway.objects.filter(programme=programme).values_list("state", flat=True))
    out(
        f"Orientations : {sum(referral_states.values())} — "
        + ", ".join(f"{ReferralState(s).label.lower()} {referral_states[s]}" for s in ReferralState.values)
    )
    out(
        f"Parcours : {sum(pathway_states.values())} — "
        + ", ".join(f"{PathwayState(s).label.lower()} {pathway_states[s]}" for s in PathwayState.values)
    )
    meetings = Meeting.objects.filter(body__programme=programme)
    eps = meetings.filter(body__kind=BodyKind.EPS)
    upcoming = eps.filter(starts_at__gte=timezone.now()).order_by("starts_at").first()
    out(
        f"Instances : {Body.objects.filter(programme=programme).count()} ; réunions : {meetings.count()}, "
        f"dont {eps.count()} d'EPS"
        + (
            f" (prochaine : {upcoming.body} le {timezone.localtime(upcoming.starts_at):%d/%m/%Y})."
            if upcoming
            else "."
        )
    )
    withdrawn = Consent.objects.filter(pathway__programme=programme, withdrawn_on__isnull=False).count()
    overdue = Pathway.objects.filter(
        programme=programme, state=PathwayState.ACTIVE, next_review_on__lt=timezone.localdate()
    ).count()
    out(f"Accords retirés : {withdrawn} ; bilans en retard : {overdue}.")


class Journey:
    def __init__(self, programme: Programme, bodies):
        self.programme = programme
        self.bodies = bodies
        self.rng = random.Random(2026)  # noqa: S311 -- demo data, not security
        self.fake = Faker("fr_FR")
        self.fake.seed_instance(2026)
        self.today = timezone.localdate()
        self.users = {u.email: u for u in User.objects.filter(email__endswith="@demo.test")}
        self.memberships = {
            m.user.email: m
            for m in Membership.objects.filter(programme=programme).select_related("user").order_by("pk")
        }
        self.organisations = {o.name: o for o in Organisation.objects.filter(programme=programme)}
        items = ListItem.objects.filter(programme=programme)
        self.motifs = {i.code: i for i in items if i.kind == ListKind.REFERRAL_MOTIF}
        self.referrer_types = {i.code: i for i in items if i.kind == ListKind.REFERRER_TYPE}
        self.exit_reasons = {i.code: i for i in items if i.kind == ListKind.EXIT_REASON}
        self.areas = list(programme.priority_areas.all())
        self.children = self._candidates()
        self.used_households: set[int] = set()
        self.eps_meetings: dict[tuple[str, datetime.date], object] = {}
        self.next_eps = None

    # --- people -----------------------------------------------------------------------------------

    def _candidates(self) -> list[dict]:
        """The programme's children with what the stories select on, in a deterministic order."""
        rows = []
        for child in (
            Child.objects.filter(programme=self.programme)
            .select_related("school", "commune", "household")
            .prefetch_related("household__guardians")
            .order_by("pk")
        ):
            age = age_on(child.birth_date, self.today)
            area = locate(child.latitude, child.longitude, self.areas) if child.latitude is not None else None
            rep = child.school is not None and child.school.priority_education in {"REP", "REP+"}
            rows.append(
                {
                    "child": child,
                    "age": age,
                    "area": area,
                    "eligible": 3 <= age <= 15 and (area is not None or rep),
                    "college": child.school is not None and child.school.kind == "college",
                    "commune": child.commune.insee_code if child.commune else "",
                }
            )
        self.rng.shuffle(rows)
        return rows

    def _pick(self, story: Story) -> dict:
        def fits(row, *, strict: bool) -> bool:
            if strict and row["child"].household_id in self.used_households:
                return False
            if story.derogation != (not row["eligible"]) or not 3 <= row["age"] <= 15:
                return False
            if story.older and row["age"] < 14:
                return False
            if story.college and not row["college"]:
                return False
            return row["commune"] in EPS_COMMUNES[story.eps]

        for strict in (True, False):
            for row in self.children:
                if fits(row, strict=strict):
                    self.children.remove(row)
                    self.used_households.add(row["child"].household_id)
                    return row
        raise LookupError(f"No demo child fits {story}")  # pragma: no cover -- the foundation is fixed

    # --- the stories ------------------------------------------------------------------------------

    def run(self) -> None:
        # The EPS Nord of next week: its agenda is published today.
        next_week = self.today + datetime.timedelta(days=7 - self.today.weekday() + 1)  # next Tuesday
        self.next_eps = governance.eps_meeting(
            self.bodies[EPS_NORD], _at(next_week, 14), agenda_published_at=timezone.now()
        )
        for story in STORIES:
            self.tell(story)
        self._renumber_case_codes()
        self._date_people()

    def tell(self, story: Story) -> None:
        row = self._pick(story)
        child = row["child"]
        submitted = self.today - datetime.timedelta(days=story.days_ago)
        referral = self._submit(story, row, submitted)
        if story.outcome == "submitted":
            return
        reviewed = submitted + datetime.timedelta(days=self.rng.randint(1, 3))
        self._referral_step(referral, ReferralState.UNDER_REVIEW, reviewed)
        if story.outcome == "under_review":
            return
        decided = min(reviewed + datetime.timedelta(days=self.rng.randint(3, 8)), self.today)
        if story.outcome == "declined":
            reason = DECLINED[2] if story.derogation else self.rng.choice(DECLINED[:2])
            self._referral_step(referral, ReferralState.DECLINED, decided, reason=reason)
            return
        if story.outcome == "redirected":
            reason, target = REDIRECTED[1] if story.older else self.rng.choice([REDIRECTED[0], REDIRECTED[2]])
            self._referral_step(
                referral, ReferralState.REDIRECTED, decided, reason=reason, redirected_to=target
            )
            return
        pathway = self._accept(story, referral, child, decided)
        end = self.today
        if story.outcome in {"closed", "withdrawn", "refused", "reopened"}:
            end = self.today - datetime.timedelta(days=story.closed_days_ago)
        self.walk(story, pathway, child, decided, end)

    def _submit(self, story: Story, row: dict, on: datetime.date) -> Referral:
        child = row["child"]
        stage = "college" if row["college"] else _stage(child)
        codes = self.rng.sample(MOTIFS_BY_STAGE[stage], k=self.rng.choice([1, 2, 2, 3]))
        guardian = child.household.guardians.all()[0]
        by = self.users[story.by]
        if story.by == REFERRER:
            fields = {
                "referrer_type": self.referrer_types["ecole"],
                "referrer_organisation": self.organisations["Collège Lucie Aubrac"],
                "referrer_contact": "Olivier Perrin, CPE",
            }
        else:
            source = self.rng.choice(["famille", "famille", "pmi", "service_social", "ecole"])
            organisation = {
                "pmi": "PMI du quartier des Tilleuls",
                "service_social": MDS,
                "ecole": "Groupe scolaire Jean Jaurès",
            }.get(source)
            fields = {
                "referrer_type": self.referrer_types[source],
                "referrer_organisation": self.organisations.get(organisation),
                "referrer_contact": "" if source == "famille" else f"{self.fake.name()}, par téléphone",
                "on_behalf_of_family": source == "famille",
            }
        referral = referrals.referral_submit(
            programme=self.programme,
            by=by,
            motifs=[self.motifs[code] for code in codes],
            child_first_name=child.first_name,
            child_last_name=child.last_name,
            child_birth_date=child.birth_date,
            child_sex=child.sex,
            school=child.school,
            school_level=child.school_level,
            address=child.address,
            postcode=child.postcode,
            commune=child.commune,
            latitude=child.latitude,
            longitude=child.longitude,
            priority_area=row["area"],
            guardian_name=f"{guardian.first_name} {guardian.last_name}",
            guardian_relation=guardian.relation,
            guardian_phone=guardian.phone,
            guardian_email=guardian.email,
            context=" ".join(CONTEXT[code] for code in codes),
            family_informed=True,
            **fields,
        )
        at = self._at(on, 9, 17)
        Referral.objects.filter(pk=referral.pk).update(
            submitted_at=at, created_at=at, updated_at=at, state_changed_at=at
        )
        ReferralTransition.objects.filter(referral=referral).update(at=at, created_at=at, updated_at=at)
        return referral

    def _referral_step(self, referral: Referral, to_state: str, on: datetime.date, **decision) -> None:
        referrals.referral_transition(
            referral=referral, to_state=to_state, by=self.users[COORDINATOR], **decision
        )
        self._stamp_referral(referral, on)

    def _stamp_referral(self, referral: Referral, on: datetime.date) -> datetime.datetime:
        at = self._at(on, 10, 16)
        Referral.objects.filter(pk=referral.pk).update(state_changed_at=at, updated_at=at)
        last = ReferralTransition.objects.filter(referral=referral).order_by("-pk")[:1]
        ReferralTransition.objects.filter(pk__in=last.values("pk")).update(
            at=at, created_at=at, updated_at=at
        )
        return at

    def _accept(self, story: Story, referral: Referral, child: Child, on: datetime.date) -> Pathway:
        referent = self.users[story.referent] if story.referent else None
        if story.reassign:
            referent = self.users[COORDINATOR]
        derogation = not referrals.referral_eligibility(referral).eligible
        pathway = referrals.referral_accept(
            referral=referral,
            by=self.users[COORDINATOR],
            child=child,
            referent=referent,
            derogation=derogation,
            derogation_reason=(
                "Famille relogée hors du quartier prioritaire en cours d'année ; l'enfant reste scolarisé "
                "dans le quartier et la fratrie y a ses repères."
                if derogation
                else ""
            ),
        )
        at = self._stamp_referral(referral, on)
        self._stamp_opening(pathway, at)
        return pathway

    def _stamp_opening(self, pathway: Pathway, at: datetime.datetime) -> None:
        Pathway.objects.filter(pk=pathway.pk).update(
            opened_on=at.date(), created_at=at, updated_at=at, state_changed_at=at
        )
        PathwayTransition.objects.filter(pathway=pathway).update(at=at, created_at=at, updated_at=at)
        ReferentAssignment.objects.filter(pathway=pathway).update(starts_at=at, created_at=at, updated_at=at)

    # --- one pathway, from opening to where the story stops -------------------------------------

    def walk(self, story: Story, pathway: Pathway, child: Child, opened: datetime.date, end: datetime.date):
        coordinator = self.users[COORDINATOR]
        writer = self.users[story.referent or COORDINATOR]
        if story.reassign:
            pathway = self._reassign(pathway, opened + datetime.timedelta(days=6))
            writer = self.users[REFERENT]
        membership = self._membership(writer)
        if story.outcome == "engagement":
            self._note(pathway, writer, membership, opened + DAY, NOTES[0])
            return
        if story.outcome == "refused":
            self._note(pathway, writer, membership, opened + DAY, NOTES[0])
            self._close(pathway, "refus_famille", end, by=coordinator)
            return

        consented = opened + datetime.timedelta(days=self.rng.randint(6, 12))
        self._consents(story, pathway, child, consented, writer)
        self._contact(pathway, writer, membership, consented, kind=ContactKind.OFFICE_MEETING,
                      summary="Premier rendez-vous : présentation du programme, accord signé.",
                      participants="Parents, enfant, référente", minutes=60)  # fmt: skip
        pathway = self._transition(pathway, PathwayState.DIAGNOSTIC, consented, writer, hour=16)
        plan = SECTION_PLANS[self.rng.randrange(len(SECTION_PLANS))]
        if story.outcome == "diagnostic" and len(plan) < 3 and story.share_mds:
            plan = SECTION_PLANS[0]
        sections_end = min(consented + datetime.timedelta(days=14), self.today)
        for index, (dimension, circle) in enumerate(plan):
            written = min(consented + datetime.timedelta(days=3 + 5 * index), sections_end)
            author, author_membership = writer, membership
            if SOCIAL_WORKER in story.team and dimension == Dimension.FAMILY:
                author, author_membership = self.users[SOCIAL_WORKER], self.memberships[SOCIAL_WORKER]
                circle = Circle.SECRET
            self._section(pathway, dimension, circle, author, author_membership, written)
        if story.outcome == "diagnostic":
            return

        if story.outcome == "eps_review":
            put_on = self.today - datetime.timedelta(days=self.rng.randint(1, 4))
            pathway = self._transition(pathway, PathwayState.EPS_REVIEW, put_on, writer, hour=11)
            governance.put_on_agenda(
                self.next_eps, pathway, title="Première présentation de la situation", by=coordinator
            )
            if story.share_mds:
                self._team(pathway, SOCIAL_WORKER, put_on, by=coordinator)
            return

        eps_day = self._eps_day(story.eps, consented + datetime.timedelta(days=21))
        meeting = self._eps_meeting(story.eps, eps_day)
        pathway = self._transition(
            pathway, PathwayState.EPS_REVIEW, eps_day - datetime.timedelta(days=8), writer, hour=16
        )
        item = governance.put_on_agenda(
            meeting, pathway, title="Première présentation de la situation", by=coordinator
        )
        # The EPS decides before the pathway is « en cours » (the journey's rule).
        Decision.objects.get_or_create(
            agenda_item=item,
            defaults={
                "text": "Accompagnement individualisé proposé ; le plan est validé avec la famille.",
                "who_does_what": "Le ou la référent·e de parcours",
                "decided_by": coordinator,
                "created_at": self._at(eps_day, 16),
            },
        )
        for email in story.team:
            self._team(pathway, email, eps_day, by=coordinator)

        objectives = [
            self._objective(pathway, dimension, writer, eps_day)
            for dimension in dict.fromkeys(d for d, _circle in plan)
        ][:3]
        started = eps_day + DAY
        pathway = self._transition(pathway, PathwayState.ACTIVE, started, writer, hour=9)
        Pathway.objects.filter(pk=pathway.pk).update(
            next_review_on=started + datetime.timedelta(weeks=self.programme.review_cadence_weeks)
        )
        for objective in objectives:
            self._action(pathway, objective, writer, eps_day, end)

        if story.outcome == "withdrawn":
            self._follow_up(story, pathway, writer, membership, objectives, started, end - DAY * 10)
            self._withdraw(pathway, end, writer)
            return
        closing = story.outcome in {"closed", "reopened"}
        final_on = end - datetime.timedelta(days=self.rng.randint(4, 9)) if closing else end
        self._follow_up(story, pathway, writer, membership, objectives, started,
                        final_on - datetime.timedelta(days=21) if closing else end)  # fmt: skip
        if not closing:
            return
        self._final_review(story, pathway, writer, membership, objectives, final_on)
        self._close(pathway, story.exit, end, by=writer)
        if story.outcome == "reopened":
            self._reopen(pathway, child)

    def _reopen(self, pathway: Pathway, child: Child) -> None:
        """The family came back to the neighbourhood: a new pathway, linked to the closed one."""
        reopened_on = self.today - datetime.timedelta(days=120)
        new = pathways.pathway_reopen(
            pathway=Pathway.objects.get(pk=pathway.pk),
            by=self.users[COORDINATOR],
            referent=self.users[REFERENT],
        )
        self._stamp_opening(new, self._at(reopened_on, 14, 15))
        again = Story("active", 0, share_mds=True)
        self.walk(again, Pathway.objects.get(pk=new.pk), child, reopened_on, self.today)

    def _follow_up(self, story, pathway, writer, membership, objectives, start, end) -> None:
        """Contacts, notes and intermediate bilans from ``start`` to ``end``; maybe one bilan overdue."""
        day = start + datetime.timedelta(days=self.rng.randint(5, 12))
        while day <= end:
            kind, participants, summary, minutes = self.rng.choice(CONTACTS)
            circle = Circle.PARTNERS if kind == ContactKind.PARTNER else Circle.TEAM
            self._contact(pathway, writer, membership, day, kind=kind, summary=summary,
                          participants=participants, minutes=minutes, circle=circle)  # fmt: skip
            day += datetime.timedelta(days=self.rng.randint(18, 40))
        for text in self.rng.sample(NOTES[1:], k=2):
            on = start + datetime.timedelta(days=self.rng.randint(0, max((end - start).days, 0)))
            self._note(pathway, writer, membership, on, text)

        cadence = datetime.timedelta(weeks=self.programme.review_cadence_weeks)
        due = start + cadence
        while due <= end:
            if story.overdue and due + cadence > self.today:
                break  # this bilan was due and is not held yet: the pathway is on the overdue list
            held = min(due + datetime.timedelta(days=self.rng.randint(-4, 5)), end)
            ratings = {}
            for objective in objectives:
                objective.refresh_from_db(fields=["status"])
                if objective.status == ObjectiveStatus.REACHED:
                    ratings[objective.pk] = (Rating.REACHED, RATING_COMMENTS[Rating.REACHED])
                    continue
                rating = self.rng.choice([Rating.PARTLY, Rating.PARTLY, Rating.NOT_REACHED, Rating.REACHED])
                ratings[objective.pk] = (rating, RATING_COMMENTS[rating])
            review = pathways.review_add(
                pathway=pathway,
                kind=ReviewKind.INTERMEDIATE,
                held_on=held,
                by=writer,
                membership=membership,
                ratings=ratings,
                summary="Bilan intermédiaire avec la famille : des progrès, le plan est poursuivi.",
            )
            self._stamp_review(review, held)
            for objective in objectives:
                if ratings[objective.pk][0] == Rating.REACHED and objective.status != ObjectiveStatus.REACHED:
                    pathways.objective_set_status(
                        objective=objective, status=ObjectiveStatus.REACHED, by=writer
                    )
                    Objective.objects.filter(pk=objective.pk).update(updated_at=self._at(held, 17))
            due = held + cadence

    def _final_review(self, story, pathway, writer, membership, objectives, held: datetime.date) -> None:
        good = story.exit == "objectifs_atteints"
        ratings = {}
        for objective in objectives:
            objective.refresh_from_db(fields=["status"])
            if objective.status == ObjectiveStatus.REACHED or (good and self.rng.random() < 0.8):
                rating = Rating.REACHED
            elif story.exit == "demenagement":
                rating = self.rng.choice([Rating.PARTLY, Rating.ABANDONED])
            else:
                rating = Rating.PARTLY
            ratings[objective.pk] = (rating, RATING_COMMENTS[rating])
        review = pathways.review_add(
            pathway=pathway,
            kind=ReviewKind.FINAL,
            held_on=held,
            by=writer,
            membership=membership,
            ratings=ratings,
            summary="Bilan final avec la famille et les partenaires du parcours.",
        )
        self._stamp_review(review, held)
        Objective.objects.filter(pathway=pathway).update(updated_at=self._at(held, 18))

    # --- single steps, each dated -----------------------------------------------------------------

    def _transition(self, pathway, to_state, on, by, *, hour: int) -> Pathway:
        pathway = pathways.pathway_transition(pathway=pathway, to_state=to_state, by=by)
        at = self._at(on, hour)
        Pathway.objects.filter(pk=pathway.pk).update(state_changed_at=at, updated_at=at)
        last = PathwayTransition.objects.filter(pathway=pathway).order_by("-pk")[:1]
        PathwayTransition.objects.filter(pk__in=last.values("pk")).update(at=at, created_at=at, updated_at=at)
        return pathway

    def _close(self, pathway, exit_code: str, on: datetime.date, *, by) -> None:
        relay, note = EXIT_NOTES.get(exit_code, ("", ""))
        pathway = pathways.pathway_close(
            pathway=pathway,
            exit_reason=self.exit_reasons[exit_code],
            closed_on=on,
            by=by,
            relay_partner=relay,
            note=note,
        )
        self._stamp_closing(pathway, on)

    def _stamp_closing(self, pathway, on: datetime.date) -> None:
        at = self._at(on, 17)
        Pathway.objects.filter(pk=pathway.pk).update(state_changed_at=at, updated_at=at)
        PathwayTransition.objects.filter(pathway=pathway, to_state=PathwayState.CLOSED).update(
            at=at, created_at=at, updated_at=at
        )

    def _reassign(self, pathway, on: datetime.date) -> Pathway:
        pathway = pathways.referent_assign(
            pathway=Pathway.objects.get(pk=pathway.pk),
            referent=self.users[REFERENT],
            by=self.users[COORDINATOR],
        )
        at = self._at(on, 11)
        current = ReferentAssignment.objects.filter(pathway=pathway, ends_at__isnull=True)
        ReferentAssignment.objects.filter(pathway=pathway, ends_at__isnull=False).update(
            ends_at=at, updated_at=at
        )
        current.update(starts_at=at, created_at=at, updated_at=at)
        Pathway.objects.filter(pk=pathway.pk).update(updated_at=at)
        return Pathway.objects.get(pk=pathway.pk)

    def _consents(self, story, pathway, child, on: datetime.date, by) -> None:
        shared = [
            self.organisations["Association Lire et Grandir"],
            self.organisations["CCAS de Ville de Démo"],
        ]
        if story.share_mds:
            shared.append(self.organisations[MDS])
        if TEACHER in story.team:
            shared.append(self.organisations["Groupe scolaire Jean Jaurès"])
        holders = [g for g in child.household.guardians.all() if g.has_parental_authority]
        for index, guardian in enumerate(holders):
            given = min(on + datetime.timedelta(days=index * self.rng.randint(0, 6)), self.today)
            consent = pathways.consent_record(
                pathway=pathway,
                guardian=guardian,
                given_on=given,
                by=by,
                shared_with=shared,
                image_use=self.rng.random() < 0.4,
                evaluation_use=self.rng.random() < 0.7,
                notice_delivered_on=given,
                child_informed_on=given,
            )
            at = self._at(given, 14, 45)
            Consent.objects.filter(pk=consent.pk).update(created_at=at, updated_at=at)

    def _withdraw(self, pathway, on: datetime.date, by) -> None:
        for consent in Consent.objects.filter(pathway=pathway, withdrawn_on__isnull=True).order_by("pk"):
            pathways.consent_withdraw(
                consent=consent,
                withdrawn_on=on,
                by=by,
                note="Les parents ne souhaitent plus l'accompagnement du programme ; le lien avec l'école "
                "est maintenu.",
            )
        at = self._at(on, 15)
        Consent.objects.filter(pathway=pathway).update(updated_at=at)
        self._stamp_closing(pathway, on)

    def _section(self, pathway, dimension, circle, author, membership, on: datetime.date) -> None:
        difficulties, resources, facts, assessment = DIAGNOSIS[dimension]
        if dimension in HEALTH_DIMENSIONS and circle == Circle.PARTNERS:
            circle = Circle.SECRET
        section = pathways.diagnostic_section_save(
            pathway=pathway,
            dimension=dimension,
            by=author,
            membership=membership,
            circle=circle,
            difficulties=difficulties,
            resources=resources,
            facts=facts,
            assessment=assessment,
            written_on=on,
        )
        at = self._at(on, 15)
        DiagnosticSection.objects.filter(pk=section.pk).update(created_at=at, updated_at=at)

    def _objective(self, pathway, dimension, by, on: datetime.date) -> Objective:
        objective = pathways.objective_add(
            pathway=pathway,
            dimension=dimension,
            wording=self.rng.choice(OBJECTIVES[dimension]),
            by=by,
            target_date=on + datetime.timedelta(days=self.rng.choice([120, 150, 180, 240])),
            circle=plan_circle(pathway, dimension),
        )
        at = self._at(on, 18)
        Objective.objects.filter(pk=objective.pk).update(created_at=at, updated_at=at)
        return objective

    def _action(self, pathway, objective, by, on: datetime.date, end: datetime.date) -> None:
        title, provider, kind, frequency, cost, funding = ACTIONS[objective.dimension]
        starts = on + datetime.timedelta(days=self.rng.randint(7, 21))
        ends = starts + datetime.timedelta(days=self.rng.choice([90, 120, 180, 240]))
        if end < self.today:
            ends = max(min(ends, end), starts)
        action = pathways.plan_action_add(
            pathway=pathway,
            title=title,
            by=by,
            objective=objective,
            kind=kind,
            provider=self.organisations[provider],
            starts_on=starts,
            ends_on=ends,
            frequency=frequency,
            cost=cost,
            funding_line=funding,
            circle=plan_circle(pathway, objective.dimension),
        )
        at = self._at(on + DAY, 10)
        PlanAction.objects.filter(pk=action.pk).update(created_at=at, updated_at=at)

    def _contact(
        self, pathway, by, membership, on, *, kind, summary, participants, minutes, circle=Circle.TEAM
    ):
        contact = pathways.contact_add(
            pathway=pathway,
            by=by,
            membership=membership,
            kind=kind,
            occurred_on=on,
            duration_minutes=minutes,
            participants=participants,
            summary=summary,
            circle=circle,
        )
        at = self._at(on, 17, 30)
        Contact.objects.filter(pk=contact.pk).update(created_at=at, updated_at=at)

    def _note(self, pathway, by, membership, on, note) -> None:
        body, health = note
        created = pathways.note_add(
            pathway=pathway,
            body=body,
            by=by,
            membership=membership,
            circle=Circle.SECRET if health else Circle.TEAM,
            health_related=health,
        )
        at = self._at(min(on, self.today), 18)
        Note.objects.filter(pk=created.pk).update(created_at=at, updated_at=at)

    def _stamp_review(self, review: Review, on: datetime.date) -> None:
        at = self._at(on, 16, 30)
        Review.objects.filter(pk=review.pk).update(created_at=at, updated_at=at)
        ReviewRating.objects.filter(review=review).update(created_at=at, updated_at=at)

    def _team(self, pathway, email: str, on: datetime.date, *, by) -> None:
        member = pathways.case_team_add(
            pathway=pathway,
            membership=self.memberships[email],
            reason=TEAM_REASONS[email],
            by=by,
            starts_on=on,
        )
        at = self._at(on, 12)
        CaseTeamMember.objects.filter(pk=member.pk).update(created_at=at, updated_at=at)

    # --- EPS calendar -----------------------------------------------------------------------------

    def _eps_day(self, eps: str, not_before: datetime.date) -> datetime.date:
        """EPS Nord meets on the second Tuesday of each month, EPS Sud the second Thursday; none in August."""
        weekday = 1 if eps == EPS_NORD else 3
        year, month = not_before.year, not_before.month
        while True:
            first = datetime.date(year, month, 1)
            day = first + datetime.timedelta(days=(weekday - first.weekday()) % 7 + 7)
            if day >= not_before and month != 8:
                return day
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def _eps_meeting(self, eps: str, day: datetime.date):
        key = (eps, day)
        if key not in self.eps_meetings:
            starts_at = _at(day, 14)
            self.eps_meetings[key] = governance.eps_meeting(
                self.bodies[eps], starts_at, agenda_published_at=moment(day - datetime.timedelta(days=7), 9)
            )
        return self.eps_meetings[key]

    # --- finishing touches ------------------------------------------------------------------------

    def _membership(self, user) -> Membership:
        return self.memberships[user.email]

    def _at(self, day: datetime.date, hour: int, minute: int | None = None) -> datetime.datetime:
        return moment(day, hour, self.rng.randint(0, 59) if minute is None else minute)

    def _renumber_case_codes(self) -> None:
        """Case codes carry the year of opening (``DEMO-2025-0007``), numbered in order of opening."""
        prefix = self.programme.case_code_prefix
        ordered = list(
            Pathway.objects.filter(programme=self.programme).order_by("opened_on", "created_at", "pk")
        )
        for pathway in ordered:
            Pathway.objects.filter(pk=pathway.pk).update(case_code=f"{prefix}-TMP-{pathway.pk}")
        numbers: Counter = Counter()
        for pathway in ordered:
            year = pathway.opened_on.year
            numbers[year] += 1
            Pathway.objects.filter(pk=pathway.pk).update(case_code=f"{prefix}-{year}-{numbers[year]:04d}")

    def _date_people(self) -> None:
        """Children, households and parents are known to the programme from their first referral."""
        first = {}
        for household_id, submitted_at in Referral.objects.filter(
            programme=self.programme, child__isnull=False
        ).values_list("child__household_id", "submitted_at"):
            first[household_id] = min(submitted_at, first.get(household_id, submitted_at))
        for household_id, at in first.items():
            Household.objects.filter(pk=household_id, created_at__gt=at).update(created_at=at)
            Guardian.objects.filter(household_id=household_id, created_at__gt=at).update(created_at=at)
            Child.objects.filter(household_id=household_id, created_at__gt=at).update(created_at=at)


def _stage(child: Child) -> str:
    return SchoolLevel.stage(child.school_level)


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))
