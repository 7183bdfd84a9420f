"""Benchmark of the reporting pages on a large dataset: `python manage.py bench_reporting`.

Generates (once) about ten years of PMA's history — 200 actions a year in each of 9 sectors,
four to five financing lines each, 300 council members, 2,000 meetings — then measures the
server time of the service head's dashboard and of a chef de projet's home page (median and
95th percentile) and the build of the "bilan de programmation" report for one year.
"""

import gc
import json
import random
import statistics
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from core.html_forms import form_data
from cvu.models import (
    Action,
    AppelAProjets,
    Comite,
    ContratDeVille,
    Enveloppe,
    Financement,
    Instance,
    NoeudStrategie,
    Organisation,
    Reunion,
    SuiteADonner,
    TypeInstance,
    Versement,
)
from cvu.payments import refresh_paid_many
from participation.models import ConseilCitoyen, Membre, TypeParticipation
from quartiers.models import Commune, Qpv, Secteur
from reporting import rapports, warming
from reporting.models import Rapport

CONTRAT = "Contrat de banc d'essai"
FIRST_YEAR, LAST_YEAR = 2017, 2026
SECTORS = 9
STATUTS = ["solde", "solde", "bilan_recu", "en_cours", "programme", "notifie", "refuse"]


def _per_year(scale: float) -> int:
    """The actions of each sector and year (200 at scale 1)."""
    return max(1, round(200 * scale))


