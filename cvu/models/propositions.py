"""Propositions de réorientation: what a chef de projet asks the direction de projet to change in
the contract, with the evidence, put on an instance's agenda and closed by the meeting's decision."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.querysets import RoleQuerySet
from quartiers.models import Observation, Qpv

from .actions import Action
from .contrats import ContratDeVille, NoeudStrategie
from .evaluation import IndicateurResultat
from .instances import Decision, PointOrdreDuJour


class PropositionQuerySet(RoleQuerySet):
    def editable_by(self, user):
        # Once decided, a proposal is a record of the meeting: nobody rewrites it.
        return super().editable_by(user).filter(issue="")

    def editable_by_chef_projet(self, user):
        return self.filter(auteur=user)

    def ouvertes(self):
        return self.filter(issue="")

    def decidees(self):
        return self.exclude(issue="")


class PropositionReorientation(models.Model):
    """A proposal to re-orient the contract, from the permanent diagnosis to the meeting's
    decision: accepted, amended or refused."""

    class Issue(models.TextChoices):
        ACCEPTEE = "acceptee", "Acceptée"
        AMENDEE = "amendee", "Acceptée avec modifications"
        REFUSEE = "refusee", "Refusée"

    contrat = models.ForeignKey(
        ContratDeVille,
        verbose_name="contrat",
        on_delete=models.PROTECT,
        related_name="propositions",
    )
    objet = models.CharField("objet", max_length=200)
    motifs = models.TextField(
        "exposé des motifs", help_text="Ce qui a changé, ce qui ne marche pas, ce qui est proposé."
    )
    objectif = models.ForeignKey(
        NoeudStrategie,
        verbose_name="partie de la stratégie concernée",
        on_delete=models.SET_NULL,
        related_name="propositions",
        null=True,
        blank=True,
    )
    qpvs = models.ManyToManyField(
        Qpv, verbose_name="quartiers concernés", related_name="propositions", blank=True
    )
    observations = models.ManyToManyField(
        Observation,
        verbose_name="observations à l'appui",
        related_name="propositions",
        blank=True,
    )
    indicateurs = models.ManyToManyField(
        IndicateurResultat,
        verbose_name="indicateurs à l'appui",
        related_name="propositions",
        blank=True,
    )
    actions = models.ManyToManyField(
        Action,
        verbose_name="actions et bilans à l'appui",
        related_name="propositions",
        blank=True,
    )
    auteur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="auteur",
        on_delete=models.PROTECT,
        related_name="propositions",
    )
    point = models.OneToOneField(
        PointOrdreDuJour,
        verbose_name="point de l'ordre du jour",
        on_delete=models.SET_NULL,
        related_name="proposition",
        null=True,
        blank=True,
    )
    issue = models.CharField("issue", max_length=10, choices=Issue, blank=True)
    decision = models.OneToOneField(
        Decision,
        verbose_name="décision",
        # The decision is edited from the proposal, never deleted from under it.
        on_delete=models.PROTECT,
        related_name="proposition",
        null=True,
        blank=True,
    )
    decidee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="décision enregistrée par",
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)
    history = HistoricalRecords()

    objects = PropositionQuerySet.as_manager()

    class Meta:
        verbose_name = "proposition de réorientation"
        verbose_name_plural = "propositions de réorientation"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(issue="", decision__isnull=True)
                | (~models.Q(issue="") & models.Q(decision__isnull=False)),
                name="%(app_label)s_%(class)s_decided_by_a_decision",
                violation_error_message="Une proposition décidée porte la décision de la réunion.",
            )
        ]

    def __str__(self):
        return self.objet

    def get_absolute_url(self):
        return reverse("cvu:proposition_detail", args=[self.pk])

    @property
    def reunion(self):
        """The meeting that decided it, or the one whose agenda it is on."""
        if self.decision_id:
            return self.decision.reunion
        return self.point.reunion if self.point_id else None

    @property
    def etat(self) -> str:
        if self.issue:
            return self.get_issue_display()
        if self.point_id:
            return "Inscrite à l'ordre du jour"
        return "En préparation"

    @property
    def etat_badge(self) -> str:
        return {
            self.Issue.ACCEPTEE: "success",
            self.Issue.AMENDEE: "info",
            self.Issue.REFUSEE: "secondary",
        }.get(self.issue, "warning" if self.point_id else "light")
