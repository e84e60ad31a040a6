from django.db import migrations


def create_chain_head(apps, schema_editor):
    # The head row exists from the start, so that the first entry costs no more queries than the next.
    ChainHead = apps.get_model("audit", "ChainHead")
    ChainHead.objects.get_or_create(id=1)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create_chain_head, migrations.RunPython.noop)]