class Command(BaseCommand):
    help = (
        "Crée (une fois) un grand jeu de données de banc d'essai puis mesure le tableau de bord, "
        "la page d'accueil d'un chef de projet et la production du bilan de programmation."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--echelle",
            type=float,
            default=1.0,
            help="Part du volume complet à créer (0.05 pour un essai rapide).",
        )
        parser.add_argument("--requetes", type=int, default=50, help="Requêtes par page mesurée.")
        parser.add_argument("--annee", type=int, default=2025, help="Exercice mesuré.")
        parser.add_argument(
            "--sortie",
            default="bench-listes.json",
            help="Fichier où écrire le tableau des pages (JSON), pour une comparaison ultérieure.",
        )
        parser.add_argument(
            "--reference",
            help="Tableau JSON d'une autre échelle : ajoute la colonne du rapport entre échelles.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Accepter d'écrire les données de banc d'essai alors que DEBUG est désactivé.",
        )

    def handle(self, *args, echelle, requetes, annee, force, sortie, reference, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG est désactivé : cette base ressemble à une base de production. Le banc "
                "d'essai n'y écrit qu'avec --force."
            )
        if not 0 < echelle <= 20:
            raise CommandError("--echelle est compris entre 0 (exclu) et 20 (10 : dix fois PMA).")
        self._refuse_demo_database()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # the web's statement timeout is not the bench's
                cursor.execute("SET statement_timeout = 0")
        if not Qpv.objects.exists():
            call_command("load_territoire", verbosity=0)
        started = time.perf_counter()
        contrat, created = self._dataset(echelle)
        if created:
            self.stdout.write(f"Données créées en {time.perf_counter() - started:.1f} s.")
            # What autovacuum does in production within a minute: without statistics on the
            # fresh tables, PostgreSQL plans as if they were empty (seq scans in subqueries),
            # and without the visibility map it cannot answer from an index alone.
            with connection.cursor() as cursor:
                vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
                cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")  # not in a transaction
        self.stdout.write(
            f"Volume : {Action.objects.filter(contrat=contrat).count()} actions, "
            f"{Financement.objects.filter(action__contrat=contrat).count()} lignes de "
            f"financement, {Membre.objects.count()} membres de conseils, "
            f"{Reunion.objects.count()} réunions."
        )
        service = self._user("bench-service@bench.local", role="chef_service")
        cdp = Secteur.objects.filter(chef_projet__isnull=False).first().chef_projet
        dashboard_url = f"/tableau-de-bord/?contrat={contrat.pk}&annee={annee}"
        dashboard = self._measure(service, dashboard_url, requetes, cold=True)
        dashboard_cached = self._measure(service, dashboard_url, requetes)
        warm = []
        for _ in range(3):  # the worker's work after a write (reporting.warming)
            cache.clear()
            t0 = time.perf_counter()
            warming.warm()
            warm.append(time.perf_counter() - t0)
        home = self._measure(cdp, "/", requetes)
        rapport = Rapport.objects.create(
            type="programmation",
            titre=f"Banc d'essai {annee}",
            parametres={"contrat": contrat.pk, "annee": annee},
            demande_par=service,
        )
        t0 = time.perf_counter()
        rapports.build_report(rapport.pk)
        build = time.perf_counter() - t0
        rapport.refresh_from_db()
        self.stdout.write(
            f"Tableau de bord après une écriture : médiane {dashboard[0]:.0f} ms, p95 "
            f"{dashboard[1]:.0f} ms ; chiffres en cache : médiane {dashboard_cached[0]:.0f} ms, "
            f"p95 {dashboard_cached[1]:.0f} ms (objectif p95 < 300 ms)"
        )
        self.stdout.write(
            f"Chiffres par défaut recalculés par le worker après une écriture (avec CACHE_URL) : "
            f"médiane {statistics.median(warm):.1f} s"
        )
        self.stdout.write(
            f"Accueil chef de projet : médiane {home[0]:.0f} ms, p95 {home[1]:.0f} ms "
            f"(objectif p95 < 150 ms)"
        )
        self.stdout.write(
            f"Bilan de programmation {annee} : {build:.1f} s, {rapport.pages} pages, statut "
            f"{rapport.get_statut_display().lower()} (objectif < 10 s)"
        )
        rapport.delete_files()
        rapport.delete()
        comite = self._committee(contrat, annee)  # its call's page is among the detail pages
        self._lists(service, cdp, contrat, annee, max(5, requetes // 5), sortie, reference)
        # The table measures every page as after a write; these, again with cached figures.
        for label, url in (
            (f"Page de l'appel à projets {annee}", comite.appel.get_absolute_url()),
            ("Page du contrat (tous exercices)", contrat.get_absolute_url()),
            ("/actions/ (tous exercices)", "/actions/"),
        ):
            median, p95 = self._measure(service, url, requetes)
            self.stdout.write(
                f"{label}, chiffres en cache : médiane {median:.0f} ms, p95 {p95:.0f} ms"
            )
        page = self._measure(service, f"{comite.get_absolute_url()}?filtre=tous", requetes)
        save = self._measure_committee_save(service, comite, max(5, requetes // 5))
        self.stdout.write(
            f"Comité de {comite.dossiers.count()} dossiers : affichage médiane {page[0]:.0f} ms, "
            f"p95 {page[1]:.0f} ms ; enregistrement de 4 décisions médiane {save[0]:.0f} ms, "
            f"p95 {save[1]:.0f} ms (objectif < 1 000 ms)"
        )

    # ------------------------------------------------------------ measures

    def _refuse_demo_database(self):
        database = settings.DATABASES["default"]
        if database["ENGINE"].endswith("sqlite3") and str(database["NAME"]) == str(
            settings.BASE_DIR / "db.sqlite3"
        ):
            raise CommandError(
                "La base SQLite par défaut est celle de la démonstration : donnez une base "
                "PostgreSQL dédiée au banc d'essai (DATABASE_URL)."
            )
        if get_user_model().objects.filter(email__endswith="@demo.local").exists():
            raise CommandError(
                "Cette base contient les comptes de démonstration : le banc d'essai n'y écrit pas."
            )

    def _lists(self, service, cdp, contrat, annee, count, sortie, reference):
        """Every list page (and its Excel export) as the chef de service and a chef de projet:
        page, queries, median, p95, and the ratio to a reference run at another scale."""
        pages = [
            "/actions/",
            f"/actions/?annee={annee}&ordre=-demande",
            f"/actions/?annee={annee}&financeur="
            + str(Financement.objects.filter(annee=annee).values("financeur")[:1][0]["financeur"]),
            "/actions/programmes/",
            "/organisations/",
            "/instances/",
            "/instances/dispositifs/",
            "/reunions/?vue=liste",
            "/suivis/",
            "/appels-a-projets/",
            "/quartiers/",
            "/quartiers/communes/",
            "/participation/",
            "/participation/demarches/",
            "/participation/cycles/",
            "/rapports/",
            "/actions/?export=xlsx",
            f"/actions/?annee={annee}&export=xlsx",
            "/organisations/?export=xlsx",
            *self._details(contrat, annee),
        ]
        previous = {}
        if reference:
            with open(reference, encoding="utf-8") as file:
                previous = {(r["page"], r["role"]): r for r in json.load(file)["pages"]}
        results = []
        self.stdout.write(
            f"{'Page':<48} {'rôle':<8} {'req.':>5} {'médiane':>9} {'p95':>9} {'rapport':>8} "
            f"{'worker':>8}"
        )
        for url in pages:
            for role, user in (("service", service), ("cdp", cdp)):
                measured = self._measure_page(user, url, count)
                if measured is None:
                    if role == "service":  # the chef de service opens every page
                        raise CommandError(f"{url} est refusé au chef de service.")
                    self.stdout.write(f"{url[:48]:<48} {role:<8} (page réservée, non mesurée)")
                    continue
                median, p95, queries, production = measured
                ratio = ""
                if (url, role) in previous and previous[url, role]["p95"]:
                    ratio = f"{p95 / previous[url, role]['p95']:.2f}"
                results.append(
                    {
                        "page": url,
                        "role": role,
                        "requetes": queries,
                        "mediane": median,
                        "p95": p95,
                        "worker_s": production,
                    }
                )
                worker = f"{production:.1f}s" if production is not None else ""
                self.stdout.write(
                    f"{url[:48]:<48} {role:<8} {queries:>5} {median:>7.0f}ms {p95:>7.0f}ms "
                    f"{ratio:>8} {worker:>8}"
                )
        with open(sortie, "w", encoding="utf-8") as file:
            volume = Action.objects.filter(contrat=contrat).count()
            json.dump({"actions": volume, "pages": results}, file, indent=1)
        self.stdout.write(f"Tableau écrit dans {sortie}.")
        for rapport in Rapport.objects.filter(
            type=Rapport.Type.EXPORT, demande_par__in=[service, cdp]
        ):
            rapport.delete_files()
            rapport.delete()

    def _details(self, contrat, annee) -> list[str]:
        """One detail page of each kind, on the objects the lists lead to most: a dossier of the
        year with its lines, its porteur (every dossier it carried), the contract, the year's
        call (its dossiers), an instance and its latest meeting, a QPV and its commune, a
        council. Measured like the lists, at both scales."""
        action = (
            Action.objects.filter(contrat=contrat, annee=annee, financements__isnull=False)
            .order_by("pk")
            .first()
        )
        qpv = Qpv.objects.filter(actions__contrat=contrat).order_by("pk").first()
        reunion = Reunion.objects.filter(debut__lt=timezone.now()).order_by("-debut").first()
        objects = [
            action,
            action.porteur if action else None,
            contrat,
            AppelAProjets.objects.filter(contrat=contrat, annee=annee).first(),
            reunion.instance if reunion else None,
            reunion,
            qpv,
            qpv.communes.order_by("pk").first() if qpv else None,
            ConseilCitoyen.objects.order_by("pk").first(),
        ]
        return [obj.get_absolute_url() for obj in objects if obj is not None]

    def _measure_page(
        self, user, url: str, count: int
    ) -> tuple[float, float, int, float | None] | None:
        """Like _measure, with the number of queries. An export above the threshold answers by
        queuing (302): the requests are timed without their build, which is then timed once as
        the worker does it (seconds, else None). None for a page the user may not open (a
        detail page outside a chef de projet's sectors)."""
        client = Client(HTTP_HOST=self._host())
        client.force_login(user)
        ok = (200, 302)
        if client.get(url).status_code in (403, 404):  # warm-up (caches, connections)
            return None
        queries = []  # counted by a wrapper: each request clears connection.queries

        def counter(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        queued = []
        # The request only records the export; its build is the worker's (timed below).
        with mock.patch.object(rapports, "_queue", queued.append):
            with connection.execute_wrapper(counter):
                if client.get(url).status_code not in ok:
                    raise CommandError(f"{url} a répondu par une erreur.")
            gc.collect()  # as in _measure
            times = []
            for _ in range(count):
                cache.clear()  # every page as after a write: figures computed (core.versions)
                t0 = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
                if response.status_code not in ok:
                    raise CommandError(f"{url} a répondu {response.status_code}.")
        production = None
        if queued:
            t0 = time.perf_counter()
            if rapports.build_report(queued[-1].pk) != Rapport.Statut.PRET:
                raise CommandError(f"L'export de {url} a échoué dans le worker.")
            production = time.perf_counter() - t0
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
        return statistics.median(times), p95, len(queries), production

    def _measure(self, user, url: str, count: int, *, cold=False) -> tuple[float, float]:
        """Median and p95 of the server time, in ms; cold: each request after emptying the
        cache, as the first one after a write (core.versions)."""
        client = Client(HTTP_HOST=self._host())
        client.force_login(user)
        assert client.get(url).status_code == 200, url  # warm-up (caches, connections)
        # The objects left by the data generation and the earlier pages, collected now: a full
        # collection of them inside a measured request took 1.1 s (a web worker has no such heap).
        gc.collect()
        times = []
        for _ in range(count):
            if cold:
                cache.clear()
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise CommandError(f"{url} a répondu {response.status_code}.")
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
        return statistics.median(times), p95

    def _measure_committee_save(self, user, comite, count: int) -> tuple[float, float]:
        """Server time of saving four decisions on the committee page, each save rolled back."""
        client = Client(HTTP_HOST=self._host())
        client.force_login(user)
        url = f"{comite.get_absolute_url()}?filtre=tous"
        data = form_data(client.get(url).content.decode(), "data-comite-form")
        for name in [n for n in data if n.startswith("sens_") and not data[n]][:4]:
            data[name] = "ajourne"
        data["confirmer"] = "on"
        times = []
        for _ in range(count):
            with transaction.atomic():
                t0 = time.perf_counter()
                response = client.post(url, data)
                times.append((time.perf_counter() - t0) * 1000)
                transaction.set_rollback(True)
            if response.status_code != 302:
                raise CommandError(f"Enregistrement du comité : réponse {response.status_code}.")
        times.sort()
        return statistics.median(times), times[min(len(times) - 1, round(0.95 * len(times)) - 1)]

    def _host(self) -> str:
        hosts = [h for h in settings.ALLOWED_HOSTS if h and not h.startswith((".", "*"))]
        return "testserver" if "testserver" in hosts else hosts[0]

    @transaction.atomic
    def _committee(self, contrat, annee):
        """A committee of 150 dossiers of the year: 70 past programming, 80 still to
        decide (each with a field per funder line: the heavy case)."""
        appel, _ = AppelAProjets.objects.get_or_create(
            contrat=contrat,
            annee=annee,
            defaults={
                "nom": f"Appel à projets de banc d'essai {annee}",
                "date_ouverture": date(annee - 1, 10, 1),
                "date_cloture": date(annee - 1, 11, 30),
            },
        )
        comite = appel.comites.first()
        if comite:
            return comite
        comite = Comite.objects.create(appel=appel, date=date(annee, 3, 20))
        done = list(
            Action.objects.filter(
                contrat=contrat, annee=annee, statut__in=["notifie", "en_cours"]
            ).order_by("pk")[:70]
        )
        Action.objects.filter(pk__in=[a.pk for a in done]).update(appel=appel)
        sample = done[0]
        funders = list(
            Organisation.objects.filter(financements_accordes__action__in=done).distinct()[:6]
        )
        todo = []
        for n in range(80):
            action = Action.objects.create(
                contrat=contrat,
                programme=sample.programme,
                porteur=sample.porteur,
                referent=sample.referent,
                titre=f"Dossier de banc d'essai à décider {n + 1}",
                annee=annee,
                appel=appel,
                statut="instruit",
            )
            for funder in funders[:3]:
                Financement.objects.create(
                    action=action,
                    financeur=funder,
                    annee=annee,
                    montant_demande=Decimal("5000"),
                    montant_propose=Decimal("4000"),
                )
            todo.append(action)
        for funder in funders:
            Enveloppe.objects.get_or_create(
                appel=appel, financeur=funder, defaults={"montant": Decimal("500000")}
            )
        comite.dossiers.set(done + todo)
        return comite

    def _user(self, email, **fields):
        user, _ = get_user_model().objects.get_or_create(
            email=email, defaults={"first_name": "Banc", "last_name": "D'essai", **fields}
        )
        return user

    # ------------------------------------------------------------ dataset

    @transaction.atomic
    def _dataset(self, scale: float):
        contrat = ContratDeVille.objects.filter(nom=CONTRAT).first()
        if contrat is not None:
            # The data of another scale would be measured under this one's name.
            expected = _per_year(scale) * len(self._sectors())
            found = Action.objects.filter(contrat=contrat, annee=FIRST_YEAR).count()
            if found != expected:
                raise CommandError(
                    f"Cette base contient le jeu de données d'une autre échelle ({found} actions "
                    f"en {FIRST_YEAR} au lieu de {expected}) : donnez une base par échelle."
                )
            return contrat, False
        rng = random.Random(147)
        contrat = ContratDeVille.objects.create(nom=CONTRAT, annee_debut=2015, annee_fin=2030)
        objectifs = []
        for a in range(1, 5):
            axe = NoeudStrategie.objects.create(
                contrat=contrat, niveau="axe", code=str(a), libelle=f"Axe {a}", ordre=a
            )
            for o in range(1, 4):
                objectifs.append(
                    NoeudStrategie.objects.create(
                        contrat=contrat,
                        parent=axe,
                        niveau="objectif",
                        code=f"{a}.{o}",
                        libelle=f"Objectif {a}.{o}",
                    )
                )
        funders = [
            Organisation.objects.create(nom=f"Financeur de banc d'essai {n}", type="autre")
            for n in range(6)
        ]
        porteurs = Organisation.objects.bulk_create(
            Organisation(nom=f"Association de banc d'essai {n}", type="association")
            for n in range(200)
        )
        sectors = self._sectors()
        per_year = _per_year(scale)
        actions, links = [], []
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            for secteur, qpvs in sectors:
                for n in range(per_year):
                    actions.append(
                        Action(
                            contrat=contrat,
                            titre=f"Action {year}-{secteur.pk}-{n}",
                            porteur=rng.choice(porteurs),
                            annee=year,
                            statut=rng.choice(STATUTS),
                            referent=secteur.chef_projet,
                            cout_total=Decimal(rng.randrange(2000, 60000)),
                            date_limite_bilan=date(year + 1, 6, 30),
                        )
                    )
                    links.append((qpvs, year))
        Action.objects.bulk_create(actions, batch_size=2000)
        qpv_links, objectif_links, lines = [], [], []
        for action, (qpvs, year) in zip(actions, links, strict=True):
            for qpv in qpvs:
                qpv_links.append(Action.qpvs.through(action=action, qpv=qpv))
            for objectif in rng.sample(objectifs, k=rng.randint(1, 2)):
                objectif_links.append(
                    Action.objectifs.through(action=action, noeudstrategie=objectif)
                )
            for funder in rng.sample(funders, k=rng.choice([4, 4, 5])):
                asked = Decimal(rng.randrange(500, 20000))
                voted = asked if action.statut != "refuse" else None
                lines.append(
                    Financement(
                        action=action,
                        financeur=funder,
                        annee=year,
                        montant_demande=asked,
                        montant_vote=voted,
                    )
                )
        Action.qpvs.through.objects.bulk_create(qpv_links, batch_size=5000)
        Action.objectifs.through.objects.bulk_create(objectif_links, batch_size=5000)
        Financement.objects.bulk_create(lines, batch_size=5000)
        # Voted lines are paid in full, by one payment each (paid amounts come from payments).
        Versement.objects.bulk_create(
            (
                Versement(
                    financement=line,
                    nature=Versement.Nature.SOLDE,
                    condition=Versement.Condition.AUTRE,
                    montant=line.montant_vote,
                    date_versement=date(line.annee, 12, 31),
                    numero_mandat=f"B{line.annee}-{n}",
                )
                for n, line in enumerate(lines)
                if line.montant_vote
            ),
            batch_size=5000,
        )
        refresh_paid_many(Financement.objects.filter(action__contrat=contrat), history=False)
        self._participation(rng, sectors, scale)
        self._meetings(rng, sectors, scale)
        return contrat, True

    def _sectors(self):
        """The 2024 QPVs with their chef de projet's sector (nine sectors created if none)."""
        existing = list(
            Secteur.objects.filter(chef_projet__isnull=False, communes__qpvs__isnull=False)
            .distinct()
            .order_by("nom")[:SECTORS]
        )
        if not existing:
            communes = list(Commune.objects.filter(qpvs__isnull=False).distinct().order_by("nom"))
            for n in range(SECTORS):
                secteur = Secteur.objects.create(
                    nom=f"Secteur de banc d'essai {n + 1}",
                    chef_projet=self._user(f"bench-cdp{n + 1}@bench.local", role="chef_projet"),
                )
                Commune.objects.filter(pk__in=[c.pk for c in communes[n::SECTORS]]).update(
                    secteur=secteur
                )
                existing.append(secteur)
        # One group per 2024 QPV (PMA has 9), with the sector of its commune.
        result = []
        for qpv in Qpv.objects.filter(geographie="2024").prefetch_related("communes__secteur"):
            secteur = next((c.secteur for c in qpv.communes.all() if c.secteur_id), None)
            if secteur is not None and secteur.chef_projet_id:
                result.append((secteur, [qpv]))
        return result

    def _participation(self, rng, sectors, scale):
        type_cc, _ = TypeParticipation.objects.get_or_create(nom="Conseil citoyen")
        conseils = []
        for _, qpvs in sectors:
            for qpv in qpvs:
                conseil = ConseilCitoyen.objects.create(
                    nom=f"Conseil de banc d'essai {qpv.nom}",
                    type=type_cc,
                    commune=qpv.communes.first(),
                )
                conseil.qpvs.set([qpv])
                conseils.append(conseil)
        Membre.objects.bulk_create(
            Membre(
                conseil=conseils[n % len(conseils)],
                prenom="Banc",
                nom=f"Membre {n}",
                college=rng.choice(["habitants", "habitants", "acteurs"]),
                genre=rng.choice(["femme", "homme"]),
                tranche_age=rng.choice(["moins_25", "25_39", "40_59", "60_plus"]),
                designation="volontaire",
                mandat_debut=date(2024, 1, 1),
                base_legale="mission_publique",
            )
            for n in range(max(1, round(300 * scale)))
        )

    def _meetings(self, rng, sectors, scale):
        copil = TypeInstance.objects.get_or_create(nom="Comité de pilotage", pilotage=True)[0]
        gtc = TypeInstance.objects.get_or_create(nom="Groupe technique communal")[0]
        instances = [
            Instance.objects.create(
                nom="COPIL de banc d'essai", type=copil, echelle="intercommunale"
            )
        ]
        for secteur, _ in sectors:
            instance = Instance.objects.create(
                nom=f"GTC de banc d'essai {secteur.nom}",
                type=gtc,
                echelle="communale",
                organisateur=secteur.chef_projet,
            )
            instances.append(instance)
        now = timezone.now()
        start = timezone.make_aware(datetime(FIRST_YEAR, 1, 10, 9))
        span = (now + timedelta(days=60) - start).days
        reunions = Reunion.objects.bulk_create(
            Reunion(
                instance=instances[n % len(instances)],
                debut=(
                    debut := start + timedelta(days=rng.randrange(span), hours=rng.randint(0, 8))
                ),
                fin=debut + timedelta(hours=2),
                statut="tenue" if debut < now else "prevue",
            )
            for n in range(max(1, round(2000 * scale)))
        )
        users = [s.chef_projet for s, _ in sectors]
        SuiteADonner.objects.bulk_create(
            SuiteADonner(
                reunion=reunion,
                quoi="Relancer les partenaires",
                responsable=rng.choice(users),
                echeance=(reunion.debut + timedelta(days=30)).date(),
                statut=rng.choice(["a_faire", "fait", "fait"]),
            )
            for reunion in reunions[::4]
        )
