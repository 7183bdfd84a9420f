import calendar
import secrets
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exports import FORMATS, export_response

from ..filters import ReunionFilterSet
from ..ics import calendar_for
from ..invitations import reunion_invite
from ..models import Instance, Reunion

FEED_PAST = timedelta(days=183)

REUNION_COLUMNS = [
    ("Date", lambda r: timezone.localtime(r.debut).date()),
    ("Heure", lambda r: timezone.localtime(r.debut).strftime("%H:%M")),
    ("Fin", lambda r: timezone.localtime(r.fin).strftime("%H:%M")),
    ("Instance", lambda r: r.instance.nom),
    ("Type", lambda r: r.instance.type.nom),
    ("Objet", lambda r: r.titre),
    ("Lieu", lambda r: r.lieu),
    ("Statut", lambda r: r.get_statut_display()),
]


def _month(request: HttpRequest) -> date:
    try:
        year, month = (int(part) for part in request.GET.get("mois", "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return timezone.localdate().replace(day=1)


def calendrier(request: HttpRequest) -> HttpResponse:
    """Meetings as a month grid (default) or a list (?vue=liste), with the same filters."""
    queryset = Reunion.objects.visible_to(request.user).select_related("instance__type")
    filterset = ReunionFilterSet(request.GET, queryset=queryset)
    reunions = filterset.qs
    if request.GET.get("export") in FORMATS:
        rows = reunions.order_by("debut")
        return export_response(
            rows, REUNION_COLUMNS, filename="reunions", fmt=request.GET["export"]
        )
    context = {"filter": filterset, "can_create": request.user.is_writer}
    if request.GET.get("vue") == "liste":
        now = timezone.now()
        upcoming = list(reunions.filter(debut__gte=now).order_by("debut"))
        past = reunions.filter(debut__lt=now).order_by("-debut")
        context.update(
            vue="liste",
            upcoming=upcoming,
            page_obj=Paginator(past, 50).get_page(request.GET.get("page")),
        )
        return render(request, "cvu/calendrier.html", context)
    first = _month(request)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    tz = timezone.get_current_timezone()
    start = datetime.combine(weeks[0][0], time.min, tzinfo=tz)
    end = datetime.combine(weeks[-1][-1] + timedelta(days=1), time.min, tzinfo=tz)
    by_day: dict[date, list] = {}
    for reunion in reunions.filter(debut__gte=start, debut__lt=end).order_by("debut"):
        by_day.setdefault(timezone.localtime(reunion.debut).date(), []).append(reunion)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    context.update(
        vue="mois",
        titre=date_format(first, "F Y").capitalize(),
        weeks=[
            [
                {"day": d, "reunions": by_day.get(d, []), "in_month": d.month == first.month}
                for d in week
            ]
            for week in weeks
        ],
        today=timezone.localdate(),
        previous=previous.strftime("%Y-%m"),
        following=following.strftime("%Y-%m"),
        jours=["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    )
    return render(request, "cvu/calendrier.html", context)


# ---------------------------------------------------------------- iCalendar


def _feed_reunions(user):
    since = timezone.now() - FEED_PAST
    return (
        Reunion.objects.visible_to(user)
        .filter(debut__gte=since)
        .filter(
            Q(invites_utilisateurs=user)
            | Q(instance__organisateur=user)
            | Q(instance__in=Instance.objects.editable_by(user).values("pk"))
        )
        .distinct()
        .select_related("instance")
        .prefetch_related("points")
        .order_by("debut")
    )


def _ics_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_not_required
@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The personal calendar subscription: the secret token stands for the login."""
    user = get_user_model().objects.filter(ics_token=token, is_active=True).first()
    if not token or user is None:
        raise Http404("Abonnement inconnu ou révoqué.")
    content = calendar_for(
        _feed_reunions(user), lambda r: request.build_absolute_uri(r.get_absolute_url())
    )
    return _ics_response(content, "pilotage-cvu.ics")


def reunion_ics(request: HttpRequest, pk: int) -> HttpResponse:
    reunion = get_object_or_404(
        Reunion.objects.visible_to(request.user)
        .select_related("instance")
        .prefetch_related("points"),
        pk=pk,
    )
    content = calendar_for([reunion], lambda r: request.build_absolute_uri(r.get_absolute_url()))
    return _ics_response(content, f"reunion-{reunion.pk}.ics")


@require_http_methods(["GET", "POST"])
def abonnement(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        if request.POST.get("action") == "revoquer":
            user.ics_token = None
            messages.success(request, "Abonnement coupé : l'ancienne adresse ne fonctionne plus.")
        else:
            user.ics_token = secrets.token_urlsafe(32)
            messages.success(
                request,
                "Nouvelle adresse d'abonnement créée. Toute adresse précédente ne fonctionne plus.",
            )
        user.save(update_fields=["ics_token"])
        return redirect("cvu:calendrier_abonnement")
    url = (
        request.build_absolute_uri(reverse("cvu:calendrier_ics", args=[user.ics_token]))
        if user.ics_token
        else ""
    )
    return render(request, "cvu/calendrier_abonnement.html", {"url": url})


@require_POST
def reunion_inviter(request: HttpRequest, pk: int) -> HttpResponse:
    reunion = get_object_or_404(
        Reunion.objects.visible_to(request.user).prefetch_related(
            "invites_utilisateurs", "invites_contacts"
        ),
        pk=pk,
    )
    if not Reunion.objects.editable_by(request.user).filter(pk=pk).exists():
        raise PermissionDenied("Seul l'organisateur de la réunion envoie les invitations.")
    count = reunion_invite(reunion=reunion, user=request.user)
    if count:
        messages.success(
            request, f"Invitations envoyées à {count} personne{'s' if count > 1 else ''}."
        )
    else:
        messages.error(
            request,
            "Personne n'est invité avec une adresse e-mail : ajoutez des invités en préparant "
            "la réunion.",
        )
    return redirect(reunion)
