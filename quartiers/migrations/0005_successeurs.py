"""QPV succession becomes many-to-many: a 2015 QPV may be split into several 2024 QPVs and several
may merge into one. Each existing successor is kept."""

from django.db import migrations, models


def copy_successor(apps, schema_editor):
    Qpv = apps.get_model("quartiers", "Qpv")
    for qpv in Qpv.objects.exclude(successeur=None):
        qpv.successeurs.add(qpv.successeur_id)


def copy_back(apps, schema_editor):
    Qpv = apps.get_model("quartiers", "Qpv")
    for qpv in Qpv.objects.prefetch_related("successeurs"):
        first = next(iter(qpv.successeurs.all()), None)
        if first is not None:
            qpv.successeur = first
            qpv.save(update_fields=["successeur"])


class Migration(migrations.Migration):
    dependencies = [("quartiers", "0004_qpv_code_2024_letter")]

    operations = [
        migrations.AlterField(  # frees the reverse name for the new field
            model_name="qpv",
            name="successeur",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=models.SET_NULL,
                related_name="+",
                to="quartiers.qpv",
            ),
        ),
        migrations.AddField(
            model_name="qpv",
            name="successeurs",
            field=models.ManyToManyField(
                blank=True,
                help_text="Pour un QPV 2015 : le ou les QPV de la géographie 2024 qui lui "
                "succèdent (un quartier peut se scinder, plusieurs peuvent fusionner).",
                related_name="predecesseurs",
                to="quartiers.qpv",
                verbose_name="QPV successeurs",
            ),
        ),
        migrations.RunPython(copy_successor, copy_back),
        migrations.RemoveField(model_name="qpv", name="successeur"),
    ]
