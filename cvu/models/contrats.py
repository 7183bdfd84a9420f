from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from core.querysets import RoleQuerySet, SharedQuerySet
from quartiers.models import Qpv, year_validators

from .organisations import Organisation


class ManagerEditableQuerySet(RoleQuerySet):
    """Read by all; the contract's frame is edited by the chef de service and administrators."""


class ContratDeVille(models.Model):
    """A contrat de ville: its period, signatories and strategy."""

    class Statut(models.TextChoices):
        EN_COURS = "en_cours", "En cours"
        TERMINE = "termine", "Terminé"

    nom = models.CharField("nom", max_length=200)
    annee_debut = models.PositiveSmallIntegerField("année de début", validators=year_validators)
    annee_fin = models.PositiveSmallIntegerField("année de fin", validators=year_validators)
    date_signature = models.DateField("date de signature", null=True, blank=True)
    signataires = models.ManyToManyField(
        Organisation, verbose_name="signataires", related_name="contrats_signes", blank=True
    )
    statut = models.CharField("statut", max_length=10, choices=Statut, default=Statut.EN_COURS)
    libelle_axe = models.CharField(
        "nom des axes",
        max_length=30,
        default="axe",
        help_text="Comment ce contrat nomme ses axes : pilier, priorité…",
    )

    objects = ManagerEditableQuerySet.as_manager()

    class Meta:
        verbose_name = "contrat de ville"
        verbose_name_plural = "contrats de ville"
        ordering = ["-annee_debut"]
        constraints = [
            models.CheckConstraint(
                condition=Q(annee_fin__gte=F("annee_debut")),
                name="%(app_label)s_%(class)s_period_in_order",
                violation_error_message="L'année de fin précède l'année de début.",
            )
        ]

    def __str__(self):
        return f"{self.nom} ({self.annee_debut}–{self.annee_fin})"

    def get_absolute_url(self):
        return reverse("cvu:contrat_detail", args=[self.pk])

    @property
    def geographie(self) -> str:
        """The QPV geography the contract works on: 2024's for a contract begun in 2024 or
        after, 2015's before."""
        return Qpv.Geographie.G2024 if self.annee_debut >= 2024 else Qpv.Geographie.G2015


class NoeudStrategie(models.Model):
    """A node of a contract's strategy tree: axe → orientation stratégique → objectif opérationnel."""

    class Niveau(models.TextChoices):
        AXE = "axe", "Axe"
        ORIENTATION = "orientation", "Orientation stratégique"
        OBJECTIF = "objectif", "Objectif opérationnel"

    contrat = models.ForeignKey(
        ContratDeVille, verbose_name="contrat", on_delete=models.CASCADE, related_name="noeuds"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="parent",
        on_delete=models.CASCADE,
        related_name="enfants",
        null=True,
        blank=True,
    )
    niveau = models.CharField("niveau", max_length=12, choices=Niveau)
    code = models.CharField("code", max_length=20, blank=True, help_text="Par exemple 1.2.")
    libelle = models.CharField("libellé", max_length=300)
    ordre = models.PositiveSmallIntegerField("ordre", default=0)

    objects = ManagerEditableQuerySet.as_manager()

    class Meta:
        verbose_name = "élément de la stratégie"
        verbose_name_plural = "stratégie (axes, orientations, objectifs)"
        ordering = ["contrat", "ordre", "code", "libelle"]

    def __str__(self):
        return f"{self.code} {self.libelle}".strip()

    # An objective may hang directly under an axe: the tree's depth is the contract's choice.
    ALLOWED_PARENTS = {
        Niveau.AXE: (None,),
        Niveau.ORIENTATION: (Niveau.AXE,),
        Niveau.OBJECTIF: (Niveau.AXE, Niveau.ORIENTATION),
    }

    def clean(self):
        parent_level = self.parent.niveau if self.parent_id else None
        if parent_level not in self.ALLOWED_PARENTS.get(self.niveau, ()):
            raise ValidationError(
                {
                    "parent": f"Un élément de niveau « {self.get_niveau_display()} » ne peut pas "
                    "être placé ici dans l'arbre de la stratégie."
                }
            )
        if self.parent_id and self.parent.contrat_id != self.contrat_id:
            raise ValidationError({"parent": "Le parent appartient à un autre contrat."})


class Tag(models.Model):
    """A cross-cutting theme: jeunesse, égalité femmes-hommes, participation citoyenne…"""

    nom = models.CharField("nom", max_length=100, unique=True)

    objects = SharedQuerySet.as_manager()

    class Meta:
        verbose_name = "thématique transversale"
        verbose_name_plural = "thématiques transversales"
        ordering = ["nom"]

    def __str__(self):
        return self.nom
