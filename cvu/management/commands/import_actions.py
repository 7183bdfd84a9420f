"""Imports actions and their financing lines from an .xlsx file, like /actions/import/."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from cvu import imports


class Command(BaseCommand):
    help = (
        "Importe des actions et leurs financements depuis un classeur Excel (.xlsx) au format "
        "du modèle de /actions/import/ : affiche l'aperçu, puis enregistre tout ou rien."
    )

    def add_arguments(self, parser):
        parser.add_argument("fichier", help="Chemin du fichier .xlsx.")
        parser.add_argument(
            "--user", required=True, help="Adresse e-mail de l'utilisateur au nom duquel importer."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Affiche l'aperçu sans rien enregistrer."
        )

    def handle(self, *args, **options):
        email = options["user"].strip()
        user = get_user_model().objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"Aucun utilisateur n'a l'adresse « {email} ».")
        if not imports.user_can_import(user):
            raise CommandError(
                f"{user} ne peut pas importer d'actions (chefs de projet, chef de service et "
                "administrateurs seulement)."
            )
        path = Path(options["fichier"])
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}")
        try:
            imports.check_upload(name=path.name, size=path.stat().st_size)
            rows = imports.read_rows(path.read_bytes())
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None

        plan = imports.action_import_plan(rows=rows, user=user)
        for line in plan.preview_lines():
            self.stdout.write(line)
        if not plan.ok:
            raise CommandError(
                "Le fichier contient des erreurs, rien n'a été enregistré :\n"
                + "\n".join(plan.errors)
            )
        if options["dry_run"]:
            self.stdout.write("Simulation (--dry-run) : rien n'a été enregistré.")
            return
        try:
            imports.action_import_apply(plan=plan, user=user)
        except (ValidationError, PermissionDenied) as error:
            details = error.messages if isinstance(error, ValidationError) else [str(error)]
            raise CommandError("Rien n'a été enregistré : " + " ; ".join(details)) from None
        self.stdout.write(self.style.SUCCESS(plan.result_message))
