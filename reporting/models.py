from datetime import timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.querysets import RoleQuerySet, is_active_user
from quartiers.models import year_validators


def stale_after() -> timedelta:
    """A build still "en cours" after this long was interrupted (worker killed, machine
    restarted): no build outlives the task time limit, which stops it."""
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + timedelta(minutes=5)


class RapportQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A report goes to who asked for it and to the chef de service and administrators; the
        direction de projet also reads the reports that hold no personal data, and every user
        the versions of the annual report."""
        if not is_active_user(user):
            return self.none()
        if user.sees_everything_as_manager:
            return self.all()
        if user.role == user.Role.DIRECTION:
            return self.filter(Q(demande_par=user) | Q(type__in=Rapport.SANS_DONNEES_PERSONNELLES))
        # The annual report is everyone's: the chefs de projet wrote chapters of it.
        return self.filter(Q(demande_par=user) | Q(type=Rapport.Type.ANNUEL))

    def requested_by(self, user):
        """The list page: everything for the chef de service, one's own reports for the others."""
        queryset = self.visible_to(user)
        if is_active_user(user) and not user.sees_everything_as_manager:
            queryset = queryset.filter(demande_par=user)
        return queryset


def rapport_path(instance, filename: str) -> str:
    return f"rapports/{instance.created_at:%Y/%m}/{filename}"


