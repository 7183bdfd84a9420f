from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core.querysets import RoleQuerySet, SharedQuerySet, is_active_user
from cvu.models import Organisation, Reunion
from quartiers.models import Commune, Qpv, Secteur


class TypeParticipation(models.Model):
    """A kind of participation body and its representativeness rules (configurable since 2024)."""

    nom = models.CharField("nom", max_length=100, unique=True)
    sieges = models.PositiveSmallIntegerField(
        "nombre de sièges", default=12, help_text="Sert au calcul des postes vacants."
    )
    part_femmes_cible = models.PositiveSmallIntegerField("part de femmes visée (%)", default=50)
    part_habitants_min = models.PositiveSmallIntegerField(
        "part minimale du collège habitants (%)", default=50
    )
    part_residents_cible = models.PositiveSmallIntegerField(
        "part de résidents du QPV visée (%)", default=50
    )
    tolerance = models.PositiveSmallIntegerField(
        "tolérance avant alerte rouge (points)",
        default=10,
        help_text="Sous la cible de moins de cette marge : orange ; au-delà : rouge.",
    )
    part_jeunes_cible = models.PositiveSmallIntegerField(
        "part de moins de 25 ans visée (%)",
        null=True,
        blank=True,
        help_text="Vide : comparée à la part des 16-25 ans du QPV quand elle est connue "
        "(indicateur « part_16_25 ») ; jamais à celle de tous les moins de 25 ans, bébés "
        "compris.",
    )
    siege_unique = models.BooleanField(
        "un habitant n'y siège que dans une instance à la fois",
        default=True,
        help_text="Vrai pour les conseils citoyens ; faux pour une table de quartier ou une "
        "maison du projet, où un membre d'un conseil citoyen peut aussi siéger.",
    )

    objects = SharedQuerySet.as_manager()

    class Meta:
        verbose_name = "type d'instance de participation"
        verbose_name_plural = "types d'instances de participation"
        ordering = ["nom"]

    def __str__(self):
        return self.nom


class ConseilQuerySet(RoleQuerySet):
    def editable_by_chef_projet(self, user):
        if is_participation_referent(user):
            return self.all()
        return self.filter(commune__secteur__in=Secteur.objects.of_user(user))


def is_participation_referent(user) -> bool:
    """The chef de projet holding the cross-cutting theme « démarche participative »."""
    return bool(user.is_chef_projet and "particip" in (user.theme or "").lower())


class ConseilCitoyen(models.Model):
    """A participation body of a QPV: conseil citoyen, table de quartier, maison du projet…"""

    class Statut(models.TextChoices):
        ACTIF = "actif", "Actif"
        EN_SOMMEIL = "en_sommeil", "En sommeil"
        DISSOUS = "dissous", "Dissous"

    nom = models.CharField("nom", max_length=200)
    type = models.ForeignKey(
        TypeParticipation, verbose_name="type", on_delete=models.PROTECT, related_name="conseils"
    )
    qpvs = models.ManyToManyField(Qpv, verbose_name="QPV", related_name="conseils")
    commune = models.ForeignKey(
        Commune, verbose_name="commune", on_delete=models.PROTECT, related_name="conseils"
    )
    arrete_date = models.DateField("date de l'arrêté de reconnaissance", null=True, blank=True)
    arrete_reference = models.CharField("référence de l'arrêté", max_length=100, blank=True)
    structure_porteuse = models.ForeignKey(
        Organisation,
        verbose_name="structure porteuse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conseils_portes",
    )
    statut = models.CharField("statut", max_length=12, choices=Statut, default=Statut.ACTIF)
    part_jeunes_cible = models.PositiveSmallIntegerField(
        "part de moins de 25 ans visée pour ce conseil (%)",
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text="Vide : la cible du type d'instance, sinon la part des 16-25 ans du QPV "
        "quand elle est connue.",
    )
    adresse_contact = models.CharField("adresse de contact", max_length=250, blank=True)
    notes = models.TextField("notes", blank=True)

    objects = ConseilQuerySet.as_manager()

    class Meta:
        verbose_name = "instance de participation"
        verbose_name_plural = "instances de participation"
        ordering = ["commune__nom", "nom"]

    def __str__(self):
        return self.nom

    def get_absolute_url(self):
        return reverse("participation:conseil_detail", args=[self.pk])


