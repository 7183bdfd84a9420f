from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Tableaux de bord et rapports"

    def ready(self):
        from core import exports

        from .exports import queue_export

        # Exports above the threshold become generated files, like the PDF reports.
        exports.register_deferred(queue_export)
