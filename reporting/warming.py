"""The pages' default figures, computed by the worker as soon as the data changes.

core.versions keeps a year's figures until the next write; the first person to open the
dashboard after a vote would otherwise wait for them (0.7 s at ten times PMA's history, 0.9 s
for the contract page over every year). With a cache shared by the web processes
(settings.CACHE_URL), the worker computes them after each write (reporting.middleware, on every
successful POST) and every minute (beat, for imports and other work outside a request):

- the year's summary of each contract in force, for its default year (the dashboard as it opens,
  and the page of that year's call for projects), and its late bilans per referent (dashboard);
- each such contract's figures by objective over every year (the contract page as it opens);
- the totals and the number of actions of the list of every action (`/actions/` as it opens,
  the same for every user), and of the list filtered by each of those default years.

Nothing is computed twice for one version: the version warmed is noted in the cache.
"""

from django.core.cache import cache
from django.utils import timezone

from core import versions
from cvu import figures
from cvu.filters import ActionFilterSet
from cvu.models import Action, ContratDeVille

from . import dashboard
from .forms import current_contract, default_year, existing_years

WARMED = "figures:version-prechauffee"
RUNNING = "figures:prechauffage-en-cours"
# At most this many rounds when the data changes again while the figures are computed.
ROUNDS = 3


def contracts_in_force() -> list[ContratDeVille]:
    """The contracts covering this year, or else the one the dashboard opens on."""
    year = timezone.localdate().year
    contracts = list(ContratDeVille.objects.filter(annee_debut__lte=year, annee_fin__gte=year))
    if not contracts:
        contracts = [c for c in [current_contract()] if c is not None]
    return contracts


def compute_defaults() -> None:
    """Computes (or finds in the cache) the figures the pages show as they open."""
    years = set()
    for contrat in contracts_in_force():
        annee = default_year(contrat, existing_years(contrat))
        figures.synthese(figures.Chiffres(contrat, annee))
        figures.par_objectif(contrat)
        dashboard.late_bilans(dashboard.Scope(contrat, annee))
        years.add(annee)
    figures.totals(Action.objects.values("pk"), count=True)
    for annee in sorted(years):
        # The list of actions filtered by that year, as its view filters it (the same query,
        # hence the same entry, for every user who sees every action).
        actions = ActionFilterSet({"annee": annee}, queryset=Action.objects.all()).qs
        figures.totals(actions.values("pk"), annee=annee, count=True)


def warm() -> int | None:
    """Computes the default figures for the data's current version, unless that version was
    already warmed or another warming is under way. Returns the version warmed, or None."""
    if not cache.add(RUNNING, 1, 600):
        return None
    warmed = None
    try:
        for _ in range(ROUNDS):
            version = versions.current()
            if version is None or cache.get(WARMED) == version:
                break
            compute_defaults()
            cache.set(WARMED, version, versions.TIMEOUT)
            warmed = version
    finally:
        cache.delete(RUNNING)
    return warmed
