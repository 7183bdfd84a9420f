from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.querysets import RoleQuerySet, SharedQuerySet, is_active_user
from core.templatetags.formats import nombre

YEAR_MIN, YEAR_MAX = 1990, 2100
year_validators = [
    MinValueValidator(YEAR_MIN, f"L'année doit être comprise entre {YEAR_MIN} et {YEAR_MAX}."),
    MaxValueValidator(YEAR_MAX, f"L'année doit être comprise entre {YEAR_MIN} et {YEAR_MAX}."),
]
insee_validator = RegexValidator(
    r"^(\d{5}|2[AB]\d{3})$", "Le code INSEE compte exactement 5 caractères (par exemple 25388)."
)
qpv_2015_code_validator = RegexValidator(
    r"^QP\d{3}[0-9A-Z]{3}$", "Un code QPV de la géographie 2015 a la forme QP025001."
)
# Décret n° 2023-1314 corrigé par le décret n° 2024-806 : QN, the département (2 or 3 characters,
# 2A/2B for Corsica), the QPV's order number, then N (new), M (modified) or I (unchanged).
qpv_2024_code_validator = RegexValidator(
    r"^QN(\d{2,3}|0?2[AB])\d{2,3}[NMI]$",
    "Un code QPV de la géographie 2024 s'écrit QN, le département, le numéro d'ordre puis la "
    "lettre N (nouveau quartier), M (périmètre modifié) ou I (inchangé) : par exemple QN02501M.",
)


def validate_qpv_code(value: str) -> None:
    """A 2024 code (QN…) is checked with its final letter, a 2015 code (QP…) with its own form;
    Qpv.clean() ties the prefix to the QPV's geography."""
    if value.startswith("QN"):
        qpv_2024_code_validator(value)
    elif value.startswith("QP"):
        qpv_2015_code_validator(value)
    else:
        raise ValidationError(
            "Le code QPV commence par QP (géographie 2015, par exemple QP025001) ou QN "
            "(géographie 2024, par exemple QN02501M)."
        )


def _sector_q(user, prefix: str) -> Q:
    """Rows whose sector (reached through prefix) has user as chef de projet or backup."""
    return Q(**{f"{prefix}secteur__chef_projet": user}) | Q(**{f"{prefix}secteur__backup": user})


class SecteurQuerySet(SharedQuerySet):
    def of_user(self, user):
        """The sectors a chef de projet is in charge of, as holder or backup."""
        if not is_active_user(user):
            return self.none()
        return self.filter(Q(chef_projet=user) | Q(backup=user))


class Secteur(models.Model):
    """A set of communes assigned to one chef de projet, with a possible backup."""

    nom = models.CharField("nom", max_length=100, unique=True)
    chef_projet = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="chef de projet",
        on_delete=models.PROTECT,
        related_name="secteurs",
        null=True,
        blank=True,
        limit_choices_to={"role": "chef_projet"},
    )
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="chef de projet suppléant",
        on_delete=models.PROTECT,
        related_name="secteurs_suppleance",
        null=True,
        blank=True,
        limit_choices_to={"role": "chef_projet"},
    )

    objects = SecteurQuerySet.as_manager()

    class Meta:
        verbose_name = "secteur"
        verbose_name_plural = "secteurs"
        ordering = ["nom"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(chef_projet=models.F("backup")),
                name="%(app_label)s_%(class)s_backup_differs_from_chef_projet",
                violation_error_message="Le suppléant doit être une autre personne que le chef de projet.",
            )
        ]

    def __str__(self):
        return self.nom


class CommuneQuerySet(RoleQuerySet):
    def editable_by_chef_projet(self, user):
        return self.filter(_sector_q(user, ""))


class Commune(models.Model):
    """A member commune of PMA, known by its INSEE code."""

    code_insee = models.CharField(
        "code INSEE", max_length=5, unique=True, validators=[insee_validator]
    )
    nom = models.CharField("nom", max_length=100)
    population = models.PositiveIntegerField("population municipale", null=True, blank=True)
    population_annee = models.PositiveSmallIntegerField(
        "année de la population", null=True, blank=True, validators=year_validators
    )
    secteur = models.ForeignKey(
        Secteur,
        verbose_name="secteur",
        on_delete=models.SET_NULL,
        related_name="communes",
        null=True,
        blank=True,
    )

    objects = CommuneQuerySet.as_manager()

    class Meta:
        verbose_name = "commune"
        verbose_name_plural = "communes"
        ordering = ["nom"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code_insee__regex=r"^(\d{5}|2[AB]\d{3})$"),
                name="%(app_label)s_%(class)s_code_insee_5_caracteres",
            )
        ]

    def __str__(self):
        return self.nom

    def get_absolute_url(self):
        return reverse("quartiers:commune_detail", args=[self.code_insee])


