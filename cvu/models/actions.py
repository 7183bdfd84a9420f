from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import DecimalField, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.querysets import RoleQuerySet, SharedQuerySet
from quartiers.models import Commune, Qpv, Secteur, year_validators

from .contrats import ContratDeVille, NoeudStrategie, Tag
from .organisations import LigneFinancement, Organisation, check_ligne

ZERO = Decimal("0.00")
no_negative = MinValueValidator(ZERO, "Un montant ne peut pas être négatif.")


def money(verbose_name: str, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name, max_digits=12, decimal_places=2, validators=[no_negative], **kwargs
    )


class ProgrammeQuerySet(RoleQuerySet):
    def of_sector_of(self, user):
        """Programmes over the communes or sectors of a chef de projet (holder or backup)."""
        return self.filter(
            Q(secteur__in=Secteur.objects.of_user(user))
            | Q(
                pk__in=ProgrammeActions.communes.through.objects.filter(
                    commune__in=Commune.objects.editable_by(user)
                ).values("programmeactions_id")
            )
        )

    def editable_by_chef_projet(self, user):
        # Once validated by the chef de service, a programme's frame is locked.
        return self.of_sector_of(user).filter(statut=ProgrammeActions.Statut.BROUILLON)


class ProgrammeActions(models.Model):
    """The actions of a commune or sector for a year (annual) or a period (multi-year)."""

    class Type(models.TextChoices):
        ANNUEL = "annuel", "Annuel"
        PLURIANNUEL = "pluriannuel", "Pluriannuel"

    class Statut(models.TextChoices):
        BROUILLON = "brouillon", "Brouillon"
        VALIDE = "valide", "Validé"

    contrat = models.ForeignKey(
        ContratDeVille, verbose_name="contrat", on_delete=models.PROTECT, related_name="programmes"
    )
    nom = models.CharField("nom", max_length=200)
    secteur = models.ForeignKey(
        Secteur,
        verbose_name="secteur",
        on_delete=models.PROTECT,
        related_name="programmes",
        null=True,
        blank=True,
    )
    communes = models.ManyToManyField(
        Commune, verbose_name="communes", related_name="programmes", blank=True
    )
    type = models.CharField("type", max_length=12, choices=Type, default=Type.ANNUEL)
    annee_debut = models.PositiveSmallIntegerField("année", validators=year_validators)
    annee_fin = models.PositiveSmallIntegerField(
        "année de fin",
        validators=year_validators,
        null=True,
        blank=True,
        help_text="Pour un programme pluriannuel seulement.",
    )
    statut = models.CharField("statut", max_length=10, choices=Statut, default=Statut.BROUILLON)
    valide_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="validé par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    valide_le = models.DateTimeField("validé le", null=True, blank=True)
    notes = models.TextField("notes", blank=True)
    history = HistoricalRecords()

    objects = ProgrammeQuerySet.as_manager()

    class Meta:
        verbose_name = "programme d'actions"
        verbose_name_plural = "programmes d'actions"
        ordering = ["-annee_debut", "nom"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(type="annuel") & Q(annee_fin__isnull=True))
                | (Q(type="pluriannuel") & Q(annee_fin__gt=F("annee_debut"))),
                name="%(app_label)s_%(class)s_period_matches_type",
                violation_error_message="Un programme annuel n'a pas d'année de fin ; un "
                "programme pluriannuel finit après son année de début.",
            )
        ]

    def __str__(self):
        return f"{self.nom} ({self.periode})"

    def get_absolute_url(self):
        return reverse("cvu:programme_detail", args=[self.pk])

    @property
    def periode(self) -> str:
        return f"{self.annee_debut}–{self.annee_fin}" if self.annee_fin else str(self.annee_debut)


