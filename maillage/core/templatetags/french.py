"""``{% load french %}``: ``{% if name|elides %}…d'{{ name }}…{% else %}…de {{ name }}…{% endif %}``."""

from django import template

from maillage.core import french

register = template.Library()


@register.filter
def elides(name) -> bool:
    return french.elides(name)


@register.filter
def de_name(name) -> str:
    return french.de_name(name)
