from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    GIRL = "F", _("Fille")
    BOY = "M", _("Garçon")


class SchoolLevel(models.TextChoices):
    NOT_SCHOOLED = "none", _("Non scolarisé·e")
    TPS = "TPS", _("Toute petite section")
    PS = "PS", _("Petite section")
    MS = "MS", _("Moyenne section")
    GS = "GS", _("Grande section")
    CP = "CP", _("CP")
    CE1 = "CE1", _("CE1")
    CE2 = "CE2", _("CE2")
    CM1 = "CM1", _("CM1")
    CM2 = "CM2", _("CM2")
    SIXIEME = "6e", _("6e")
    CINQUIEME = "5e", _("5e")
    QUATRIEME = "4e", _("4e")
    TROISIEME = "3e", _("3e")
    SECONDE = "2nde", _("Seconde")
    PREMIERE = "1re", _("Première")
    TERMINALE = "Tle", _("Terminale")
    OTHER = "other", _("Autre (ULIS, SEGPA, CAP…)")

    @classmethod
    def stage(cls, level: str) -> str:
        """The school stage of a level: maternelle, élémentaire, collège, lycée or other."""
        if level in {"TPS", "PS", "MS", "GS"}:
            return "maternelle"
        if level in {"CP", "CE1", "CE2", "CM1", "CM2"}:
            return "elementaire"
        if level in {"6e", "5e", "4e", "3e"}:
            return "college"
        if level in {"2nde", "1re", "Tle"}:
            return "lycee"
        return "other"


class GuardianRelation(models.TextChoices):
    MOTHER = "mother", _("Mère")
    FATHER = "father", _("Père")
    TUTOR = "tutor", _("Tuteur ou tutrice")
    OTHER = "other", _("Autre")
