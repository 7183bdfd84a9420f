"""The contract's evaluation frame: result indicators per objective of the strategy tree, with
their baseline, 2030 target and yearly values (circulaire of 31 August 2023)."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from quartiers.models import ValeurIndicateur, year_validators

from .contrats import ManagerEditableQuerySet, NoeudStrategie

MAX_PER_OBJECTIF = 3


def _number(label: str, **kwargs):
    return models.DecimalField(label, max_digits=14, decimal_places=2, **kwargs)


class Agregation(models.TextChoices):
    MOYENNE = "moyenne", "Moyenne pondérée par la population (taux, parts)"
    SOMME = "somme", "Somme des quartiers (effectifs)"


@dataclass(frozen=True)
class Mesure:
    """A yearly value of a result indicator: entered, or computed from the QPVs' values."""

    annee: int
    valeur: Decimal
    calculee: bool = False


class IndicateurResultat(models.Model):
    """A result indicator of an objective: where it started, where it should be in 2030, who
    measures it and how often."""

    class Frequence(models.TextChoices):
        ANNUELLE = "annuelle", "Chaque année"
        TRIENNALE = "triennale", "Tous les trois ans"
        MI_PARCOURS = "mi_parcours", "À mi-parcours et en fin de contrat"

    objectif = models.ForeignKey(
        NoeudStrategie,
        verbose_name="objectif",
        on_delete=models.CASCADE,
        related_name="indicateurs_resultat",
        limit_choices_to={"niveau": NoeudStrategie.Niveau.OBJECTIF},
    )
    libelle = models.CharField("indicateur de résultat", max_length=200)
    unite = models.CharField("unité", max_length=30, blank=True)
    annee_reference = models.PositiveSmallIntegerField(
        "année de référence", validators=year_validators, null=True, blank=True
    )
    valeur_reference = _number("valeur de référence", null=True, blank=True)
    cible = _number("cible 2030", null=True, blank=True)
    source = models.CharField("source", max_length=150, blank=True)
    frequence = models.CharField(
        "fréquence de mesure", max_length=12, choices=Frequence, default=Frequence.ANNUELLE
    )
    indicateur_qpv = models.ForeignKey(
        "quartiers.Indicateur",
        verbose_name="calculé depuis l'indicateur des QPV",
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
        help_text="Les années sans valeur saisie prennent celle des QPV du contrat.",
    )
    agregation = models.CharField(
        "calcul sur les QPV",
        max_length=8,
        choices=Agregation,
        default=Agregation.MOYENNE,
    )
    ordre = models.PositiveSmallIntegerField("ordre", default=0)

    objects = ManagerEditableQuerySet.as_manager()

    class Meta:
        verbose_name = "indicateur de résultat"
        verbose_name_plural = "indicateurs de résultat"
        ordering = ["objectif", "ordre", "pk"]

    def __str__(self):
        return self.libelle

    def clean(self):
        if self.objectif_id is None:
            return
        if self.objectif.niveau != NoeudStrategie.Niveau.OBJECTIF:
            raise ValidationError({"objectif": "Un indicateur de résultat suit un objectif."})
        others = IndicateurResultat.objects.filter(objectif=self.objectif).exclude(pk=self.pk)
        if others.count() >= MAX_PER_OBJECTIF:
            raise ValidationError(
                f"Un objectif a au plus {MAX_PER_OBJECTIF} indicateurs de résultat."
            )

    def mesures(self, avant: int | None = None) -> list[Mesure]:
        """The values by year, before `avant` when given: those entered, and for the other
        years from the baseline's on, when the indicator follows a QPV indicator, the value of
        the QPVs of the contract's geography (their sum, or their mean weighted by population
        where all populations are known)."""
        entered = {v.annee: v.valeur for v in self.valeurs.all()}
        found = {annee: Mesure(annee, valeur) for annee, valeur in entered.items()}
        if self.indicateur_qpv_id:
            rows = ValeurIndicateur.objects.filter(
                indicateur_id=self.indicateur_qpv_id,
                qpv__geographie=self.objectif.contrat.geographie,
            ).values_list("annee", "valeur", "qpv__population")
            by_year: dict[int, list] = {}
            for annee, valeur, population in rows:
                by_year.setdefault(annee, []).append((valeur, population))
            for annee, values in by_year.items():
                if annee in found or (self.annee_reference and annee < self.annee_reference):
                    continue
                found[annee] = Mesure(annee, self._aggregate(values), calculee=True)
        years = sorted(y for y in found if avant is None or y < avant)
        return [found[y] for y in years]

    def _aggregate(self, values) -> Decimal:
        if self.agregation == Agregation.SOMME:
            return sum((v for v, _p in values), Decimal(0))
        if all(p for _v, p in values):
            weight = sum(p for _v, p in values)
            return (sum(v * p for v, p in values) / weight).quantize(Decimal("0.1"))
        return (sum(v for v, _p in values) / len(values)).quantize(Decimal("0.1"))

    def progression(self, valeur) -> int | None:
        """How far a value has gone from the baseline towards the target, in % (None when the
        baseline or target is missing or they are equal)."""
        if valeur is None or self.valeur_reference is None or self.cible is None:
            return None
        distance = self.cible - self.valeur_reference
        if not distance:
            return None
        return round(100 * (valeur - self.valeur_reference) / distance)