def _sum_of_financements(field: str, **filters):
    return Coalesce(
        Subquery(
            Financement.objects.filter(action=OuterRef("pk"), **filters)
            .order_by()
            .values("action")
            .annotate(total=Sum(field))
            .values("total"),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
        Value(ZERO),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def _last_year_due_before(day: date) -> int:
    """The last exercice whose yearly bilan deadline (30 June of the following year) is before
    `day`."""
    return day.year - 1 if day > date(day.year, 6, 30) else day.year - 2


def missing_yearly_bilans(
    today: date, action: "Action | None" = None, *, within_days: int | None = None
):
    """The financing lines of an action's earlier exercices (not its last) that were voted money
    and have no bilan, whose deadline (30 June of the following year) is past on `today` (or,
    with `within_days`, falls within that many days from `today`): of `action`, or of the outer
    query's action (ActionQuerySet.bilan_en_retard, bilan_proche)."""
    from .aap import Bilan

    if action is not None and action.annee_fin is None:
        return Financement.objects.none()
    ref = OuterRef if action is None else (lambda name: getattr(action, name))
    if within_days is None:
        years = Q(annee__lte=_last_year_due_before(today))
    else:
        until = today + timedelta(days=within_days + 1)
        years = Q(annee__gt=_last_year_due_before(today), annee__lte=_last_year_due_before(until))
    return Financement.objects.filter(
        years,
        ~Exists(Bilan.objects.filter(action_id=OuterRef("action_id"), exercice=OuterRef("annee"))),
        action=ref("pk"),
        montant_vote__gt=0,
        annee__gte=ref("annee"),
        annee__lt=ref("annee_fin"),
    )


def _final_deadline_passed(today: date) -> Q:
    """The dossier's own (final) bilan deadline is before `today`."""
    return Q(date_limite_bilan__lt=today)


class ActionQuerySet(RoleQuerySet):
    def editable_by_chef_projet(self, user):
        # A referent named by the chef de service edits the action even outside their sector.
        return self.filter(Q(pk__in=self.in_sector_of(user).values("pk")) | Q(referent=user))

    def in_sector_of(self, user):
        """Actions of a programme or a QPV of the chef de projet's sectors (referent aside)."""
        in_sector = Action.qpvs.through.objects.filter(
            qpv__in=Qpv.objects.editable_by(user)
        ).values("action_id")
        return self.filter(
            Q(programme__in=ProgrammeActions.objects.of_sector_of(user)) | Q(pk__in=in_sector)
        )

    def bilan_attendu(self):
        """Notified dossiers whose bilan is still expected (AWAITING_BILAN), late or not."""
        return self.filter(statut__in=AWAITING_BILAN)

    def bilan_en_retard(self, today: date | None = None):
        """The rule "this dossier's bilan is late", asked by the home page, digest, dashboard,
        action filter, committee and reports: a dossier still expecting its bilan
        (bilan_attendu) whose final deadline passed before `today` (by default the day in
        Paris), or a multi-year dossier (CPO) missing the bilan of an earlier exercice that was
        voted money, past 30 June of the following year (Cerfa 15059: within six months of the
        end of each exercice). A dossier without a final deadline is late only for an earlier
        exercice."""
        today = today or timezone.localdate()
        return self.bilan_attendu().filter(
            _final_deadline_passed(today) | Exists(missing_yearly_bilans(today))
        )

    def bilan_final_en_retard(self, today: date):
        """The part of bilan_en_retard that concerns the final (or only) bilan."""
        return self.bilan_attendu().filter(_final_deadline_passed(today))

    def bilan_dans_les_delais(self, today: date | None = None):
        """Expected bilans that are not late (bilan_en_retard's complement)."""
        today = today or timezone.localdate()
        return (
            self.bilan_attendu()
            .exclude(_final_deadline_passed(today))
            .exclude(Exists(missing_yearly_bilans(today)))
        )

    def bilan_proche(self, today: date | None = None, days: int = 30):
        """Expected bilans not late whose deadline comes within `days`: the final one, or an
        earlier exercice's of a CPO (annotated exercice_proche, for Action.echeance_proche)."""
        today = today or timezone.localdate()
        yearly = missing_yearly_bilans(today, within_days=days)
        return (
            self.bilan_dans_les_delais(today)
            .filter(Q(date_limite_bilan__lte=today + timedelta(days=days)) | Exists(yearly))
            .annotate(exercice_proche=Subquery(yearly.order_by("annee").values("annee")[:1]))
        )

    def with_exercice_en_retard(self, today: date | None = None):
        """exercice_en_retard: the earliest earlier exercice of a CPO whose bilan is late (None
        when only the final bilan is, or none), for Action.echeance_en_retard."""
        today = today or timezone.localdate()
        return self.annotate(
            exercice_en_retard=Subquery(
                missing_yearly_bilans(today).order_by("annee").values("annee")[:1]
            )
        )

    def with_totals(self):
        """total_demande, total_vote and total_verse per action, without multiplying rows."""
        return self.annotate(
            total_demande=_sum_of_financements("montant_demande"),
            total_vote=_sum_of_financements("montant_vote"),
            total_verse=_sum_of_financements("montant_verse"),
        )


class Action(models.Model):
    """One funded project (a dossier): porteur, QPVs, objectives and a financing plan."""

    class Statut(models.TextChoices):
        DEPOSE = "depose", "Déposé"
        EN_INSTRUCTION = "en_instruction", "En instruction"
        INSTRUIT = "instruit", "Instruit"
        PROGRAMME = "programme", "Programmé"
        REFUSE = "refuse", "Refusé"
        AJOURNE = "ajourne", "Ajourné"
        NOTIFIE = "notifie", "Notifié"
        CONVENTIONNE = "conventionne", "Conventionné"
        EN_COURS = "en_cours", "En cours"
        BILAN_ATTENDU = "bilan_attendu", "Bilan attendu"
        BILAN_RECU = "bilan_recu", "Bilan reçu"
        SOLDE = "solde", "Soldé"
        RETIRE = "retire", "Retiré"

    contrat = models.ForeignKey(
        ContratDeVille, verbose_name="contrat", on_delete=models.PROTECT, related_name="actions"
    )
    programme = models.ForeignKey(
        ProgrammeActions,
        verbose_name="programme",
        on_delete=models.PROTECT,
        related_name="actions",
        null=True,
        blank=True,
    )
    titre = models.CharField("intitulé", max_length=300)
    porteur = models.ForeignKey(
        Organisation,
        verbose_name="porteur",
        on_delete=models.PROTECT,
        related_name="actions_portees",
        db_index=False,  # led by cvu_action_porteur_statut below
    )
    annee = models.PositiveSmallIntegerField("exercice", validators=year_validators)
    annee_fin = models.PositiveSmallIntegerField(
        "fin (pluriannuel)",
        validators=year_validators,
        null=True,
        blank=True,
        help_text="Pour une action pluriannuelle (CPO) : dernière année.",
    )
    qpvs = models.ManyToManyField(
        Qpv, verbose_name="QPV ciblés", related_name="actions", blank=True
    )
    objectifs = models.ManyToManyField(
        NoeudStrategie, verbose_name="objectifs", related_name="actions", blank=True
    )
    tags = models.ManyToManyField(
        Tag, verbose_name="thématiques transversales", related_name="actions", blank=True
    )
    theme = models.CharField("thème", max_length=150, blank=True)
    public_vise = models.CharField("public visé", max_length=300, blank=True)
    description = models.TextField("description", blank=True)
    resultats_attendus = models.TextField("résultats attendus", blank=True)
    numero_dauphin = models.CharField("n° de dossier Dauphin", max_length=30, blank=True)
    referent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="chef de projet référent",
        on_delete=models.PROTECT,
        related_name="actions_suivies",
        null=True,
        blank=True,
        limit_choices_to={"role": "chef_projet"},
    )
    statut = models.CharField("statut", max_length=20, choices=Statut, default=Statut.DEPOSE)
    appel = models.ForeignKey(
        "cvu.AppelAProjets",
        verbose_name="appel à projets",
        on_delete=models.PROTECT,
        related_name="dossiers",
        null=True,
        blank=True,
    )
    date_limite_bilan = models.DateField(
        "date limite du bilan",
        null=True,
        blank=True,
        help_text="Par défaut, le 30 juin qui suit la fin de l'exercice.",
    )
    cout_total = money("coût total", default=ZERO)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)
    history = HistoricalRecords()

    objects = ActionQuerySet.as_manager()

    class Meta:
        verbose_name = "action"
        verbose_name_plural = "actions"
        ordering = ["-annee", "titre"]
        constraints = [
            models.UniqueConstraint(
                fields=["numero_dauphin", "annee"],
                condition=~Q(numero_dauphin=""),
                name="%(app_label)s_%(class)s_dauphin_unique_per_year",
                violation_error_message="Une autre action de cet exercice a déjà ce numéro Dauphin.",
            ),
            models.CheckConstraint(
                condition=Q(cout_total__gte=0),
                name="%(app_label)s_%(class)s_cout_total_not_negative",
                violation_error_message="Le coût total ne peut pas être négatif.",
            ),
            models.CheckConstraint(
                condition=Q(annee_fin__isnull=True) | Q(annee_fin__gt=F("annee")),
                name="%(app_label)s_%(class)s_period_in_order",
                violation_error_message="La fin d'une action pluriannuelle suit son exercice de début.",
            ),
        ]
        indexes = [
            # The action list's default order (-annee, titre): a page is read from the index
            # instead of sorting every action; its leading annee also serves the year filter.
            models.Index(F("annee").desc(), "titre", name="cvu_action_list_order"),
            # The year filter's multi-year branch (annee <= year <= annee_fin).
            models.Index(
                fields=["annee_fin", "annee"],
                condition=Q(annee_fin__isnull=False),
                name="cvu_action_multi_year",
            ),
            # A porteur's dossiers counted, and those counted as voted listed, from the index
            # alone (the list of organisations and its export: the amount subqueries went from
            # 5.2 to 3.5 ms per organisation at ten times PMA's history, 900 dossiers each).
            models.Index(
                fields=["porteur", "statut"], include=["id"], name="cvu_action_porteur_statut"
            ),
        ]

    def __str__(self):
        return self.titre

    def get_absolute_url(self):
        return reverse("cvu:action_detail", args=[self.pk])

    @property
    def periode(self) -> str:
        return f"{self.annee}–{self.annee_fin}" if self.annee_fin else str(self.annee)

    @property
    def derniere_annee(self) -> int:
        return self.annee_fin or self.annee

    @property
    def exercices(self) -> list[int]:
        """The years the action runs, each with its own bilan."""
        return list(range(self.annee, self.derniere_annee + 1))

    def rang_cpo(self, exercice: int) -> str:
        """A CPO's year as "2/3" (empty for an annual action)."""
        if not self.annee_fin:
            return ""
        return f"{exercice - self.annee + 1}/{self.annee_fin - self.annee + 1}"

    def echeance_bilan(self, exercice: int) -> date | None:
        """The deadline of an exercice's bilan: 30 June of the following year, except the last
        exercice's, which is the dossier's own (a derogation may have moved it)."""
        if exercice == self.derniere_annee:
            return self.date_limite_bilan
        return date(exercice + 1, 6, 30)

    @property
    def echeance_proche(self) -> date | None:
        """The deadline coming (bilan_proche): an earlier exercice's, else the final one."""
        exercice = getattr(self, "exercice_proche", None)
        return date(exercice + 1, 6, 30) if exercice else self.date_limite_bilan

    @property
    def echeance_en_retard(self) -> date | None:
        """The deadline a late dossier missed (with_exercice_en_retard), else its final one."""
        exercice = getattr(self, "exercice_en_retard", None)
        return date(exercice + 1, 6, 30) if exercice else self.date_limite_bilan

    def funding_balance(self, total_demande: Decimal) -> str | None:
        """A warning when the requested funding does not match the total cost."""
        if not self.cout_total:
            return None
        if total_demande > self.cout_total:
            return "Les financements demandés dépassent le coût total de l'action."
        if total_demande < self.cout_total:
            return "Les financements demandés ne couvrent pas le coût total de l'action."
        return None


