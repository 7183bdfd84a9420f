"""Each funder notifies its own grant: the letter's default names the funder and its amount
($financeur, $montant_notifie) instead of one total "réparti entre les financeurs", and a
financing line records the funder's formal act (type, number, date). Calls still using the
former default letter get the new one; edited letters are left as their authors wrote them."""

from django.db import migrations, models

import cvu.models.aap

FORMER_LETTER = (
    "Madame, Monsieur,\n\n"
    "Dans le cadre de l'$appel, le comité des financeurs a examiné la demande de subvention "
    "présentée par $porteur pour l'action « $action » (dossier Dauphin n° $numero_dauphin, "
    "exercice $exercice).\n\n"
    "J'ai le plaisir de vous informer que cette action a été retenue pour un montant total "
    "de $montant_total, réparti entre les financeurs comme indiqué ci-dessous.\n\n"
    "Le bilan de l'action (Cerfa n° 15059) est à transmettre au plus tard le "
    "$date_limite_bilan. Aucune nouvelle demande ne pourra être programmée tant que ce bilan "
    "n'aura pas été reçu.\n\n"
    "Je vous prie d'agréer, Madame, Monsieur, l'expression de mes salutations distinguées."
)


NEW_LETTER = (
    "Madame, Monsieur,\n\n"
    "Dans le cadre de l'$appel, le comité des financeurs a examiné la demande de subvention "
    "présentée par $porteur pour l'action « $action » (dossier Dauphin n° $numero_dauphin, "
    "exercice $exercice).\n\n"
    "J'ai le plaisir de vous notifier l'attribution par $financeur d'une subvention de "
    "$montant_notifie pour cette action.\n\n"
    "Le bilan de l'action (Cerfa n° 15059) est à transmettre au plus tard le "
    "$date_limite_bilan. Aucune nouvelle demande ne pourra être programmée tant que ce bilan "
    "n'aura pas été reçu.\n\n"
    "Je vous prie d'agréer, Madame, Monsieur, l'expression de mes salutations distinguées."
)


def new_default_letter(apps, schema_editor):
    AppelAProjets = apps.get_model("cvu", "AppelAProjets")
    AppelAProjets.objects.filter(courrier_notification=FORMER_LETTER).update(
        courrier_notification=NEW_LETTER
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cvu", "0010_bilan_beneficiaires"),
    ]

    operations = [
        migrations.AddField(
            model_name="financement",
            name="acte_date",
            field=models.DateField(blank=True, null=True, verbose_name="date de l'acte"),
        ),
        migrations.AddField(
            model_name="financement",
            name="acte_numero",
            field=models.CharField(blank=True, max_length=50, verbose_name="n° de l'acte"),
        ),
        migrations.AddField(
            model_name="financement",
            name="acte_type",
            field=models.CharField(
                blank=True,
                choices=[
                    ("arrete", "Arrêté"),
                    ("deliberation", "Délibération"),
                    ("commission", "Décision de la commission permanente"),
                    ("decision", "Décision"),
                ],
                max_length=15,
                verbose_name="acte d'attribution",
            ),
        ),
        migrations.AddField(
            model_name="historicalfinancement",
            name="acte_date",
            field=models.DateField(blank=True, null=True, verbose_name="date de l'acte"),
        ),
        migrations.AddField(
            model_name="historicalfinancement",
            name="acte_numero",
            field=models.CharField(blank=True, max_length=50, verbose_name="n° de l'acte"),
        ),
        migrations.AddField(
            model_name="historicalfinancement",
            name="acte_type",
            field=models.CharField(
                blank=True,
                choices=[
                    ("arrete", "Arrêté"),
                    ("deliberation", "Délibération"),
                    ("commission", "Décision de la commission permanente"),
                    ("decision", "Décision"),
                ],
                max_length=15,
                verbose_name="acte d'attribution",
            ),
        ),
        migrations.AlterField(
            model_name="appelaprojets",
            name="courrier_notification",
            field=models.TextField(
                default="Madame, Monsieur,\n\nDans le cadre de l'$appel, le comité des financeurs a examiné la demande de subvention présentée par $porteur pour l'action « $action » (dossier Dauphin n° $numero_dauphin, exercice $exercice).\n\nJ'ai le plaisir de vous notifier l'attribution par $financeur d'une subvention de $montant_notifie pour cette action.\n\nLe bilan de l'action (Cerfa n° 15059) est à transmettre au plus tard le $date_limite_bilan. Aucune nouvelle demande ne pourra être programmée tant que ce bilan n'aura pas été reçu.\n\nJe vous prie d'agréer, Madame, Monsieur, l'expression de mes salutations distinguées.",
                help_text="Variables possibles : $porteur, $action, $numero_dauphin, $exercice, $financeur, $montant_notifie, $montant_total, $date_limite_bilan, $appel.",
                validators=[cvu.models.aap.validate_letter],
                verbose_name="modèle du courrier de notification",
            ),
        ),
        migrations.AlterField(
            model_name="historicalappelaprojets",
            name="courrier_notification",
            field=models.TextField(
                default="Madame, Monsieur,\n\nDans le cadre de l'$appel, le comité des financeurs a examiné la demande de subvention présentée par $porteur pour l'action « $action » (dossier Dauphin n° $numero_dauphin, exercice $exercice).\n\nJ'ai le plaisir de vous notifier l'attribution par $financeur d'une subvention de $montant_notifie pour cette action.\n\nLe bilan de l'action (Cerfa n° 15059) est à transmettre au plus tard le $date_limite_bilan. Aucune nouvelle demande ne pourra être programmée tant que ce bilan n'aura pas été reçu.\n\nJe vous prie d'agréer, Madame, Monsieur, l'expression de mes salutations distinguées.",
                help_text="Variables possibles : $porteur, $action, $numero_dauphin, $exercice, $financeur, $montant_notifie, $montant_total, $date_limite_bilan, $appel.",
                validators=[cvu.models.aap.validate_letter],
                verbose_name="modèle du courrier de notification",
            ),
        ),
        migrations.RunPython(new_default_letter, migrations.RunPython.noop),
    ]
