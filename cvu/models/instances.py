from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core.querysets import RoleQuerySet, SharedQuerySet, is_active_user
from quartiers.models import Commune, Qpv

from .actions import Action, ProgrammeActions
from .organisations import Contact, Organisation


class ModeImplication(models.TextChoices):
    COHERENCE = "coherence", "Mise en cohérence"
    INFORMATION = "information", "Information"


class TypeInstance(models.Model):
    """A kind of instance: comité de pilotage, comité technique, GTP, groupe de travail…"""

    nom = models.CharField("nom", max_length=150, unique=True)
    pilotage = models.BooleanField(
        "instance de pilotage",
        default=False,
        help_text="Les membres des conseils citoyens doivent y siéger.",
    )
    ordre = models.PositiveSmallIntegerField("ordre", default=0)

    objects = SharedQuerySet.as_manager()

    class Meta:
        verbose_name = "type d'instance"
        verbose_name_plural = "types d'instances"
        ordering = ["ordre", "nom"]

    def __str__(self):
        return self.nom


def _communal_rights_q(user, prefix: str) -> Q:
    """Communal rows of the user's sectors, or rows they organise."""
    return Q(**{f"{prefix}organisateur": user}) | Q(
        **{f"{prefix}echelle": "communale"},
        **{f"{prefix}communes__in": Commune.objects.editable_by(user)},
    )


class DispositifQuerySet(RoleQuerySet):
    chef_projet_creates = False  # The chef de service creates schemes; their communes' chefs edit.

    def editable_by_chef_projet(self, user):
        return self.filter(
            pk__in=DispositifConnexe.communes.through.objects.filter(
                commune__in=Commune.objects.editable_by(user)
            ).values("dispositifconnexe_id")
        )


class DispositifConnexe(models.Model):
    """A connected scheme the chef de projet follows: PRE, GRSQ, CALEOL, GUSP, NPNRU…"""

    class Type(models.TextChoices):
        PRE = "pre", "PRE (réussite éducative)"
        GRSQ = "grsq", "GRSQ"
        CALEOL = "caleol", "CAL / CALEOL"
        GUSP = "gusp", "GUSP"
        NPNRU = "npnru", "NPNRU"
        CITE_EDUCATIVE = "cite_educative", "Cité éducative"
        CLSPD = "clspd", "CLSPD"
        ADULTES_RELAIS = "adultes_relais", "Adultes-relais"
        QUARTIERS_ETE = "quartiers_ete", "Quartiers d'été"
        TFPB = "tfpb", "Abattement TFPB"
        AUTRE = "autre", "Autre"

    nom = models.CharField("nom", max_length=200)
    type = models.CharField("type", max_length=20, choices=Type)
    communes = models.ManyToManyField(
        Commune, verbose_name="communes", related_name="dispositifs", blank=True
    )
    qpvs = models.ManyToManyField(Qpv, verbose_name="QPV", related_name="dispositifs", blank=True)
    mode = models.CharField("mode d'implication", max_length=12, choices=ModeImplication)
    convention = models.CharField(
        "convention", max_length=300, blank=True, help_text="Référence et dates de la convention."
    )
    notes = models.TextField("notes", blank=True)

    objects = DispositifQuerySet.as_manager()

    class Meta:
        verbose_name = "dispositif connexe"
        verbose_name_plural = "dispositifs connexes"
        ordering = ["nom"]

    def __str__(self):
        return self.nom

    def get_absolute_url(self):
        return reverse("cvu:dispositif_detail", args=[self.pk])


class ElementPlanAction(models.Model):
    """An item of a scheme's action plan (GUSP…): what, who, when, status."""

    class Statut(models.TextChoices):
        A_FAIRE = "a_faire", "À faire"
        EN_COURS = "en_cours", "En cours"
        FAIT = "fait", "Fait"

    dispositif = models.ForeignKey(
        DispositifConnexe,
        verbose_name="dispositif",
        on_delete=models.CASCADE,
        related_name="plan_actions",
    )
    quoi = models.CharField("quoi", max_length=300)
    qui = models.CharField("qui", max_length=200, blank=True)
    echeance = models.DateField("échéance", null=True, blank=True)
    statut = models.CharField("statut", max_length=10, choices=Statut, default=Statut.A_FAIRE)

    class Meta:
        verbose_name = "élément du plan d'action"
        verbose_name_plural = "plan d'action"
        ordering = ["echeance", "pk"]

    def __str__(self):
        return self.quoi


class InstanceQuerySet(RoleQuerySet):
    def editable_by_chef_projet(self, user):
        return self.filter(
            pk__in=Instance.objects.filter(_communal_rights_q(user, "")).values("pk")
        )


