"""The yearly call for projects (appel à projets): envelopes, instruction, committees, bilans."""

from datetime import date
from decimal import Decimal
from string import Template

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.querysets import RoleQuerySet, SharedQuerySet
from quartiers.models import year_validators

from .actions import Action, Document, Financement, money
from .contrats import ContratDeVille, NoeudStrategie
from .organisations import LigneFinancement, Organisation, check_ligne

# Above this amount from one funder for one year, a convention is required (décret 2001-495).
SEUIL_CONVENTION = Decimal("23000.00")

# The placeholders the notification letter may use, and what each one says.
PLACEHOLDERS = {
    "porteur": "nom du porteur",
    "action": "intitulé de l'action",
    "numero_dauphin": "n° de dossier Dauphin",
    "exercice": "exercice de l'action",
    "financeur": "financeur qui notifie sa subvention",
    "montant_notifie": "montant que ce financeur attribue",
    "montant_total": "total des montants votés par tous les financeurs",
    "date_limite_bilan": "date limite de remise du bilan",
    "appel": "nom de l'appel à projets",
}

DEFAULT_LETTER = (
    "Madame, Monsieur,\n\n"
    "Dans le cadre de l'$appel, le comité des financeurs a examiné la demande de subvention "
    "présentée par $porteur pour l'action « $action » (dossier Dauphin n° $numero_dauphin, "
    "exercice $exercice).\n\n"
    "J'ai le plaisir de vous notifier l'attribution par $financeur d'une subvention de "
    "$montant_notifie pour cette action.\n\n"
    "Le bilan de l'action (Cerfa n° 15059) est à transmettre au plus tard le "
    "$date_limite_bilan. Aucune nouvelle demande ne pourra être programmée tant que ce bilan "
    "n'aura pas été reçu.\n\n"
    "Je vous prie d'agréer, Madame, Monsieur, l'expression de mes salutations distinguées."
)


def validate_placeholders(text: str, placeholders: dict) -> None:
    """Only the given $placeholders may appear in the text (string.Template syntax)."""
    names = {
        match.group("named") or match.group("braced")
        for match in Template.pattern.finditer(text)
        if match.group("named") or match.group("braced")
    }
    unknown = sorted(names - set(placeholders))
    invalid = [m for m in Template.pattern.finditer(text) if m.group("invalid") is not None]
    if unknown:
        raise ValidationError(
            "Variable(s) inconnue(s) : "
            + ", ".join(f"${name}" for name in unknown)
            + ". Variables possibles : "
            + ", ".join(f"${name}" for name in placeholders)
            + "."
        )
    if invalid:
        raise ValidationError("Un « $ » seul n'est pas permis : écrivez « $$ » pour un dollar.")


def validate_letter(text: str) -> None:
    """Only the known $placeholders may appear in the letter (named in migrations: keep it)."""
    validate_placeholders(text, PLACEHOLDERS)


