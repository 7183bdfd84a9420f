from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from quartiers.models import Commune, Observation, Qpv, Secteur


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
    context = {
        "own_sectors": has_own,
        "secteurs": secteurs.alphabetical(),
        "observations": observations[:10],
    }
    return render(request, "reporting/home.html", context)