# A notified dossier whose bilan is still expected (the call's cycle, cvu.aap).
AWAITING_BILAN = [
    Action.Statut.NOTIFIE,
    Action.Statut.CONVENTIONNE,
    Action.Statut.EN_COURS,
    Action.Statut.BILAN_ATTENDU,
]


class ChangementEcheance(models.Model):
    """A bilan deadline moved by the chef de service: a derogation, dated, signed and reasoned."""

    action = models.ForeignKey(
        Action, verbose_name="action", on_delete=models.CASCADE, related_name="changements_echeance"
    )
    ancienne_date = models.DateField("ancienne date limite", null=True, blank=True)
    nouvelle_date = models.DateField("nouvelle date limite", null=True, blank=True)
    motif = models.TextField("motif")
    par = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="par", on_delete=models.PROTECT, related_name="+"
    )
    le = models.DateTimeField("le", auto_now_add=True)

    class Meta:
        verbose_name = "changement de la date limite du bilan"
        verbose_name_plural = "changements de la date limite du bilan"
        ordering = ["-le", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(motif=""),
                name="%(app_label)s_%(class)s_motif_required",
                violation_error_message="Indiquez le motif du changement de date limite.",
            )
        ]

    def __str__(self):
        return f"{self.ancienne_date or '—'} → {self.nouvelle_date or '—'}"


