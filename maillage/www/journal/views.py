"""The access journal: search (DPO and coordinator), "who consulted this file", break-glass.

The journal is read here, never written to except to journal these pages themselves: reading the
journal is an access too (``journal.searched``, ``journal.consultations_viewed`` and
``..._exported``). Entries come through ``maillage.audit.queries`` (the programmes whose journal
the user reads, ``perms.can_read_journal``); targets are shown by case code, never by a child's
name; the family's report shows organisations and roles, never a staff name.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from maillage import permissions as perms
from maillage.accounts.stepup import nominative_document, recent_auth_required
from maillage.audit import queries
from maillage.audit.access import record_access, sensitive
from maillage.audit.models import AuditEvent
from maillage.audit.services import record
from maillage.pathways import break_glass as glass
from maillage.pathways.documents import lead_body, render_pdf
from maillage.pathways.models import Pathway
from maillage.pathways.services import JourneyError
from maillage.people.models import Child
from maillage.programmes.models import Membership
from maillage.www.context import current_membership
from maillage.www.journal.forms import BreakGlassForm, BreakGlassSearchForm, JournalSearchForm

PAGE_SIZE = 50
SEARCHED = "journal.searched"
CONSULTATIONS_VIEWED = "journal.consultations_viewed"
CONSULTATIONS_EXPORTED = "journal.consultations_exported"
BREAK_GLASS_SEARCHED = "break_glass.searched"


def _journal_memberships(request) -> list[Membership]:
    """The memberships through which the user reads a journal (none: a 404, like any hidden page)."""
    memberships = list(
        perms.nominative_memberships(request.user)
        .filter(role__in=perms.JOURNAL_ROLES)
        .select_related("programme")
        .order_by("starts_on", "pk")
    )
    if not memberships:
        raise Http404
    return memberships


def _acting(request, memberships: list[Membership]) -> Membership:
    """The current membership when it reads a journal, else the oldest one that does."""
    current = current_membership(request)
    return next((m for m in memberships if current and m.pk == current.pk), memberships[0])


# --- search ----------------------------------------------------------------------------------------


@sensitive(SEARCHED)
@login_required
@require_safe
def search(request):
    user = request.user
    memberships = _journal_memberships(request)
    form = JournalSearchForm(request.GET or None)
    filters: dict = {}
    children = None
    matched: list[Child] = []
    if form.is_valid():
        data = form.cleaned_data
        if data["child"]:
            children = queries.children_matching(user, data["child"])
            matched = list(children.only("pk", "programme_id").order_by("pk")[:21])
        filters = {
            "email": data["email"],
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "verb": data["verb"],
        }
        events = queries.search_events(user, children=children, **filters)
    elif form.is_bound:
        events = AuditEvent.objects.none()
    else:
        events = queries.search_events(user)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = queries.rows_for(user, page.object_list)

    payload = {
        "filters": {key: value for key, value in filters.items() if value},
        "children": [child.pk for child in matched[:20]],
        "results": page.paginator.count,
        "page": page.number,
    }
    if len(matched) == 1:
        # The search names one child: the entry points at that child, like any page about them.
        record_access(request, matched[0], verb=SEARCHED, identity=False, **payload)
    else:
        record(
            verb=SEARCHED,
            actor=user,
            target_type="audit.auditevent",
            membership=_acting(request, memberships),
            payload={"identity": False, **payload},
            request=request,
        )
    context = {
        "form": form,
        "filtered": form.filtered,
        "page_obj": page,
        "rows": rows,
        "child_searched": bool(form.is_valid() and form.cleaned_data["child"]),
        "matched_count": len(matched),
        "programmes": [m.programme for m in memberships],
    }
    return render(request, "journal/search.html", context)


# --- who consulted this file -----------------------------------------------------------------------


def _subject(user, child: Child) -> dict:
    """How the report names the child: by name if the user may see it, else by case code."""
    pathways = list(
        queries.journal_pathways(user)
        .filter(child=child)
        .order_by("-opened_on", "-pk")
        .select_related("programme")
    )
    identity = perms.children_visible_to(user).filter(pk=child.pk).exists()
    codes = [p.case_code for p in pathways]
    if identity:
        label = f"{child.first_name} {child.last_name.upper()}"
    elif codes:
        label = _("Situation %(codes)s") % {"codes": ", ".join(codes)}
    else:
        label = _("Enfant n° %(id)s") % {"id": child.pk}
    return {
        "label": label,
        "identity": identity,
        "codes": codes,
        "pathway": pathways[0] if pathways else None,
    }


def _consultations_page(request, child: Child, *, via_pathway: Pathway | None = None):
    user = request.user
    subject = _subject(user, child)
    events = queries.consultation_events(user, child)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = queries.rows_for(user, page.object_list, with_accounts=False)
    record_access(
        request,
        child,
        verb=CONSULTATIONS_VIEWED,
        identity=subject["identity"],
        pathway=via_pathway.pk if via_pathway else None,
        page=page.number,
    )
    context = {
        "child": child,
        "subject": subject,
        "programme": child.programme,
        "page_obj": page,
        "rows": rows,
    }
    return render(request, "journal/consultations.html", context)


@sensitive(CONSULTATIONS_VIEWED)
@login_required
@require_safe
def consultations(request, pk: int):
    _journal_memberships(request)
    child = get_object_or_404(queries.journal_children(request.user).select_related("programme"), pk=pk)
    return _consultations_page(request, child)


@sensitive(CONSULTATIONS_VIEWED)
@login_required
@require_safe
def pathway_consultations(request, pk: int):
    _journal_memberships(request)
    pathway = get_object_or_404(
        queries.journal_pathways(request.user).select_related("child", "child__programme"), pk=pk
    )
    return _consultations_page(request, pathway.child, via_pathway=pathway)


@sensitive(CONSULTATIONS_EXPORTED)
@login_required
@nominative_document
@require_safe
@never_cache
def consultations_pdf(request, pk: int):
    """The same report as a PDF, to hand to the family who asked for it."""
    _journal_memberships(request)
    user = request.user
    child = get_object_or_404(queries.journal_children(user).select_related("programme"), pk=pk)
    subject = _subject(user, child)
    rows = queries.rows_for(user, queries.consultation_events(user, child), with_accounts=False)
    programme = child.programme
    today = timezone.localdate()
    content = render_pdf(
        "journal/consultations_pdf.html",
        {
            "title": _("Liste des consultations du dossier"),
            "kind": "consultations",
            "programme": programme,
            "lead_body": lead_body(programme),
            "pathway": subject["pathway"],
            "subject": subject,
            "rows": rows,
            "today": today,
            "months": programme.log_retention_months,
        },
    )
    record_access(request, child, verb=CONSULTATIONS_EXPORTED, identity=subject["identity"], rows=len(rows))
    stem = subject["codes"][0] if subject["codes"] else f"enfant-{child.pk}"
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{stem}_consultations_{today:%Y-%m-%d}.pdf"
    )
    return response


# --- break-glass -----------------------------------------------------------------------------------


@sensitive(BREAK_GLASS_SEARCHED)
@login_required
@recent_auth_required
@require_http_methods(["GET", "POST"])
def break_glass(request):
    user = request.user
    if not perms.nominative_memberships(user).filter(role__in=glass.BREAK_GLASS_ROLES).exists():
        raise Http404
    openable = glass.pathways_openable_by(user).select_related("programme")
    search_form = BreakGlassSearchForm(request.GET or None)
    code = ""
    if request.method == "POST":
        code = request.POST.get("code", "").strip()
    elif search_form.is_valid():
        code = search_form.cleaned_data["code"].strip()
    if len(code) > BreakGlassForm.base_fields["code"].max_length or "\x00" in code:
        code = ""  # no case code is that long nor holds NUL (SQLite, PostgreSQL refuse them: HTTP 500)
    pathway = openable.filter(case_code__iexact=code).first() if code else None

    form = None
    if pathway is not None:
        form = BreakGlassForm(request.POST or None, initial={"code": pathway.case_code})
        if request.method == "POST" and form.is_valid():
            try:
                glass.break_glass_open(
                    pathway=pathway, by=user, reason=form.cleaned_data["reason"], request=request
                )
            except JourneyError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request,
                    _(
                        "Accès exceptionnel ouvert pour une heure au dossier %(code)s, en lecture seule. "
                        "Le ou la délégué·e à la protection des données en est informé·e."
                    )
                    % {"code": pathway.case_code},
                )
                return redirect("pathways:detail", pk=pathway.pk)
        record_access(request, pathway, verb=BREAK_GLASS_SEARCHED, identity=False)
    elif request.method == "POST":
        raise Http404

    context = {
        "search_form": search_form,
        "form": form,
        "code": code,
        "pathway": pathway,
        "already_visible": pathway is not None
        and perms.pathways_visible_to(user).filter(pk=pathway.pk).exists(),
        "grant": glass.current_grant(user, pathway) if pathway is not None else None,
    }
    return render(request, "journal/break_glass.html", context)