class MembreQuerySet(RoleQuerySet):
    """Members are inhabitants: their identity is visible only to those who need it."""

    def visible_to(self, user):
        if not is_active_user(user):
            return self.none()
        if user.sees_everything_as_manager:
            return self.all()
        if user.is_chef_projet:
            return self.editable_by_chef_projet(user)
        return self.none()

    def editable_by_chef_projet(self, user):
        return self.filter(conseil__in=ConseilCitoyen.objects.editable_by(user))

    def actifs(self):
        return self.filter(statut=Membre.Statut.ACTIF)


class Membre(models.Model):
    """A member of a participation body: personal data of an inhabitant (RGPD)."""

    class College(models.TextChoices):
        HABITANTS = "habitants", "Habitants"
        ACTEURS = "acteurs", "Associations et acteurs locaux"

    class Genre(models.TextChoices):
        FEMME = "femme", "Femme"
        HOMME = "homme", "Homme"
        NON_PRECISE = "non_precise", "Non précisé"

    class TrancheAge(models.TextChoices):
        MOINS_25 = "moins_25", "Moins de 25 ans"
        DE_25_39 = "25_39", "25 à 39 ans"
        DE_40_59 = "40_59", "40 à 59 ans"
        PLUS_60 = "60_plus", "60 ans et plus"

    class Designation(models.TextChoices):
        TIRAGE = "tirage", "Tirage au sort"
        VOLONTAIRE = "volontaire", "Volontaire"
        DESIGNE = "designe", "Désigné"

    class Statut(models.TextChoices):
        ACTIF = "actif", "Actif"
        DEMISSIONNAIRE = "demissionnaire", "Démissionnaire"
        REMPLACE = "remplace", "Remplacé"
        FIN_MANDAT = "fin_mandat", "Fin de mandat"

    class BaseLegale(models.TextChoices):
        CONSENTEMENT = "consentement", "Consentement de la personne"
        MISSION_PUBLIQUE = "mission_publique", "Mission d'intérêt public (politique de la ville)"

    conseil = models.ForeignKey(
        ConseilCitoyen, verbose_name="instance", on_delete=models.PROTECT, related_name="membres"
    )
    prenom = models.CharField("prénom", max_length=100)
    nom = models.CharField("nom", max_length=100)
    college = models.CharField("collège", max_length=10, choices=College)
    genre = models.CharField("genre", max_length=12, choices=Genre)
    tranche_age = models.CharField("tranche d'âge", max_length=10, choices=TrancheAge)
    resident_qpv = models.BooleanField("habite le QPV", default=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="organisation (collège acteurs)",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="membres_conseils",
    )
    designation = models.CharField("désignation", max_length=10, choices=Designation)
    mandat_debut = models.DateField("début du mandat")
    mandat_fin = models.DateField(
        "fin du mandat",
        null=True,
        blank=True,
        help_text="Pour un membre démissionnaire ou remplacé : la date de son départ.",
    )
    statut = models.CharField("statut", max_length=15, choices=Statut, default=Statut.ACTIF)
    email = models.EmailField("e-mail", blank=True)
    telephone = models.CharField("téléphone", max_length=20, blank=True)
    base_legale = models.CharField("base légale", max_length=20, choices=BaseLegale)
    date_consentement = models.DateField(
        "date du consentement",
        null=True,
        blank=True,
        help_text="Obligatoire quand la base légale est le consentement.",
    )
    anonymise_le = models.DateTimeField("anonymisé le", null=True, blank=True, editable=False)

    objects = MembreQuerySet.as_manager()

    class Meta:
        verbose_name = "membre"
        verbose_name_plural = "membres"
        ordering = ["nom", "prenom"]
        constraints = [
            models.CheckConstraint(
                condition=Q(mandat_fin__isnull=True) | Q(mandat_fin__gte=F("mandat_debut")),
                name="%(app_label)s_%(class)s_mandate_in_order",
                violation_error_message="La fin du mandat précède son début.",
            ),
            models.CheckConstraint(
                condition=~Q(base_legale="consentement") | Q(date_consentement__isnull=False),
                name="%(app_label)s_%(class)s_consent_is_dated",
                violation_error_message="Indiquez la date du consentement.",
            ),
            # The retention period runs from this date: without it, never anonymised.
            models.CheckConstraint(
                condition=Q(statut="actif") | Q(mandat_fin__isnull=False),
                name="%(app_label)s_%(class)s_departure_is_dated",
                violation_error_message="Indiquez la date de fin du mandat (date du départ).",
            ),
        ]

    def __str__(self):
        return f"{self.prenom} {self.nom}"

    def get_absolute_url(self):
        return reverse("participation:membre_detail", args=[self.pk])

    def clean(self):
        if self.college == self.College.ACTEURS and not self.organisation_id:
            raise ValidationError(
                {"organisation": "Un membre du collège des acteurs représente une organisation."}
            )
        if self.statut != self.Statut.ACTIF and not self.mandat_fin:
            raise ValidationError(
                {"mandat_fin": "Indiquez la date de fin du mandat : celle du départ du membre."}
            )
        if (
            self.college == self.College.HABITANTS
            and self.statut == self.Statut.ACTIF
            and self.conseil_id
            and self.conseil.type.siege_unique
        ):
            # One seat at a time between bodies of that kind only (conseils citoyens): a table
            # de quartier or a maison du projet may welcome a conseil citoyen's member.
            twin = (
                Membre.objects.actifs()
                .filter(
                    college=self.College.HABITANTS,
                    prenom__iexact=self.prenom,
                    nom__iexact=self.nom,
                    anonymise_le__isnull=True,
                    conseil__type__siege_unique=True,
                )
                .exclude(pk=self.pk)
                .exclude(conseil_id=self.conseil_id)
            )
            # The other council is not named: whoever adds a member may not follow it.
            if twin.exists():
                raise ValidationError(
                    f"{self.prenom} {self.nom} siège déjà au collège habitants d'une autre "
                    "instance de participation : un habitant ne siège que dans une instance à "
                    "la fois. Le chef de service peut vous dire laquelle."
                )


