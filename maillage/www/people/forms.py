from django import forms
from django.utils.translation import gettext_lazy as _

from maillage.www.programmes.forms import DsfrForm


class ChildSearchForm(DsfrForm):
    q = forms.CharField(
        label=_("Rechercher un enfant"),
        help_text=_("Nom ou prénom, sans se soucier des accents ni des traits d'union."),
        required=False,
        max_length=100,
    )
