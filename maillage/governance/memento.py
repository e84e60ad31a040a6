"""The *mémento de la réussite éducative*: written pages (Markdown, sanitised) and generated sections,
as web pages and as a PDF booklet with a table of contents.

Markdown is rendered with ``markdown`` then cleaned with ``nh3`` against an allow-list: raw HTML in a
page's source never reaches a reader (tags outside the list are removed, their text escaped).
"""

from dataclasses import dataclass, field

import markdown
import nh3
from django.apps import apps
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from maillage.governance.enums import BodyKind
from maillage.governance.models import Body, MementoPage, MissionSheet
from maillage.programmes.models import CharterVersion, Membership, Organisation, Programme

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "ul", "ol", "li",
    "blockquote", "code", "pre", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}, "td": set()}


def render_markdown(source: str) -> str:
    """Markdown → HTML, sanitised: no raw HTML, no script, only http(s)/mailto/relative links."""
    html = markdown.markdown(source or "", extensions=["tables", "sane_lists"], output_format="html")
    return mark_safe(  # noqa: S308 -- cleaned by nh3 against the allow-list above  # nosec B308 B703
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer",
        )
    )


@dataclass
class Section:
    slug: str
    title: str
    html: str = ""
    generated: bool = False
    template: str = ""
    context: dict = field(default_factory=dict)


GENERATED = [
    ("annuaire", "Annuaire des partenaires"),
    ("instances", "Instances et leurs membres"),
    ("charte", "Charte de confidentialité"),
    ("fiches-missions", "Fiches missions"),
    ("eligibilite", "Règles d'éligibilité"),
    ("actions", "Catalogue des actions"),
]


def offers_of(programme: Programme):
    """The programme's active actions from the catalogue, when the offers app defines ``Offer``."""
    try:
        offer = apps.get_model("offers", "Offer")
    except LookupError:
        return None
    return list(
        offer.objects.filter(programme=programme, is_active=True).select_related("provider").order_by("title")
    )


def generated_context(programme: Programme) -> dict:
    charter = CharterVersion.objects.published().filter(programme=programme).order_by("-number").first()
    organisations = list(
        Organisation.objects.filter(programme=programme, is_active=True).order_by("kind", "name_normalised")
    )
    signatories = (
        set(
            Membership.objects.active()
            .filter(programme=programme, charter_signatures__version=charter)
            .values_list("organisation_id", flat=True)
        )
        if charter
        else set()
    )
    bodies = list(
        Body.objects.filter(programme=programme)
        .prefetch_related("members__membership__user", "members__membership__organisation")
        .order_by("kind", "name")
    )
    sheets = list(MissionSheet.objects.filter(programme=programme).prefetch_related("versions"))
    return {
        "programme": programme,
        "organisations": organisations,
        "signatories": signatories,
        "bodies": bodies,
        "charter": charter,
        "charter_html": render_markdown(charter.body) if charter else "",
        "sheets": sheets,
        "offers": offers_of(programme),
        "eligibility": {
            "age_min": programme.age_min,
            "age_max": programme.age_max,
            "rule": programme.get_eligibility_rule_display()
            if hasattr(programme, "get_eligibility_rule_display")
            else "",
        },
        "eps_kind": BodyKind.EPS,
    }


def sections(programme: Programme) -> list[Section]:
    """Written pages first (by position), then the generated sections."""
    written = [
        Section(page.slug, page.title, render_markdown(page.body))
        for page in MementoPage.objects.filter(programme=programme).order_by("position", "title")
    ]
    context = generated_context(programme)
    generated = [
        Section(slug, _(title), generated=True, template=f"governance/memento/_{slug}.html", context=context)
        for slug, title in GENERATED
    ]
    for section in generated:
        section.html = render_to_string(section.template, section.context)
    return written + generated


def booklet_pdf(programme: Programme) -> bytes:
    """The memento as an A4 booklet: a cover, the table of contents (with page numbers), every section."""
    from weasyprint import HTML

    from maillage.pathways.documents import BASE_URL, StaticFilesFetcher

    html = render_to_string(
        "pdf/memento.html",
        {"programme": programme, "sections": sections(programme), "today": timezone.localdate()},
    )
    return HTML(string=html, base_url=BASE_URL, url_fetcher=StaticFilesFetcher()).write_pdf(pdf_tags=True)