class AccesDonnees(models.Model):
    """Who looked at, exported or erased a member's personal data, and when."""

    class Action(models.TextChoices):
        CONSULTATION = "consultation", "Consultation"
        EXPORT = "export", "Export"
        MODIFICATION = "modification", "Modification"
        EFFACEMENT = "effacement", "Effacement"
        ANONYMISATION = "anonymisation", "Anonymisation automatique"

    # PROTECT: the log is append-only, deleting a member must not take its log with it.
    membre = models.ForeignKey(
        Membre, verbose_name="membre", on_delete=models.PROTECT, related_name="acces"
    )
    utilisateur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="utilisateur",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField("action", max_length=15, choices=Action)
    date = models.DateTimeField("date", default=timezone.now)
    page = models.CharField(
        "page", max_length=200, blank=True, help_text="Où les données ont été vues."
    )

    class Meta:
        verbose_name = "accès aux données d'un membre"
        verbose_name_plural = "journal des accès aux données des membres"
        ordering = ["-date"]

    def __str__(self):
        return f"{self.get_action_display()} – {self.date:%d/%m/%Y %H:%M}"


class PresenceMembre(models.Model):
    """Attendance of a council member at a meeting of the contract's instances."""

    reunion = models.ForeignKey(
        Reunion, verbose_name="réunion", on_delete=models.CASCADE, related_name="presences_membres"
    )
    membre = models.ForeignKey(
        Membre, verbose_name="membre", on_delete=models.CASCADE, related_name="presences"
    )
    statut = models.CharField(
        "présence",
        max_length=10,
        choices=[("present", "Présent"), ("excuse", "Excusé"), ("absent", "Absent")],
    )

    class Meta:
        verbose_name = "présence d'un membre"
        verbose_name_plural = "présences des membres"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["reunion", "membre"], name="%(app_label)s_%(class)s_once_per_meeting"
            )
        ]

    def __str__(self):
        return f"{self.membre} – {self.get_statut_display()}"


# ---------------------------------------------------------------- charter


class Charte(models.Model):
    """A version of the charte de la participation; the latest adopted one is in force."""

    version = models.CharField("version", max_length=50)
    texte = models.TextField("texte")
    date_adoption = models.DateField("date d'adoption")
    instance_adoption = models.ForeignKey(
        "cvu.Instance",
        verbose_name="adoptée par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chartes",
    )

    objects = RoleQuerySet.as_manager()

    class Meta:
        verbose_name = "version de la charte de la participation"
        verbose_name_plural = "charte de la participation (versions)"
        ordering = ["-date_adoption", "-pk"]

    def __str__(self):
        return f"Charte de la participation, version {self.version}"

    def get_absolute_url(self):
        return reverse("participation:charte")


class Engagement(models.Model):
    """A commitment of a charter version (clear frame, feedback to participants…)."""

    charte = models.ForeignKey(
        Charte, verbose_name="charte", on_delete=models.CASCADE, related_name="engagements"
    )
    ordre = models.PositiveSmallIntegerField("ordre", default=0)
    libelle = models.CharField("engagement", max_length=300)

    class Meta:
        verbose_name = "engagement de la charte"
        verbose_name_plural = "engagements de la charte"
        ordering = ["ordre", "pk"]

    def __str__(self):
        return self.libelle