class IndicateurAction(models.Model):
    """An evaluation indicator of an action: target and achieved."""

    action = models.ForeignKey(
        Action, verbose_name="action", on_delete=models.CASCADE, related_name="indicateurs"
    )
    libelle = models.CharField("indicateur", max_length=200)
    cible = models.DecimalField("cible", max_digits=12, decimal_places=2, null=True, blank=True)
    realise = models.DecimalField("réalisé", max_digits=12, decimal_places=2, null=True, blank=True)
    unite = models.CharField("unité", max_length=30, blank=True)

    class Meta:
        verbose_name = "indicateur d'évaluation"
        verbose_name_plural = "indicateurs d'évaluation"
        ordering = ["pk"]

    def __str__(self):
        return self.libelle


class FinancementQuerySet(SharedQuerySet):
    def totals(self) -> dict:
        return self.aggregate(
            demande=Coalesce(Sum("montant_demande"), Value(ZERO)),
            vote=Coalesce(Sum("montant_vote"), Value(ZERO)),
            verse=Coalesce(Sum("montant_verse"), Value(ZERO)),
        )


class TypeActe(models.TextChoices):
    """The formal act by which a funder grants its amount."""

    ARRETE = "arrete", "Arrêté"
    DELIBERATION = "deliberation", "Délibération"
    COMMISSION = "commission", "Décision de la commission permanente"
    DECISION = "decision", "Décision"