class AppelAProjets(models.Model):
    """One yearly call for projects of a contract, with the funders' envelopes."""

    class Statut(models.TextChoices):
        EN_PREPARATION = "en_preparation", "En préparation"
        OUVERT = "ouvert", "Ouvert"
        CLOS = "clos", "Clos"
        PROGRAMME = "programme", "Programmé"

    contrat = models.ForeignKey(
        ContratDeVille, verbose_name="contrat", on_delete=models.PROTECT, related_name="appels"
    )
    annee = models.PositiveSmallIntegerField("exercice", validators=year_validators)
    nom = models.CharField("nom", max_length=200)
    date_ouverture = models.DateField("ouverture du dépôt")
    date_cloture = models.DateField("clôture du dépôt")
    orientations = models.ManyToManyField(
        NoeudStrategie,
        verbose_name="orientations et objectifs visés",
        related_name="appels",
        blank=True,
    )
    statut = models.CharField(
        "statut", max_length=16, choices=Statut, default=Statut.EN_PREPARATION
    )
    courrier_notification = models.TextField(
        "modèle du courrier de notification",
        default=DEFAULT_LETTER,
        validators=[validate_letter],
        help_text="Variables possibles : " + ", ".join(f"${name}" for name in PLACEHOLDERS) + ".",
    )
    conditions = models.TextField(
        "conditions de la subvention",
        blank=True,
        help_text="Reprises dans chaque courrier de notification.",
    )
    signataire = models.CharField(
        "signataire des courriers", max_length=200, blank=True, default="Le Président"
    )
    history = HistoricalRecords()

    objects = RoleQuerySet.as_manager()  # Framed by the chef de service; read by all.

    class Meta:
        verbose_name = "appel à projets"
        verbose_name_plural = "appels à projets"
        ordering = ["-annee", "nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["contrat", "annee"],
                name="%(app_label)s_%(class)s_one_per_contract_and_year",
                violation_error_message="Ce contrat a déjà un appel à projets pour cet exercice.",
            ),
            models.CheckConstraint(
                condition=Q(date_cloture__gte=F("date_ouverture")),
                name="%(app_label)s_%(class)s_dates_in_order",
                violation_error_message="La clôture du dépôt précède son ouverture.",
            ),
        ]

    def __str__(self):
        return self.nom

    def get_absolute_url(self):
        return reverse("cvu:aap_detail", args=[self.pk])

    def clean(self):
        if self.date_ouverture and self.date_cloture and self.date_cloture < self.date_ouverture:
            raise ValidationError(
                {"date_cloture": "La clôture du dépôt doit suivre son ouverture."}
            )
        if self.contrat_id and self.annee:
            contrat = self.contrat
            if not contrat.annee_debut <= self.annee <= contrat.annee_fin:
                raise ValidationError(
                    {
                        "annee": "L'exercice doit être compris dans la période du contrat "
                        f"({contrat.annee_debut}–{contrat.annee_fin})."
                    }
                )


class Enveloppe(models.Model):
    """What one funder puts into a call for projects."""

    appel = models.ForeignKey(
        AppelAProjets,
        verbose_name="appel à projets",
        on_delete=models.CASCADE,
        related_name="enveloppes",
    )
    financeur = models.ForeignKey(
        Organisation, verbose_name="financeur", on_delete=models.PROTECT, related_name="+"
    )
    ligne = models.ForeignKey(
        LigneFinancement,
        verbose_name="ligne de financement",
        on_delete=models.PROTECT,
        related_name="enveloppes",
        null=True,
        blank=True,
    )
    montant = money("montant de l'enveloppe")
    history = HistoricalRecords()

    objects = SharedQuerySet.as_manager()

    class Meta:
        verbose_name = "enveloppe"
        verbose_name_plural = "enveloppes"
        ordering = ["financeur__nom", "ligne__libelle"]
        constraints = [
            # One envelope per funder and funding line (one without a line).
            models.UniqueConstraint(
                fields=["appel", "financeur"],
                condition=Q(ligne__isnull=True),
                name="%(app_label)s_%(class)s_one_per_funder",
                violation_error_message="Ce financeur a déjà une enveloppe pour cet appel.",
            ),
            models.UniqueConstraint(
                fields=["appel", "financeur", "ligne"],
                condition=Q(ligne__isnull=False),
                name="%(app_label)s_%(class)s_one_per_funding_line",
                violation_error_message="Ce financeur a déjà une enveloppe sur cette ligne pour "
                "cet appel.",
            ),
            models.CheckConstraint(
                condition=Q(montant__gte=0),
                name="%(app_label)s_%(class)s_not_negative",
                violation_error_message="Un montant ne peut pas être négatif.",
            ),
        ]

    def __str__(self):
        return f"{self.ligne or self.financeur} – {self.appel}"

    def clean(self):
        check_ligne(self.financeur_id, self.ligne)