# ---------------------------------------------------------------- démarches


class DemarcheQuerySet(RoleQuerySet):
    def editable_by_chef_projet(self, user):
        if is_participation_referent(user):
            return self.all()
        sector_communes = Commune.objects.editable_by(user)
        return self.filter(
            Q(referent=user)
            | Q(
                pk__in=Demarche.communes.through.objects.filter(commune__in=sector_communes).values(
                    "demarche_id"
                )
            )
        )


class Demarche(models.Model):
    """A participatory initiative started by a commune, an association, a landlord, PMA…"""

    class Initiateur(models.TextChoices):
        COMMUNE = "commune", "Commune"
        ASSOCIATION = "association", "Association"
        BAILLEUR = "bailleur", "Bailleur"
        PMA = "pma", "PMA"
        CONSEIL_CITOYEN = "conseil_citoyen", "Conseil citoyen"
        AUTRE = "autre", "Autre"

    class Type(models.TextChoices):
        INFORMATION = "information", "Information"
        CONSULTATION = "consultation", "Consultation"
        CONCERTATION = "concertation", "Concertation"
        CO_CONSTRUCTION = "co_construction", "Co-construction"
        DIAGNOSTIC_MARCHANT = "diagnostic_marchant", "Diagnostic en marchant"
        BUDGET_PARTICIPATIF = "budget_participatif", "Budget participatif"
        AUTRE = "autre", "Autre"

    class Statut(models.TextChoices):
        ENVISAGEE = "envisagee", "Envisagée"
        EN_COURS = "en_cours", "En cours"
        TERMINEE = "terminee", "Terminée"
        ABANDONNEE = "abandonnee", "Abandonnée"

    class Role(models.TextChoices):
        SUIVI = "suivi", "Suivi"
        ACCOMPAGNEMENT = "accompagnement", "Accompagnement"
        TIERS_MEDIATEUR = "tiers_mediateur", "Tiers médiateur"

    titre = models.CharField("titre", max_length=250)
    initiateur = models.CharField("initiateur", max_length=20, choices=Initiateur)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="organisation à l'initiative",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="demarches",
    )
    type = models.CharField("type", max_length=20, choices=Type)
    qpvs = models.ManyToManyField(Qpv, verbose_name="QPV", related_name="demarches", blank=True)
    communes = models.ManyToManyField(
        Commune, verbose_name="communes", related_name="demarches", blank=True
    )
    date_debut = models.DateField("début")
    date_fin = models.DateField("fin", null=True, blank=True)
    statut = models.CharField("statut", max_length=12, choices=Statut, default=Statut.EN_COURS)
    role_pma = models.CharField("rôle de PMA", max_length=16, choices=Role, default=Role.SUIVI)
    description = models.TextField("description", blank=True)
    actions = models.ManyToManyField(
        "cvu.Action",
        verbose_name="actions du CVU qui la financent",
        related_name="demarches",
        blank=True,
    )
    referent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="chef de projet référent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="demarches_suivies",
    )

    objects = DemarcheQuerySet.as_manager()

    class Meta:
        verbose_name = "démarche participative"
        verbose_name_plural = "démarches participatives"
        ordering = ["-date_debut", "titre"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_fin__isnull=True) | Q(date_fin__gte=F("date_debut")),
                name="%(app_label)s_%(class)s_dates_in_order",
                violation_error_message="La fin de la démarche précède son début.",
            )
        ]

    def __str__(self):
        return self.titre

    def get_absolute_url(self):
        return reverse("participation:demarche_detail", args=[self.pk])


class PointEtape(models.Model):
    """A dated progress note of a démarche, used in the reports to the instances."""

    demarche = models.ForeignKey(
        Demarche, verbose_name="démarche", on_delete=models.CASCADE, related_name="points"
    )
    date = models.DateField("date")
    texte = models.TextField("point d'étape")
    auteur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="auteur",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "point d'étape"
        verbose_name_plural = "points d'étape"
        ordering = ["-date", "-pk"]

    def __str__(self):
        return f"{self.date:%d/%m/%Y}"


