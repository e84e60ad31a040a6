import re
import unicodedata

from django.db import migrations

# A frozen copy of maillage.core.text.normalise_name: migrations never import application code.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—'’`´.,_/]+")


def _normalise(value):
    if not value:
        return ""
    value = unicodedata.normalize("NFKD", value.casefold())
    value = "".join(c for c in value if not unicodedata.combining(c)).replace("œ", "oe").replace("æ", "ae")
    return _SEPARATORS.sub(" ", value).strip()


def fill(apps, schema_editor):
    Organisation = apps.get_model("programmes", "Organisation")
    for organisation in Organisation.objects.only("pk", "name").iterator():
        organisation.name_normalised = _normalise(organisation.name)
        organisation.save(update_fields=["name_normalised"])


class Migration(migrations.Migration):
    dependencies = [("programmes", "0002_organisation_name_normalised")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
