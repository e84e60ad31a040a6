from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The role a membership gives in one programme (see design/PRODUCT.md, "Who uses it")."""

    COORDINATOR = "coordinator", _("Coordination")
    REFERENT = "referent", _("Référent·e de parcours")
    EPS_MEMBER = "eps_member", _("Membre d'équipe pluridisciplinaire (EPS)")
    REFERRER = "referrer", _("Partenaire orienteur")
    PROVIDER = "provider", _("Intervenant·e d'action")
    STEERING = "steering", _("Pilotage (élu·e, financeur)")
    MANAGER = "manager", _("Gestion de la structure porteuse")
    DPO = "dpo", _("Délégué·e à la protection des données")
    NETWORK = "network", _("Niveau réseau")


class LeadBodyType(models.TextChoices):
    CCAS = "ccas", _("CCAS")
    CAISSE_DES_ECOLES = "caisse_des_ecoles", _("Caisse des écoles")
    GIP = "gip", _("GIP")
    EPLE = "eple", _("EPLE")
    COMMUNE = "commune", _("Commune")
    EPCI = "epci", _("EPCI")
    OTHER = "other", _("Autre")


class EligibilityRule(models.TextChoices):
    QPV_OR_REP = "qpv_or_rep", _("Résidence en QPV ou scolarité en REP/REP+")
    QPV_AND_REP = "qpv_and_rep", _("Résidence en QPV et scolarité en REP/REP+")
    QPV_ONLY = "qpv", _("Résidence en QPV")
    REP_ONLY = "rep", _("Scolarité en REP/REP+")


class OrganisationKind(models.TextChoices):
    SCHOOL = "school", _("Établissement scolaire")
    EN_SERVICE = "en_service", _("Service de l'Éducation nationale")
    CD_SOCIAL = "cd_social", _("Service social du département")
    PMI = "pmi", _("PMI")
    CAF = "caf", _("CAF")
    CCAS = "ccas", _("CCAS")
    ASSOCIATION = "association", _("Association")
    CLUB = "club", _("Club")
    HEALTH = "health", _("Centre de santé")
    TOWN = "town", _("Services de la ville")
    OTHER = "other", _("Autre")


class NetworkLevelKind(models.TextChoices):
    INTERCOMMUNAL = "intercommunal", _("Intercommunal")
    DEPARTEMENT = "departement", _("Départemental")
    NATIONAL = "national", _("National")


class ListKind(models.TextChoices):
    """Per-programme configurable lists (each programme words its own)."""

    REFERRAL_MOTIF = "referral_motif", _("Motif d'orientation")
    REFERRER_TYPE = "referrer_type", _("Type d'orienteur")
    EXIT_REASON = "exit_reason", _("Motif de sortie")
