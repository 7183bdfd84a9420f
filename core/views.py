from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers, 503 otherwise; for load balancers and monitoring."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("base de données indisponible\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


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
