from django.db import models
from django.utils.translation import gettext_lazy as _


class BodyKind(models.TextChoices):
    STEERING_COMMITTEE = "steering", _("Comité de pilotage / CCRE")
    TECHNICAL_COMMITTEE = "technical", _("Comité technique")
    EPS = "eps", _("Équipe pluridisciplinaire de soutien (EPS)")
    WATCH_CELL = "watch_cell", _("Cellule de veille")
    OTHER = "other", _("Autre instance")
