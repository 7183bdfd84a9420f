"""The evaluation frame: result indicators per objective (baseline, 2030 target) and their
yearly values."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cvu', '0012_lignes_de_financement'),
    ]

    operations = [
        migrations.CreateModel(
            name='IndicateurResultat',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('libelle', models.CharField(max_length=200, verbose_name='indicateur de résultat')),
                ('unite', models.CharField(blank=True, max_length=30, verbose_name='unité')),
                ('annee_reference', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(1990, "L'année doit être comprise entre 1990 et 2100."), django.core.validators.MaxValueValidator(2100, "L'année doit être comprise entre 1990 et 2100.")], verbose_name='année de référence')),
                ('valeur_reference', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='valeur de référence')),
                ('cible', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='cible 2030')),
                ('source', models.CharField(blank=True, max_length=150, verbose_name='source')),
                ('frequence', models.CharField(choices=[('annuelle', 'Chaque année'), ('triennale', 'Tous les trois ans'), ('mi_parcours', 'À mi-parcours et en fin de contrat')], default='annuelle', max_length=12, verbose_name='fréquence de mesure')),
                ('ordre', models.PositiveSmallIntegerField(default=0, verbose_name='ordre')),
                ('objectif', models.ForeignKey(limit_choices_to={'niveau': 'objectif'}, on_delete=django.db.models.deletion.CASCADE, related_name='indicateurs_resultat', to='cvu.noeudstrategie', verbose_name='objectif')),
            ],
            options={
                'verbose_name': 'indicateur de résultat',
                'verbose_name_plural': 'indicateurs de résultat',
                'ordering': ['objectif', 'ordre', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='ValeurResultat',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('annee', models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(1990, "L'année doit être comprise entre 1990 et 2100."), django.core.validators.MaxValueValidator(2100, "L'année doit être comprise entre 1990 et 2100.")], verbose_name='année')),
                ('valeur', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='valeur')),
                ('commentaire', models.CharField(blank=True, max_length=300, verbose_name='commentaire')),
                ('indicateur', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='valeurs', to='cvu.indicateurresultat', verbose_name='indicateur')),
            ],
            options={
                'verbose_name': "valeur d'un indicateur de résultat",
                'verbose_name_plural': 'valeurs des indicateurs de résultat',
                'ordering': ['indicateur', 'annee'],
                'constraints': [models.UniqueConstraint(fields=('indicateur', 'annee'), name='cvu_valeurresultat_one_per_year', violation_error_message='Cet indicateur a déjà une valeur pour cette année.')],
            },
        ),
    ]
