from django.db import models
from django.utils.translation import gettext_lazy as _


class CommuneKind(models.TextChoices):
    """The two kinds of the INSEE COG (``TYPECOM``) that are stored; delegated and associated communes
    (``COMD``, ``COMA``) are not: their territory is their parent's, imported under its own code."""

    COMMUNE = "COM", _("Commune")
    MUNICIPAL_ARRONDISSEMENT = "ARM", _("Arrondissement municipal")


class SchoolKind(models.TextChoices):
    MATERNELLE = "maternelle", _("École maternelle")
    ELEMENTAIRE = "elementaire", _("École élémentaire")
    PRIMAIRE = "primaire", _("École primaire")
    COLLEGE = "college", _("Collège")
    LYCEE = "lycee", _("Lycée")
    OTHER = "other", _("Autre établissement")


class PriorityEducation(models.TextChoices):
    NONE = "", _("Hors éducation prioritaire")
    REP = "REP", _("REP")
    REP_PLUS = "REP+", _("REP+")