class Instance(models.Model):
    """A standing body of the contract: COPIL, comité technique, GTP, group, scheme meeting."""

    class Echelle(models.TextChoices):
        COMMUNALE = "communale", "Communale"
        INTERCOMMUNALE = "intercommunale", "Intercommunale"

    nom = models.CharField("nom", max_length=200)
    type = models.ForeignKey(
        TypeInstance, verbose_name="type", on_delete=models.PROTECT, related_name="instances"
    )
    echelle = models.CharField("échelle", max_length=15, choices=Echelle)
    communes = models.ManyToManyField(
        Commune, verbose_name="communes", related_name="instances", blank=True
    )
    organisateur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="organisateur",
        on_delete=models.PROTECT,
        related_name="instances_organisees",
        null=True,
        blank=True,
        help_text="Pour une instance intercommunale : qui prépare et tient ses réunions.",
    )
    organisations_membres = models.ManyToManyField(
        Organisation, verbose_name="organisations membres", related_name="instances", blank=True
    )
    contacts_membres = models.ManyToManyField(
        Contact, verbose_name="personnes membres", related_name="instances", blank=True
    )
    sieges_conseil_citoyen = models.BooleanField("sièges de conseil citoyen prévus", default=False)
    dispositif = models.ForeignKey(
        DispositifConnexe,
        verbose_name="dispositif connexe",
        on_delete=models.SET_NULL,
        related_name="instances",
        null=True,
        blank=True,
    )
    mode = models.CharField(
        "mode d'implication",
        max_length=12,
        choices=ModeImplication,
        blank=True,
        help_text="Pour l'instance d'un dispositif connexe.",
    )
    active = models.BooleanField("active", default=True)
    notes = models.TextField("notes", blank=True)

    objects = InstanceQuerySet.as_manager()

    class Meta:
        verbose_name = "instance"
        verbose_name_plural = "instances"
        ordering = ["type__ordre", "nom"]

    def __str__(self):
        return self.nom

    def get_absolute_url(self):
        return reverse("cvu:instance_detail", args=[self.pk])


class ReunionQuerySet(RoleQuerySet):
    def editable_by_chef_projet(self, user):
        return self.filter(instance__in=Instance.objects.editable_by(user))

    def upcoming(self):
        return self.filter(debut__gte=timezone.now(), statut=Reunion.Statut.PREVUE)


class Reunion(models.Model):
    """A meeting of an instance: agenda, invitations, attendance, minutes, decisions."""

    class Statut(models.TextChoices):
        PREVUE = "prevue", "Prévue"
        TENUE = "tenue", "Tenue"
        ANNULEE = "annulee", "Annulée"

    instance = models.ForeignKey(
        Instance, verbose_name="instance", on_delete=models.PROTECT, related_name="reunions"
    )
    titre = models.CharField("objet", max_length=200, blank=True)
    debut = models.DateTimeField("début")
    fin = models.DateTimeField("fin")
    lieu = models.CharField("lieu", max_length=250, blank=True)
    statut = models.CharField("statut", max_length=10, choices=Statut, default=Statut.PREVUE)
    invites_utilisateurs = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name="agents invités",
        related_name="invitations",
        blank=True,
    )
    invites_contacts = models.ManyToManyField(
        Contact, verbose_name="partenaires invités", related_name="invitations", blank=True
    )
    compte_rendu = models.TextField("compte rendu", blank=True)
    invitations_envoyees_le = models.DateTimeField("invitations envoyées le", null=True, blank=True)
    sequence = models.PositiveIntegerField(
        "version du rendez-vous",
        default=0,
        help_text="Incrémentée à chaque envoi (norme iCalendar).",
    )
    # Its compte rendu, PDF and .docx: reporting.Rapport records (cvu.minutes), comptes_rendus.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="créée par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ReunionQuerySet.as_manager()

    class Meta:
        verbose_name = "réunion"
        verbose_name_plural = "réunions"
        ordering = ["-debut"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fin__gt=F("debut")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message="La fin de la réunion doit suivre son début.",
            )
        ]

    def __str__(self):
        local = timezone.localtime(self.debut)
        return f"{self.titre or self.instance.nom} – {local:%d/%m/%Y %H:%M}"

    def get_absolute_url(self):
        return reverse("cvu:reunion_detail", args=[self.pk])

    @property
    def a_venir(self) -> bool:
        """Planned and not yet begun."""
        return self.statut == self.Statut.PREVUE and self.debut > timezone.now()


class PointOrdreDuJour(models.Model):
    """An agenda item, possibly about an action or a programme."""

    reunion = models.ForeignKey(
        Reunion, verbose_name="réunion", on_delete=models.CASCADE, related_name="points"
    )
    ordre = models.PositiveSmallIntegerField("ordre", default=0)
    texte = models.CharField("point", max_length=300)
    action = models.ForeignKey(
        Action,
        verbose_name="action",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="points_ordre_du_jour",
    )
    programme = models.ForeignKey(
        ProgrammeActions,
        verbose_name="programme",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="points_ordre_du_jour",
    )

    class Meta:
        verbose_name = "point de l'ordre du jour"
        verbose_name_plural = "ordre du jour"
        ordering = ["ordre", "pk"]

    def __str__(self):
        return self.texte


