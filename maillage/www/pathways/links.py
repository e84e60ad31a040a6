"""Links from the pathway page to the pages of other areas (follow-up forms, documents).

Those pages are built separately: a link whose URL does not exist (yet) is simply not offered,
instead of breaking the pathway page. The caller decides *whether* to offer a link (abilities);
this module only says *where* it goes.
"""

from django.urls import NoReverseMatch, reverse


def optional_url(name: str, *args) -> str:
    """The URL of ``name`` with ``args``, or ``""`` when no such URL is installed."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def pathway_links(pathway, *, edit: bool, write_items: bool, manage_consents: bool, identity: bool) -> dict:
    """URLs of the actions offered on the pathway page, empty when not allowed or not installed."""
    pk = pathway.pk
    is_open = pathway.is_open

    def offer(allowed: bool, name: str, *args) -> str:
        return optional_url(name, pk, *args) if allowed else ""

    # Documents name the family: for those who may act on the pathway and see the child's identity.
    documents = (edit or manage_consents) and identity
    return {
        "consent_add": offer(manage_consents, "followup:consent_add"),
        "objective_add": offer(edit and is_open, "followup:objective_add"),
        "action_add": offer(edit and is_open, "followup:action_add"),
        "contact_add": offer(write_items, "followup:contact_add"),
        "note_add": offer(write_items, "followup:note_add"),
        "review_add": offer(write_items, "followup:review_add"),
        "plan_summary": offer(documents, "documents:plan_summary"),
        "notice_parents": offer(documents, "documents:notice_parents"),
        "notice_child": offer(documents, "documents:notice_child"),
        "documents": documents,
    }


def item_link(allowed: bool, name: str, *args) -> str:
    """The URL of a per-item action (withdraw a consent, edit a dimension…), or ``""``."""
    return optional_url(name, *args) if allowed else ""
