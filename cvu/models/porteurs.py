"""A porteur's story before and after the vote: intentions, advice, pieces, conventions,
payments and clawbacks."""

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.querysets import RoleQuerySet
from quartiers.models import Qpv

from .aap import AppelAProjets
from .actions import Action, Document, Financement, money
from .contrats import ContratDeVille, NoeudStrategie
from .organisations import Organisation


class FicheIntentionQuerySet(RoleQuerySet):
    def editable_by_chef_projet(self, user):
        """The author, and the chefs de projet of a targeted QPV."""
        return self.filter(
            Q(auteur=user)
            | Q(pk__in=self.filter(qpvs__in=Qpv.objects.editable_by(user)).values("pk"))
        )


class FicheIntention(models.Model):
    """A porteur's idea met before the call's deadline, with the advice given and its triage."""

    class Orientation(models.TextChoices):
        A_TRIER = "a_trier", "À trier"
        ENCOURAGEE = "encouragee", "Encouragée"
        DROIT_COMMUN = "droit_commun", "Réorientée vers le droit commun"
        NON_ELIGIBLE = "non_eligible", "Non éligible"
        A_RETRAVAILLER = "a_retravailler", "À retravailler"

    contrat = models.ForeignKey(
        ContratDeVille, verbose_name="contrat", on_delete=models.PROTECT, related_name="intentions"
    )
    appel = models.ForeignKey(
        AppelAProjets,
        verbose_name="appel à projets visé",
        on_delete=models.PROTECT,
        related_name="intentions",
        null=True,
        blank=True,
    )
    porteur = models.ForeignKey(
        Organisation, verbose_name="porteur", on_delete=models.PROTECT, related_name="intentions"
    )
    titre = models.CharField("idée de projet", max_length=300)
    description = models.TextField("description", blank=True)
    qpvs = models.ManyToManyField(
        Qpv, verbose_name="QPV visés", related_name="intentions", blank=True
    )
    priorite = models.ForeignKey(
        NoeudStrategie,
        verbose_name="priorité du contrat",
        on_delete=models.PROTECT,
        related_name="intentions",
        null=True,
        blank=True,
    )
    cout_estime = money("coût estimé", null=True, blank=True)
    financeurs_envisages = models.ManyToManyField(
        Organisation, verbose_name="financeurs envisagés", related_name="+", blank=True
    )
    date_rencontre = models.DateField("date de la rencontre", null=True, blank=True)
    conseil = models.TextField("conseils donnés", blank=True)
    orientation = models.CharField(
        "orientation", max_length=20, choices=Orientation, default=Orientation.A_TRIER
    )
    action = models.OneToOneField(
        Action,
        verbose_name="dossier déposé",
        on_delete=models.SET_NULL,
        related_name="intention",
        null=True,
        blank=True,
    )
    auteur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="saisie par",
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)
    history = HistoricalRecords()

    objects = FicheIntentionQuerySet.as_manager()

    class Meta:
        verbose_name = "fiche d'intention"
        verbose_name_plural = "fiches d'intention"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.titre} ({self.porteur})"

    def get_absolute_url(self):
        return reverse("cvu:intention_detail", args=[self.pk])


class EchangeQuerySet(RoleQuerySet):
    def editable_by_chef_projet(self, user):
        return self.filter(agent=user)

    def next_steps_due(self, user, today: date, *, days: int = 7):
        """The user's next steps not done whose date falls within `days` (or has passed)."""
        return self.filter(
            agent=user,
            etape_faite=False,
            date_prochaine_etape__isnull=False,
            date_prochaine_etape__lte=today + timedelta(days=days),
        ).exclude(prochaine_etape="")


