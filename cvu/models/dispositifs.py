"""Two connected schemes followed with structure beside the generic scheme: the TFPB abatement
(each landlord's yearly programme per QPV and axis of the national frame, planned then done) and
the adultes-relais posts (employer, QPV, convention dates, renewal)."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from quartiers.models import Qpv, year_validators

from .actions import money
from .instances import DispositifConnexe
from .organisations import Organisation


class AxeTFPB(models.TextChoices):
    """The axes of the national frame for the use of the TFPB abatement in QPV."""

    PERSONNEL = "personnel", "Renforcement de la présence du personnel de proximité"
    FORMATION = "formation", "Formation et soutien des personnels de proximité"
    ENTRETIEN = "entretien", "Sur-entretien"
    DECHETS = "dechets", "Gestion des déchets, encombrants et épaves"
    TRANQUILLITE = "tranquillite", "Tranquillité résidentielle"
    CONCERTATION = "concertation", "Concertation et sensibilisation des locataires"
    ANIMATION = "animation", "Animation, lien social, vivre ensemble"
    TRAVAUX = "travaux", "Petits travaux d'amélioration de la qualité de service"


class ActionTFPB(models.Model):
    """A landlord's action of one year financed by the abatement, in one QPV, on one axis."""

    dispositif = models.ForeignKey(
        DispositifConnexe,
        verbose_name="dispositif",
        on_delete=models.CASCADE,
        related_name="actions_tfpb",
    )
    annee = models.PositiveSmallIntegerField("année", validators=year_validators)
    bailleur = models.ForeignKey(
        Organisation, verbose_name="bailleur", on_delete=models.PROTECT, related_name="+"
    )
    qpv = models.ForeignKey(Qpv, verbose_name="QPV", on_delete=models.PROTECT, related_name="+")
    axe = models.CharField("axe", max_length=15, choices=AxeTFPB)
    libelle = models.CharField("action", max_length=250)
    montant_prevu = money("prévu")
    montant_realise = money("réalisé", null=True, blank=True)
    commentaire = models.CharField("constat du bilan annuel", max_length=300, blank=True)

    class Meta:
        verbose_name = "action TFPB"
        verbose_name_plural = "actions TFPB"
        ordering = ["bailleur__nom", "qpv__nom", "axe", "pk"]

    def __str__(self):
        return self.libelle


class PosteAdulteRelais(models.Model):
    """An adulte-relais post: who employs it, where, its convention and its renewal. The
    person holding it is not recorded (only whether the post is filled)."""

    class Renouvellement(models.TextChoices):
        A_DEMANDER = "", "Pas encore demandé"
        DEMANDE = "demande", "Demandé"
        ACCORDE = "accorde", "Accordé"
        REFUSE = "refuse", "Refusé"
        NON = "non", "Non demandé (poste arrêté)"

    # The State's conventions run three years; the renewal is asked for months ahead.
    ALERTE = timedelta(days=180)

    dispositif = models.ForeignKey(
        DispositifConnexe,
        verbose_name="dispositif",
        on_delete=models.CASCADE,
        related_name="postes_adultes_relais",
    )
    employeur = models.ForeignKey(
        Organisation, verbose_name="employeur", on_delete=models.PROTECT, related_name="+"
    )
    qpv = models.ForeignKey(Qpv, verbose_name="QPV", on_delete=models.PROTECT, related_name="+")
    mission = models.CharField("mission", max_length=200)
    convention_debut = models.DateField("début de la convention")
    convention_fin = models.DateField("fin de la convention")
    pourvu = models.BooleanField("poste pourvu", default=True)
    renouvellement = models.CharField(
        "renouvellement", max_length=10, choices=Renouvellement, blank=True
    )

    class Meta:
        verbose_name = "poste d'adulte-relais"
        verbose_name_plural = "postes d'adultes-relais"
        ordering = ["convention_fin", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(convention_fin__gt=F("convention_debut")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message="La convention doit finir après son début.",
            )
        ]

    def __str__(self):
        return f"{self.mission} ({self.employeur})"

    @property
    def a_renouveler(self) -> bool:
        """Ends within six months and no renewal decided."""
        today = timezone.localdate()
        return today <= self.convention_fin <= today + self.ALERTE and self.renouvellement not in (
            self.Renouvellement.ACCORDE,
            self.Renouvellement.REFUSE,
            self.Renouvellement.NON,
        )

    def clean(self):
        if (
            self.convention_debut
            and self.convention_fin
            and self.convention_fin <= self.convention_debut
        ):
            raise ValidationError({"convention_fin": "La convention doit finir après son début."})
