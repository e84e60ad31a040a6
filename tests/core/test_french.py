"""French elision before names, and the empty choice of selects (issue 13, point 22)."""

import pytest
from django import forms
from django.template import Context, Template

from maillage.core.french import DJANGO_EMPTY_LABEL, de_name, elides
from maillage.pathways.models import Pathway
from maillage.programmes.models import Programme


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Inès", "d'Inès"),
        ("Élodie", "d'Élodie"),
        ("Océane", "d'Océane"),
        ("Anaïs", "d'Anaïs"),
        ("Ugo", "d'Ugo"),
        ("Yves", "d'Yves"),
        ("Æsa", "d'Æsa"),
        ("Nicolas", "de Nicolas"),
        ("Yann", "de Yann"),
        ("Hélène", "de Hélène"),  # no list of h muets: h keeps « de » (documented in maillage.core.french)
        ("  inès ", "d'inès"),
        ("", "de "),
    ],
)
def test_de_name_elides_before_a_vowel_sound(name, expected):
    assert de_name(name) == expected
    assert elides(name) == expected.startswith("d'")


def test_the_elides_filter_chooses_the_sentence():
    template = Template("{% load french %}{% if name|elides %}d'{{ name }}{% else %}de {{ name }}{% endif %}")
    assert template.render(Context({"name": "Inès"})) == "d'Inès"
    assert template.render(Context({"name": "Léa"})) == "de Léa"


@pytest.mark.django_db
def test_no_select_shows_djangos_dashes_as_its_empty_choice():
    class AnyForm(forms.Form):
        programme = forms.ModelChoiceField(queryset=Programme.objects.all(), required=False)

    class AModelForm(forms.ModelForm):
        class Meta:
            model = Pathway
            fields = ["state"]

    html = str(AnyForm()) + str(AModelForm())
    assert DJANGO_EMPTY_LABEL not in html
    assert "Choisir dans la liste" in str(AnyForm())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "heading"), [("Inès", "Orientation d'Inès"), ("Nicolas", "Orientation de Nicolas")]
)
def test_the_referral_page_elides_before_the_childs_name(client, login_as, first, heading):
    from django.urls import reverse

    from maillage.programmes.enums import Role
    from tests.factories import programme_with_lists
    from tests.www.referrals.helpers import make_referral

    programme = programme_with_lists()
    referral = make_referral(programme, child_first_name=first)
    login_as(Role.COORDINATOR, programme=programme)
    body = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert heading in body.replace("&#x27;", "'")