class Echange(models.Model):
    """One dated exchange with a porteur: who, how, what was advised, and the next step."""

    class Mode(models.TextChoices):
        RENCONTRE = "rencontre", "Rencontre"
        TELEPHONE = "telephone", "Téléphone"
        COURRIEL = "courriel", "Courriel"
        VISIO = "visio", "Visioconférence"
        AUTRE = "autre", "Autre"

    organisation = models.ForeignKey(
        Organisation, verbose_name="porteur", on_delete=models.CASCADE, related_name="echanges"
    )
    intention = models.ForeignKey(
        FicheIntention,
        verbose_name="fiche d'intention",
        on_delete=models.SET_NULL,
        related_name="echanges",
        null=True,
        blank=True,
    )
    date = models.DateField("date")
    mode = models.CharField("mode", max_length=12, choices=Mode, default=Mode.RENCONTRE)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="agent", on_delete=models.PROTECT, related_name="+"
    )
    interlocuteurs = models.CharField(
        "interlocuteurs",
        max_length=250,
        blank=True,
        help_text="Qui, chez le porteur (fonction plutôt que nom si possible).",
    )
    conseil = models.TextField("ce qui a été conseillé")
    prochaine_etape = models.CharField("prochaine étape", max_length=250, blank=True)
    date_prochaine_etape = models.DateField("date de la prochaine étape", null=True, blank=True)
    etape_faite = models.BooleanField("étape faite", default=False)
    created_at = models.DateTimeField("saisi le", auto_now_add=True)

    objects = EchangeQuerySet.as_manager()

    class Meta:
        verbose_name = "échange avec un porteur"
        verbose_name_plural = "échanges avec les porteurs"
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_prochaine_etape__isnull=True) | ~Q(prochaine_etape=""),
                name="%(app_label)s_%(class)s_step_date_needs_step",
                violation_error_message="Indiquez la prochaine étape dont vous donnez la date.",
            )
        ]
        indexes = [
            # The home page's "next steps due" of an agent.
            models.Index(
                fields=["agent", "date_prochaine_etape"],
                condition=Q(etape_faite=False),
                name="cvu_echange_next_step",
            )
        ]

    def __str__(self):
        return f"{self.get_mode_display()} du {self.date:%d/%m/%Y} avec {self.organisation}"


def piece_path(instance, filename: str) -> str:
    return f"documents/organisations/{instance.organisation_id}/{filename}"


class PieceOrganisationQuerySet(RoleQuerySet):
    def editable_by_chef_projet(self, user):
        """Partners are shared (OrganisationQuerySet): so are their pieces."""
        return self.all()

    def valid_on(self, day: date):
        return self.filter(Q(date_expiration__isnull=True) | Q(date_expiration__gte=day))


class PieceOrganisation(models.Model):
    """A piece of the porteur's administrative file, with its date and end of validity."""

    class Type(models.TextChoices):
        STATUTS = "statuts", "Statuts"
        RIB = "rib", "RIB"
        COMPTES = "comptes", "Comptes approuvés N-1"
        DIRIGEANTS = "dirigeants", "Liste des dirigeants"
        CER = "cer", "Contrat d'engagement républicain"
        AUTRE = "autre", "Autre pièce"

    organisation = models.ForeignKey(
        Organisation, verbose_name="organisation", on_delete=models.CASCADE, related_name="pieces"
    )
    type = models.CharField("type de pièce", max_length=12, choices=Type)
    fichier = models.FileField("fichier", upload_to=piece_path, max_length=300)
    nom = models.CharField("nom", max_length=200)
    content_type = models.CharField("type de fichier", max_length=100)
    taille = models.PositiveIntegerField("taille (octets)")
    date_piece = models.DateField("date de la pièce")
    date_expiration = models.DateField(
        "valable jusqu'au",
        null=True,
        blank=True,
        help_text="Laisser vide si la pièce n'expire pas.",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="déposée par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("déposée le", auto_now_add=True)

    objects = PieceOrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = "pièce du porteur"
        verbose_name_plural = "pièces des porteurs"
        ordering = ["type", "-date_piece", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_expiration__isnull=True)
                | Q(date_expiration__gte=models.F("date_piece")),
                name="%(app_label)s_%(class)s_expiry_after_date",
                violation_error_message="La fin de validité précède la date de la pièce.",
            )
        ]

    def __str__(self):
        return f"{self.get_type_display()} – {self.organisation}"

    def get_absolute_url(self):
        return reverse("cvu:piece_download", args=[self.pk])


