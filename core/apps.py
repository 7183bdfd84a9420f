from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Outils communs"

    def ready(self):
        from . import logs  # noqa: F401 (connects the Celery signals that log each task)