class TransitionStatut(models.Model):
    """One step of a dossier in the cycle: from, to, who, when, and why when it was forced."""

    action = models.ForeignKey(
        Action, verbose_name="dossier", on_delete=models.CASCADE, related_name="transitions"
    )
    de = models.CharField("de", max_length=20, choices=Action.Statut)
    vers = models.CharField("vers", max_length=20, choices=Action.Statut)
    par = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="par", on_delete=models.PROTECT, related_name="+"
    )
    le = models.DateTimeField("le", auto_now_add=True)
    motif = models.TextField("motif", blank=True)
    derogation = models.BooleanField(
        "dérogation",
        default=False,
        help_text="Réouverture ou dérogation décidée par le chef de service.",
    )

    objects = SharedQuerySet.as_manager()

    class Meta:
        verbose_name = "changement de statut"
        verbose_name_plural = "changements de statut"
        ordering = ["le", "pk"]

    def __str__(self):
        return f"{self.get_de_display()} → {self.get_vers_display()}"


class Avis(models.TextChoices):
    FAVORABLE = "favorable", "Favorable"
    RESERVE = "reserve", "Réservé"
    DEFAVORABLE = "defavorable", "Défavorable"


# The shared instruction grid: (field prefix, label).
CRITERES = [
    ("objectifs", "Adéquation aux objectifs du contrat"),
    ("qpv", "Présence dans les QPV"),
    ("public", "Public visé"),
    ("capacite", "Capacité du porteur"),
    ("faisabilite", "Faisabilité et calendrier"),
    ("budget", "Réalisme du budget"),
]
NOTE_HELP = "De 0 (insuffisant) à 3 (très satisfaisant)."


def _note(label: str):
    return models.PositiveSmallIntegerField(
        label,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(0, "La note va de 0 à 3."),
            MaxValueValidator(3, "La note va de 0 à 3."),
        ],
        help_text=NOTE_HELP,
    )


class Instruction(models.Model):
    """The instruction of a dossier by its referent chef de projet, along the shared grid."""

    action = models.OneToOneField(
        Action, verbose_name="dossier", on_delete=models.CASCADE, related_name="instruction"
    )
    objectifs_note = _note("adéquation aux objectifs")
    objectifs_commentaire = models.TextField("commentaire", blank=True)
    qpv_note = _note("présence dans les QPV")
    qpv_commentaire = models.TextField("commentaire", blank=True)
    public_note = _note("public visé")
    public_commentaire = models.TextField("commentaire", blank=True)
    capacite_note = _note("capacité du porteur")
    capacite_commentaire = models.TextField("commentaire", blank=True)
    faisabilite_note = _note("faisabilité et calendrier")
    faisabilite_commentaire = models.TextField("commentaire", blank=True)
    budget_note = _note("réalisme du budget")
    budget_commentaire = models.TextField("commentaire", blank=True)
    avis = models.CharField("avis", max_length=12, choices=Avis, blank=True)
    synthese = models.TextField("synthèse", blank=True)
    instruit_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="instruit par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField("modifiée le", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "instruction"
        verbose_name_plural = "instructions"

    def __str__(self):
        return f"Instruction de {self.action}"

    @property
    def grille(self) -> list[dict]:
        return [
            {
                "label": label,
                "note": getattr(self, f"{key}_note"),
                "commentaire": getattr(self, f"{key}_commentaire"),
            }
            for key, label in CRITERES
        ]

    @property
    def total(self) -> int | None:
        notes = [getattr(self, f"{key}_note") for key, _ in CRITERES]
        if any(note is None for note in notes):
            return None
        return sum(notes)

    @property
    def complete(self) -> bool:
        return self.total is not None and bool(self.avis)


class AvisFinanceur(models.Model):
    """A co-funder's opinion on a dossier, entered by the chef de projet on its behalf."""

    action = models.ForeignKey(
        Action, verbose_name="dossier", on_delete=models.CASCADE, related_name="avis_financeurs"
    )
    financeur = models.ForeignKey(
        Organisation, verbose_name="financeur", on_delete=models.PROTECT, related_name="+"
    )
    avis = models.CharField("avis", max_length=12, choices=Avis)
    commentaire = models.TextField("commentaire", blank=True)
    saisi_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="saisi par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "avis d'un financeur"
        verbose_name_plural = "avis des financeurs"
        ordering = ["financeur__nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "financeur"],
                name="%(app_label)s_%(class)s_one_per_funder",
                violation_error_message="Ce financeur a déjà donné son avis sur ce dossier.",
            )
        ]

    def __str__(self):
        return f"{self.financeur} : {self.get_avis_display()}"