class ModeleConvention(models.Model):
    """A convention's text with $placeholders, edited by the service (annual or multi-year)."""

    class Type(models.TextChoices):
        ANNUELLE = "annuelle", "Annuelle"
        PLURIANNUELLE = "pluriannuelle", "Pluriannuelle (CPO)"

    nom = models.CharField("nom", max_length=200)
    type = models.CharField("type", max_length=14, choices=Type, default=Type.ANNUELLE)
    texte = models.TextField("texte de la convention")
    actif = models.BooleanField("proposé", default=True)
    history = HistoricalRecords()

    objects = RoleQuerySet.as_manager()  # The service's: chefs de projet read it.

    class Meta:
        verbose_name = "modèle de convention"
        verbose_name_plural = "modèles de convention"
        ordering = ["type", "nom"]

    def __str__(self):
        return self.nom


class Convention(models.Model):
    """The convention between the collectivité and the porteur for its own grant."""

    class Statut(models.TextChoices):
        BROUILLON = "brouillon", "Brouillon"
        ENVOYEE = "envoyee", "Envoyée pour signature"
        SIGNEE = "signee", "Signée"

    action = models.OneToOneField(
        Action, verbose_name="dossier", on_delete=models.CASCADE, related_name="convention"
    )
    modele = models.ForeignKey(
        ModeleConvention,
        verbose_name="modèle",
        on_delete=models.PROTECT,
        related_name="conventions",
        null=True,
        blank=True,
    )
    numero = models.CharField("n° de convention", max_length=50, blank=True)
    annee_debut = models.PositiveSmallIntegerField("première année")
    annee_fin = models.PositiveSmallIntegerField("dernière année")
    montant = money("montant de la subvention")
    texte = models.TextField("texte")
    reference_decision = models.CharField(
        "référence de la décision",
        max_length=100,
        blank=True,
        help_text="Délibération ou arrêté d'attribution (n°).",
    )
    date_decision = models.DateField("date de la décision", null=True, blank=True)
    date_signature_porteur = models.DateField("signée par le porteur le", null=True, blank=True)
    date_signature_collectivite = models.DateField(
        "signée par la collectivité le", null=True, blank=True
    )
    document = models.ForeignKey(
        Document,
        verbose_name="convention (PDF)",
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    document_signe = models.ForeignKey(
        Document,
        verbose_name="exemplaire signé",
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    auteur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="établie par",
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("établie le", auto_now_add=True)
    history = HistoricalRecords()

    objects = RoleQuerySet.as_manager()

    class Meta:
        verbose_name = "convention"
        verbose_name_plural = "conventions"
        ordering = ["-annee_debut", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(annee_fin__gte=models.F("annee_debut")),
                name="%(app_label)s_%(class)s_period_in_order",
                violation_error_message="La dernière année précède la première.",
            )
        ]

    def __str__(self):
        return f"Convention {self.numero or self.pk} – {self.action}"

    @property
    def statut(self) -> str:
        if self.date_signature_porteur and self.date_signature_collectivite:
            return self.Statut.SIGNEE
        return self.Statut.ENVOYEE if self.document_id else self.Statut.BROUILLON

    def get_statut_display(self) -> str:
        return self.Statut(self.statut).label

    @property
    def date_signature(self) -> date | None:
        """The convention takes effect on the later of the two signatures."""
        dates = [d for d in (self.date_signature_porteur, self.date_signature_collectivite) if d]
        return max(dates) if len(dates) == 2 else None


class VersementQuerySet(RoleQuerySet):
    def payes(self):
        return self.filter(date_versement__isnull=False)

    def prevus(self):
        return self.filter(date_versement__isnull=True)


class Versement(models.Model):
    """One instalment of a financing line: planned (date_prevue) and, once paid, its date and
    mandat. The line's montant_verse is the sum of its paid instalments (cvu.payments)."""

    class Nature(models.TextChoices):
        AVANCE = "avance", "Avance"
        ACOMPTE = "acompte", "Acompte"
        SOLDE = "solde", "Solde"
        REPRISE = "reprise", "Reprise de l'existant"

    class Condition(models.TextChoices):
        SIGNATURE = "signature", "À la signature de la convention"
        NOTIFICATION = "notification", "À la notification"
        BILAN = "bilan", "Après réception du bilan"
        AUTRE = "autre", "Autre"

    financement = models.ForeignKey(
        Financement, verbose_name="financement", on_delete=models.CASCADE, related_name="versements"
    )
    nature = models.CharField("nature", max_length=10, choices=Nature)
    condition = models.CharField(
        "condition", max_length=12, choices=Condition, default=Condition.SIGNATURE
    )
    montant = money("montant")
    date_prevue = models.DateField("date prévue", null=True, blank=True)
    date_versement = models.DateField("versé le", null=True, blank=True)
    numero_mandat = models.CharField("n° de mandat", max_length=50, blank=True)
    saisi_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="saisi par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    history = HistoricalRecords()

    objects = VersementQuerySet.as_manager()

    class Meta:
        verbose_name = "versement"
        verbose_name_plural = "versements"
        ordering = ["financement", "date_prevue", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(montant__gt=0),
                name="%(app_label)s_%(class)s_amount_positive",
                violation_error_message="Le montant doit être supérieur à zéro.",
            ),
            models.CheckConstraint(
                condition=Q(date_versement__isnull=True) | ~Q(numero_mandat=""),
                name="%(app_label)s_%(class)s_paid_has_mandat",
                violation_error_message="Un versement effectué porte son n° de mandat.",
            ),
        ]

    def __str__(self):
        return f"{self.get_nature_display()} {self.montant} € – {self.financement}"

    @property
    def paye(self) -> bool:
        return self.date_versement is not None


