"""Projets de quartier: for each QPV of a contract, its stakes and three to five priorities tied
to the contract's strategy; actions, démarches, schemes and indicators are found from the QPV."""

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.querysets import RoleQuerySet
from quartiers.models import Qpv

from .contrats import ContratDeVille, NoeudStrategie

PRIORITES_MIN, PRIORITES_MAX = 3, 5


class ProjetQuerySet(RoleQuerySet):
    def editable_by_chef_projet(self, user):
        return self.filter(qpv__in=Qpv.objects.editable_by(user))


class ProjetQuartier(models.Model):
    """A QPV's project within a contract: what is at stake and what comes first."""

    contrat = models.ForeignKey(
        ContratDeVille,
        verbose_name="contrat",
        on_delete=models.CASCADE,
        related_name="projets_quartier",
    )
    qpv = models.ForeignKey(
        Qpv, verbose_name="QPV", on_delete=models.PROTECT, related_name="projets"
    )
    enjeux = models.TextField(
        "enjeux du quartier",
        help_text="Ce que le diagnostic et les habitants font ressortir pour ce quartier.",
    )
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    history = HistoricalRecords()

    objects = ProjetQuerySet.as_manager()

    class Meta:
        verbose_name = "projet de quartier"
        verbose_name_plural = "projets de quartier"
        ordering = ["qpv__nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["contrat", "qpv"],
                name="%(app_label)s_%(class)s_one_per_qpv",
                violation_error_message="Ce quartier a déjà son projet pour ce contrat.",
            )
        ]

    def __str__(self):
        return f"Projet de quartier – {self.qpv.nom}"

    def get_absolute_url(self):
        return reverse("cvu:projet_quartier", args=[self.contrat_id, self.qpv_id])


class PrioriteQuartier(models.Model):
    """One of a projet de quartier's priorities, tied to a part of the contract's strategy."""

    projet = models.ForeignKey(
        ProjetQuartier,
        verbose_name="projet de quartier",
        on_delete=models.CASCADE,
        related_name="priorites",
    )
    libelle = models.CharField("priorité", max_length=200)
    objectif = models.ForeignKey(
        NoeudStrategie,
        verbose_name="partie de la stratégie",
        on_delete=models.PROTECT,
        related_name="priorites_quartier",
    )
    description = models.CharField("précisions", max_length=500, blank=True)
    ordre = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "priorité du quartier"
        verbose_name_plural = "priorités du quartier"
        ordering = ["ordre", "pk"]

    def __str__(self):
        return self.libelle

    def clean(self):
        if (
            self.projet_id
            and self.objectif_id
            and self.objectif.contrat_id != self.projet.contrat_id
        ):
            raise ValidationError(
                {"objectif": "Cette partie de la stratégie appartient à un autre contrat."}
            )
