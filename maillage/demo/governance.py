"""Ville de Démo: the partnership's bodies (two EPS, comité de pilotage, comité technique) and meetings.

``seed`` creates the bodies, their members and the committees' past meetings; the EPS meetings are
created by ``maillage.demo.journey`` through ``eps_meeting`` and ``put_on_agenda``, as the situations
it walks through reach an EPS. Idempotent: nothing is created twice.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from maillage.audit.services import record
from maillage.governance.enums import BodyKind
from maillage.governance.models import AgendaItem, Body, BodyMember, Meeting
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
