"""Template helpers for the account pages: DSFR fields and the password rules."""

from django import template
from django.contrib.auth import password_validation
from django.forms import BoundField

register = template.Library()


@register.simple_tag
def password_rules() -> list[str]:
    """The rules of the configured password validators, in the active language."""
    return password_validation.password_validators_help_texts()


@register.filter
def shows_password_rules(field: BoundField) -> bool:
    """Whether a field sets a new password (its form marked it with ``data-password-rules``)."""
    return bool(field.field.widget.attrs.get("data-password-rules"))


@register.filter
def input_kind(field: BoundField) -> str:
    """How the DSFR draws a field: checkbox, select, textarea, password or input."""
    widget = field.field.widget
    kind = getattr(widget, "input_type", "")
    if kind in {"checkbox", "password", "select", "radio"}:
        return kind
    if widget.__class__.__name__ == "Textarea":
        return "textarea"
    if widget.__class__.__name__ in {"Select", "SelectMultiple"}:
        return "select"
    return "input"


@register.filter
def describedby(field: BoundField, suffix: str) -> str:
    """The ids describing a control: its hint (as Django names it) and the given message block."""
    ids = [f"{field.auto_id}_helptext"] if field.help_text else []
    return " ".join([*ids, f"{field.auto_id}{suffix}"])
