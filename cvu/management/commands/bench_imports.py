"""Times the three imports on generated files of their largest size: reading and preview, then
confirmation, then a re-import of the same file. Everything runs in a transaction rolled back at
the end, so the command leaves the database as it found it and gives the same figures twice."""

import io
import random
import time
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from openpyxl import Workbook

from cvu import dauphin, imports
from cvu.models import AppelAProjets, ContratDeVille, Enveloppe, Organisation
from participation import imports as member_imports
from participation.models import ConseilCitoyen, TypeParticipation
from quartiers.models import Commune, Qpv


class _Rollback(Exception):
    pass


def _xlsx(rows) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Feuil1")
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _french(amount: int) -> str:
    return f"{amount:,}".replace(",", "\u202f") + ",00 €"


class Command(BaseCommand):
    help = (
        "Mesure l'aperçu et la confirmation des trois imports (actions au format large, "
        "dossiers Dauphin, membres) sur des fichiers générés de leur taille maximale ; "
        "n'enregistre rien."
    )

    def add_arguments(self, parser):
        parser.add_argument("--lignes", type=int, default=imports.MAX_ROWS)
        parser.add_argument("--graine", type=int, default=2026, help="Graine du générateur.")

    def handle(self, *args, lignes, graine, **options):
        if not 1 <= lignes <= imports.MAX_ROWS:
            raise CommandError(f"--lignes est compris entre 1 et {imports.MAX_ROWS}.")
        self.random = random.Random(graine)
        if not Qpv.objects.filter(geographie=Qpv.Geographie.G2024).exists():
            call_command("load_territoire", verbosity=0)
        self.rows = []
        try:
            with transaction.atomic():
                self._setup()
                self._actions(lignes)
                self._dauphin(lignes)
                self._members(member_imports.MAX_ROWS)
                raise _Rollback
        except _Rollback:
            pass
        self.stdout.write(
            f"Imports sur {connection.vendor} ({lignes} lignes ; membres : "
            f"{member_imports.MAX_ROWS}), en secondes :"
        )
        self.stdout.write(
            f"{'import':<34} {'lecture+aperçu':>15} {'confirmation':>13} {'réimport':>9}"
        )
        for name, preview, confirm, again in self.rows:
            self.stdout.write(f"{name:<34} {preview:>15.2f} {confirm:>13.2f} {again:>9.2f}")

    def _setup(self):
        User = get_user_model()
        self.user = User.objects.create_user(
            "banc-imports@pma.test", role="chef_service", first_name="Banc", last_name="Imports"
        )
        self.contrat = ContratDeVille.objects.filter(annee_debut=2024).first() or (
            ContratDeVille.objects.create(
                nom="Contrat de ville 2024-2030", annee_debut=2024, annee_fin=2030
            )
        )
        self.funders = [
            Organisation.objects.create(nom=f"Financeur banc {name}", sigle=name, type=kind)
            for name, kind in (("ETATB", "etat"), ("CAFB", "caf"), ("PMAB", "epci"))
        ]
        self.porteurs = Organisation.objects.bulk_create(
            Organisation(nom=f"Association banc {n:04}", type="association") for n in range(300)
        )
        self.qpvs = list(Qpv.objects.filter(geographie=Qpv.Geographie.G2024)[:9])

    def _timed(self, function):
        started = time.perf_counter()
        result = function()
        return result, time.perf_counter() - started

    def _actions(self, count):
        header = ["Intitulé", "Structure", "QPV"] + [f.sigle for f in self.funders]
        body = []
        for n in range(count):
            porteur = (
                f"Nouvelle structure {n % 25}"
                if n % 200 == 0
                else self.random.choice(self.porteurs).nom
            )
            amounts = [
                _french(self.random.randrange(500, 40000)) if self.random.random() < 0.7 else None
                for _ in self.funders
            ]
            body.append(
                [f"Action de banc n° {n}", porteur, self.random.choice(self.qpvs).nom, *amounts]
            )
        data = _xlsx([["Programmation de banc"], [], header, *body, ["Total"]])

        def preview():
            file = imports.read_file(data)
            mapping = imports.ColumnMapping(
                file.mapping.columns, contrat=self.contrat, exercice=2026
            )
            plan = imports.action_import_plan(
                rows=list(imports.mapped_rows(file.table, mapping)),
                user=self.user,
                styles=file.styles(),
            )
            return plan

        plan, preview_time = self._timed(preview)
        if not plan.ok:
            raise CommandError("Aperçu des actions en erreur : " + " ; ".join(plan.errors[:5]))
        _, confirm_time = self._timed(
            lambda: imports.action_import_apply(plan=plan, user=self.user)
        )
        again, again_time = self._timed(preview)
        if not again.ok or "0 à créer, 0 à mettre à jour" not in again.summary:
            raise CommandError("Le réimport des actions n'est pas inchangé : " + again.summary)
        self.rows.append(
            ("actions (format large, 3 financeurs)", preview_time, confirm_time, again_time)
        )

    def _dauphin(self, count):
        appel = AppelAProjets.objects.create(
            contrat=self.contrat,
            nom="Appel de banc",
            annee=2027,
            date_ouverture=date(2026, 9, 1),
            date_cloture=date(2026, 11, 30),
        )
        for funder in self.funders:
            Enveloppe.objects.create(appel=appel, financeur=funder, montant=Decimal("10000000"))
        header = ["N° dossier", "Raison sociale", "SIRET", "Intitulé"] + [
            f"Montant {f.sigle}" for f in self.funders
        ]
        body = [
            [
                f"DA-2027-{n:05}",
                self.porteurs[n % len(self.porteurs)].nom,
                None,
                f"Dossier de banc n° {n}",
                *[_french(self.random.randrange(500, 40000)) for _ in self.funders],
            ]
            for n in range(count)
        ]
        data = _xlsx([["Export Dauphin"], [], header, *body])

        def preview():
            table = dauphin.read_table(data)
            mapping = dauphin.guess_mapping(table.headers, dauphin.funders(appel))
            return dauphin.plan_import(table=table, mapping=mapping, appel=appel)

        plan, preview_time = self._timed(preview)
        if not plan.ok:
            raise CommandError("Aperçu Dauphin en erreur.")
        _, confirm_time = self._timed(
            lambda: dauphin.apply_import(plan=plan, appel=appel, user=self.user)
        )
        _, again_time = self._timed(preview)
        self.rows.append(
            ("dossiers Dauphin (3 financeurs)", preview_time, confirm_time, again_time)
        )

    def _members(self, count):
        commune = Commune.objects.filter(qpvs__in=self.qpvs).first()
        type_, _ = TypeParticipation.objects.get_or_create(nom="Conseil citoyen")
        conseil = ConseilCitoyen.objects.create(nom="Conseil de banc", type=type_, commune=commune)
        header = ";".join(
            [
                "Prénom",
                "Nom",
                "Collège",
                "Genre",
                "Tranche d'âge",
                "Résident QPV",
                "Désignation",
                "Début du mandat",
                "Base légale",
            ]
        )
        body = [
            ";".join(
                [
                    f"Prénom{n}",
                    f"Nom{n}",
                    "Habitants",
                    "Femme" if n % 2 else "Homme",
                    "25 à 39 ans",
                    "oui",
                    "Volontaire",
                    "15/01/2026",
                    "mission_publique",
                ]
            )
            for n in range(count)
        ]
        data = "\n".join([header, *body]).encode()

        def preview():
            return member_imports.check(conseil=conseil, content=data, filename="membres.csv")

        lignes, preview_time = self._timed(preview)
        if any(ligne.erreurs for ligne in lignes):
            raise CommandError("Aperçu des membres en erreur.")
        _, confirm_time = self._timed(lambda: member_imports.apply(lignes=lignes, user=self.user))
        self.rows.append(("membres d'un conseil", preview_time, confirm_time, float("nan")))
