"""Who each bilan says the action reached: total, QPV residents, women and men, age bands."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cvu', '0009_bilan_par_exercice'),
    ]

    operations = [
        migrations.AddField(
            model_name='bilan',
            name='beneficiaires',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='bénéficiaires touchés'),
        ),
        migrations.AddField(
            model_name='bilan',
            name='beneficiaires_qpv',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='dont habitants des QPV'),
        ),
        migrations.AddField(
            model_name='bilan',
            name='de_16_25',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='16 à 25 ans'),
        ),
        migrations.AddField(
            model_name='bilan',
            name='de_26_64',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='26 à 64 ans'),
        ),
        migrations.AddField(
            model_name='bilan',
            name='femmes',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='dont femmes'),
        ),
        migrations.AddField(
            model_name='bilan',
            name='hommes',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='dont hommes'),
        ),
        migrations.AddField(
            model_name='bilan',
            name='moins_16',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='moins de 16 ans'),
        ),
        migrations.AddField(
            model_name='bilan',
            name='plus_65',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='65 ans et plus'),
        ),
        migrations.AddField(
            model_name='historicalbilan',
            name='beneficiaires',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='bénéficiaires touchés'),
        ),
        migrations.AddField(
            model_name='historicalbilan',
            name='beneficiaires_qpv',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='dont habitants des QPV'),
        ),
        migrations.AddField(
            model_name='historicalbilan',
            name='de_16_25',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='16 à 25 ans'),
        ),
        migrations.AddField(
            model_name='historicalbilan',
            name='de_26_64',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='26 à 64 ans'),
        ),
        migrations.AddField(
            model_name='historicalbilan',
            name='femmes',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='dont femmes'),
        ),
        migrations.AddField(
            model_name='historicalbilan',
            name='hommes',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='dont hommes'),
        ),
        migrations.AddField(
            model_name='historicalbilan',
            name='moins_16',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='moins de 16 ans'),
        ),
        migrations.AddField(
            model_name='historicalbilan',
            name='plus_65',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='65 ans et plus'),
        ),
    ]
