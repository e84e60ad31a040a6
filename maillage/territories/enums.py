from django.db import models
from django.utils.translation import gettext_lazy as _


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
