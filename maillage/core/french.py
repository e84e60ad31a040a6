"""French typography the interface needs everywhere: elision before a name, the empty choice of a select.

Elision: « de » becomes « d' » before a word starting with a vowel sound (« Orientation d'Inès »,
« Orientation de Nicolas »). Names starting with a vowel or a ``y`` followed by a consonant elide; a
name starting with ``h`` keeps « de »: whether its h is muet (« d'Hélène ») or aspiré (« de Hugo »)
depends on the name and on usage, and « de Hélène » reads better than a wrong « d'Hugues » — there is
deliberately no list of h muets. Templates choose between two translatable sentences with the
``elides`` filter (``{% load french %}``), Python code with ``elides()`` or ``de_name()``.

Empty choice: Django shows « --------- » as the empty option of a select (``ModelChoiceField`` and
model fields with choices). ``install_empty_choice_label()``, run when the core app is ready, replaces
it by ``EMPTY_CHOICE_LABEL`` wherever a form does not set its own ``empty_label``.
"""

import unicodedata

from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy

DJANGO_EMPTY_LABEL = "---------"
EMPTY_CHOICE_LABEL = gettext_lazy("Choisir dans la liste")
_VOWELS = frozenset("aeiouæœ")


def elides(name) -> bool:
    """True when « de » before ``name`` becomes « d' » (``Inès``, ``Élodie``, ``Yves``; not ``Yann``)."""
    word = str(name or "").strip()
    if not word:
        return False
    letters = unicodedata.normalize("NFKD", word.casefold())
    letters = "".join(c for c in letters if not unicodedata.combining(c))
    first = letters[0]
    if first in _VOWELS:
        return True
    # « Y » sounds like a vowel before a consonant (Yves, Ysé), like a consonant before a vowel (Yann).
    return first == "y" and len(letters) > 1 and letters[1] not in _VOWELS and letters[1].isalpha()


def de_name(name) -> str:
    """« de Nicolas », « d'Inès »: the preposition « de » and ``name``, elided when French elides it."""
    name = str(name or "").strip()
    return f"d'{name}" if elides(name) else f"de {name}"


def _empty_label() -> str:
    return gettext(EMPTY_CHOICE_LABEL)


def install_empty_choice_label() -> None:
    """Give every select of every form a French empty choice instead of Django's « --------- »."""
    from django.db.models import fields
    from django.forms import models as form_models

    label = lazy(_empty_label, str)()
    # Model fields with choices share this list (``Field.get_choices(blank_choice=BLANK_CHOICE_DASH)``).
    fields.BLANK_CHOICE_DASH[:] = [("", label)]
    original = form_models.ModelChoiceField.__init__
    if getattr(original, "_french_empty_label", False):
        return

    def __init__(self, queryset, *, empty_label=DJANGO_EMPTY_LABEL, **kwargs):
        if empty_label == DJANGO_EMPTY_LABEL:
            empty_label = label
        original(self, queryset, empty_label=empty_label, **kwargs)

    __init__._french_empty_label = True
    form_models.ModelChoiceField.__init__ = __init__
