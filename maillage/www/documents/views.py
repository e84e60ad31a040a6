"""Documents for the family, as PDF downloads: the written agreement to sign, the notices, the plan.

Only those who run the pathway generate them — the coordinator and the référent in the case team,
who see the child's identity — and every generation is journaled. Anyone else gets a 404, like a
pathway that does not exist. The file name carries the case code, never the child's name.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from maillage import permissions as perms
from maillage.accounts.stepup import nominative_document
from maillage.audit.access import record_access, sensitive
from maillage.pathways import documents
from maillage.pathways.documents import DocumentKind
from maillage.pathways.models import Pathway

VERB = "document.generated"


def _pathway(request, pathway_pk: int) -> Pathway:
    """The pathway, if the user may generate its family documents (404 otherwise)."""
    pathway = get_object_or_404(
        perms.pathways_visible_to(request.user).select_related("programme", "referent", "child"),
        pk=pathway_pk,
    )
    user = request.user
    may_generate = perms.can_edit_pathway(user, pathway) or perms.can_manage_consents(user, pathway)
    if not (may_generate and perms.identity_visible(user, pathway)):
        raise Http404
    return pathway


@sensitive(VERB)
@login_required
@nominative_document
@require_GET
@never_cache
def consent_form(request, pathway_pk: int, guardian_pk: int):
    pathway = _pathway(request, pathway_pk)
    # A holder of parental authority of this child's household: only they give the agreement.
    guardian = get_object_or_404(
        perms.guardians_visible_to(request.user).filter(
            household=pathway.child.household_id, has_parental_authority=True
        ),
        pk=guardian_pk,
    )
    content = documents.consent_form_pdf(pathway=pathway, guardian=guardian, user=request.user)
    record_access(request, pathway, verb=VERB, document=DocumentKind.CONSENT_FORM.value, guardian=guardian.pk)
    return _attachment(content, documents.filename(DocumentKind.CONSENT_FORM, pathway, guardian))


@sensitive(VERB)
@login_required
@nominative_document
@require_GET
@never_cache
def notice_parents(request, pathway_pk: int):
    return _simple(request, pathway_pk, DocumentKind.PARENT_NOTICE, documents.parent_notice_pdf)


@sensitive(VERB)
@login_required
@nominative_document
@require_GET
@never_cache
def notice_child(request, pathway_pk: int):
    return _simple(request, pathway_pk, DocumentKind.CHILD_NOTICE, documents.child_notice_pdf)


@sensitive(VERB)
@login_required
@nominative_document
@require_GET
@never_cache
def plan_summary(request, pathway_pk: int):
    return _simple(request, pathway_pk, DocumentKind.PLAN_SUMMARY, documents.plan_summary_pdf)


def _simple(request, pathway_pk: int, kind: DocumentKind, render) -> HttpResponse:
    pathway = _pathway(request, pathway_pk)
    content = render(pathway=pathway, user=request.user)
    record_access(request, pathway, verb=VERB, document=kind.value)
    return _attachment(content, documents.filename(kind, pathway))


def _attachment(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
