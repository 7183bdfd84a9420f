from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("L'adresse e-mail est obligatoire.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("role", User.Role.ADMINISTRATEUR)
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A member of PMA's direction cohésion sociale, who logs in with an e-mail address."""

    class Role(models.TextChoices):
        CHEF_PROJET = "chef_projet", "Chef de projet"
        CHEF_SERVICE = "chef_service", "Chef de service"
        DIRECTION = "direction", "Direction (lecture seule)"
        ADMINISTRATEUR = "administrateur", "Administrateur"

    email = models.EmailField("adresse e-mail", unique=True)
    first_name = models.CharField("prénom", max_length=150, blank=True)
    last_name = models.CharField("nom", max_length=150, blank=True)
    role = models.CharField("rôle", max_length=20, choices=Role, default=Role.CHEF_PROJET)
    theme = models.CharField(
        "thème transversal",
        max_length=150,
        blank=True,
        help_text="Pour un chef de projet : le thème suivi sur tous les QPV.",
    )
    is_active = models.BooleanField(
        "actif", default=True, help_text="Décochez plutôt que de supprimer un compte."
    )
    is_staff = models.BooleanField(
        "accès à l'administration",
        default=False,
        help_text="Déduit du rôle : seuls les administrateurs ont accès à l'administration.",
    )
    date_joined = models.DateTimeField("date de création", default=timezone.now)
    digest_hebdo = models.BooleanField(
        "recevoir le récapitulatif hebdomadaire",
        default=True,
        help_text="Chaque lundi : suites en retard ou à échéance et réunions de la semaine.",
    )
    ics_token = models.CharField(
        "jeton du calendrier",
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text="Secret de l'adresse d'abonnement au calendrier ; vide si l'abonnement est coupé.",
    )

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = "utilisateur"
        verbose_name_plural = "utilisateurs"
        ordering = ["last_name", "first_name", "email"]

    def __str__(self):
        return self.get_full_name() or self.email

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        self.is_staff = self.is_superuser or self.role == self.Role.ADMINISTRATEUR
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    def has_perm(self, perm, obj=None):
        # Administrators keep the reference data in the admin: they hold every admin permission.
        if self.is_active and self.role == self.Role.ADMINISTRATEUR:
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label):
        if self.is_active and self.role == self.Role.ADMINISTRATEUR:
            return True
        return super().has_module_perms(app_label)

    @property
    def is_chef_projet(self) -> bool:
        return self.role == self.Role.CHEF_PROJET

    @property
    def sees_everything_as_manager(self) -> bool:
        """Chef de service and administrators may edit everywhere; direction only reads."""
        return self.is_active and (
            self.is_superuser or self.role in (self.Role.CHEF_SERVICE, self.Role.ADMINISTRATEUR)
        )

    @property
    def is_writer(self) -> bool:
        """May create records (within their rights): everyone but the direction."""
        return self.is_active and (self.is_chef_projet or self.sees_everything_as_manager)

    @property
    def is_read_only(self) -> bool:
        return self.role == self.Role.DIRECTION and not self.is_superuser
