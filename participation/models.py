from django.conf import settings
from django.core.exceptions import ValidationError
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
    mandat_fin = models.DateField("fin du mandat", null=True, blank=True)
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
        if self.college == self.College.HABITANTS and self.statut == self.Statut.ACTIF:
            twin = (
                Membre.objects.actifs()
                .filter(
                    college=self.College.HABITANTS,
                    prenom__iexact=self.prenom,
                    nom__iexact=self.nom,
                    anonymise_le__isnull=True,
                )
                .exclude(pk=self.pk)
                .exclude(conseil_id=self.conseil_id)
                .select_related("conseil")
                .first()
            )
            if twin is not None:
                raise ValidationError(
                    f"{self.prenom} {self.nom} siège déjà au collège habitants de "
                    f"« {twin.conseil} » : un habitant ne siège que dans une instance à la fois."
                )


class AccesDonnees(models.Model):
    """Who looked at, exported or erased a member's personal data, and when."""

    class Action(models.TextChoices):
        CONSULTATION = "consultation", "Consultation"
        EXPORT = "export", "Export"
        MODIFICATION = "modification", "Modification"
        EFFACEMENT = "effacement", "Effacement"
        ANONYMISATION = "anonymisation", "Anonymisation automatique"

    membre = models.ForeignKey(
        Membre, verbose_name="membre", on_delete=models.CASCADE, related_name="acces"
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
