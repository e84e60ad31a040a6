from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.core.models import BaseModel
from maillage.core.uploads import RandomName
from maillage.governance.enums import AttendanceStatus, BodyKind, DigestFrequency, MissionSheetStatus
from maillage.pathways.enums import Circle


class Body(BaseModel):
    """A body (*instance*) of the partnership: comité de pilotage, comité technique, EPS…"""

    programme = models.ForeignKey("programmes.Programme", on_delete=models.CASCADE, related_name="bodies")
    kind = models.CharField(_("type"), max_length=20, choices=BodyKind.choices)
    name = models.CharField(_("nom"), max_length=200)
    # Null: the body sits at the programme's level; otherwise at a network level above it
    # (intercommunal GIP, département), where decisions and minutes travel as summaries only.
    level = models.ForeignKey(
        "programmes.NetworkLevel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bodies",
        verbose_name=_("niveau"),
    )
    # The expected rhythm, per school year (comité de pilotage: at least 2; EPS: about monthly, 10).
    meetings_per_year = models.PositiveSmallIntegerField(
        _("réunions attendues par année scolaire"), default=0
    )
    description = models.TextField(_("rôle de l'instance"), blank=True)

    class Meta:
        verbose_name = _("instance")
        ordering = ["programme", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["programme", "name"], name="body_unique_name")]
        indexes = [models.Index(fields=["programme", "kind"], name="body_programme_kind")]

    @property
    def is_eps(self) -> bool:
        return self.kind == BodyKind.EPS

    def __str__(self) -> str:
        return self.name