class VerificationCharte(models.Model):
    """How a démarche stands against one commitment of the charter."""

    class Appreciation(models.TextChoices):
        RESPECTE = "respecte", "Respecté"
        PARTIEL = "partiel", "Partiellement"
        NON = "non", "Non respecté"
        NON_APPLICABLE = "na", "Non applicable"

    demarche = models.ForeignKey(
        Demarche, verbose_name="démarche", on_delete=models.CASCADE, related_name="verifications"
    )
    engagement = models.ForeignKey(
        Engagement,
        verbose_name="engagement",
        on_delete=models.CASCADE,
        related_name="verifications",
    )
    appreciation = models.CharField("appréciation", max_length=10, choices=Appreciation)
    commentaire = models.CharField("commentaire", max_length=300, blank=True)

    class Meta:
        verbose_name = "vérification de la charte"
        verbose_name_plural = "vérifications de la charte"
        ordering = ["engagement__ordre", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["demarche", "engagement"], name="%(app_label)s_%(class)s_once"
            )
        ]

    def __str__(self):
        return f"{self.engagement} : {self.get_appreciation_display()}"


# ---------------------------------------------------------------- training cycle


class CycleQualification(models.Model):
    """A year's training programme for council members, built with partners."""

    annee = models.PositiveSmallIntegerField("année", unique=True)
    titre = models.CharField("titre", max_length=200)
    partenaires = models.ManyToManyField(
        Organisation, verbose_name="partenaires", related_name="cycles", blank=True
    )
    notes = models.TextField("notes", blank=True)

    objects = RoleQuerySet.as_manager()

    class Meta:
        verbose_name = "cycle de qualification"
        verbose_name_plural = "cycles de qualification"
        ordering = ["-annee"]

    def __str__(self):
        return self.titre

    def get_absolute_url(self):
        return reverse("participation:cycle_detail", args=[self.pk])


class BesoinFormation(models.Model):
    """A training need voiced by a council."""

    cycle = models.ForeignKey(
        CycleQualification, verbose_name="cycle", on_delete=models.CASCADE, related_name="besoins"
    )
    conseil = models.ForeignKey(
        ConseilCitoyen, verbose_name="conseil", on_delete=models.CASCADE, related_name="besoins"
    )
    besoin = models.CharField("besoin", max_length=300)

    class Meta:
        verbose_name = "besoin de formation"
        verbose_name_plural = "besoins de formation"
        ordering = ["pk"]

    def __str__(self):
        return self.besoin


class SessionFormation(models.Model):
    """A session of the training cycle."""

    cycle = models.ForeignKey(
        CycleQualification,
        verbose_name="cycle",
        on_delete=models.CASCADE,
        related_name="sessions",
    )
    theme = models.CharField("thème", max_length=200)
    date = models.DateTimeField("date")
    lieu = models.CharField("lieu", max_length=200, blank=True)
    intervenant = models.CharField("intervenant", max_length=200, blank=True)
    partenaire = models.ForeignKey(
        Organisation,
        verbose_name="partenaire",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
    )
    capacite = models.PositiveSmallIntegerField("capacité", default=20)

    class Meta:
        verbose_name = "session de formation"
        verbose_name_plural = "sessions de formation"
        ordering = ["date"]

    def __str__(self):
        return f"{self.theme} ({timezone.localtime(self.date):%d/%m/%Y})"

    def get_absolute_url(self):
        return reverse("participation:session_detail", args=[self.pk])


class Inscription(models.Model):
    """A member invited to a session, and whether they came."""

    class Presence(models.TextChoices):
        INVITE = "invite", "Invité"
        PRESENT = "present", "Présent"
        EXCUSE = "excuse", "Excusé"
        ABSENT = "absent", "Absent"

    session = models.ForeignKey(
        SessionFormation,
        verbose_name="session",
        on_delete=models.CASCADE,
        related_name="inscriptions",
    )
    membre = models.ForeignKey(
        Membre, verbose_name="membre", on_delete=models.CASCADE, related_name="inscriptions"
    )
    presence = models.CharField(
        "présence", max_length=10, choices=Presence, default=Presence.INVITE
    )

    class Meta:
        verbose_name = "inscription"
        verbose_name_plural = "inscriptions"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "membre"], name="%(app_label)s_%(class)s_once"
            )
        ]

    def __str__(self):
        return f"{self.membre} – {self.get_presence_display()}"


class Evaluation(models.Model):
    """A participant's short evaluation of a session."""

    session = models.ForeignKey(
        SessionFormation,
        verbose_name="session",
        on_delete=models.CASCADE,
        related_name="evaluations",
    )
    note = models.PositiveSmallIntegerField(
        "note sur 5",
        validators=[MinValueValidator(1, "Note de 1 à 5."), MaxValueValidator(5, "Note de 1 à 5.")],
    )
    commentaire = models.CharField("commentaire", max_length=500, blank=True)

    class Meta:
        verbose_name = "évaluation"
        verbose_name_plural = "évaluations"
        ordering = ["pk"]

    def __str__(self):
        return f"{self.note}/5"
