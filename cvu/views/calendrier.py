import secrets
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exports import FORMATS, export_response
from core.lists import PAGE_SIZE, paginate

from .. import rights
from ..filters_reunions import CalendrierFilterSet, month_bounds, month_weeks
from ..ics import calendar_for
from ..invitations import reunion_invite
from ..models import Instance, Reunion

FEED_PAST = timedelta(days=183)
JOURS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]

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


def calendrier(request: HttpRequest) -> HttpResponse:
    """Meetings as a month grid (default) or a list (?vue=liste), with the same filters.

    The export follows the view: the month shown, or the whole filtered list.
    """
    vue = "liste" if request.GET.get("vue") == "liste" else "mois"
    today = timezone.localdate()
    data = request.GET.copy()
    if vue == "mois" and not data.get("mois"):
        data["mois"] = today.strftime("%Y-%m")
    filterset = CalendrierFilterSet(
        data,
        queryset=Reunion.objects.visible_to(request.user).select_related("instance__type"),
    )
    reunions = filterset.qs
    if vue == "mois":
        # A mistyped month is reported by the form; the grid falls back to this month.
        first = filterset.form.cleaned_data.get("mois")
        if first is None:
            first = today.replace(day=1)
            start, end = month_bounds(first)
            reunions = reunions.filter(debut__gte=start, debut__lt=end)
    if request.GET.get("export") in FORMATS:
        return export_response(
            reunions.order_by("debut"),
            REUNION_COLUMNS,
            filename="reunions",
            fmt=request.GET["export"],
            request=request,
        )
    context = {
        "filter": filterset,
        "vue": vue,
        "can_create": rights.may_create(request.user, Reunion),
    }
    if vue == "liste":
        now = timezone.now()
        # The next PAGE_SIZE meetings: the rest is for the filters or the month view.
        upcoming = reunions.filter(debut__gte=now).order_by("debut")
        context.update(
            upcoming=list(upcoming[:PAGE_SIZE]),
            upcoming_count=upcoming.count(),
            page_obj=paginate(request, reunions.filter(debut__lt=now).order_by("-debut")),
        )
        return render(request, "cvu/calendrier.html", context)
    by_day: dict = {}
    for reunion in reunions.order_by("debut"):
        by_day.setdefault(timezone.localtime(reunion.debut).date(), []).append(reunion)
    context.update(
        titre=date_format(first, "F Y").capitalize(),
        weeks=[
            [
                {"day": d, "reunions": by_day.get(d, []), "in_month": d.month == first.month}
                for d in week
            ]
            for week in month_weeks(first)
        ],
        today=today,
        previous=(first - timedelta(days=1)).strftime("%Y-%m"),
        following=(first + timedelta(days=32)).strftime("%Y-%m"),
        jours=JOURS,
    )
    return render(request, "cvu/calendrier.html", context)


# ---------------------------------------------------------------- iCalendar


def _feed_reunions(user):
    """Meetings the user is invited to, organises or may edit, from six months ago on."""
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
    if user is None:
        raise Http404("Abonnement inconnu ou révoqué.")
    content = calendar_for(
        _feed_reunions(user), lambda r: request.build_absolute_uri(r.get_absolute_url())
    )
    return _ics_response(content, "pilotage-cvu.ics")


@require_GET
def reunion_ics(request: HttpRequest, pk: int) -> HttpResponse:
    """One meeting as an .ics file, for whoever may read it."""
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
    """The user's personal feed address: create, regenerate or revoke its secret token."""
    user = request.user
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "revoquer":
            user.ics_token = None
            messages.success(request, "Abonnement coupé : l'ancienne adresse ne fonctionne plus.")
        elif action == "creer":
            replaced = bool(user.ics_token)
            user.ics_token = secrets.token_urlsafe(32)
            messages.success(
                request,
                "Nouvelle adresse d'abonnement créée : l'ancienne ne fonctionne plus."
                if replaced
                else "Adresse d'abonnement créée.",
            )
        else:
            return HttpResponseBadRequest("Action inconnue.")
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
    """Sends (or sends again) the meeting's invitations; only those who may edit it."""
    reunion = get_object_or_404(
        Reunion.objects.visible_to(request.user).prefetch_related(
            "invites_utilisateurs", "invites_contacts"
        ),
        pk=pk,
    )
    rights.require_change(request.user, reunion)
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
