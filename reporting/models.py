from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.querysets import is_active_user


def stale_after() -> timedelta:
    """A build still "en cours" after this long was interrupted (worker killed, machine
    restarted): no build outlives the task time limit, which stops it."""
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + timedelta(minutes=5)


class RapportQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A report goes to who asked for it and to the chef de service and administrators; the
        direction de projet also reads the reports that hold no personal data."""
        if not is_active_user(user):
            return self.none()
        if user.sees_everything_as_manager:
            return self.all()
        if user.role == user.Role.DIRECTION:
            return self.filter(Q(demande_par=user) | Q(type__in=Rapport.SANS_DONNEES_PERSONNELLES))
        return self.filter(demande_par=user)

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

    # Counts and figures only (no council member, no inhabitant is named): the direction de
    # projet may read them whoever asked for them.
    SANS_DONNEES_PERSONNELLES = [
        Type.PARTICIPATION,
        Type.PROGRAMMATION,
        Type.FICHE,
        Type.PROJET_QUARTIER,
        Type.MI_PARCOURS,
    ]

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
    # Exports: rows written so far by the worker, of parametres["lignes"].
    progression = models.PositiveIntegerField("lignes écrites", null=True, blank=True)
    task_id = models.CharField("tâche Celery", max_length=50, blank=True)
    tentatives = models.PositiveSmallIntegerField("tentatives", default=0)
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
        for field in (self.fichier, self.annexe):
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