class Financement(models.Model):
    """One line of an action's financing plan: a funder, a year, requested / voted / paid."""

    action = models.ForeignKey(
        Action, verbose_name="action", on_delete=models.CASCADE, related_name="financements"
    )
    financeur = models.ForeignKey(
        Organisation,
        verbose_name="financeur",
        on_delete=models.PROTECT,
        related_name="financements_accordes",
    )
    ligne = models.ForeignKey(
        LigneFinancement,
        verbose_name="ligne de financement",
        on_delete=models.PROTECT,
        related_name="financements",
        null=True,
        blank=True,
        help_text="Le dispositif du financeur (BOP 147 : Quartiers d'été, Cités éducatives…).",
    )
    annee = models.PositiveSmallIntegerField("année", validators=year_validators)
    montant_demande = money("montant demandé")
    montant_propose = money("montant proposé", null=True, blank=True)
    montant_vote = money("montant voté", null=True, blank=True)
    montant_verse = money("montant versé", default=ZERO)
    # The funder's formal act granting the voted amount (entered by the chef de service).
    acte_type = models.CharField("acte d'attribution", max_length=15, choices=TypeActe, blank=True)
    acte_numero = models.CharField("n° de l'acte", max_length=50, blank=True)
    acte_date = models.DateField("date de l'acte", null=True, blank=True)
    history = HistoricalRecords()

    objects = FinancementQuerySet.as_manager()

    class Meta:
        verbose_name = "financement"
        verbose_name_plural = "financements"
        ordering = ["annee", "financeur__nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "financeur", "annee"],
                name="%(app_label)s_%(class)s_one_line_per_funder_and_year",
                violation_error_message="Ce financeur a déjà une ligne pour cette année.",
            ),
            models.CheckConstraint(
                condition=Q(montant_demande__gte=0)
                & (Q(montant_propose__isnull=True) | Q(montant_propose__gte=0))
                & (Q(montant_vote__isnull=True) | Q(montant_vote__gte=0))
                & Q(montant_verse__gte=0),
                name="%(app_label)s_%(class)s_amounts_not_negative",
                violation_error_message="Un montant ne peut pas être négatif.",
            ),
            models.CheckConstraint(
                condition=Q(montant_verse=0) | Q(montant_vote__gte=F("montant_verse")),
                name="%(app_label)s_%(class)s_paid_within_voted",
                violation_error_message="Le montant versé dépasse le montant voté.",
            ),
        ]
        indexes = [
            # A year's lines: the year filter (actions with a line that year), the year's
            # totals and the amount columns of a list filtered on a year (cvu.figures).
            models.Index(fields=["annee", "action"], name="cvu_financement_year"),
            # The funder filter: a funder's lines of a year, and its actions.
            models.Index(fields=["financeur", "annee", "action"], name="cvu_financement_funder"),
            # An action's sums (a list's amount columns and its order by amount, a porteur's
            # total received) read from the index alone on PostgreSQL: at ten times PMA's
            # history /organisations/ went from 288 to 217 ms. SQLite ignores the INCLUDE.
            models.Index(
                fields=["action", "annee"],
                include=[
                    "financeur",
                    "montant_demande",
                    "montant_propose",
                    "montant_vote",
                    "montant_verse",
                ],
                name="cvu_financement_amounts",
            ),
        ]

    def __str__(self):
        return f"{self.financeur} {self.annee}"

    def clean(self):
        check_ligne(self.financeur_id, self.ligne)

    @property
    def acte(self) -> str:
        """The formal act in words: "Arrêté n° 2025-114 du 12/05/2025" (empty when none)."""
        if not self.acte_type:
            return ""
        date = f" du {self.acte_date:%d/%m/%Y}" if self.acte_date else ""
        return f"{self.get_acte_type_display()} n° {self.acte_numero}{date}"


def document_path(instance, filename: str) -> str:
    return f"documents/actions/{instance.action_id}/{filename}"


class Document(models.Model):
    """A file attached to an action, stored privately and served after a permission check."""

    action = models.ForeignKey(
        Action, verbose_name="action", on_delete=models.CASCADE, related_name="documents"
    )
    fichier = models.FileField("fichier", upload_to=document_path, max_length=300)
    nom = models.CharField("nom", max_length=200)
    content_type = models.CharField("type", max_length=100)
    taille = models.PositiveIntegerField("taille (octets)")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="déposé par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("déposé le", auto_now_add=True)

    class Meta:
        verbose_name = "document"
        verbose_name_plural = "documents"
        ordering = ["-uploaded_at"]

    def __str__(self):
        return self.nom

    def get_absolute_url(self):
        return reverse("cvu:document_download", args=[self.pk])
