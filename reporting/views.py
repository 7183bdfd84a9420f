from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from cvu.digest import dossiers_for
from cvu.models import Echange, Instance, Reunion, SuiteADonner
from participation.models import ConseilCitoyen
from quartiers.models import Commune, Observation, Qpv, Secteur

from .dashboard import Scope, council_rows, dashboard
from .forms import DashboardForm


def home(request: HttpRequest) -> HttpResponse:
    """The start page: the user's sectors with their QPVs, and recent observations."""
    user = request.user
    mine = Secteur.objects.of_user(user)
    has_own = mine.exists()
    secteurs = (
        (mine if has_own else Secteur.objects.visible_to(user))
        .select_related("chef_projet", "backup")
        .prefetch_related(
            Prefetch(
                "communes",
                queryset=Commune.objects.order_by("nom").prefetch_related(
                    Prefetch(
                        "qpvs",
                        queryset=Qpv.objects.filter(geographie=Qpv.Geographie.G2024).order_by(
                            "nom"
                        ),
                    )
                ),
            )
        )
    )
    observations = Observation.objects.visible_to(user).select_related("qpv", "commune", "auteur")
    if has_own:
        observations = observations.filter(
            qpv__in=Qpv.objects.filter(communes__secteur__in=mine).values("pk")
        ) | observations.filter(commune__secteur__in=mine)
    suites = (
        SuiteADonner.objects.visible_to(user)
        .open()
        .filter(responsable=user)
        .select_related("reunion__instance")
        .order_by("echeance")
    )
    reunions = (
        Reunion.objects.visible_to(user)
        .upcoming()
        .filter(
            Q(invites_utilisateurs=user)
            | Q(instance__in=Instance.objects.editable_by(user).values("pk"))
        )
        .distinct()
        .select_related("instance")
        .order_by("debut")
    )
    today = timezone.localdate()
    etapes = (
        Echange.objects.visible_to(user)
        .next_steps_due(user, today)
        .select_related("organisation")
        .order_by("date_prochaine_etape", "pk")
    )
    conseils = []
    if has_own:
        conseils, _ = council_rows(
            ConseilCitoyen.objects.visible_to(user).filter(commune__secteur__in=mine)
        )
    context = {
        "dossiers": dossiers_for(user) if user.is_chef_projet else None,
        "conseils": conseils,
        "suites": suites[:15],
        "reunions": reunions[:8],
        "etapes_porteurs": list(etapes[:15]),
        "today": today,
        "own_sectors": has_own,
        "secteurs": secteurs.alphabetical(),
        "observations": observations[:10],
    }
    return render(request, "reporting/home.html", context)


def tableau_de_bord(request: HttpRequest) -> HttpResponse:
    """The service head's dashboard for a contract and a year, as charts with their tables."""
    form = DashboardForm(request.GET)
    if not form.is_valid():
        # Wrong filters are reported on the form; the figures fall back to the defaults.
        fallback = DashboardForm({})
        fallback.is_valid()
        cleaned = {**fallback.cleaned_data}
    else:
        cleaned = form.cleaned_data
    context = {"form": form}
    if cleaned.get("contrat") is not None:
        scope = Scope(
            contrat=cleaned["contrat"],
            annee=cleaned["annee"],
            secteur=cleaned.get("secteur"),
            commune=cleaned.get("commune"),
        )
        context.update(scope=scope, **dashboard(scope))
    return render(request, "reporting/tableau_de_bord.html", context)