class Reversement(models.Model):
    """A clawback: the bilan shows less spent than paid on a financing line."""

    class Statut(models.TextChoices):
        DEMANDE = "demande", "Demandé"
        TITRE_EMIS = "titre_emis", "Titre de recette émis"
        RECOUVRE = "recouvre", "Recouvré"
        ANNULE = "annule", "Annulé"

    financement = models.ForeignKey(
        Financement,
        verbose_name="financement",
        on_delete=models.CASCADE,
        related_name="reversements",
    )
    montant = money("montant à reverser")
    motif = models.TextField("motif")
    date_demande = models.DateField("demandé le")
    statut = models.CharField("statut", max_length=12, choices=Statut, default=Statut.DEMANDE)
    numero_titre = models.CharField("n° du titre de recette", max_length=50, blank=True)
    date_recouvrement = models.DateField("recouvré le", null=True, blank=True)
    saisi_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="saisi par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    history = HistoricalRecords()

    objects = RoleQuerySet.as_manager()

    class Meta:
        verbose_name = "reversement"
        verbose_name_plural = "reversements"
        ordering = ["-date_demande", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(montant__gt=0),
                name="%(app_label)s_%(class)s_amount_positive",
                violation_error_message="Le montant doit être supérieur à zéro.",
            ),
            models.CheckConstraint(
                condition=~Q(statut="recouvre") | Q(date_recouvrement__isnull=False),
                name="%(app_label)s_%(class)s_recovered_has_date",
                violation_error_message="Indiquez la date du recouvrement.",
            ),
        ]

    def __str__(self):
        return f"Reversement {self.montant} € – {self.financement}"


__all__ = [
    "Convention",
    "Echange",
    "FicheIntention",
    "ModeleConvention",
    "PieceOrganisation",
    "Reversement",
    "Versement",
]