class QpvQuerySet(RoleQuerySet):
    def editable_by_chef_projet(self, user):
        return self.filter(communes__in=Commune.objects.editable_by(user)).distinct()


class Qpv(models.Model):
    """A quartier prioritaire de la politique de la ville, in the 2015 or 2024 geography."""

    class Geographie(models.TextChoices):
        G2015 = "2015", "2015 (décret 2014-1750)"
        G2024 = "2024", "2024 (décret 2023-1314 corrigé par le décret 2024-806)"

    geographie = models.CharField("géographie", max_length=4, choices=Geographie)
    # NULL, not "", for an unknown code: several QPVs may lack one while set codes stay unique.
    code = models.CharField(  # noqa: DJ001
        "code officiel",
        max_length=8,
        null=True,
        blank=True,
        validators=[validate_qpv_code],
        help_text="QP025001 en géographie 2015 ; en géographie 2024 (décret n° 2024-806 du 13 "
        "juillet 2024), QN, département, numéro d'ordre et lettre N, M ou I (QN02501M). Laisser "
        "vide tant que le code officiel n'est pas connu.",
    )
    nom = models.CharField("nom", max_length=150)
    communes = models.ManyToManyField(Commune, verbose_name="communes", related_name="qpvs")
    population = models.PositiveIntegerField("population", null=True, blank=True)
    population_annee = models.PositiveSmallIntegerField(
        "année de la population", null=True, blank=True, validators=year_validators
    )
    successeurs = models.ManyToManyField(
        "self",
        verbose_name="QPV successeurs",
        symmetrical=False,
        related_name="predecesseurs",
        blank=True,
        help_text="Pour un QPV 2015 : le ou les QPV de la géographie 2024 qui lui succèdent "
        "(un quartier peut se scinder, plusieurs peuvent fusionner).",
    )
    notes = models.TextField("notes", blank=True)
    cle_referentiel = models.CharField(
        "clé dans le référentiel",
        max_length=200,
        blank=True,
        editable=False,
        help_text="Géographie et nom du QPV dans quartiers/data/qpv_pma.csv : load_territoire "
        "retrouve ainsi un QPV même renommé dans l'administration.",
    )

    objects = QpvQuerySet.as_manager()

    class Meta:
        verbose_name = "QPV"
        verbose_name_plural = "QPV"
        ordering = ["-geographie", "nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(code__isnull=False),
                name="%(app_label)s_%(class)s_code_unique_when_set",
                violation_error_message="Un autre QPV porte déjà ce code officiel.",
            ),
            models.UniqueConstraint(
                fields=["geographie", "nom"],
                name="%(app_label)s_%(class)s_nom_unique_per_geographie",
                violation_error_message="Un QPV de cette géographie porte déjà ce nom.",
            ),
        ]

    def __str__(self):
        return f"{self.nom} ({self.geographie})"

    def get_absolute_url(self):
        return reverse("quartiers:qpv_detail", args=[self.pk])

    @property
    def reference_key(self) -> str:
        return f"{self.geographie}:{self.nom}"

    def clean(self):
        if self.code == "":
            self.code = None
        prefix = {self.Geographie.G2015: "QP", self.Geographie.G2024: "QN"}.get(self.geographie)
        if self.code and prefix and not self.code.startswith(prefix):
            raise ValidationError(
                {"code": f"Un QPV de la géographie {self.geographie} a un code en {prefix}…"}
            )

    def check_successeurs(self, successeurs) -> None:
        """A 2015 QPV is succeeded by QPVs of the 2024 geography (many-to-many: the admin form
        and load_territoire ask here before setting them)."""
        if not successeurs:
            return
        if self.geographie != self.Geographie.G2015 or any(
            q.geographie != self.Geographie.G2024 for q in successeurs
        ):
            raise ValidationError(
                {"successeurs": "Un QPV de 2015 a pour successeurs des QPV de la géographie 2024."}
            )

    @property
    def lettre(self) -> str | None:
        """The 2024 code's last letter: N new, M modified, I unchanged (décret n° 2024-806)."""
        if self.geographie == self.Geographie.G2024 and self.code:
            return self.code[-1]
        return None


class Indicateur(models.Model):
    """A diagnostic indicator followed over time (poverty rate, job seekers…)."""

    code = models.SlugField("code", max_length=50, unique=True)
    libelle = models.CharField("libellé", max_length=200)
    unite = models.CharField("unité", max_length=30, blank=True)
    source = models.CharField("source habituelle", max_length=100, blank=True)
    description = models.TextField("description", blank=True)
    ordre = models.PositiveSmallIntegerField("ordre d'affichage", default=0)

    class Meta:
        verbose_name = "indicateur"
        verbose_name_plural = "indicateurs"
        ordering = ["ordre", "libelle"]

    def __str__(self):
        return f"{self.libelle} ({self.unite})" if self.unite else self.libelle


