from django.db import models


class CourrielQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(sent_at__isnull=True)


class Courriel(models.Model):
    """Un e-mail à envoyer : écrit avec la demande qui le cause, envoyé ensuite par le worker.

    The row survives an absent broker: the request only records it, and the task that sends it
    runs when the worker gets it, or when the periodic drain finds it still unsent.
    """

    subject = models.CharField("objet", max_length=300)
    body = models.TextField("texte")
    html_body = models.TextField("texte HTML", blank=True)
    to = models.JSONField("destinataires", default=list)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    claimed_at = models.DateTimeField("envoi commencé le", null=True, blank=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    error = models.TextField("dernière erreur", blank=True)

    objects = CourrielQuerySet.as_manager()

    class Meta:
        verbose_name = "courriel"
        verbose_name_plural = "courriels"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"


class CorrespondanceColonnes(models.Model):
    """How a person read the columns of a file layout last time, offered again for the same
    layout (same headers) on the same import."""

    utilisateur = models.ForeignKey(
        "comptes.User", verbose_name="utilisateur", on_delete=models.CASCADE, related_name="+"
    )
    import_type = models.CharField("import", max_length=30)
    disposition = models.CharField("disposition des colonnes", max_length=64)  # headers' hash
    colonnes = models.JSONField("lecture des colonnes", default=dict)  # target -> header
    valeurs = models.JSONField("valeurs pour tout le fichier", default=dict)
    modifiee_le = models.DateTimeField("modifiée le", auto_now=True)

    class Meta:
        verbose_name = "correspondance de colonnes"
        verbose_name_plural = "correspondances de colonnes"
        constraints = [
            models.UniqueConstraint(
                fields=["utilisateur", "import_type", "disposition"],
                name="%(app_label)s_%(class)s_one_per_layout",
            )
        ]

    def __str__(self) -> str:
        return f"{self.import_type} ({self.utilisateur})"


class Battement(models.Model):
    """The last time a periodic process showed it was alive (core.health): beat sends the
    heartbeat task every minute and the worker that runs it records the time here, in the
    database, which every host of a deployment shares."""

    nom = models.CharField("processus", max_length=30, unique=True)
    le = models.DateTimeField("dernier signe de vie")

    class Meta:
        verbose_name = "battement"
        verbose_name_plural = "battements"

    def __str__(self):
        return f"{self.nom} : {self.le:%d/%m/%Y %H:%M:%S}"


class VersionDonnees(models.Model):
    """The version of the data the figures are computed from (core.versions): one row, whose
    number database triggers raise with every transaction that writes in those tables."""

    numero = models.BigIntegerField("numéro", default=0)

    class Meta:
        verbose_name = "version des données"
        verbose_name_plural = "versions des données"

    def __str__(self):
        return f"Version {self.numero}"
