"""Paid amounts now come only from payments (Versement): each line's amount typed before the
payment schedule existed becomes one paid instalment, "reprise de l'existant", dated 31
December of the line's year, so that every line's montant_verse is the sum of its payments."""

from datetime import date

from django.db import migrations


def forwards(apps, schema_editor):
    Financement = apps.get_model("cvu", "Financement")
    Versement = apps.get_model("cvu", "Versement")
    Versement.objects.bulk_create(
        [
            Versement(
                financement_id=line.pk,
                nature="reprise",
                condition="autre",
                montant=line.montant_verse,
                date_versement=date(line.annee, 12, 31),
                numero_mandat="reprise",
            )
            for line in Financement.objects.filter(montant_verse__gt=0).only(
                "pk", "annee", "montant_verse"
            )
        ],
        batch_size=1000,
    )


def backwards(apps, schema_editor):
    apps.get_model("cvu", "Versement").objects.filter(nature="reprise").delete()


class Migration(migrations.Migration):
    dependencies = [("cvu", "0006_porteurs")]

    operations = [migrations.RunPython(forwards, backwards)]