def _territory_constraint(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(Q(qpv__isnull=False) & Q(commune__isnull=True))
        | (Q(qpv__isnull=True) & Q(commune__isnull=False)),
        name=name,
        violation_error_message="Rattachez-la soit à un QPV, soit à une commune.",
    )


class TerritoryQuerySet(RoleQuerySet):
    """Rights on rows attached to a QPV or a commune follow that territory's rights."""

    def editable_by_chef_projet(self, user):
        return self.filter(
            Q(qpv__in=Qpv.objects.editable_by(user))
            | Q(commune__in=Commune.objects.editable_by(user))
        )

    def for_territory(self, territory):
        if isinstance(territory, Qpv):
            return self.filter(qpv=territory)
        return self.filter(commune=territory)


class ValeurIndicateur(models.Model):
    """The value of an indicator for a QPV or a commune, one year."""

    indicateur = models.ForeignKey(
        Indicateur, verbose_name="indicateur", on_delete=models.PROTECT, related_name="valeurs"
    )
    qpv = models.ForeignKey(
        Qpv,
        verbose_name="QPV",
        on_delete=models.CASCADE,
        related_name="valeurs",
        null=True,
        blank=True,
    )
    commune = models.ForeignKey(
        Commune,
        verbose_name="commune",
        on_delete=models.CASCADE,
        related_name="valeurs",
        null=True,
        blank=True,
    )
    annee = models.PositiveSmallIntegerField("année", validators=year_validators)
    valeur = models.DecimalField("valeur", max_digits=14, decimal_places=4)
    source = models.CharField("source", max_length=150, blank=True)
    est_demo = models.BooleanField(
        "valeur de démonstration",
        default=False,
        help_text="Valeur fictive du jeu de démonstration.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="saisie par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField("mise à jour", auto_now=True)
    history = HistoricalRecords()

    objects = TerritoryQuerySet.as_manager()

    class Meta:
        verbose_name = "valeur d'indicateur"
        verbose_name_plural = "valeurs d'indicateurs"
        ordering = ["indicateur__ordre", "indicateur__libelle", "annee"]
        constraints = [
            _territory_constraint("%(app_label)s_%(class)s_one_territory"),
            models.UniqueConstraint(
                fields=["indicateur", "qpv", "annee"],
                condition=Q(qpv__isnull=False),
                name="%(app_label)s_%(class)s_unique_per_qpv_year",
                violation_error_message="Une valeur existe déjà pour cet indicateur et cette "
                "année sur ce QPV : modifiez-la plutôt.",
            ),
            models.UniqueConstraint(
                fields=["indicateur", "commune", "annee"],
                condition=Q(commune__isnull=False),
                name="%(app_label)s_%(class)s_unique_per_commune_year",
                violation_error_message="Une valeur existe déjà pour cet indicateur et cette "
                "année sur cette commune : modifiez-la plutôt.",
            ),
            models.CheckConstraint(
                condition=Q(annee__gte=YEAR_MIN) & Q(annee__lte=YEAR_MAX),
                name="%(app_label)s_%(class)s_annee_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.indicateur.libelle} {self.annee} : {nombre(self.valeur)}"

    @property
    def territory(self):
        return self.qpv or self.commune


class Observation(models.Model):
    """A dated note of the permanent diagnosis: what changed, what partners report, proposals."""

    qpv = models.ForeignKey(
        Qpv,
        verbose_name="QPV",
        on_delete=models.CASCADE,
        related_name="observations",
        null=True,
        blank=True,
    )
    commune = models.ForeignKey(
        Commune,
        verbose_name="commune",
        on_delete=models.CASCADE,
        related_name="observations",
        null=True,
        blank=True,
    )
    date = models.DateField("date")
    titre = models.CharField("titre", max_length=200)
    texte = models.TextField("observation")
    auteur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="auteur",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="observations",
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)
    history = HistoricalRecords()

    objects = TerritoryQuerySet.as_manager()

    class Meta:
        verbose_name = "observation"
        verbose_name_plural = "observations"
        ordering = ["-date", "-created_at"]
        constraints = [_territory_constraint("%(app_label)s_%(class)s_one_territory")]

    def __str__(self):
        return f"{self.date:%d/%m/%Y} – {self.titre}"

    @property
    def territory(self):
        return self.qpv or self.commune
