from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from maillage.core.models import BaseModel
from maillage.governance.enums import BodyKind


class Body(BaseModel):
    """A body (*instance*) of the partnership: comité de pilotage, comité technique, EPS…"""

    programme = models.ForeignKey("programmes.Programme", on_delete=models.CASCADE, related_name="bodies")
    kind = models.CharField(_("type"), max_length=20, choices=BodyKind.choices)
    name = models.CharField(_("nom"), max_length=200)
    meetings_per_year = models.PositiveSmallIntegerField(_("réunions attendues par an"), default=0)

    class Meta:
        verbose_name = _("instance")
        ordering = ["programme", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["programme", "name"], name="body_unique_name")]

    def __str__(self) -> str:
        return self.name


class BodyMember(BaseModel):
    """A member of a body, through their membership of the programme."""

    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="members")
    membership = models.ForeignKey("programmes.Membership", on_delete=models.CASCADE, related_name="bodies")
    role_in_body = models.CharField(_("rôle dans l'instance"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("membre d'instance")
        constraints = [models.UniqueConstraint(fields=["body", "membership"], name="body_member_once")]

    def __str__(self) -> str:
        return f"{self.membership} @ {self.body}"


class Meeting(BaseModel):
    """A meeting of a body. For an EPS, publishing the agenda opens the members' access window."""

    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="meetings")
    starts_at = models.DateTimeField(_("date et heure"))
    place = models.CharField(_("lieu ou lien de visioconférence"), max_length=255, blank=True)
    agenda_published_at = models.DateTimeField(_("ordre du jour publié le"), null=True, blank=True)
    # End of the EPS members' access window: the meeting plus the programme's window (30 days by
    # default), stored so that scopes compare two columns in SQL.
    access_ends_at = models.DateTimeField(_("fin de la fenêtre d'accès"), null=True, blank=True)

    class Meta:
        verbose_name = _("réunion")
        ordering = ["-starts_at"]
        indexes = [
            models.Index(fields=["body", "starts_at"], name="meeting_body_date"),
            models.Index(fields=["agenda_published_at", "access_ends_at"], name="meeting_access_window"),
        ]

    def __str__(self) -> str:
        return f"{self.body} — {self.starts_at:%d/%m/%Y}"


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