class Comite(models.Model):
    """A programming session of the funders for a call, with the dossiers on its agenda."""

    appel = models.ForeignKey(
        AppelAProjets,
        verbose_name="appel à projets",
        on_delete=models.CASCADE,
        related_name="comites",
    )
    date = models.DateField("date")
    lieu = models.CharField("lieu", max_length=200, blank=True)
    dossiers = models.ManyToManyField(
        Action, verbose_name="dossiers à l'ordre du jour", related_name="comites", blank=True
    )
    reunion = models.ForeignKey(
        "cvu.Reunion",
        verbose_name="réunion du calendrier",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comites",
    )
    notes = models.TextField("notes", blank=True)

    objects = SharedQuerySet.as_manager()

    class Meta:
        verbose_name = "comité de programmation"
        verbose_name_plural = "comités de programmation"
        ordering = ["-date"]

    def __str__(self):
        return f"Comité du {self.date:%d/%m/%Y} – {self.appel}"

    def get_absolute_url(self):
        return reverse("cvu:comite_detail", args=[self.pk])


class DecisionComite(models.Model):
    """What a committee decided for one dossier (the voted amounts are on the financing lines)."""

    class Sens(models.TextChoices):
        PROGRAMME = "programme", "Programmé"
        REFUSE = "refuse", "Refusé"
        AJOURNE = "ajourne", "Ajourné"

    comite = models.ForeignKey(
        Comite, verbose_name="comité", on_delete=models.CASCADE, related_name="decisions"
    )
    action = models.ForeignKey(
        Action, verbose_name="dossier", on_delete=models.CASCADE, related_name="decisions_comite"
    )
    sens = models.CharField("décision", max_length=10, choices=Sens)
    commentaire = models.TextField("commentaire", blank=True)
    depassement_confirme = models.BooleanField("dépassement d'enveloppe confirmé", default=False)
    saisie_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="saisie par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    saisie_le = models.DateTimeField("saisie le", auto_now=True)

    class Meta:
        verbose_name = "décision du comité"
        verbose_name_plural = "décisions du comité"
        constraints = [
            models.UniqueConstraint(
                fields=["comite", "action"],
                name="%(app_label)s_%(class)s_one_per_dossier",
                violation_error_message="Ce dossier a déjà une décision de ce comité.",
            )
        ]

    def __str__(self):
        return f"{self.action} : {self.get_sens_display()}"


# The beneficiaries a bilan counts (Bilan's fields), in the order of the form and the tables.
BENEFICIAIRES = [
    "beneficiaires",
    "beneficiaires_qpv",
    "femmes",
    "hommes",
    "moins_16",
    "de_16_25",
    "de_26_64",
    "plus_65",
]


