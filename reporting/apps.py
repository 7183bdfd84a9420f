from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Tableaux de bord et rapports"

    def ready(self):
        from django.db.models.signals import post_delete

        from core import exports

        from .exports import queue_export

        # Exports above the threshold become generated files, like the PDF reports.
        exports.register_deferred(queue_export)

        from .models import Rapport, delete_rapport_files

        post_delete.connect(delete_rapport_files, sender=Rapport, dispatch_uid="rapport_files")
