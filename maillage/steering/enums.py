from django.db import models
from django.utils.translation import gettext_lazy as _


class FundingSource(models.TextChoices):
    """Where a programme's money comes from, as the ANCT annual survey groups it."""

    STATE_PRE = "state_pre", _("État — politique de la ville (PRE)")
    COMMUNE = "commune", _("Commune / EPCI")
    DEPARTEMENT = "departement", _("Département")
    CAF = "caf", _("CAF")
    OTHER = "other", _("Autre financeur")
