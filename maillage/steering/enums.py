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


class ExportKind(models.TextChoices):
    """The documents the task worker prepares (*documents préparés en arrière-plan*)."""

    COPIL_PDF = "copil_pdf", _("Dossier du comité de pilotage (PDF)")
    ANCT_XLSX = "anct_xlsx", _("Enquête annuelle ANCT (XLSX)")
    NETWORK_ANCT_XLSX = "network_anct_xlsx", _("Enquête annuelle ANCT consolidée (XLSX)")
    STRUCTURING_XLSX = "structuring_xlsx", _("Tableau de structuration (XLSX)")


# Kinds prepared for a network level (the others for one programme).
NETWORK_EXPORTS = frozenset({ExportKind.NETWORK_ANCT_XLSX, ExportKind.STRUCTURING_XLSX})


class ExportState(models.TextChoices):
    QUEUED = "queued", _("En attente")
    RUNNING = "running", _("En préparation")
    DONE = "done", _("Prêt")
    FAILED = "failed", _("Échec")
