from django.db import models
from django.utils.translation import gettext_lazy as _


class BodyKind(models.TextChoices):
    STEERING_COMMITTEE = "steering", _("Comité de pilotage / CCRE")
    TECHNICAL_COMMITTEE = "technical", _("Comité technique")
    EPS = "eps", _("Équipe pluridisciplinaire de soutien (EPS)")
    WATCH_CELL = "watch_cell", _("Cellule de veille")
    OTHER = "other", _("Autre instance")


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("Présent·e")
    EXCUSED = "excused", _("Excusé·e")
    ABSENT = "absent", _("Absent·e")


class DigestFrequency(models.TextChoices):
    NONE = "none", _("Pas de courriel (notifications dans l'application seulement)")
    DAILY = "daily", _("Un résumé par jour")
    WEEKLY = "weekly", _("Un résumé par semaine")


class MissionSheetStatus(models.TextChoices):
    DRAFT = "draft", _("En cours d'écriture")
    PROPOSED = "proposed", _("Proposée pour validation")
    VALIDATED = "validated", _("Validée")
