from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('programmes', '0001_initial'),
        ('territories', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='organisation',
            name='name_normalised',
            field=models.CharField(default='', editable=False, max_length=200),
        ),
        migrations.AddIndex(
            model_name='organisation',
            index=models.Index(fields=['programme', 'name_normalised'], name='organisation_programme_name'),
        ),
    ]