class Bilan(models.Model):
    """The porteur's bilan of one exercice (Cerfa 15059): qualitative report and realised budget.
    A multi-year action (CPO) has one per exercice, each due six months after its end."""

    action = models.ForeignKey(
        Action, verbose_name="dossier", on_delete=models.CASCADE, related_name="bilans"
    )
    exercice = models.PositiveSmallIntegerField(
        "exercice", validators=year_validators, help_text="L'année dont le bilan rend compte."
    )
    recu_le = models.DateField("reçu le")
    rapport = models.TextField("bilan qualitatif")
    cout_realise = money("coût total réalisé", default=Decimal("0.00"))
    # Who the action reached in the exercice (the contract's evaluation; optional, counts).
    beneficiaires = models.PositiveIntegerField("bénéficiaires touchés", null=True, blank=True)
    beneficiaires_qpv = models.PositiveIntegerField("dont habitants des QPV", null=True, blank=True)
    femmes = models.PositiveIntegerField("dont femmes", null=True, blank=True)
    hommes = models.PositiveIntegerField("dont hommes", null=True, blank=True)
    moins_16 = models.PositiveIntegerField("moins de 16 ans", null=True, blank=True)
    de_16_25 = models.PositiveIntegerField("16 à 25 ans", null=True, blank=True)
    de_26_64 = models.PositiveIntegerField("26 à 64 ans", null=True, blank=True)
    plus_65 = models.PositiveIntegerField("65 ans et plus", null=True, blank=True)
    cerfa = models.ForeignKey(
        Document,
        verbose_name="Cerfa 15059",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Rangé parmi les documents du dossier.",
    )
    saisi_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="saisi par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "bilan"
        verbose_name_plural = "bilans"
        ordering = ["exercice"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "exercice"],
                name="%(app_label)s_%(class)s_one_per_exercice",
                violation_error_message="Ce dossier a déjà un bilan pour cet exercice.",
            ),
        ]

    def __str__(self):
        return f"Bilan {self.exercice} de {self.action}"

    def save(self, *args, **kwargs):
        if self.exercice is None:  # an annual action's only bilan, or a CPO's final one
            self.exercice = self.action.derniere_annee
        super().save(*args, **kwargs)

    def clean(self):
        """The parts of the beneficiaries cannot exceed their total; every error at once."""
        parts = {
            "beneficiaires_qpv": ([self.beneficiaires_qpv], "Les habitants des QPV"),
            "hommes": ([self.femmes, self.hommes], "Les femmes et les hommes"),
            "plus_65": (
                [self.moins_16, self.de_16_25, self.de_26_64, self.plus_65],
                "Les tranches d'âge",
            ),
        }
        errors = {}
        given = [n for values, _ in parts.values() for n in values if n is not None]
        if self.beneficiaires is None and given:
            errors["beneficiaires"] = "Indiquez le nombre total de bénéficiaires touchés."
        for field, (values, label) in parts.items():
            total = sum(n for n in values if n is not None)
            if self.beneficiaires is not None and total > self.beneficiaires:
                errors[field] = (
                    f"{label} ({total}) dépassent le total des bénéficiaires "
                    f"({self.beneficiaires})."
                )
        if errors:
            raise ValidationError(errors)


class BeneficiairesQpv(models.Model):
    """How many of a bilan's QPV residents live in one QPV, when the porteur knows."""

    bilan = models.ForeignKey(
        Bilan, verbose_name="bilan", on_delete=models.CASCADE, related_name="par_qpv"
    )
    qpv = models.ForeignKey(
        "quartiers.Qpv", verbose_name="QPV", on_delete=models.PROTECT, related_name="+"
    )
    nombre = models.PositiveIntegerField("habitants du QPV touchés")

    class Meta:
        verbose_name = "bénéficiaires d'un QPV"
        verbose_name_plural = "bénéficiaires par QPV"
        ordering = ["qpv__nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["bilan", "qpv"],
                name="%(app_label)s_%(class)s_one_per_qpv",
                violation_error_message="Ce bilan compte déjà les habitants de ce QPV.",
            ),
        ]

    def __str__(self):
        return f"{self.bilan} : {self.nombre} habitants de {self.qpv}"


class BilanFinancement(models.Model):
    """Spent against one line of the financing plan."""

    bilan = models.ForeignKey(
        Bilan, verbose_name="bilan", on_delete=models.CASCADE, related_name="lignes"
    )
    financement = models.OneToOneField(
        Financement, verbose_name="financement", on_delete=models.CASCADE, related_name="realise"
    )
    montant_realise = money("montant utilisé")

    class Meta:
        verbose_name = "dépense réalisée"
        verbose_name_plural = "dépenses réalisées"
        ordering = ["financement__financeur__nom"]

    def __str__(self):
        return f"{self.financement} : {self.montant_realise}"


def default_bilan_deadline(action: Action, exercice: int | None = None) -> date:
    """Six months after the end of the exercice: of `exercice`, by default the action's last."""
    return date((exercice or action.derniere_annee) + 1, 6, 30)
