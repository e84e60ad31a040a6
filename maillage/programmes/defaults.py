"""The lists every new programme starts with (design/PRODUCT.md); each programme may reword them."""

from django.utils.translation import gettext_noop as N_

from maillage.programmes.enums import ListKind

REFERRAL_MOTIFS = [
    ("resultats_scolaires", N_("Résultats scolaires")),
    ("isolement_social", N_("Isolement social")),
    ("comportement", N_("Comportement")),
    ("absenteisme", N_("Absentéisme")),
    ("sante", N_("Santé")),
    ("parentalite", N_("Parentalité")),
    ("loisirs_culture", N_("Accès aux loisirs et à la culture")),
    ("langue", N_("Langue")),
    ("autre", N_("Autre")),
]

REFERRER_TYPES = [
    ("ecole", N_("École, collège ou lycée")),
    ("rased", N_("RASED")),
    ("sante_scolaire", N_("Santé scolaire")),
    ("pmi", N_("PMI")),
    ("service_social", N_("Service social du département / ASE")),
    ("ccas", N_("CCAS")),
    ("caf", N_("CAF")),
    ("prevention_specialisee", N_("Prévention spécialisée")),
    ("association", N_("Association")),
    ("famille", N_("La famille elle-même")),
    ("autre", N_("Autre")),
]

# code, label, needs a final bilan
EXIT_REASONS = [
    ("objectifs_atteints", N_("Objectifs atteints"), True),
    ("relais_droit_commun", N_("Relais vers le droit commun ou un autre dispositif"), True),
    ("demenagement", N_("Déménagement"), True),
    ("refus_famille", N_("Refus de la famille"), False),
    ("retrait_consentement", N_("Retrait de l'accord de la famille"), False),
    ("limite_age", N_("Limite d'âge"), True),
    ("hors_perimetre", N_("Sortie du périmètre"), True),
    ("protection_enfance", N_("Transmission à la protection de l'enfance"), True),
    ("perte_contact", N_("Perte de contact"), False),
    ("autre", N_("Autre"), True),
]

WITHDRAWAL_EXIT_CODE = "retrait_consentement"

DEFAULT_LISTS = {
    ListKind.REFERRAL_MOTIF: [(code, label, True) for code, label in REFERRAL_MOTIFS],
    ListKind.REFERRER_TYPE: [(code, label, True) for code, label in REFERRER_TYPES],
    ListKind.EXIT_REASON: EXIT_REASONS,
}


def ensure_default_lists(programme) -> int:
    """Create the default list entries a programme lacks; returns how many were created."""
    from maillage.programmes.models import ListItem

    existing = set(ListItem.objects.filter(programme=programme).values_list("kind", "code"))
    new = [
        ListItem(
            programme=programme,
            kind=kind,
            code=code,
            label=str(label),
            position=position,
            needs_final_review=needs_final_review,
        )
        for kind, items in DEFAULT_LISTS.items()
        for position, (code, label, needs_final_review) in enumerate(items)
        if (kind, code) not in existing
    ]
    ListItem.objects.bulk_create(new)
    return len(new)