class ValeurResultat(models.Model):
    """The value of a result indicator measured for a year."""

    indicateur = models.ForeignKey(
        IndicateurResultat,
        verbose_name="indicateur",
        on_delete=models.CASCADE,
        related_name="valeurs",
    )
    annee = models.PositiveSmallIntegerField("année", validators=year_validators)
    valeur = _number("valeur")
    commentaire = models.CharField("commentaire", max_length=300, blank=True)

    objects = ManagerEditableQuerySet.as_manager()

    class Meta:
        verbose_name = "valeur d'un indicateur de résultat"
        verbose_name_plural = "valeurs des indicateurs de résultat"
        ordering = ["indicateur", "annee"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicateur", "annee"],
                name="%(app_label)s_%(class)s_one_per_year",
                violation_error_message="Cet indicateur a déjà une valeur pour cette année.",
            )
        ]

    def __str__(self):
        return f"{self.indicateur} {self.annee} : {self.valeur}"


class EvaluationMiParcours(models.Model):
    """The contract's mid-term evaluation (2027 for 2024–2030): what the chef de service
    concludes from the figures gathered (cvu.evaluation), the councils' opinions, and what the
    steering instance decided."""

    contrat = models.OneToOneField(
        "cvu.ContratDeVille",
        verbose_name="contrat",
        on_delete=models.CASCADE,
        related_name="evaluation_mi_parcours",
    )
    annee = models.PositiveSmallIntegerField("année de l'évaluation", validators=year_validators)
    avis_conseils = models.TextField(
        "avis des conseils citoyens",
        blank=True,
        help_text="Ce que les conseils citoyens ont dit du contrat à mi-parcours.",
    )
    conclusions = models.TextField("conclusions", blank=True)
    decisions = models.TextField(
        "décisions", blank=True, help_text="Ce que l'instance de pilotage a décidé d'en retenir."
    )
    reunion = models.ForeignKey(
        "cvu.Reunion",
        verbose_name="présentée en",
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    adoptee_le = models.DateField("adoptée le", null=True, blank=True)
    history = HistoricalRecords()

    objects = ManagerEditableQuerySet.as_manager()

    class Meta:
        verbose_name = "évaluation à mi-parcours"
        verbose_name_plural = "évaluations à mi-parcours"

    def __str__(self):
        return f"Évaluation à mi-parcours {self.annee} – {self.contrat.nom}"

    def clean(self):
        if self.contrat_id and not (
            self.contrat.annee_debut < self.annee <= self.contrat.annee_fin
        ):
            raise ValidationError(
                {
                    "annee": "L'évaluation à mi-parcours a lieu pendant le contrat, après sa 1re année."
                }
            )
        if self.adoptee_le and not self.conclusions.strip():
            raise ValidationError(
                {"conclusions": "Rédigez les conclusions avant d'indiquer l'adoption."}
            )