class Rapport(models.Model):
    """A PDF report asked for by a user and built by a worker."""

    class Type(models.TextChoices):
        PARTICIPATION = "participation", "Avancement des démarches participatives"
        PROGRAMMATION = "programmation", "Bilan de programmation"
        FICHE = "fiche", "Fiche QPV / commune"
        PROJET_QUARTIER = "projet_quartier", "Fiche projet de quartier"
        MI_PARCOURS = "mi_parcours", "Évaluation à mi-parcours"
        EXPORT = "export", "Export d'une liste"
        ANNUEL = "annuel", "Rapport annuel politique de la ville"
        COMPTE_RENDU = "compte_rendu", "Compte rendu de réunion"

    # Counts and figures only (no council member, no inhabitant is named): the direction de
    # projet may read them whoever asked for them.
    SANS_DONNEES_PERSONNELLES = [
        Type.PARTICIPATION,
        Type.PROGRAMMATION,
        Type.FICHE,
        Type.PROJET_QUARTIER,
        Type.MI_PARCOURS,
        Type.ANNUEL,  # councils' signatories only when marked public (reporting.annuel)
    ]
    # Types built with an editable document (.docx, core.editable) beside the PDF.
    MODIFIABLES = [Type.ANNUEL, Type.COMPTE_RENDU]
    # Official records: the nightly purge leaves them (every annual report version is kept; a
    # meeting keeps its latest compte rendu, see REMPLACES).
    CONSERVES = [Type.ANNUEL, Type.COMPTE_RENDU]
    # A new version ready replaces the earlier ones of the same meeting.
    REMPLACES = [Type.COMPTE_RENDU]

    class Statut(models.TextChoices):
        EN_ATTENTE = "en_attente", "En attente"
        EN_COURS = "en_cours", "En cours"
        PRET = "pret", "Prêt"
        ECHEC = "echec", "Échec"

    type = models.CharField("type", max_length=20, choices=Type)
    titre = models.CharField("titre", max_length=300)
    parametres = models.JSONField("paramètres", default=dict)
    statut = models.CharField("statut", max_length=12, choices=Statut, default=Statut.EN_ATTENTE)
    demande_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="demandé par",
        on_delete=models.CASCADE,
        related_name="rapports",
    )
    created_at = models.DateTimeField("demandé le", auto_now_add=True)
    started_at = models.DateTimeField("commencé le", null=True, blank=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    erreur = models.TextField("erreur", blank=True)
    fichier = models.FileField("fichier", upload_to=rapport_path, max_length=300, blank=True)
    pages = models.PositiveIntegerField("pages", null=True, blank=True)
    # A big bilan de programmation: the full lists the PDF only sums up (rapports.ANNEXE_AU_DELA).
    annexe = models.FileField("annexe Excel", upload_to=rapport_path, max_length=300, blank=True)
    # The same text as an editable document (MODIFIABLES), corrected in a word processor.
    modifiable = models.FileField(
        "version modifiable (.docx)", upload_to=rapport_path, max_length=300, blank=True
    )
    # Exports: rows written so far by the worker, of parametres["lignes"].
    progression = models.PositiveIntegerField("lignes écrites", null=True, blank=True)
    task_id = models.CharField("tâche Celery", max_length=50, blank=True)
    tentatives = models.PositiveSmallIntegerField("tentatives", default=0)
    # A meeting's compte rendu: the meeting it is of (deleted with it).
    reunion = models.ForeignKey(
        "cvu.Reunion",
        verbose_name="réunion",
        on_delete=models.CASCADE,
        related_name="comptes_rendus",
        null=True,
        blank=True,
    )
    envoyer_lien = models.BooleanField(
        "envoyer le lien par e-mail", default=False, help_text="Pour le pack mensuel."
    )

    objects = RapportQuerySet.as_manager()

    class Meta:
        verbose_name = "rapport"
        verbose_name_plural = "rapports"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["demande_par", "-created_at"])]

    def __str__(self):
        return self.titre

    def get_absolute_url(self):
        return reverse("reporting:rapport_detail", args=[self.pk])

    @property
    def adresse(self) -> str:
        """The report page's full address, given in its e-mail and in a PDF's text."""
        return settings.SITE_URL.rstrip("/") + self.get_absolute_url()

    def delete_files(self) -> None:
        """The built files (a retry or the purge): the record keeps no path to a missing file."""
        for field in (self.fichier, self.annexe, self.modifiable):
            if field:
                field.delete(save=False)

    @property
    def interrupted(self) -> bool:
        """Started long ago and never finished: its worker died."""
        return (
            self.statut == self.Statut.EN_COURS
            and self.started_at is not None
            and timezone.now() - self.started_at > stale_after()
        )

    @property
    def in_progress(self) -> bool:
        return (
            self.statut in (self.Statut.EN_ATTENTE, self.Statut.EN_COURS) and not self.interrupted
        )

    @property
    def retryable(self) -> bool:
        return self.statut == self.Statut.ECHEC or self.interrupted

    @property
    def is_export(self) -> bool:
        return self.type == self.Type.EXPORT

    @property
    def extension(self) -> str:
        return self.parametres.get("format", "pdf") if self.is_export else "pdf"

    @property
    def pourcentage(self) -> int | None:
        """An export's progress in percent, while the worker writes its rows."""
        total = self.parametres.get("lignes") if self.is_export else None
        if not total or self.progression is None:
            return None
        return min(100, round(100 * self.progression / total))

    @property
    def duree(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


def delete_rapport_files(sender, instance: Rapport, **kwargs) -> None:
    """A record deleted (the purge, a replaced compte rendu, its meeting deleted): its files go
    once the deletion is committed, so that no file outlives its record."""
    transaction.on_commit(instance.delete_files)


# ---------------------------------------------------------------- rapport annuel politique de la ville


class RapportAnnuelQuerySet(RoleQuerySet):
    """Read by every user (the direction reads every version); managed by the chef de service."""


class RapportAnnuel(models.Model):
    """The rapport annuel politique de la ville of a contract's year (CGCT art. L1111-2, décret
    n° 2015-1118): a draft assembled from the data (reporting.annuel), chapters written by the
    service and the chefs de projet, the councils' opinions, the approval by the conseil
    communautaire and the publication. Its PDF and .docx are Rapport records (one per version)."""

    class Etape(models.TextChoices):
        PREPARATION = "preparation", "En préparation"
        CONSULTATION = "consultation", "En consultation"
        APPROUVE = "approuve", "Approuvé"
        PUBLIE = "publie", "Publié"

    contrat = models.ForeignKey(
        "cvu.ContratDeVille",
        verbose_name="contrat de ville",
        on_delete=models.PROTECT,
        related_name="rapports_annuels",
    )
    annee = models.PositiveSmallIntegerField("année", validators=year_validators)
    communes_dsu = models.ManyToManyField(
        "quartiers.Commune",
        verbose_name="communes bénéficiaires de la DSU",
        related_name="+",
        blank=True,
        help_text="Communes qui ont perçu la dotation de solidarité urbaine cette année : "
        "chacune a un chapitre DSU.",
    )
    date_approbation = models.DateField(
        "approuvé en conseil communautaire le", null=True, blank=True
    )
    numero_deliberation = models.CharField("n° de délibération", max_length=50, blank=True)
    publie_le = models.DateField("publié le", null=True, blank=True)
    lieu_publication = models.CharField(
        "lieu de publication",
        max_length=300,
        blank=True,
        help_text="Adresse du site ou recueil des actes où le rapport est publié.",
    )
    cree_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="préparé par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    history = HistoricalRecords()

    objects = RapportAnnuelQuerySet.as_manager()

    class Meta:
        verbose_name = "rapport annuel politique de la ville"
        verbose_name_plural = "rapports annuels politique de la ville"
        ordering = ["-annee", "contrat"]
        constraints = [
            models.UniqueConstraint(
                fields=["contrat", "annee"],
                name="%(app_label)s_%(class)s_one_per_contract_year",
                violation_error_message="Le rapport annuel de cette année existe déjà pour ce "
                "contrat.",
            )
        ]

    def __str__(self):
        return f"Rapport annuel politique de la ville {self.annee} – {self.contrat.nom}"

    def get_absolute_url(self):
        return reverse("reporting:annuel_detail", args=[self.pk])

    @property
    def etape(self) -> str:
        if self.publie_le:
            return self.Etape.PUBLIE
        if self.date_approbation:
            return self.Etape.APPROUVE
        if self.consultations.exists():
            return self.Etape.CONSULTATION
        return self.Etape.PREPARATION

    def get_etape_display(self) -> str:
        return self.Etape(self.etape).label

    @property
    def approuve(self) -> bool:
        return self.date_approbation is not None


class ChapitreQuerySet(RoleQuerySet):
    def editable_by(self, user):
        """Nothing changes once the conseil communautaire has approved the text."""
        return super().editable_by(user).filter(rapport__date_approbation__isnull=True)

    def editable_by_chef_projet(self, user):
        """A chef de projet writes the chapters of the communes of their sectors."""
        from quartiers.models import Commune

        return self.filter(commune__in=Commune.objects.editable_by(user))


class ChapitreRapport(models.Model):
    """A written chapter of the annual report: a commune's actions, a DSU commune's chapter,
    or one of the service's (prospects, droit commun, coordination, participation, evaluation).
    The text takes simple formatting (core.texte)."""

    class Type(models.TextChoices):
        COMMUNE = "commune", "Actions de la commune"
        DSU = "dsu", "Dotation de solidarité urbaine"
        PERSPECTIVES = "perspectives", "Perspectives et améliorations"
        DROIT_COMMUN = "droit_commun", "Mobilisation du droit commun"
        COORDINATION = "coordination", "Coordination des acteurs"
        PARTICIPATION = "participation", "Participation des habitants"
        EVALUATION = "evaluation", "Évaluation"

    PAR_COMMUNE = (Type.COMMUNE, Type.DSU)
    DU_SERVICE = (
        Type.PERSPECTIVES,
        Type.DROIT_COMMUN,
        Type.COORDINATION,
        Type.PARTICIPATION,
        Type.EVALUATION,
    )

    rapport = models.ForeignKey(
        RapportAnnuel, verbose_name="rapport", on_delete=models.CASCADE, related_name="chapitres"
    )
    type = models.CharField("chapitre", max_length=20, choices=Type)
    commune = models.ForeignKey(
        "quartiers.Commune",
        verbose_name="commune",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    texte = models.TextField("texte", blank=True)
    modifie_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="modifié par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    history = HistoricalRecords()

    objects = ChapitreQuerySet.as_manager()

    class Meta:
        verbose_name = "chapitre du rapport annuel"
        verbose_name_plural = "chapitres du rapport annuel"
        ordering = ["rapport", "type", "commune__nom"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=["commune", "dsu"], commune__isnull=False)
                | (~Q(type__in=["commune", "dsu"]) & Q(commune__isnull=True)),
                name="%(app_label)s_%(class)s_commune_iff_commune_chapter",
            ),
            models.UniqueConstraint(
                fields=["rapport", "type", "commune"],
                condition=Q(commune__isnull=False),
                name="%(app_label)s_%(class)s_one_per_commune",
            ),
            models.UniqueConstraint(
                fields=["rapport", "type"],
                condition=Q(commune__isnull=True),
                name="%(app_label)s_%(class)s_one_per_service_type",
            ),
        ]

    def __str__(self):
        label = self.get_type_display()
        return f"{label} – {self.commune.nom}" if self.commune_id else label

    @property
    def titre(self) -> str:
        if self.type == self.Type.COMMUNE:
            return self.commune.nom
        if self.type == self.Type.DSU:
            return f"{self.commune.nom} : dotation de solidarité urbaine"
        return self.get_type_display()

    @property
    def vide(self) -> bool:
        return not self.texte.strip()


