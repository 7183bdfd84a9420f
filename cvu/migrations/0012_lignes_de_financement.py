"""Funding lines (dispositifs) of a funder, optional on envelopes and financing lines: one
envelope per funder and line, and one without a line."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cvu', '0011_notification_par_financeur'),
    ]

    operations = [
        migrations.CreateModel(
            name='LigneFinancement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('libelle', models.CharField(max_length=150, verbose_name='ligne de financement')),
                ('code', models.CharField(blank=True, help_text='Programme, action ou sous-action (BOP 147-02…).', max_length=30, verbose_name='code')),
            ],
            options={
                'verbose_name': 'ligne de financement',
                'verbose_name_plural': 'lignes de financement',
                'ordering': ['financeur__nom', 'libelle'],
            },
        ),
        migrations.AlterModelOptions(
            name='enveloppe',
            options={'ordering': ['financeur__nom', 'ligne__libelle'], 'verbose_name': 'enveloppe', 'verbose_name_plural': 'enveloppes'},
        ),
        migrations.RemoveConstraint(
            model_name='enveloppe',
            name='cvu_enveloppe_one_per_funder',
        ),
        migrations.AddField(
            model_name='lignefinancement',
            name='financeur',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lignes_financement', to='cvu.organisation', verbose_name='financeur'),
        ),
        migrations.AddField(
            model_name='enveloppe',
            name='ligne',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='enveloppes', to='cvu.lignefinancement', verbose_name='ligne de financement'),
        ),
        migrations.AddField(
            model_name='financement',
            name='ligne',
            field=models.ForeignKey(blank=True, help_text="Le dispositif du financeur (BOP 147 : Quartiers d'été, Cités éducatives…).", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='financements', to='cvu.lignefinancement', verbose_name='ligne de financement'),
        ),
        migrations.AddField(
            model_name='historicalenveloppe',
            name='ligne',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='cvu.lignefinancement', verbose_name='ligne de financement'),
        ),
        migrations.AddField(
            model_name='historicalfinancement',
            name='ligne',
            field=models.ForeignKey(blank=True, db_constraint=False, help_text="Le dispositif du financeur (BOP 147 : Quartiers d'été, Cités éducatives…).", null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='cvu.lignefinancement', verbose_name='ligne de financement'),
        ),
        migrations.AddConstraint(
            model_name='enveloppe',
            constraint=models.UniqueConstraint(condition=models.Q(('ligne__isnull', True)), fields=('appel', 'financeur'), name='cvu_enveloppe_one_per_funder', violation_error_message='Ce financeur a déjà une enveloppe pour cet appel.'),
        ),
        migrations.AddConstraint(
            model_name='enveloppe',
            constraint=models.UniqueConstraint(condition=models.Q(('ligne__isnull', False)), fields=('appel', 'financeur', 'ligne'), name='cvu_enveloppe_one_per_funding_line', violation_error_message='Ce financeur a déjà une enveloppe sur cette ligne pour cet appel.'),
        ),
        migrations.AddConstraint(
            model_name='lignefinancement',
            constraint=models.UniqueConstraint(fields=('financeur', 'libelle'), name='cvu_lignefinancement_unique_per_funder', violation_error_message='Ce financeur a déjà une ligne de ce nom.'),
        ),
    ]
