"""``__in`` with integers no database can hold matches nothing instead of crashing (HTTP 500)."""

import pytest
from django import forms
from hypothesis import given
from hypothesis import strategies as st

from maillage.programmes.models import Organisation
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

HUGE = [10**30, -(10**30), 2**63, -(2**63) - 1]


def test_an_in_lookup_ignores_integers_out_of_the_database_range():
    organisation = OrganisationFactory()

    assert list(Organisation.objects.filter(pk__in=HUGE)) == []
    assert list(Organisation.objects.filter(pk__in=[*HUGE, organisation.pk])) == [organisation]
    assert list(Organisation.objects.filter(pk__in=[str(10**30), str(organisation.pk)])) == [organisation]
    assert list(Organisation.objects.exclude(pk__in=HUGE)) == [organisation]


def test_a_forged_huge_choice_in_a_multiple_choice_field_is_an_invalid_choice_not_a_crash():
    organisation = OrganisationFactory()

    class Choose(forms.Form):
        organisations = forms.ModelMultipleChoiceField(queryset=Organisation.objects.all())

    form = Choose({"organisations": [str(organisation.pk), "99999999999999999999999999"]})

    assert not form.is_valid()
    assert "organisations" in form.errors


@given(st.lists(st.integers(), max_size=5))
def test_any_integers_can_be_looked_up(values):
    assert list(Organisation.objects.filter(pk__in=values).filter(pk__lt=0)) == []


def test_a_json_form_field_refuses_a_number_too_long_to_convert():
    field = forms.JSONField()

    with pytest.raises(forms.ValidationError):
        field.clean("9" * 20_000)
    assert field.clean('{"a": 1}') == {"a": 1}
