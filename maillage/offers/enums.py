from django.db import models
from django.utils.translation import gettext_lazy as _


class AgeBand(models.TextChoices):
    """Age bands of the ANCT annual survey, plus adults (parents in a collective action)."""

    FROM_2_TO_5 = "2-5", _("2 à 5 ans")
    FROM_6_TO_10 = "6-10", _("6 à 10 ans")
    FROM_11_TO_16 = "11-16", _("11 à 16 ans")
    FROM_17 = "17+", _("17 ans et plus")
    ADULT = "adult", _("Adulte (parent)")

    @classmethod
    def for_age(cls, age: int) -> "AgeBand":
        if age <= 5:
            return cls.FROM_2_TO_5
        if age <= 10:
            return cls.FROM_6_TO_10
        if age <= 16:
            return cls.FROM_11_TO_16
        return cls.FROM_17


class BeneficiarySex(models.TextChoices):
    FEMALE = "F", _("Féminin")
    MALE = "M", _("Masculin")


class EnrolmentStatus(models.TextChoices):
    ENROLLED = "enrolled", _("Inscrit·e")
    WAITING = "waiting", _("Liste d'attente")
    LEFT = "left", _("Sorti·e du groupe")


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("Présent·e")
    EXCUSED = "excused", _("Absent·e excusé·e")
    UNEXCUSED = "unexcused", _("Absent·e non excusé·e")


class BreachKind(models.TextChoices):
    UNEXCUSED_ABSENCES = "unexcused_absences", _("Absences non excusées aux actions collectives")
    MISSED_APPOINTMENTS = "missed_appointments", _("Rendez-vous manqués d'affilée")


class AlertState(models.TextChoices):
    OPEN = "open", _("À traiter")
    ESCALATED = "escalated", _("Intervention demandée")
    CLOSED = "closed", _("Classée sans suite")
    RESOLVED = "resolved", _("Résolue")


ALERT_TRANSITIONS = {
    AlertState.OPEN: {AlertState.ESCALATED, AlertState.CLOSED},
    AlertState.ESCALATED: {AlertState.RESOLVED},
    AlertState.CLOSED: set(),
    AlertState.RESOLVED: set(),
}


class TaskState(models.TextChoices):
    OPEN = "open", _("À faire")
    IN_PROGRESS = "in_progress", _("En cours")
    DONE = "done", _("Terminée")


TASK_TRANSITIONS = {
    TaskState.OPEN: {TaskState.IN_PROGRESS, TaskState.DONE},
    TaskState.IN_PROGRESS: {TaskState.DONE},
    TaskState.DONE: set(),
}


class TaskOutcome(models.TextChoices):
    RECOMMITTED = "recommitted", _("La famille reprend ses engagements")
    CONTRACT_REVISED = "contract_revised", _("Contrat revu")
    RELAY = "relay", _("Relais vers un autre accompagnement")
    NO_CONTACT = "no_contact", _("Famille injoignable")
    OTHER = "other", _("Autre")


class FundPurpose(models.TextChoices):
    SPORTS_LICENCE = "sports_licence", _("Licence sportive")
    CARE = "care", _("Soins")
    SCHOOL_TRIP = "school_trip", _("Sortie ou séjour scolaire")
    EQUIPMENT = "equipment", _("Équipement")
    OTHER = "other", _("Autre")


class FundRequestState(models.TextChoices):
    REQUESTED = "requested", _("Demandée")
    APPROVED = "approved", _("Accordée")
    REFUSED = "refused", _("Refusée")
