"""Engagements des signataires: what each signatory commits to bring through its ordinary
policies (droit commun) to the contract's neighbourhoods, reviewed each year in a steering
instance (instruction of 4 January 2024)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from quartiers.models import Qpv

from .contrats import ContratDeVille, ManagerEditableQuerySet, NoeudStrategie
from .evaluation import IndicateurResultat
from .instances import Reunion
from .organisations import Organisation


class EngagementQuerySet(ManagerEditableQuerySet):
    def a_revoir(self, today=None):
        """Commitments whose yearly review date has come."""
        return self.filter(date_revue__lte=today or timezone.localdate())


class EngagementSignataire(models.Model):
    """A commitment of one signatory: what, where, how it is measured, and where it stands."""

    class Statut(models.TextChoices):
        NON_ENGAGE = "non_engage", "Pas encore engagé"
        EN_COURS = "en_cours", "En cours"
        TENU = "tenu", "Tenu"
        PARTIEL = "partiel", "Partiellement tenu"
        NON_TENU = "non_tenu", "Non tenu"

    contrat = models.ForeignKey(
        ContratDeVille,
        verbose_name="contrat",
        on_delete=models.CASCADE,
        related_name="engagements",
    )
    signataire = models.ForeignKey(
        Organisation,
        verbose_name="signataire",
        on_delete=models.PROTECT,
        related_name="engagements",
    )
    texte = models.TextField("engagement")
    objectif = models.ForeignKey(
        NoeudStrategie,
        verbose_name="partie de la stratégie",
        on_delete=models.SET_NULL,
        related_name="engagements",
        null=True,
        blank=True,
    )
    qpvs = models.ManyToManyField(
        Qpv,
        verbose_name="quartiers",
        related_name="engagements",
        blank=True,
        help_text="Aucun : tous les quartiers du contrat.",
    )
    indicateur = models.ForeignKey(
        IndicateurResultat,
        verbose_name="indicateur de suivi",
        on_delete=models.SET_NULL,
        related_name="engagements",
        null=True,
        blank=True,
    )
    statut = models.CharField("état", max_length=10, choices=Statut, default=Statut.NON_ENGAGE)
    date_revue = models.DateField(
        "prochaine revue", help_text="La revue annuelle en instance de pilotage."
    )
    revue_en = models.ForeignKey(
        Reunion,
        verbose_name="dernière revue en",
        on_delete=models.SET_NULL,
        related_name="engagements_revus",
        null=True,
        blank=True,
    )
    commentaire = models.TextField("constat de la dernière revue", blank=True)
    ordre = models.PositiveSmallIntegerField("ordre", default=0)
    history = HistoricalRecords()

    objects = EngagementQuerySet.as_manager()

    class Meta:
        verbose_name = "engagement d'un signataire"
        verbose_name_plural = "engagements des signataires"
        ordering = ["signataire__nom", "ordre", "pk"]

    def __str__(self):
        return f"{self.signataire} : {self.texte[:60]}"

    @property
    def revue_due(self) -> bool:
        return self.date_revue <= timezone.localdate()

    def clean(self):
        errors = {}
        if self.contrat_id and self.signataire_id:
            if not self.contrat.signataires.filter(pk=self.signataire_id).exists():
                errors["signataire"] = "Cette organisation n'a pas signé ce contrat."
        if self.contrat_id and self.objectif_id and self.objectif.contrat_id != self.contrat_id:
            errors["objectif"] = "Cette partie de la stratégie appartient à un autre contrat."
        if (
            self.contrat_id
            and self.indicateur_id
            and self.indicateur.objectif.contrat_id != self.contrat_id
        ):
            errors["indicateur"] = "Cet indicateur appartient à un autre contrat."
        if errors:
            raise ValidationError(errors)
