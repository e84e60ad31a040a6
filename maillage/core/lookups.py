"""Two guards against HTTP 500 on forged input (found by ``tests/security/test_form_fuzzing.py``).

``__in`` on integer fields ignores values no database integer can hold (instead of crashing).

Django answers ``filter(pk=10**30)`` with no row, but ``filter(pk__in=[10**30])`` raises
``OverflowError`` on SQLite ("Python int too large to convert to SQLite INTEGER"): any form with a
``ModelMultipleChoiceField`` turned a forged submission into an HTTP 500 (found by
``tests/security/test_form_fuzzing.py``). Such a value matches no row anyway, so it is dropped from
the list, as Django does for ``exact``; an empty list then matches nothing, as ``__in=[]`` does.
"""

from django.db.models import IntegerField
from django.db.models.lookups import In


class IntegerFieldIn(In):
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(self.lhs.output_field.get_internal_type())
            self.rhs = [
                value
                for value in self.rhs
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
        return super().process_rhs(compiler, connection)


def register() -> None:
    IntegerField.register_lookup(IntegerFieldIn)


def guard_json_form_field() -> None:
    """``forms.JSONField`` refuses a number too long to convert instead of failing with HTTP 500.

    Django turns ``json.JSONDecodeError`` into "invalid JSON" but not the ``ValueError`` Python raises
    for an integer of more than 4,300 digits: a forged passkey sign-in (allauth's WebAuthn form) was a
    server error (found by the form fuzzer, on PostgreSQL).
    """
    from django import forms
    from django.core.exceptions import ValidationError

    original = forms.JSONField.to_python
    if getattr(original, "maillage_guarded", False):
        return

    def to_python(self, value):
        try:
            return original(self, value)
        except ValueError as error:
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from error

    original_bound_data = forms.JSONField.bound_data

    def bound_data(self, data, initial):
        # Re-rendering the form with the submitted value parses it again: same guard.
        try:
            return original_bound_data(self, data, initial)
        except ValueError:
            return forms.fields.InvalidJSONInput(data)

    to_python.maillage_guarded = True
    forms.JSONField.to_python = to_python
    forms.JSONField.bound_data = bound_data