def avis_path(instance, filename: str) -> str:
    return f"rapports-annuels/{instance.rapport_id}/avis/{filename}"


class Consultation(models.Model):
    """The draft sent to a conseil citoyen or a conseil municipal for opinion: at least one
    month to answer; without an answer by the deadline the opinion is deemed favourable."""

    class Avis(models.TextChoices):
        FAVORABLE = "favorable", "Favorable"
        OBSERVATIONS = "observations", "Favorable avec observations"
        DEFAVORABLE = "defavorable", "Défavorable"

    rapport = models.ForeignKey(
        RapportAnnuel,
        verbose_name="rapport",
        on_delete=models.CASCADE,
        related_name="consultations",
    )
    conseil_citoyen = models.ForeignKey(
        "participation.ConseilCitoyen",
        verbose_name="conseil citoyen",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    commune = models.ForeignKey(
        "quartiers.Commune",
        verbose_name="conseil municipal de",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    envoye_le = models.DateField("projet envoyé le")
    echeance = models.DateField(
        "avis attendu au plus tard le",
        help_text="Un mois au moins après l'envoi ; sans réponse à cette date, l'avis est "
        "réputé favorable.",
    )
    avis = models.CharField("avis rendu", max_length=15, choices=Avis, blank=True)
    avis_recu_le = models.DateField("avis reçu le", null=True, blank=True)
    texte = models.TextField("texte de l'avis ou observations", blank=True)
    fichier = models.FileField(
        "avis signé (fichier)", upload_to=avis_path, max_length=300, blank=True
    )
    signataires = models.TextField(
        "signataires",
        blank=True,
        help_text="Noms des membres qui signent l'avis. Données personnelles : ils ne figurent "
        "dans le rapport que si vous cochez la case suivante.",
    )
    signataires_publics = models.BooleanField(
        "publier les noms des signataires",
        default=False,
        help_text="Le conseil a accepté que ses signataires soient nommés dans le rapport publié.",
    )
    suite_donnee = models.TextField(
        "suite donnée par le conseil communautaire",
        blank=True,
        help_text="Ce que la délibération retient des observations de ce conseil.",
    )
    history = HistoricalRecords(excluded_fields=["signataires"])

    objects = RapportAnnuelQuerySet.as_manager()

    class Meta:
        verbose_name = "consultation sur le rapport annuel"
        verbose_name_plural = "consultations sur le rapport annuel"
        ordering = ["rapport", "envoye_le", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(conseil_citoyen__isnull=False, commune__isnull=True)
                | Q(conseil_citoyen__isnull=True, commune__isnull=False),
                name="%(app_label)s_%(class)s_one_council",
                violation_error_message="Choisissez soit un conseil citoyen, soit un conseil "
                "municipal.",
            ),
            models.UniqueConstraint(
                fields=["rapport", "conseil_citoyen"],
                name="%(app_label)s_%(class)s_once_per_conseil_citoyen",
                violation_error_message="Ce conseil citoyen est déjà consulté sur ce rapport.",
            ),
            models.UniqueConstraint(
                fields=["rapport", "commune"],
                name="%(app_label)s_%(class)s_once_per_conseil_municipal",
                violation_error_message="Ce conseil municipal est déjà consulté sur ce rapport.",
            ),
        ]

    def __str__(self):
        return self.instance_nom

    @property
    def instance_nom(self) -> str:
        if self.conseil_citoyen_id:
            return str(self.conseil_citoyen)
        return f"Conseil municipal de {self.commune.nom}"

    def clean(self):
        errors = {}
        if self.envoye_le and self.echeance and self.echeance < echeance_minimale(self.envoye_le):
            errors["echeance"] = (
                "Le conseil a au moins un mois pour rendre son avis : l'échéance ne peut précéder "
                f"le {echeance_minimale(self.envoye_le):%d/%m/%Y}."
            )
        if self.avis and not self.avis_recu_le:
            errors["avis_recu_le"] = "Indiquez la date à laquelle l'avis a été reçu."
        if self.avis_recu_le and not self.avis:
            errors["avis"] = "Indiquez l'avis rendu à cette date."
        if self.avis_recu_le and self.envoye_le and self.avis_recu_le < self.envoye_le:
            errors["avis_recu_le"] = "L'avis ne peut pas être reçu avant l'envoi du projet."
        if errors:
            raise ValidationError(errors)

    def avis_au(self, jour) -> tuple[str, str]:
        """The opinion as it stands on `jour`: (code, words). The deadline day is still the
        council's; the day after, silence is a favourable opinion. An opinion counts from the
        day it was received."""
        if self.avis and self.avis_recu_le and self.avis_recu_le <= jour:
            label = self.get_avis_display()
            if self.avis_recu_le and self.avis_recu_le > self.echeance:
                label += f" (reçu après l'échéance du {self.echeance:%d/%m/%Y})"
            return self.avis, label
        if jour > self.echeance:
            return "repute_favorable", (
                f"Réputé favorable (pas de réponse au {self.echeance:%d/%m/%Y})"
            )
        return "en_attente", f"En attente (échéance le {self.echeance:%d/%m/%Y})"

    @property
    def observations(self) -> bool:
        """An opinion the conseil communautaire must answer in its délibération."""
        return self.avis in (self.Avis.OBSERVATIONS, self.Avis.DEFAVORABLE)


def echeance_minimale(envoye_le):
    """One calendar month after sending (31 January → 28 or 29 February)."""
    return envoye_le + relativedelta(months=1)