class Presence(models.Model):
    """Whether a partner or an agent attended a meeting."""

    class Statut(models.TextChoices):
        PRESENT = "present", "Présent"
        EXCUSE = "excuse", "Excusé"
        ABSENT = "absent", "Absent"

    reunion = models.ForeignKey(
        Reunion, verbose_name="réunion", on_delete=models.CASCADE, related_name="presences"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name="partenaire",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="presences",
    )
    utilisateur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="agent",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="presences",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="organisation représentée",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="presences",
    )
    statut = models.CharField("présence", max_length=10, choices=Statut)
    invite = models.BooleanField("était invité", default=True)

    class Meta:
        verbose_name = "présence"
        verbose_name_plural = "présences"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False)
                | Q(utilisateur__isnull=False)
                | Q(organisation__isnull=False),
                name="%(app_label)s_%(class)s_someone",
                violation_error_message="Indiquez une personne ou une organisation.",
            ),
            models.UniqueConstraint(
                fields=["reunion", "contact"],
                condition=Q(contact__isnull=False),
                name="%(app_label)s_%(class)s_one_per_contact",
            ),
            models.UniqueConstraint(
                fields=["reunion", "utilisateur"],
                condition=Q(utilisateur__isnull=False),
                name="%(app_label)s_%(class)s_one_per_user",
            ),
        ]

    def __str__(self):
        return (
            f"{self.contact or self.utilisateur or self.organisation} : {self.get_statut_display()}"
        )


class Decision(models.Model):
    """A decision recorded in a meeting, possibly about an action or a programme."""

    reunion = models.ForeignKey(
        Reunion, verbose_name="réunion", on_delete=models.CASCADE, related_name="decisions"
    )
    texte = models.TextField("décision")
    action = models.ForeignKey(
        Action,
        verbose_name="action",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="decisions",
    )
    programme = models.ForeignKey(
        ProgrammeActions,
        verbose_name="programme",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="decisions",
    )

    class Meta:
        verbose_name = "décision"
        verbose_name_plural = "décisions"
        ordering = ["pk"]

    def __str__(self):
        return self.texte[:80]


class SuiteQuerySet(SharedQuerySet):
    def editable_by(self, user):
        if not is_active_user(user):
            return self.none()
        return self.filter(Q(reunion__in=Reunion.objects.editable_by(user)) | Q(responsable=user))

    def open(self):
        return self.filter(statut__in=[SuiteADonner.Statut.A_FAIRE, SuiteADonner.Statut.EN_COURS])

    def overdue(self):
        return self.open().filter(echeance__lt=timezone.localdate())


class SuiteADonner(models.Model):
    """A follow-up decided in a meeting, chased until done."""

    class Statut(models.TextChoices):
        A_FAIRE = "a_faire", "À faire"
        EN_COURS = "en_cours", "En cours"
        FAIT = "fait", "Fait"
        ABANDONNE = "abandonne", "Abandonné"

    reunion = models.ForeignKey(
        Reunion, verbose_name="réunion", on_delete=models.CASCADE, related_name="suites"
    )
    decision = models.ForeignKey(
        Decision,
        verbose_name="décision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="suites",
    )
    quoi = models.CharField("suite à donner", max_length=300)
    responsable = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="responsable (agent)",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="suites",
    )
    responsable_contact = models.ForeignKey(
        Contact,
        verbose_name="responsable (partenaire)",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="suites",
    )
    echeance = models.DateField("échéance")
    statut = models.CharField("statut", max_length=10, choices=Statut, default=Statut.A_FAIRE)
    fait_le = models.DateField("fait le", null=True, blank=True)

    objects = SuiteQuerySet.as_manager()

    class Meta:
        verbose_name = "suite à donner"
        verbose_name_plural = "suites à donner"
        ordering = ["echeance", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(responsable__isnull=False) & Q(responsable_contact__isnull=True))
                | (Q(responsable__isnull=True) & Q(responsable_contact__isnull=False)),
                name="%(app_label)s_%(class)s_one_owner",
                violation_error_message="Indiquez un responsable : un agent ou un partenaire.",
            )
        ]

    def __str__(self):
        return self.quoi

    @property
    def owner(self):
        return self.responsable or self.responsable_contact

    @property
    def is_open(self) -> bool:
        return self.statut in (self.Statut.A_FAIRE, self.Statut.EN_COURS)

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.echeance < timezone.localdate()

    def mark_done(self) -> None:
        """Records the follow-up as done today; one already closed is left as it is."""
        if not self.is_open:
            return
        self.statut = self.Statut.FAIT
        self.fait_le = timezone.localdate()
        self.save(update_fields=["statut", "fait_le"])

    def clean(self):
        if self.statut == self.Statut.FAIT and not self.fait_le:
            self.fait_le = timezone.localdate()
        if self.statut != self.Statut.FAIT and self.fait_le:
            raise ValidationError({"fait_le": "Seule une suite faite a une date de réalisation."})
