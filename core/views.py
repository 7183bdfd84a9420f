from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health


def stored_file(fichier, *, name: str, content_type: str, missing: str) -> FileResponse:
    """A private stored file (document, piece, report, compte rendu), streamed as an attachment
    under the given name and type; 404 with `missing` when the storage lost it. Rights are the
    caller's."""
    try:
        source = fichier.open("rb")
    except (FileNotFoundError, ValueError):  # lost from the storage, or never attached
        raise Http404(missing) from None
    response = FileResponse(source, as_attachment=True, filename=name)
    response["Content-Type"] = content_type
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The state of the components as JSON, 200 when all those asked are up, 503 otherwise.

    Without parameter only the database is checked (the load balancer's frequent probe);
    `?composants=tous` or a list (`?composants=broker,worker`) checks those (core.health),
    each within about a second."""
    asked = request.GET.get("composants", "base")
    names = list(health.COMPONENTS) if asked == "tous" else asked.split(",")
    unknown = [name for name in names if name not in health.COMPONENTS]
    if unknown:
        return JsonResponse(
            {
                "erreur": f"Composant inconnu : {', '.join(unknown)}. Possibles : "
                f"{', '.join(health.COMPONENTS)} ou tous."
            },
            status=400,
        )
    components = health.report(names)
    up = all(state["ok"] is not False for state in components.values())
    return JsonResponse(
        {"statut": "ok" if up else "panne", "composants": components},
        status=200 if up else 503,
        json_dumps_params={"ensure_ascii": False},
    )


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that do not name an icon (the admin)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@login_not_required
@require_GET
def accessibilite(request: HttpRequest) -> HttpResponse:
    """The accessibility statement (RGAA), with the contact the collectivité configured."""
    return render(
        request,
        "accessibilite.html",
        {
            "contact_email": settings.ACCESSIBILITE_CONTACT_EMAIL,
            "contact_adresse": settings.ACCESSIBILITE_CONTACT_ADRESSE,
        },
    )
