"""Ville de Démo: the partnership's bodies (two EPS, comité de pilotage, comité technique) and meetings.

``seed`` creates the bodies, their members and the committees' past meetings; the EPS meetings are
created by ``maillage.demo.journey`` through ``eps_meeting`` and ``put_on_agenda``, as the situations
it walks through reach an EPS. Idempotent: nothing is created twice.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from maillage.audit.services import record
from maillage.governance.enums import AttendanceStatus, BodyKind
from maillage.governance.models import (
    AgendaItem,
    Body,
    BodyMember,
    Decision,
    Forwarding,
    Meeting,
    MeetingAttendance,
    MementoPage,
    Notification,
)
from maillage.pathways.enums import Circle
from maillage.programmes.models import CharterSignature, Membership, Programme

EPS_NORD = "EPS Nord"
EPS_SUD = "EPS Sud"
STEERING = "Comité de pilotage"
TECHNICAL = "Comité technique"

# name, kind, meetings expected per year, place
BODIES = [
    (EPS_NORD, BodyKind.EPS, 10, "Groupe scolaire Jean Jaurès, salle de réunion"),
    (EPS_SUD, BodyKind.EPS, 10, "Centre social du Bourg, salle 2"),
    (STEERING, BodyKind.STEERING_COMMITTEE, 2, "Hôtel de ville, salle du conseil"),
    (TECHNICAL, BodyKind.TECHNICAL_COMMITTEE, 4, "CCAS de Ville de Démo, salle de réunion"),
]

# body → (account e-mail, role in the body)
MEMBERS = {
    EPS_NORD: [
        ("coordination@demo.test", "Animation de l'équipe"),
        ("referente@demo.test", "Référente de parcours"),
        ("enseignant@demo.test", "Enseignant, représentant de l'école"),
        ("assistante-sociale@demo.test", "Assistante sociale de secteur"),
    ],
    EPS_SUD: [
        ("coordination@demo.test", "Animation de l'équipe"),
        ("referente@demo.test", "Référente de parcours"),
    ],
    STEERING: [
        ("elu@demo.test", "Présidence"),
        ("coordination@demo.test", "Secrétariat du comité"),
        ("gestion@demo.test", "Suivi budgétaire"),
        ("reseau@demo.test", "GIP de l'agglomération, invitée"),
    ],
    TECHNICAL: [
        ("coordination@demo.test", "Animation"),
        ("referente@demo.test", "Référente de parcours"),
        ("assistante-sociale@demo.test", "Représentante du Département"),
        ("gestion@demo.test", "Suivi administratif"),
    ],
}

# body, days ago, agenda titles (non-nominative)
COMMITTEE_MEETINGS = [
    (
        TECHNICAL,
        340,
        [
            "Lancement de l'année : calendrier des EPS",
            "Catalogue des actions collectives",
            "Questions diverses",
        ],
    ),
    (
        STEERING,
        310,
        ["Bilan de l'année 2025", "Objectifs et cibles 2026", "Budget prévisionnel et financements"],
    ),
    (
        TECHNICAL,
        250,
        ["Suivi des orientations du trimestre", "Accompagnement à la scolarité : places restantes"],
    ),
    (TECHNICAL, 160, ["Bilan des parcours clôturés", "Préparation du comité de pilotage"]),
    (
        STEERING,
        130,
        [
            "Point d'étape à mi-année",
            "Diagnostic de territoire : demande de Bourg-lès-Démo",
            "Charte de confidentialité",
        ],
    ),
    (TECHNICAL, 60, ["Rentrée scolaire : nouvelles orientations", "Baromètre du partenariat : préparation"]),
    (
        STEERING,
        15,
        [
            "Rentrée : orientations et parcours en cours",
            "Fiches missions : validation",
            "Calendrier des EPS de l'année scolaire",
        ],
    ),
]


def _weekday_on_or_before(day: datetime.date, weekday: int) -> datetime.date:
    return day - datetime.timedelta(days=(day.weekday() - weekday) % 7)


def moment(day: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    """An aware datetime on ``day`` at ``hour:minute`` (local time), never later than now."""
    at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))
    return min(at, timezone.now())


def seed(programme: Programme) -> dict[str, Body]:
    with transaction.atomic():
        bodies = {}
        for name, kind, per_year, _place in BODIES:
            bodies[name], _ = Body.objects.get_or_create(
                programme=programme, name=name, defaults={"kind": kind, "meetings_per_year": per_year}
            )
        memberships = _memberships(programme)
        for name, members in MEMBERS.items():
            for email, role_in_body in members:
                BodyMember.objects.get_or_create(
                    body=bodies[name], membership=memberships[email], defaults={"role_in_body": role_in_body}
                )
        _date_charter_signatures(programme)
        today = timezone.localdate()
        # A committee that already has meetings keeps its calendar (the seed may run on another day).
        fresh = {name for name in (STEERING, TECHNICAL) if not bodies[name].meetings.exists()}
        for name, days_ago, titles in COMMITTEE_MEETINGS:
            if name not in fresh:
                continue
            day = _weekday_on_or_before(today - datetime.timedelta(days=days_ago), 3)  # a Thursday
            published = moment(day - datetime.timedelta(days=10), 9, 0)
            meeting = Meeting.objects.create(
                body=bodies[name],
                starts_at=moment(day, 18, 0),
                place=_place_of(name),
                agenda_published_at=published,
                created_at=published,
            )
            AgendaItem.objects.bulk_create(
                [
                    AgendaItem(meeting=meeting, title=title, position=position, created_at=published)
                    for position, title in enumerate(titles, start=1)
                ]
            )
    return bodies


def _place_of(name: str) -> str:
    return next(place for body, _kind, _per_year, place in BODIES if body == name)


def _memberships(programme: Programme) -> dict[str, Membership]:
    emails = {email for members in MEMBERS.values() for email, _role in members}
    memberships = {}
    for membership in Membership.objects.filter(programme=programme, user__email__in=emails).select_related(
        "user"
    ):
        memberships.setdefault(membership.user.email, membership)
    return memberships


def _date_charter_signatures(programme: Programme) -> None:
    """The demo members signed the charter when it was adopted, before the year of work the demo shows."""
    for signature in CharterSignature.objects.filter(
        version__programme=programme, version__published_at__isnull=False
    ).select_related("version"):
        signed_at = signature.version.published_at + datetime.timedelta(days=1, hours=2)
        if signature.signed_at > signed_at:
            CharterSignature.objects.filter(pk=signature.pk).update(signed_at=signed_at, created_at=signed_at)


def eps_meeting(
    body: Body, starts_at: datetime.datetime, *, agenda_published_at: datetime.datetime
) -> Meeting:
    """The EPS meeting at ``starts_at`` (created once), its agenda published, its access window stored."""
    meeting, created = Meeting.objects.get_or_create(
        body=body,
        starts_at=starts_at,
        defaults={
            "place": _place_of(body.name),
            "agenda_published_at": agenda_published_at,
            "access_ends_at": starts_at + datetime.timedelta(days=body.programme.eps_access_window_days),
        },
    )
    if created:
        created_at = min(agenda_published_at - datetime.timedelta(days=3), timezone.now())
        Meeting.objects.filter(pk=meeting.pk).update(created_at=created_at, updated_at=agenda_published_at)
        AgendaItem.objects.create(
            meeting=meeting,
            title="Informations générales : actions collectives et places disponibles",
            position=0,
            created_at=created_at,
        )
    return meeting


def put_on_agenda(meeting: Meeting, pathway, *, title: str, by) -> AgendaItem:
    position = meeting.agenda_items.count() + 1
    item, created = AgendaItem.objects.get_or_create(
        meeting=meeting,
        pathway=pathway,
        defaults={"title": title, "position": position, "created_at": meeting.agenda_published_at},
    )
    if created:
        # The published agenda opens the EPS members' access window: journal it like the interface does.
        record(
            verb="meeting.agenda_item_added",
            actor=by,
            target=meeting,
            programme=meeting.body.programme_id,
            payload={"pathway": pathway.pk, "agenda_item": item.pk},
        )
    return item


# --- a year of partnership (issue 7): EPS calendar, decisions, minutes, circulation, missions, memento ----

EPS_PER_YEAR = 10
NETWORK_BODY = "Comité de pilotage intercommunal"

EPS_DECISIONS = [
    (
        "Accompagnement à la scolarité deux soirs par semaine ; point avec l'enseignante au prochain "
        "conseil de cycle.",
        "La référente inscrit l'enfant au CLAS et informe la famille.",
    ),
    (
        "Orientation vers le centre médico-psycho-pédagogique, avec l'accord des parents.",
        "La référente accompagne la famille au premier rendez-vous.",
    ),
    (
        "Poursuite de l'accompagnement ; bilan intermédiaire à la prochaine EPS.",
        "La coordination inscrit la situation à l'ordre du jour.",
    ),
    (
        "Inscription au club de sport du quartier, licence prise en charge par le programme.",
        "La référente fait la demande d'aide financière.",
    ),
    (
        "Rencontre avec la famille et l'assistante sociale de secteur pour les démarches de logement.",
        "L'assistante sociale propose une date à la famille.",
    ),
]

COMMITTEE_DECISIONS = {
    STEERING: "Les objectifs de l'année sont adoptés ; un point d'étape au prochain comité.",
    TECHNICAL: "Le calendrier est validé ; chaque partenaire désigne un·e représentant·e.",
}

MISSION_SHEETS = [
    (
        "Coordonnateur·rice du PRE",
        [
            ("coordination@demo.test", "Reçoit les orientations et vérifie l'éligibilité.\nAnime les EPS."),
            (
                "referente@demo.test",
                "Reçoit les orientations et vérifie l'éligibilité.\nAnime les EPS et prépare leurs "
                "ordres du jour.\nDésigne les référent·es de parcours.",
            ),
            (
                "elu@demo.test",
                "Reçoit les orientations et vérifie l'éligibilité.\nAnime les EPS et prépare leurs "
                "ordres du jour.\nDésigne les référent·es de parcours.\nRend compte au comité de pilotage "
                "deux fois par an.",
            ),
        ],
        "validated",
    ),
    (
        "Référent·e de parcours",
        [
            ("referente@demo.test", "Accompagne une centaine d'enfants et leurs familles."),
            (
                "coordination@demo.test",
                "Accompagne les enfants et leurs familles, de l'accord écrit au bilan final.\nPrésente "
                "les situations en EPS, sous forme pseudonymisée.",
            ),
        ],
        "proposed",
    ),
    (
        "Agent·e de développement local",
        [
            ("coordination@demo.test", "Fait le lien avec les associations du quartier."),
            (
                "assistante-sociale@demo.test",
                "Fait le lien avec les associations du quartier.\nTient à jour le catalogue des actions "
                "collectives et les places disponibles.",
            ),
        ],
        "draft",
    ),
]

MISSION_COMMENTS = [
    (
        "Agent·e de développement local",
        "enseignant@demo.test",
        "Qui prévient l'école quand une action collective commence ?",
    ),
    (
        "Agent·e de développement local",
        "referente@demo.test",
        "Préciser le temps consacré au quartier du Bourg.",
    ),
]

MEMENTO_PAGES = [
    (
        "le-programme",
        "Le programme en bref",
        "Le **programme de réussite éducative** accompagne les enfants de 2 à 16 ans et leurs familles, "
        "avec leur accord écrit.\n\n- une orientation par un partenaire ;\n- un diagnostic partagé ;\n"
        "- un examen en équipe pluridisciplinaire de soutien (EPS) ;\n- un parcours individualisé.",
    ),
    (
        "orienter",
        "Orienter un enfant : mode d'emploi",
        "1. Parlez-en d'abord à la famille.\n2. Remplissez la fiche d'orientation dans Maillage.\n"
        "3. La coordination vous répond sous quinze jours.\n\nLes situations sont présentées en EPS sous "
        "forme **pseudonymisée**.",
    ),
    (
        "confidentialite",
        "Secret partagé : ce que chacun peut savoir",
        "Seuls les professionnels soumis au secret et couverts par l'accord de la famille lisent les "
        "écrits du cercle *secret partagé*. Les comptes rendus des comités ne nomment jamais un enfant.",
    ),
]


def seed_partnership(programme: Programme, out=None) -> None:
    """The year of partnership around the journey: idempotent, run after ``journey.seed``."""
    with transaction.atomic():
        bodies = {body.name: body for body in Body.objects.filter(programme=programme)}
        if not bodies:
            return
        memberships = _memberships(programme)
        users = {email: m.user for email, m in memberships.items()}
        coordinator = users.get("coordination@demo.test")
        if coordinator is None:
            return
        _network_body(programme, bodies, memberships)
        for name in (EPS_NORD, EPS_SUD):
            if name in bodies:
                _complete_eps_year(programme, bodies[name])
                _eps_decisions(bodies[name], coordinator)
        for name in (STEERING, TECHNICAL):
            if name in bodies:
                _committee_records(bodies[name], coordinator)
        _circulation(bodies, coordinator)
        _mission_sheets(programme, bodies, users)
        _memento(programme, coordinator)
        _notifications(programme, bodies)
    if out:
        from maillage.governance.models import MissionSheet

        eps = Meeting.objects.filter(body__programme=programme, body__kind=BodyKind.EPS)
        out(
            f"Partenariat : {eps.count()} réunions d'EPS, "
            f"{Decision.objects.filter(agenda_item__meeting__body__programme=programme).count()} décisions, "
            f"{MissionSheet.objects.filter(programme=programme).count()} fiches missions, "
            f"{MementoPage.objects.filter(programme=programme).count()} pages de mémento."
        )


def _network_body(programme, bodies, memberships) -> None:
    if NETWORK_BODY in bodies or programme.network_level_id is None:
        return
    body = Body.objects.create(
        programme=programme,
        kind=BodyKind.STEERING_COMMITTEE,
        name=NETWORK_BODY,
        level_id=programme.network_level_id,
        meetings_per_year=2,
        description="Réunit les programmes de l'agglomération ; reçoit des synthèses non nominatives.",
    )
    if "reseau@demo.test" in memberships:
        BodyMember.objects.create(
            body=body, membership=memberships["reseau@demo.test"], role_in_body="Animation"
        )
    BodyMember.objects.create(
        body=body,
        person_name="Élise Marchand",
        institution="Préfecture, déléguée du préfet",
        role_in_body="Invitée",
    )
    bodies[NETWORK_BODY] = body


def _complete_eps_year(programme, body) -> None:
    """Past monthly meetings (second Tuesday or Thursday, none in August) up to ten in the last year."""
    today = timezone.localdate()
    start = today - datetime.timedelta(days=365)
    existing = list(body.meetings.filter(starts_at__gte=moment(start)))
    days = {timezone.localdate(m.starts_at) for m in existing}
    missing = EPS_PER_YEAR - len(existing)
    if missing <= 0:
        return
    weekday = 1 if body.name == EPS_NORD else 3
    window = datetime.timedelta(days=programme.eps_access_window_days)
    candidates = []
    year, month = start.year, start.month
    while (year, month) <= (today.year, today.month):
        first = datetime.date(year, month, 1)
        day = first + datetime.timedelta(days=(weekday - first.weekday()) % 7 + 7)
        # Only meetings whose access window has closed: nobody reaches their situations any more.
        if (
            month != 8
            and start < day
            and day + window < today
            and all(abs((day - d).days) > 10 for d in days)
        ):
            candidates.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    from maillage.pathways.models import Pathway

    pathways = list(Pathway.objects.filter(programme=programme, archived_at__isnull=True).order_by("pk"))
    for index, day in enumerate(candidates[-missing:]):
        starts_at = moment(day, 14)
        meeting = eps_meeting(
            body, starts_at, agenda_published_at=moment(day - datetime.timedelta(days=7), 9)
        )
        open_then = [
            p
            for p in pathways
            if p.opened_on < day and (p.closed_on is None or p.closed_on > day) and p.state != "engagement"
        ]
        for position, pathway in enumerate(open_then[index % 3 :: 4][:2], start=1):
            AgendaItem.objects.get_or_create(
                meeting=meeting,
                pathway=pathway,
                defaults={
                    "title": "Situation",
                    "position": position,
                    "created_at": meeting.agenda_published_at,
                },
            )


def _eps_decisions(body, coordinator) -> None:
    now = timezone.now()
    today = timezone.localdate()
    items = AgendaItem.objects.filter(
        meeting__body=body, meeting__starts_at__lt=now, meeting__cancelled=False, pathway__isnull=False
    ).exclude(decisions__isnull=False)
    for index, item in enumerate(items.select_related("meeting").order_by("meeting__starts_at", "pk")):
        text, who = EPS_DECISIONS[index % len(EPS_DECISIONS)]
        # Practical decisions for the partners (the teacher); health and family matters in the secret.
        practical = index % len(EPS_DECISIONS) in {0, 2, 3}
        shares = item.pathway.consents.valid().filter(shared_with__isnull=False).exists()
        circle = (Circle.PARTNERS if practical else Circle.SECRET) if shares else Circle.TEAM
        at = item.meeting.starts_at + datetime.timedelta(hours=1)
        due = timezone.localdate(at) + datetime.timedelta(days=30)
        Decision.objects.create(
            agenda_item=item,
            text=text,
            who_does_what=who,
            due_on=due if due <= today else None,
            decided_by=coordinator,
            created_at=min(at, now),
            circle=circle,
        )


def _committee_records(body, coordinator) -> None:
    now = timezone.now()
    members = list(body.members.all())
    for meeting in body.meetings.filter(starts_at__lt=now, cancelled=False).prefetch_related("agenda_items"):
        items = list(meeting.agenda_items.all())
        if not meeting.minutes:
            lines = [
                f"{position}. {item.title} : échanges entre partenaires."
                for position, item in enumerate(items, 1)
            ]
            Meeting.objects.filter(pk=meeting.pk).update(
                minutes="Présents : voir la liste des présences.\n\n" + "\n".join(lines),
                minutes_updated_at=min(meeting.starts_at + datetime.timedelta(days=2), now),
            )
        if not meeting.attendances.exists():
            MeetingAttendance.objects.bulk_create(
                [
                    MeetingAttendance(
                        meeting=meeting,
                        member=member,
                        status=AttendanceStatus.EXCUSED
                        if index == len(members) - 1
                        else AttendanceStatus.PRESENT,
                        created_at=meeting.starts_at,
                    )
                    for index, member in enumerate(members)
                ]
            )
        if items and not Decision.objects.filter(agenda_item__meeting=meeting).exists():
            Decision.objects.create(
                agenda_item=items[0],
                text=COMMITTEE_DECISIONS.get(body.name, "Décision adoptée."),
                who_does_what="La coordination",
                decided_by=coordinator,
                created_at=min(meeting.starts_at + datetime.timedelta(hours=2), now),
            )


def _circulation(bodies, coordinator) -> None:
    now = timezone.now()
    if Forwarding.objects.filter(meeting__body__programme=bodies[EPS_NORD].programme).exists():
        return
    routes = [
        (
            EPS_NORD,
            TECHNICAL,
            "Trois situations de difficultés de lecture en CE1 : besoin de places en CLAS.",
        ),
        (TECHNICAL, STEERING, "Les EPS demandent dix places de plus en accompagnement à la scolarité."),
        (
            STEERING,
            NETWORK_BODY,
            "Demande commune aux programmes de l'agglomération : un CMPP plus accessible.",
        ),
    ]
    for source, target, summary in routes:
        if source not in bodies or target not in bodies:
            continue
        meeting = (
            bodies[source].meetings.filter(starts_at__lt=now, cancelled=False).order_by("-starts_at").first()
        )
        if meeting is None:
            continue
        Forwarding.objects.create(
            meeting=meeting,
            to_body=bodies[target],
            summary=summary,
            by=coordinator,
            created_at=min(meeting.starts_at + datetime.timedelta(days=3), now),
        )


def _mission_sheets(programme, bodies, users) -> None:
    from maillage.governance.models import MissionSheet, MissionSheetComment, MissionSheetVersion

    if MissionSheet.objects.filter(programme=programme).exists():
        return
    now = timezone.now()
    steering = bodies[STEERING].meetings.filter(starts_at__lt=now).order_by("-starts_at")
    technical = bodies[TECHNICAL].meetings.filter(starts_at__lt=now).order_by("-starts_at")
    validated_at = steering[1] if steering.count() > 1 else steering.first()
    proposed_at = technical.first()
    start = now - datetime.timedelta(days=200)
    for sheet_index, (title, versions, status) in enumerate(MISSION_SHEETS):
        sheet = MissionSheet.objects.create(programme=programme, title=title, created_at=start)
        for number, (email, body) in enumerate(versions, start=1):
            author = users.get(email) or users["coordination@demo.test"]
            MissionSheetVersion.objects.create(
                sheet=sheet,
                number=number,
                body=body,
                author=author,
                note="Première version" if number == 1 else "Complété en atelier",
                created_at=start + datetime.timedelta(days=20 * number + sheet_index),
            )
            sheet.contributors.add(author)
        if status == "validated" and validated_at is not None:
            sheet.status, sheet.proposed_at = status, validated_at
            sheet.validated_on = timezone.localdate(validated_at.starts_at)
        elif status == "proposed" and proposed_at is not None:
            sheet.status, sheet.proposed_at = status, proposed_at
        sheet.save()
    sheets = {sheet.title: sheet for sheet in MissionSheet.objects.filter(programme=programme)}
    for index, (title, email, body) in enumerate(MISSION_COMMENTS):
        if email in users:
            MissionSheetComment.objects.create(
                sheet=sheets[title],
                author=users[email],
                body=body,
                created_at=now - datetime.timedelta(days=10 - index),
            )


def _memento(programme, coordinator) -> None:
    if MementoPage.objects.filter(programme=programme).exists():
        return
    for position, (slug, title, body) in enumerate(MEMENTO_PAGES, start=1):
        MementoPage.objects.create(
            programme=programme, slug=slug, title=title, body=body, position=position, updated_by=coordinator
        )


def _notifications(programme, bodies) -> None:
    if Notification.objects.filter(programme=programme).exists():
        return
    upcoming = bodies[EPS_NORD].meetings.filter(starts_at__gt=timezone.now()).order_by("starts_at").first()
    if upcoming is None:
        return
    from django.urls import reverse

    members = bodies[EPS_NORD].members.select_related("membership__user").exclude(membership=None)
    Notification.objects.bulk_create(
        [
            Notification(
                user=member.membership.user,
                programme=programme,
                verb="meeting.agenda_published",
                message=f"Ordre du jour publié : {upcoming}",
                url=reverse("governance:meeting", args=[upcoming.pk]),
                created_at=upcoming.agenda_published_at or timezone.now(),
            )
            for member in members
            if member.membership.user.email != "coordination@demo.test"
        ]
    )
