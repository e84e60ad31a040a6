from django.db import models
from django.utils.translation import gettext_lazy as _


class FundingSource(models.TextChoices):
    """Where a programme's money comes from, as the ANCT annual survey groups it."""

    STATE_PRE = "state_pre", _("État — politique de la ville (PRE)")
    COMMUNE = "commune", _("Commune / EPCI")
    DEPARTEMENT = "departement", _("Département")
    CAF = "caf", _("CAF")
    OTHER = "other", _("Autre financeur")


class PeriodKind(models.TextChoices):
    SCHOOL_YEAR = "school", _("Année scolaire")
    CALENDAR_YEAR = "calendar", _("Année civile")


class ActorPosition(models.TextChoices):
    """The position of a partner answering the barometer (results are shown per position)."""

    ELECTED = "elected", _("Élu·e")
    NATIONAL_EDUCATION = "education", _("Éducation nationale")
    SOCIAL = "social", _("Action sociale")
    HEALTH = "health", _("Santé")
    ASSOCIATION = "association", _("Association")
    PROGRAMME_STAFF = "staff", _("Équipe du programme")


class Likert(models.IntegerChoices):
    STRONGLY_DISAGREE = 1, _("Pas du tout d'accord")
    DISAGREE = 2, _("Plutôt pas d'accord")
    AGREE = 3, _("Plutôt d'accord")
    STRONGLY_AGREE = 4, _("Tout à fait d'accord")


class RoundState(models.TextChoices):
    OPEN = "open", _("Ouvert aux réponses")
    CLOSED = "closed", _("Clôturé")