class BodyMember(BaseModel):
    """A member of a body: through their membership of the programme, or a person outside the platform.

    People outside the platform (an élu, a representative of the Préfecture…) have a name and an
    institution, receive invitations by email, and never reach anything in the application.
    """

    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="members")
    membership = models.ForeignKey(
        "programmes.Membership", on_delete=models.CASCADE, null=True, blank=True, related_name="bodies"
    )
    person_name = models.CharField(_("nom de la personne"), max_length=200, blank=True)
    institution = models.CharField(_("institution"), max_length=200, blank=True)
    email = models.EmailField(_("adresse électronique"), blank=True)
    role_in_body = models.CharField(_("rôle dans l'instance"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("membre d'instance")
        constraints = [
            models.UniqueConstraint(fields=["body", "membership"], name="body_member_once"),
            models.CheckConstraint(
                condition=Q(membership__isnull=False) | ~Q(person_name=""), name="body_member_is_someone"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} @ {self.body}"

    @property
    def display_name(self) -> str:
        if self.membership_id:
            user = self.membership.user
            return user.get_full_name() or user.email
        return self.person_name

    @property
    def display_institution(self) -> str:
        if self.membership_id and self.membership.organisation_id:
            return str(self.membership.organisation)
        return self.institution

    @property
    def contact_email(self) -> str:
        return self.membership.user.email if self.membership_id else self.email


class MeetingQuerySet(models.QuerySet):
    def held(self, now=None):
        """Meetings that took place: date past, not cancelled (the steering indicators count these)."""
        return self.filter(starts_at__lte=now or timezone.now(), cancelled=False)

    def planned(self):
        return self.filter(cancelled=False)


class Meeting(BaseModel):
    """A meeting of a body. For an EPS, publishing the agenda opens the members' access window."""

    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="meetings")
    starts_at = models.DateTimeField(_("date et heure"))
    duration_minutes = models.PositiveSmallIntegerField(_("durée (minutes)"), default=120)
    place = models.CharField(_("lieu"), max_length=255, blank=True)
    video_link = models.URLField(_("lien de visioconférence"), blank=True)
    agenda = models.TextField(_("ordre du jour (texte)"), blank=True)
    cancelled = models.BooleanField(_("annulée"), default=False)
    minutes = models.TextField(_("compte rendu"), blank=True)
    minutes_updated_at = models.DateTimeField(_("compte rendu mis à jour le"), null=True, blank=True)
    invitations_sent_at = models.DateTimeField(_("invitations envoyées le"), null=True, blank=True)
    agenda_published_at = models.DateTimeField(_("ordre du jour publié le"), null=True, blank=True)
    # End of the EPS members' access window: the meeting plus the programme's window (30 days by
    # default), stored so that scopes compare two columns in SQL.
    access_ends_at = models.DateTimeField(_("fin de la fenêtre d'accès"), null=True, blank=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("réunion")
        ordering = ["-starts_at"]
        indexes = [
            models.Index(fields=["body", "starts_at"], name="meeting_body_date"),
            models.Index(fields=["agenda_published_at", "access_ends_at"], name="meeting_access_window"),
            models.Index(fields=["cancelled", "starts_at"], name="meeting_held"),
        ]

    def __str__(self) -> str:
        return f"{self.body} — {timezone.localtime(self.starts_at):%d/%m/%Y}"

    @property
    def ends_at(self):
        import datetime

        return self.starts_at + datetime.timedelta(minutes=self.duration_minutes)

    @property
    def is_held(self) -> bool:
        return not self.cancelled and self.starts_at <= timezone.now()


class AgendaItem(BaseModel):
    """A point of a meeting's agenda; for an EPS, usually a child's situation (shown pseudonymised)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    pathway = models.ForeignKey(
        "pathways.Pathway", on_delete=models.PROTECT, null=True, blank=True, related_name="agenda_items"
    )
    title = models.CharField(_("intitulé"), max_length=255, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("point de l'ordre du jour")
        ordering = ["meeting", "position", "pk"]
        indexes = [models.Index(fields=["pathway", "meeting"], name="agenda_item_pathway")]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "pathway"],
                condition=Q(pathway__isnull=False),
                name="agenda_item_pathway_once",
            )
        ]

    def __str__(self) -> str:
        return self.title or str(self.pathway)


class Decision(BaseModel):
    """The *relevé de décisions* of one agenda item: what was decided, who does what, by when.

    For an EPS situation, saving it writes into the pathway's history (and may add plan actions,
    objectives, or move the pathway from ``eps_review`` to ``active``, through the journey's services).
    """

    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField(_("décision"))
    who_does_what = models.TextField(_("qui fait quoi"), blank=True)
    due_on = models.DateField(_("pour le"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("saisie par")
    )
    moved_to_active = models.BooleanField(_("le parcours passe en accompagnement"), default=False)
    # On a situation, the decision's text is a written item about the child: it carries a circle
    # (most restrictive by default); readers outside it see that a decision exists, not its text.
    circle = models.CharField(_("qui peut lire"), max_length=10, choices=Circle.choices, default=Circle.TEAM)

    class Meta:
        verbose_name = _("décision")
        ordering = ["agenda_item", "created_at", "pk"]
        indexes = [models.Index(fields=["agenda_item", "created_at"], name="decision_item_date")]

    def __str__(self) -> str:
        return self.text[:80]


class MeetingAttendance(BaseModel):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendances")
    member = models.ForeignKey(BodyMember, on_delete=models.CASCADE, related_name="attendances")
    status = models.CharField(_("présence"), max_length=10, choices=AttendanceStatus.choices)

    class Meta:
        verbose_name = _("présence à une réunion")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="meeting_attendance_once"),
        ]


class MeetingDocument(BaseModel):
    """A document of a meeting (agenda, slides, minutes signed): never a child's file."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("titre"), max_length=200)
    # A random stored name: the uploaded file's name may carry a person's name.
    file = models.FileField(_("fichier"), upload_to=RandomName("governance"))
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # A document follows its circle like every written item (most restrictive by default). About a
    # situation of the agenda, the circle is read on that pathway (``perms.meeting_documents_readable_by``).
    pathway = models.ForeignKey(
        "pathways.Pathway",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("situation concernée"),
    )
    circle = models.CharField(_("qui peut lire"), max_length=10, choices=Circle.choices, default=Circle.TEAM)

    class Meta:
        verbose_name = _("document de réunion")
        ordering = ["meeting", "created_at"]


class Forwarding(BaseModel):
    """A decision or minutes sent from one body to another, as a non-nominative summary."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="forwardings")
    decision = models.ForeignKey(
        Decision, on_delete=models.SET_NULL, null=True, blank=True, related_name="forwardings"
    )
    to_body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="received")
    summary = models.TextField(_("synthèse non nominative"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("transmission")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["to_body", "created_at"], name="forwarding_to_body")]


class Notification(BaseModel):
    """An in-app notification for one person; the digest emails gather those not yet sent."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    verb = models.CharField(max_length=60)
    message = models.CharField(_("message"), max_length=300)
    url = models.CharField(max_length=300, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    digested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread"),
            models.Index(fields=["user", "digested_at"], name="notification_digest"),
        ]


class NotificationPreference(BaseModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    digest = models.CharField(
        _("résumé par courriel"), max_length=10, choices=DigestFrequency.choices, default=DigestFrequency.NONE
    )
    last_digest_at = models.DateTimeField(null=True, blank=True)


class PathwayVisit(models.Model):
    """When a person last opened a pathway: the page shows what changed since."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    pathway = models.ForeignKey("pathways.Pathway", on_delete=models.CASCADE, related_name="visits")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "pathway"], name="pathway_visit_once")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.pathway_id}"


class MissionSheet(BaseModel):
    """The mission of a role or post, written together, versioned, validated at a meeting."""

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="mission_sheets"
    )
    title = models.CharField(_("rôle ou poste"), max_length=200)
    status = models.CharField(
        _("état"), max_length=10, choices=MissionSheetStatus.choices, default=MissionSheetStatus.DRAFT
    )
    proposed_at = models.ForeignKey(
        Meeting,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="proposed_mission_sheets",
        verbose_name=_("proposée à la réunion"),
    )
    validated_on = models.DateField(_("validée le"), null=True, blank=True)
    contributors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        verbose_name = _("fiche mission")
        ordering = ["programme", "title"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "title"], name="mission_sheet_unique_title")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def current(self):
        return self.versions.order_by("-number").first()


class MissionSheetVersion(BaseModel):
    sheet = models.ForeignKey(MissionSheet, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    body = models.TextField(_("mission"))
    note = models.CharField(_("ce qui change"), max_length=255, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["sheet", "-number"]
        constraints = [models.UniqueConstraint(fields=["sheet", "number"], name="mission_version_once")]


class MissionSheetComment(BaseModel):
    sheet = models.ForeignKey(MissionSheet, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("commentaire"))

    class Meta:
        ordering = ["sheet", "created_at"]


class MementoPage(BaseModel):
    """A page of the programme's *mémento de la réussite éducative*, written in Markdown (no raw HTML)."""

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="memento_pages"
    )
    title = models.CharField(_("titre"), max_length=200)
    slug = models.SlugField(_("identifiant"), max_length=80)
    body = models.TextField(_("texte (Markdown)"), blank=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("page du mémento")
        ordering = ["programme", "position", "title"]
        constraints = [models.UniqueConstraint(fields=["programme", "slug"], name="memento_page_unique_slug")]

    def __str__(self) -> str:
        return self.title
