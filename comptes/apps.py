from django.apps import AppConfig


class ComptesConfig(AppConfig):
    name = "comptes"
    verbose_name = "Comptes et rôles"

    def ready(self):
        from . import lockout  # noqa: F401  (connects the lock-out notice to axes' signal)
