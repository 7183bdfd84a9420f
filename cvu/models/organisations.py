from django.db import models
from django.db.models import Q
from django.urls import reverse

from core.querysets import RoleQuerySet
from cvu.validators import normalise_siret, validate_rna, validate_siret_or_siren
from quartiers.models import year_validators


class OrganisationQuerySet(RoleQuerySet):
    def editable_by_chef_projet(self, user):
        """Partners are shared: every chef de projet keeps them up to date."""
        return self.all()


class Organisation(models.Model):
    """A legal body of the contract: porteur de projet, financeur or signataire."""

    class Type(models.TextChoices):
        ETAT = "etat", "État"
        COMMUNE = "commune", "Commune"
        EPCI = "epci", "EPCI"
        DEPARTEMENT = "departement", "Département"
        REGION = "region", "Région"
        CAF = "caf", "CAF"
        BAILLEUR = "bailleur", "Bailleur social"
        FRANCE_TRAVAIL = "france_travail", "France Travail"
        ASSOCIATION = "association", "Association"
        ETABLISSEMENT_PUBLIC = "etablissement_public", "Établissement public"
        AUTRE = "autre", "Autre"

    nom = models.CharField("nom", max_length=200)
    sigle = models.CharField("sigle", max_length=50, blank=True)
    type = models.CharField("type", max_length=30, choices=Type)
    siret = models.CharField(
        "SIRET ou SIREN",
        max_length=14,
        blank=True,
        validators=[validate_siret_or_siren],
        help_text="9 chiffres (SIREN) ou 14 chiffres (SIRET), espaces acceptés.",
    )
    rna = models.CharField(
        "numéro RNA",
        max_length=10,
        blank=True,
        validators=[validate_rna],
        help_text="Pour une association : W suivi de 9 chiffres.",
    )
    adresse = models.CharField("adresse", max_length=250, blank=True)
    code_postal = models.CharField("code postal", max_length=5, blank=True)
    ville = models.CharField("ville", max_length=100, blank=True)
    email = models.EmailField("e-mail", blank=True)
    telephone = models.CharField("téléphone", max_length=20, blank=True)
    notes = models.TextField("notes", blank=True)
    budget_annuel = models.DecimalField(
        "budget annuel déclaré",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Total des produits du dernier budget ou compte connu du porteur.",
    )
    budget_annee = models.PositiveSmallIntegerField(
        "année du budget", null=True, blank=True, validators=year_validators
    )

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = "organisation"
        verbose_name_plural = "organisations"
        ordering = ["nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["siret"],
                condition=~Q(siret=""),
                name="%(app_label)s_%(class)s_siret_unique_when_set",
                violation_error_message="Une autre organisation a déjà ce SIRET ou SIREN.",
            ),
            models.CheckConstraint(
                condition=Q(rna="") | Q(type="association"),
                name="%(app_label)s_%(class)s_rna_only_for_associations",
                violation_error_message="Seule une association a un numéro RNA.",
            ),
        ]

    def __str__(self):
        return f"{self.nom} ({self.sigle})" if self.sigle else self.nom

    def save(self, *args, **kwargs):
        self.siret = normalise_siret(self.siret)
        self.rna = self.rna.strip().upper()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("cvu:organisation_detail", args=[self.pk])

    def clean(self):
        self.siret = normalise_siret(self.siret)
        self.rna = self.rna.strip().upper()


class Contact(models.Model):
    """A person to reach at a partner organisation (professional details only)."""

    organisation = models.ForeignKey(
        Organisation, verbose_name="organisation", on_delete=models.CASCADE, related_name="contacts"
    )
    nom = models.CharField("nom", max_length=100)
    prenom = models.CharField("prénom", max_length=100, blank=True)
    fonction = models.CharField("fonction", max_length=150, blank=True)
    email = models.EmailField("e-mail", blank=True)
    telephone = models.CharField("téléphone", max_length=20, blank=True)

    class Meta:
        verbose_name = "contact"
        verbose_name_plural = "contacts"
        ordering = ["nom", "prenom"]

    def __str__(self):
        return f"{self.prenom} {self.nom}".strip()


class LigneFinancement(models.Model):
    """A funder's funding line (dispositif): the State's BOP 147 splits into the contrat de ville
    call, Quartiers d'été, Cités éducatives, PRE, adultes-relais… Envelopes and financing lines
    may name one, so that each is followed and reported on its own (reference data, admin)."""

    financeur = models.ForeignKey(
        Organisation,
        verbose_name="financeur",
        on_delete=models.CASCADE,
        related_name="lignes_financement",
    )
    libelle = models.CharField("ligne de financement", max_length=150)
    code = models.CharField(
        "code",
        max_length=30,
        blank=True,
        help_text="Programme, action ou sous-action (BOP 147-02…).",
    )

    class Meta:
        verbose_name = "ligne de financement"
        verbose_name_plural = "lignes de financement"
        ordering = ["financeur__nom", "libelle"]
        constraints = [
            models.UniqueConstraint(
                fields=["financeur", "libelle"],
                name="%(app_label)s_%(class)s_unique_per_funder",
                violation_error_message="Ce financeur a déjà une ligne de ce nom.",
            )
        ]

    def __str__(self):
        return f"{self.financeur.sigle or self.financeur.nom} – {self.libelle}"


def check_ligne(financeur_id, ligne) -> None:
    """A funding line belongs to the funder it is chosen with."""
    from django.core.exceptions import ValidationError

    if ligne is not None and financeur_id is not None and ligne.financeur_id != financeur_id:
        raise ValidationError(
            {"ligne": f"La ligne « {ligne.libelle} » n'est pas une ligne de ce financeur."}
        )
