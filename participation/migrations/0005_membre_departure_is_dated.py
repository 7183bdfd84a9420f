from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("participation", "0004_fix_departure_date_and_import_previews"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='membre',
            constraint=models.CheckConstraint(condition=models.Q(('statut', 'actif'), ('mandat_fin__isnull', False), _connector='OR'), name='participation_membre_departure_is_dated', violation_error_message='Indiquez la date de fin du mandat (date du départ).'),
        ),
    ]
