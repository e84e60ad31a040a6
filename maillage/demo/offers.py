"""Actions demo: a catalogue of ~15 actions, groups with a term of weekly sessions and attendance,
family contracts, one breach alert escalated to the social worker, support-fund requests in each
state. The CLAS group of ``intervenant@demo.test`` (Association Lire et Grandir) meets **today**
(dates computed from today), with 12 children on its roster, so the roll-call can be tried at once.

Idempotent: nothing is created when the programme already has a catalogue, except today's session
of the CLAS group, added when missing (the demo may be reseeded on another day).
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from maillage.accounts.models import User
from maillage.offers import services
from maillage.offers.enums import AgeBand, AttendanceStatus
from maillage.offers.models import BreachAlert, Group, Offer, Session
from maillage.pathways.enums import ActionKind, PathwayState
from maillage.pathways.models import Pathway
from maillage.pathways.services import case_team_add
from maillage.programmes.models import Membership, Organisation, Programme
from maillage.steering.enums import FundingSource
from maillage.steering.models import FundingLine

CLAS = "Accompagnement à la scolarité (CLAS)"

# title, kind, dimensions, provider, capacity, schedule, unit cost, description for families
CATALOGUE = [
    (
        CLAS,
        "collective",
        ["school"],
        "Association Lire et Grandir",
        14,
        "mardi et jeudi, 16 h 30 – 18 h",
        "180",
        "Aide aux devoirs, jeux de lecture et d'écriture en petit groupe, après l'école.",
    ),
    (
        "Atelier lecture plaisir",
        "collective",
        ["school", "cultural"],
        "Association Lire et Grandir",
        10,
        "mercredi, 10 h – 11 h 30",
        "90",
        "Des histoires lues et racontées, pour retrouver le goût des livres.",
    ),
    (
        "Aide aux devoirs collège",
        "collective",
        ["school"],
        "Association Lire et Grandir",
        12,
        "lundi, 17 h – 18 h 30",
        "180",
        "Méthodes de travail et devoirs pour les collégiens.",
    ),
    (
        "Atelier parentalité « Parents en dialogue »",
        "collective",
        ["family"],
        "PMI du quartier des Tilleuls",
        12,
        "un vendredi sur deux, 9 h 30 – 11 h",
        "60",
        "Échanges entre parents autour du sommeil, des écrans, de l'école.",
    ),
    (
        "Café des parents",
        "collective",
        ["family", "social"],
        "Service jeunesse de la ville",
        None,
        "samedi matin",
        None,
        "Un moment convivial pour rencontrer d'autres parents et l'équipe.",
    ),
    (
        "Atelier théâtre",
        "collective",
        ["cultural"],
        "Compagnie Théâtre en Herbe",
        12,
        "mercredi, 14 h – 15 h 30",
        "220",
        "Jouer, s'exprimer, prendre confiance devant les autres.",
    ),
    (
        "Judo",
        "collective",
        ["sport_leisure"],
        "Union sportive des Quartiers",
        16,
        "mardi, 18 h – 19 h",
        "150",
        "Initiation au judo, licence comprise.",
    ),
    (
        "Multisport du mercredi",
        "collective",
        ["sport_leisure"],
        "Union sportive des Quartiers",
        20,
        "mercredi, 14 h – 16 h",
        "120",
        "Football, basket, athlétisme : un sport différent chaque mois.",
    ),
    (
        "Atelier numérique parents-enfants",
        "collective",
        ["family", "school"],
        "Service jeunesse de la ville",
        10,
        "samedi, 10 h – 12 h",
        "70",
        "Utiliser l'espace numérique de travail de l'école, ensemble.",
    ),
    (
        "Sortie culturelle au musée",
        "collective",
        ["cultural"],
        "Service jeunesse de la ville",
        25,
        "pendant les vacances",
        "35",
        "Une journée au musée avec un médiateur.",
    ),
    (
        "Bilan et séances d'orthophonie",
        "individual",
        ["psychological"],
        "Centre médico-psycho-pédagogique",
        6,
        "sur rendez-vous",
        "450",
        "Financement d'un bilan et de séances en attendant une prise en charge.",
    ),
    (
        "Psychomotricité",
        "individual",
        ["psychological", "physical_health"],
        "Centre médico-psycho-pédagogique",
        4,
        "sur rendez-vous",
        "400",
        "Séances avec une psychomotricienne.",
    ),
    (
        "Soutien psychologique",
        "individual",
        ["psychological"],
        "Centre médico-psycho-pédagogique",
        8,
        "sur rendez-vous",
        "300",
        "Quelques entretiens avec une psychologue, pour l'enfant ou la famille.",
    ),
    (
        "Séjour de vacances",
        "individual",
        ["sport_leisure", "social"],
        "Service jeunesse de la ville",
        10,
        "vacances d'été",
        "350",
        "Une semaine de séjour, participation des familles selon le quotient.",
    ),
    (
        "Accès aux droits et aides aux loisirs",
        "individual",
        ["social"],
        "CAF — antenne de Ville de Démo",
        None,
        "sur rendez-vous",
        None,
        "Point sur les droits et les aides pour les loisirs des enfants.",
    ),
]

FUNDING = [
    ("Crédits État — programme de réussite éducative", FundingSource.STATE_PRE, "120000"),
    ("Participation de la ville", FundingSource.COMMUNE, "45000"),
    ("CAF — aides aux loisirs", FundingSource.CAF, "8000"),
]

BENEFICIARIES = [
    ("Yanis", "B", AgeBand.FROM_6_TO_10, "M", True),
    ("Maëlys", "D", AgeBand.FROM_6_TO_10, "F", True),
    ("Ilyès", "K", AgeBand.FROM_11_TO_16, "M", False),
    ("Jade", "M", AgeBand.FROM_6_TO_10, "F", True),
    ("Sacha", "L", AgeBand.FROM_6_TO_10, "M", True),
    ("Aya", "T", AgeBand.FROM_2_TO_5, "F", True),
    ("Nour", "S", AgeBand.FROM_6_TO_10, "F", False),
    ("Eden", "R", AgeBand.FROM_6_TO_10, "M", True),
]
PARENTS = [("Samira", "B", "F"), ("Karim", "D", "M"), ("Fatou", "K", "F"), ("Élodie", "M", "F")]


def seed(programme: Programme, out) -> None:
    services.ensure_default_rules(programme)
    if Offer.objects.filter(programme=programme).exists():
        out("Catalogue des actions déjà présent : inchangé.")
    else:
        with transaction.atomic():
            Catalogue(programme).run()
    _ensure_today_session(programme)
    _summary(programme, out)


def _summary(programme: Programme, out) -> None:
    offers = Offer.objects.filter(programme=programme)
    groups = Group.objects.filter(offer__programme=programme)
    out(
        f"Actions : {offers.count()} au catalogue, {groups.count()} groupes, "
        f"{BreachAlert.objects.filter(pathway__programme=programme).count()} alerte(s) de manquement."
    )


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone())


def _ensure_today_session(programme: Programme) -> None:
    group = Group.objects.filter(offer__programme=programme, offer__title=CLAS).order_by("pk").first()
    today = timezone.localdate()
    if group is None or group.sessions.filter(starts_at__date=today).exists():
        return
    start = _at(today, 16, 30)
    Session.objects.create(group=group, starts_at=start, ends_at=start + datetime.timedelta(minutes=90))


def _practical_circle(pathway) -> str:
    """A catalogue action is practical (CLAS, théâtre, judo): for the partners when the family's
    consent shares with one, the team otherwise."""
    from maillage.demo.journey import plan_circle
    from maillage.pathways.enums import Dimension

    return plan_circle(pathway, Dimension.SCHOOL)


class Catalogue:
    def __init__(self, programme: Programme):
        self.programme = programme
        self.today = timezone.localdate()
        self.coordinator = self._user("coordination@demo.test")
        self.referente = self._user("referente@demo.test")
        self.organisations = {o.name: o for o in Organisation.objects.filter(programme=programme)}
        self.lines = self._funding_lines()
        self.offers: dict[str, Offer] = {}

    def _user(self, email: str):
        return User.objects.get(email=email)

    def run(self) -> None:
        self._catalogue()
        pathways = list(
            Pathway.objects.filter(
                programme=self.programme, state=PathwayState.ACTIVE, archived_at__isnull=True
            )
            .select_related("child")
            .order_by("-referent_id", "pk")
        )
        # The référente's pathways first: she sees their attendance on the timeline.
        pathways.sort(key=lambda p: (p.referent_id != self.referente.pk, p.pk))
        clas = self._clas(pathways[:9])
        self._other_groups(pathways[9:])
        self._contracts_and_breach(clas, pathways[:9])
        self._fund(pathways)

    # --- catalogue --------------------------------------------------------------------------------

    def _funding_lines(self) -> list[FundingLine]:
        year = self.today.year
        lines = list(FundingLine.objects.filter(programme=self.programme, year=year, in_kind=False))
        if lines:
            return lines
        return [
            FundingLine.objects.create(
                programme=self.programme, year=year, source=source, label=label, amount=Decimal(amount)
            )
            for label, source, amount in FUNDING
        ]

    def _catalogue(self) -> None:
        start = (
            self.today.replace(month=9, day=1)
            if self.today.month >= 9
            else self.today.replace(year=self.today.year - 1, month=9, day=1)
        )
        for title, kind, dimensions, provider, capacity, schedule, cost, description in CATALOGUE:
            self.offers[title] = services.offer_create(
                programme=self.programme,
                title=title,
                by=self.coordinator,
                kind=kind,
                dimensions=dimensions,
                provider=self.organisations.get(provider),
                capacity=capacity,
                schedule=schedule,
                unit_cost=Decimal(cost) if cost else None,
                funding_line=self.lines[0] if kind == ActionKind.COLLECTIVE else self.lines[-1],
                starts_on=start,
                description_for_families=description,
            )

    def _group(
        self, title: str, name: str, *, weekday_offset: int, hour: int, weeks_before: int = 6, weeks_after=6
    ):
        """A group over a term of weekly sessions; ``weekday_offset`` 0 meets on today's weekday."""
        first = self.today - datetime.timedelta(weeks=weeks_before) + datetime.timedelta(days=weekday_offset)
        last = self.today + datetime.timedelta(weeks=weeks_after)
        group = services.group_create(
            offer=self.offers[title],
            name=name,
            starts_on=first,
            ends_on=last,
            place="Maison de quartier des Tilleuls",
            by=self.coordinator,
        )
        starts = [
            _at(first + datetime.timedelta(weeks=w), hour, 30) for w in range(weeks_before + weeks_after + 1)
        ]
        services.sessions_plan(
            group=group, starts=starts, duration=datetime.timedelta(minutes=90), by=self.coordinator
        )
        return group

    def _beneficiaries(self, group: Group, rows) -> None:
        for first_name, initial, band, sex, qpv in rows:
            beneficiary = services.beneficiary_create(
                programme=self.programme,
                by=self.coordinator,
                first_name=first_name,
                initial=initial,
                age_band=band,
                sex=sex,
                in_qpv=qpv,
            )
            services.enrol(group=group, by=self.coordinator, beneficiary=beneficiary)

    def _clas(self, pathways: list[Pathway]) -> Group:
        group = self._group(CLAS, "CLAS des Tilleuls — groupe du soir", weekday_offset=0, hour=16)
        for pathway in pathways:
            services.plan_action_from_offer(
                pathway=pathway,
                offer=self.offers[CLAS],
                group=group,
                by=self.referente,
                circle=_practical_circle(pathway),
            )
        missing = max(0, 12 - len(pathways))
        self._beneficiaries(group, BENEFICIARIES[:missing])
        self._attendance(group, breach_child=pathways[0].child_id if pathways else None)
        return group

    def _other_groups(self, pathways: list[Pathway]) -> None:
        theatre = self._group("Atelier théâtre", "Théâtre — mercredi", weekday_offset=1, hour=14)
        judo = self._group("Judo", "Judo débutants", weekday_offset=2, hour=18)
        parents = self._group(
            "Atelier parentalité « Parents en dialogue »",
            "Parents — cycle d'automne",
            weekday_offset=3,
            hour=9,
        )
        for pathway in pathways[:4]:
            services.plan_action_from_offer(
                pathway=pathway,
                offer=self.offers["Atelier théâtre"],
                group=theatre,
                by=self.referente,
                circle=_practical_circle(pathway),
            )
        for pathway in pathways[4:7]:
            services.plan_action_from_offer(
                pathway=pathway,
                offer=self.offers["Judo"],
                group=judo,
                by=self.referente,
                circle=_practical_circle(pathway),
            )
        self._beneficiaries(theatre, BENEFICIARIES[4:8])
        for first_name, initial, sex in PARENTS:
            beneficiary = services.beneficiary_create(
                programme=self.programme,
                by=self.coordinator,
                first_name=first_name,
                initial=initial,
                age_band=AgeBand.ADULT,
                sex=sex,
                in_qpv=True,
                is_parent=True,
            )
            services.enrol(group=parents, by=self.coordinator, beneficiary=beneficiary)
        for group in (theatre, judo, parents):
            self._attendance(group)
        # A full judo group: the next child waits.
        judo.capacity = max(judo.enrolments.enrolled().count(), 1)
        judo.save(update_fields=["capacity", "updated_at"])
        self._beneficiaries(judo, [("Rayan", "H", AgeBand.FROM_11_TO_16, "M", True)])

    def _attendance(self, group: Group, breach_child: int | None = None) -> None:
        """Past sessions: mostly present, one excused now and then; three recent unexcused absences
        for ``breach_child`` (the breach in progress)."""
        enrolments = list(group.enrolments.enrolled().order_by("pk"))
        past = list(group.sessions.filter(starts_at__date__lt=self.today).order_by("starts_at"))
        recent = past[-3:]
        for index, session in enumerate(past):
            statuses = {}
            for position, enrolment in enumerate(enrolments):
                status = AttendanceStatus.PRESENT
                if (index + position) % 7 == 3:
                    status = AttendanceStatus.EXCUSED
                if breach_child is not None and enrolment.child_id == breach_child and session in recent:
                    status = AttendanceStatus.UNEXCUSED
                statuses[enrolment.pk] = status
            services.attendance_save(session=session, statuses=statuses, by=self.coordinator)

    # --- contracts and the breach in progress -------------------------------------------------------

    def _contracts_and_breach(self, clas: Group, pathways: list[Pathway]) -> None:
        for index, pathway in enumerate(pathways[:3]):
            contract = services.contract_create(
                pathway=pathway,
                by=self.referente,
                child_commitments="Venir au CLAS le mardi et le jeudi ; apporter son cahier de textes.",
                family_commitments="Prévenir la référente en cas d'absence ; venir aux bilans trimestriels.",
                team_commitments="Trouver une activité sportive près de chez vous ; un bilan par trimestre.",
                starts_on=pathway.opened_on,
                review_on=self.today + datetime.timedelta(days=30 * (index + 1)),
            )
            if index < 2:
                services.contract_sign(contract=contract, signed_on=pathway.opened_on, by=self.referente)
        alert = BreachAlert.objects.filter(pathway__programme=self.programme).order_by("pk").first()
        if alert is None:
            return
        worker = Membership.objects.filter(
            programme=self.programme, user__email="assistante-sociale@demo.test"
        ).first()
        if worker is None:
            return
        if worker not in services.social_workers(alert.pathway):
            case_team_add(
                pathway=alert.pathway,
                membership=worker,
                reason="Intervention au titre du dispositif (contrat d'engagement)",
                by=self.coordinator,
            )
        services.alert_escalate(
            alert=alert,
            assignee=worker,
            by=alert.pathway.referent or self.coordinator,
            instructions="Trois absences non excusées au CLAS : prendre contact avec la famille.",
        )

    # --- support fund -------------------------------------------------------------------------------

    def _fund(self, pathways: list[Pathway]) -> None:
        if len(pathways) < 4:
            return
        line = self.lines[-1]
        rows = [
            (pathways[0], "sports_licence", "85.00", "Union sportive des Quartiers", "approve", ""),
            (pathways[1], "care", "120.00", "Cabinet d'orthophonie du centre", "approve", ""),
            (
                pathways[2],
                "school_trip",
                "60.00",
                "Collège Lucie Aubrac",
                "refuse",
                "Prise en charge par le fonds social collégien.",
            ),
            (pathways[3], "equipment", "45.50", "Magasin de sport", None, ""),
            (pathways[1], "sports_licence", "95.00", "Club de natation", None, ""),
        ]
        for pathway, purpose, amount, payee, decision, reason in rows:
            fund_request = services.fund_request_create(
                pathway=pathway,
                purpose=purpose,
                amount=Decimal(amount),
                payee=payee,
                funding_line=line,
                by=self.referente,
            )
            if decision is not None:
                services.fund_request_decide(
                    fund_request=fund_request,
                    approve=decision == "approve",
                    reason=reason,
                    by=self.coordinator,
                )
