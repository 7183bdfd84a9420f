"""A bilan per action and exercice: a multi-year convention (CPO) owes the compte-rendu
financier (Cerfa 15059) within six months of the end of each exercice, not once at its end.
Each existing bilan goes to the exercice it covers: the year before it was received, within
the action's years (an annual action's only bilan covers its year)."""

import django.db.models.deletion
from django.db import migrations, models

import quartiers.models


def set_exercice(apps, schema_editor):
    Bilan = apps.get_model("cvu", "Bilan")
    for bilan in Bilan.objects.select_related("action").only(
        "recu_le", "action__annee", "action__annee_fin"
    ):
        action = bilan.action
        last = action.annee_fin or action.annee
        bilan.exercice = max(action.annee, min(last, bilan.recu_le.year - 1))
        bilan.save(update_fields=["exercice"])
    HistoricalBilan = apps.get_model("cvu", "HistoricalBilan")
    exercices = dict(Bilan.objects.values_list("pk", "exercice"))
    for pk, exercice in exercices.items():
        HistoricalBilan.objects.filter(id=pk).update(exercice=exercice)


class Migration(migrations.Migration):
    dependencies = [("cvu", "0008_modeles_convention")]

    operations = [
        migrations.AddField(
            model_name="bilan",
            name="exercice",
            field=models.PositiveSmallIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="historicalbilan",
            name="exercice",
            field=models.PositiveSmallIntegerField(null=True),
        ),
        migrations.RunPython(set_exercice, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="bilan",
            name="exercice",
            field=models.PositiveSmallIntegerField(
                help_text="L'année dont le bilan rend compte.",
                validators=quartiers.models.year_validators,
                verbose_name="exercice",
            ),
        ),
        migrations.AlterField(
            model_name="historicalbilan",
            name="exercice",
            field=models.PositiveSmallIntegerField(
                help_text="L'année dont le bilan rend compte.",
                validators=quartiers.models.year_validators,
                verbose_name="exercice",
            ),
        ),
        migrations.AlterField(
            model_name="bilan",
            name="action",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="bilans",
                to="cvu.action",
                verbose_name="dossier",
            ),
        ),
        migrations.AlterModelOptions(
            name="bilan",
            options={
                "ordering": ["exercice"],
                "verbose_name": "bilan",
                "verbose_name_plural": "bilans",
            },
        ),
        migrations.AddConstraint(
            model_name="bilan",
            constraint=models.UniqueConstraint(
                fields=("action", "exercice"),
                name="cvu_bilan_one_per_exercice",
                violation_error_message="Ce dossier a déjà un bilan pour cet exercice.",
            ),
        ),
    ]
