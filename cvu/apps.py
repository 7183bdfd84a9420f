from django.apps import AppConfig


class CvuConfig(AppConfig):
    name = "cvu"
    verbose_name = "Contrat de ville"
