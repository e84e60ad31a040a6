"""Documents for families, rendered to PDF with WeasyPrint: the written agreement to print and sign,
the information notices (parents, and an easy-read one for the child) and the plan summary.

Each ``*_pdf`` function takes the pathway and the ``user`` who asks for it, fetches the plan,
partners, consents and contacts it shows through the scopes of ``maillage.permissions`` and returns
the PDF's bytes. The caller (a view) has already checked that the user may generate documents for
this pathway *and sees the child's identity* (``perms.identity_visible``): the documents name the
child. It also journals the generation. The plan summary shows the plan only: never the
diagnosis, notes, contacts, bilans or any other written item.

Rendering never touches the network: the only resources a template may load are the project's
static files (fonts), read from disk by ``StaticFilesFetcher``.
"""

import mimetypes
from enum import StrEnum
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from maillage import permissions as perms
from maillage.pathways.enums import Dimension
from maillage.pathways.models import Objective, Pathway, PlanAction
from maillage.pathways.plan_text import redact_plan
from maillage.people.models import Guardian
from maillage.programmes.enums import Role
from maillage.programmes.models import Membership, Organisation, Programme

# Templates resolve relative URLs (``url(fonts/…)``) against this base; the fetcher maps it to
# the static files on disk. Nothing else can be fetched.
BASE_URL = "file:///maillage-static/"


class DocumentKind(StrEnum):
    CONSENT_FORM = "consent_form"
    PARENT_NOTICE = "notice_parents"
    CHILD_NOTICE = "notice_child"
    PLAN_SUMMARY = "plan_summary"


# Slugs of the downloaded files, after the case code (never a name: files travel by email, USB keys…).
FILE_SLUGS = {
    DocumentKind.CONSENT_FORM: "accord-ecrit",
    DocumentKind.PARENT_NOTICE: "notice-information-parents",
    DocumentKind.CHILD_NOTICE: "notice-enfant-facile-a-lire",
    DocumentKind.PLAN_SUMMARY: "plan-accompagnement",
}


class StaticFilesFetcher(URLFetcher):
    """Serve ``BASE_URL``-relative URLs from the static files (found like ``collectstatic`` would).

    Any other URL — http(s), data, another file path, a path climbing out with ``..`` — is refused:
    a PDF is rendered on the server, it must not read arbitrary files nor call anything.
    """

    def __init__(self):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        base = urlsplit(BASE_URL)
        if parts.scheme != "file" or parts.netloc or not parts.path.startswith(base.path):
            raise ValueError(f"Resource refused in a PDF: {url}")
        relative = PurePosixPath(unquote(parts.path.removeprefix(base.path)))
        if relative.is_absolute() or ".." in relative.parts:
            raise ValueError(f"Resource refused in a PDF: {url}")
        found = finders.find(str(relative))
        if not found:
            raise ValueError(f"Static file not found: {relative}")
        path = Path(found if isinstance(found, str) else found[0])
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})


def render_pdf(template_name: str, context: dict) -> bytes:
    """Render a template of ``templates/pdf/`` to a tagged A4 PDF."""
    html = render_to_string(template_name, context)
    return HTML(string=html, base_url=BASE_URL, url_fetcher=StaticFilesFetcher()).write_pdf(pdf_tags=True)


def filename(kind: DocumentKind, pathway: Pathway, guardian: Guardian | None = None) -> str:
    """``DEMO-2026-0142_accord-ecrit_37.pdf``: the case code, the kind, the holder's id for a consent."""
    parts = [pathway.case_code, FILE_SLUGS[kind]]
    if guardian is not None:
        parts.append(str(guardian.pk))
    return "_".join(parts) + ".pdf"


# --- what every document shows -------------------------------------------------------------------


def lead_body(programme: Programme) -> str:
    """The structure porteuse as a family reads it: its name, or else its kind (« CCAS »)."""
    return programme.lead_body_name or programme.get_lead_body_type_display()


def _coordinators(user, programme: Programme) -> list[Membership]:
    """The programme's coordination, from the partner directory (names and professional addresses)."""
    return list(
        perms.memberships_visible_to(user)
        .filter(programme=programme, role=Role.COORDINATOR)
        .active()
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    )


