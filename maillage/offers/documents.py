"""The family contract (*contrat d'engagement*) as a PDF to print and sign (WeasyPrint).

The caller has checked that the user sees the contract and the child's identity, and journals it.
"""

from django.utils.translation import gettext as _

from maillage.offers.models import FamilyContract
from maillage.pathways.documents import DocumentKind, _common_context, render_pdf


def contract_pdf(*, contract: FamilyContract, user) -> bytes:
    pathway = contract.pathway
    context = _common_context(user, pathway, title=_("Contrat d'engagement"), kind=DocumentKind.PLAN_SUMMARY)
    context.update({"kind": "family_contract", "contract": contract})
    return render_pdf("pdf/family_contract.html", context)
