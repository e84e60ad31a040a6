from django.db import migrations, models

class Migration(migrations.Migration):
    """One hash chain per programme: entries get their chain and sequence number (``0004`` re-chains
    the existing entries, ``0005`` replaces the single head by one sealed head per chain)."""

    dependencies = [("audit", "0002_create_chain_head")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="chain",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="sequence",
            field=models.BigIntegerField(default=0, editable=False),
        ),
    ]