def _common_context(user, pathway: Pathway, *, title: str, kind: DocumentKind) -> dict:
    programme = pathway.programme
    dpo_email = getattr(settings, "MAILLAGE_DPO_EMAIL", "") or ""
    return {
        "title": title,
        "kind": kind.value,
        "programme": programme,
        "lead_body": lead_body(programme),
        "pathway": pathway,
        "child": pathway.child,
        "referent": pathway.referent,
        "coordinators": _coordinators(user, programme),
        "dpo_email": dpo_email,
        "placeholder": _("[à compléter]"),
        "today": timezone.localdate(),
    }


# --- the four documents --------------------------------------------------------------------------


def consent_form_pdf(*, pathway: Pathway, guardian: Guardian, user) -> bytes:
    """« Accord écrit pour l'accompagnement de votre enfant », for one holder of parental authority.

    One box per scope: the accompaniment itself, sharing with each partner of the programme by
    name, the image right and the evaluation use; then the rights and the signature lines.
    """
    partners = (
        perms.organisations_visible_to(user)
        .filter(programme=pathway.programme_id, is_active=True)
        .order_by("name")
    )
    context = _common_context(
        user,
        pathway,
        title=_("Accord écrit pour l'accompagnement de votre enfant"),
        kind=DocumentKind.CONSENT_FORM,
    )
    context.update(guardian=guardian, partners=list(partners))
    return render_pdf("pdf/consent_form.html", context)


def _consented_partners(user, pathway: Pathway) -> list[Organisation]:
    """Partners named in the written agreements in force on this pathway (for the notice)."""
    consents = perms.consents_visible_to(user).filter(pathway=pathway).valid()
    return list(Organisation.objects.filter(consents__in=consents).distinct().order_by("name"))


def parent_notice_pdf(*, pathway: Pathway, user) -> bytes:
    """« Notice d'information » for the parents: controller, purposes, legal basis, recipients,
    retention, rights and whom to contact."""
    context = _common_context(
        user, pathway, title=_("Notice d'information aux parents"), kind=DocumentKind.PARENT_NOTICE
    )
    context["consented_partners"] = _consented_partners(user, pathway)
    return render_pdf("pdf/notice_parents.html", context)


def child_notice_pdf(*, pathway: Pathway, user) -> bytes:
    """The notice for the child, in easy-read French: short sentences, one idea per line."""
    context = _common_context(
        user, pathway, title=_("Le programme de réussite éducative et toi"), kind=DocumentKind.CHILD_NOTICE
    )
    return render_pdf("pdf/notice_child.html", context)


def plan_objectives(user, pathway: Pathway) -> tuple[list[dict], list[PlanAction]]:
    """The plan by dimension, and the actions tied to no objective.

    Groups are ``{"dimension": label, "objectives": [...]}``, each objective carrying its
    ``plan_actions``.

    Only ``Objective`` and ``PlanAction`` rows, through the plan scope: nothing written
    (diagnosis, notes, contacts, bilans) can reach the family's summary from here.
    """
    objectives = list(
        perms.plan_visible_to(user, Objective).filter(pathway=pathway).order_by("target_date", "pk")
    )
    actions = list(
        perms.plan_visible_to(user, PlanAction)
        .filter(pathway=pathway)
        .select_related("provider")
        .order_by("starts_on", "pk")
    )
    # Each row's text only within its circle; hidden objectives are grouped apart, their
    # dimension untold.
    redact_plan(user, [*objectives, *actions])
    by_objective: dict[int | None, list[PlanAction]] = {}
    for action in actions:
        by_objective.setdefault(action.objective_id, []).append(action)
    for objective in objectives:
        objective.plan_actions = by_objective.get(objective.pk, [])
    groups = []
    for dimension in Dimension:
        rows = [o for o in objectives if o.dimension == dimension and not o.text_hidden]
        if rows:
            groups.append({"dimension": dimension.label, "objectives": rows})
    hidden = [o for o in objectives if o.text_hidden]
    if hidden:
        groups.append({"dimension": _("Objectifs au contenu réservé"), "objectives": hidden})
    known = {o.pk for o in objectives}
    other_actions = [a for a in actions if a.objective_id not in known]
    return groups, other_actions


def plan_summary_pdf(*, pathway: Pathway, user) -> bytes:
    """The plan for the family: objectives by dimension (status, target date), actions (who, when,
    how often), the référent, the programme's contact and the next review."""
    context = _common_context(
        user, pathway, title=_("Plan d'accompagnement de votre enfant"), kind=DocumentKind.PLAN_SUMMARY
    )
    groups, other_actions = plan_objectives(user, pathway)
    context.update(groups=groups, other_actions=other_actions)
    return render_pdf("pdf/plan_summary.html", context)
