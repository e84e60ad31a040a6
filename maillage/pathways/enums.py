from django.db import models
from django.utils.translation import gettext_lazy as _


class PathwayState(models.TextChoices):
    ENGAGEMENT = "engagement", _("Premier contact")
    DIAGNOSTIC = "diagnostic", _("Diagnostic")
    EPS_REVIEW = "eps_review", _("Examen en EPS")
    ACTIVE = "active", _("Parcours en cours")
    CLOSED = "closed", _("Clôturé")


# state → states it may move to (closing is possible from every open state)
TRANSITIONS = {
    PathwayState.ENGAGEMENT: {PathwayState.DIAGNOSTIC, PathwayState.CLOSED},
    PathwayState.DIAGNOSTIC: {PathwayState.EPS_REVIEW, PathwayState.ACTIVE, PathwayState.CLOSED},
    PathwayState.EPS_REVIEW: {PathwayState.ACTIVE, PathwayState.DIAGNOSTIC, PathwayState.CLOSED},
    PathwayState.ACTIVE: {PathwayState.EPS_REVIEW, PathwayState.CLOSED},
    PathwayState.CLOSED: set(),
}


class Circle(models.TextChoices):
    """Who may read a written item (design/CONFIDENTIALITY.md, "Circles on written items")."""

    TEAM = "team", _("Équipe du parcours (référent·e, coordination, auteur·rice)")
    SECRET = (
        "secret",
        _("Secret partagé (professionnels soumis au secret, charte signée, accord de la famille)"),
    )
    PARTNERS = "partners", _("Partenaires du parcours (informations pratiques seulement)")


CIRCLE_ORDER = [Circle.TEAM, Circle.SECRET, Circle.PARTNERS]  # most restrictive first


class Dimension(models.TextChoices):
    SCHOOL = "school", _("Scolarité")
    PHYSICAL_HEALTH = "physical_health", _("Santé physique")
    PSYCHOLOGICAL = "psychological", _("Santé psychologique et développement")
    FAMILY = "family", _("Famille et parentalité")
    SOCIAL = "social", _("Situation sociale et matérielle")
    CULTURAL = "cultural", _("Culture")
    SPORT_LEISURE = "sport_leisure", _("Sport et loisirs")


# Health and psychological items never go beyond the secret circle.
HEALTH_DIMENSIONS = {Dimension.PHYSICAL_HEALTH, Dimension.PSYCHOLOGICAL}


class ObjectiveStatus(models.TextChoices):
    OPEN = "open", _("En cours")
    REACHED = "reached", _("Atteint")
    PARTLY = "partly", _("Partiellement atteint")
    NOT_REACHED = "not_reached", _("Non atteint")
    ABANDONED = "abandoned", _("Abandonné")


class Rating(models.TextChoices):
    REACHED = "reached", _("Atteint")
    PARTLY = "partly", _("Partiellement atteint")
    NOT_REACHED = "not_reached", _("Non atteint")
    ABANDONED = "abandoned", _("Abandonné")


class ActionKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individuelle")
    COLLECTIVE = "collective", _("Collective")


class ContactKind(models.TextChoices):
    HOME_VISIT = "home_visit", _("Visite à domicile")
    PHONE = "phone", _("Entretien téléphonique")
    SCHOOL_MEETING = "school_meeting", _("Rencontre à l'école")
    OFFICE_MEETING = "office_meeting", _("Rendez-vous au bureau")
    PARTNER = "partner", _("Échange avec un partenaire")


class ReviewKind(models.TextChoices):
    INTERMEDIATE = "intermediate", _("Bilan intermédiaire")
    FINAL = "final", _("Bilan final")
