"""Template filters of the steering pages and of the comité PDF: the French number formatter."""

from django import template

from maillage.steering import formatting

register = template.Library()


@register.filter
def fr_number(value, decimals=None):
    """``{{ value|fr_number }}``, ``{{ value|fr_number:1 }}``."""
    return formatting.number(value, None if decimals in (None, "") else int(decimals))


@register.filter
def fr_money(value):
    return formatting.money(value)
