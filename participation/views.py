from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cvu.models import Reunion

from . import services
from .forms import ConseilForm, MembreForm
from .models import AccesDonnees, ConseilCitoyen, Membre, PresenceMembre


def _conseil(request: HttpRequest, pk: int, *, write: bool = False) -> ConseilCitoyen:
    conseil = get_object_or_404(
        ConseilCitoyen.objects.visible_to(request.user).select_related(
            "type", "commune", "structure_porteuse"
        ),
        pk=pk,
    )
    if write and not ConseilCitoyen.objects.editable_by(request.user).filter(pk=pk).exists():
        raise PermissionDenied("Vous pouvez consulter cette instance, pas la modifier.")
    return conseil


def _membre(request: HttpRequest, pk: int) -> Membre:
    """A member's personal page: 404 for anyone not entitled to see their identity."""
    return get_object_or_404(
        Membre.objects.visible_to(request.user).select_related("conseil", "organisation"), pk=pk
    )


# ---------------------------------------------------------------- councils


def conseil_list(request: HttpRequest) -> HttpResponse:
    conseils = list(
        ConseilCitoyen.objects.visible_to(request.user)
        .select_related("type", "commune")
        .prefetch_related("qpvs", "membres")
        .order_by("commune__nom", "nom")
    )
    jeunes = services.young_share_by_conseil(conseils)
    mine = (
        set(ConseilCitoyen.objects.editable_by(request.user).values_list("pk", flat=True))
        if request.user.is_chef_projet
        else set()
    )
    rows = []
    for conseil in conseils:
        membres = list(conseil.membres.all())
        regles = services.representativite(
            conseil, membres, part_moins_25_qpv=jeunes.get(conseil.pk)
        )
        rows.append(
            {
                "conseil": conseil,
                "regles": regles,
                "etat": services.worst(regles),
                "stats": services.counts(membres),
                "mine": conseil.pk in mine,
            }
        )
    return render(
        request,
        "participation/conseil_list.html",
        {
            "rows": rows,
            "can_create": request.user.sees_everything_as_manager or request.user.is_chef_projet,
        },
    )


def conseil_detail(request: HttpRequest, pk: int) -> HttpResponse:
    conseil = _conseil(request, pk)
    all_members = list(Membre.objects.filter(conseil=conseil).select_related("organisation"))
    # Names only for those who follow the council (same rule as Membre.visible_to).
    may_see_names = ConseilCitoyen.objects.editable_by(request.user).filter(pk=pk).exists()
    jeunes = services.young_share_by_conseil([conseil])
    regles = services.representativite(
        conseil, all_members, part_moins_25_qpv=jeunes.get(conseil.pk)
    )
    context = {
        "conseil": conseil,
        "regles": regles,
        "etat": services.worst(regles),
        "stats": services.counts(all_members),
        "may_see_names": may_see_names,
        "actifs": [m for m in all_members if m.statut == Membre.Statut.ACTIF]
        if may_see_names
        else [],
        "anciens": [m for m in all_members if m.statut != Membre.Statut.ACTIF]
        if may_see_names
        else [],
        "presence": services.presence_in_steering(conseil),
        "can_edit": may_see_names,
    }
    return render(request, "participation/conseil_detail.html", context)


def _conseil_form_page(request: HttpRequest, conseil: ConseilCitoyen | None) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = ConseilForm(data, instance=conseil or ConseilCitoyen())
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
            if not ConseilCitoyen.objects.editable_by(request.user).filter(pk=saved.pk).exists():
                transaction.set_rollback(True)
                form.add_error("commune", "Cette commune ne relève pas de votre secteur.")
        if not form.errors:
            messages.success(request, "Instance de participation enregistrée.")
            return redirect(saved)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "participation/conseil_form.html",
        {"form": form, "conseil": conseil},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def conseil_create(request: HttpRequest) -> HttpResponse:
    if not request.user.is_writer:
        raise PermissionDenied("Votre rôle ne permet pas de créer d'instance de participation.")
    return _conseil_form_page(request, None)


@require_http_methods(["GET", "POST"])
def conseil_update(request: HttpRequest, pk: int) -> HttpResponse:
    return _conseil_form_page(request, _conseil(request, pk, write=True))


# ---------------------------------------------------------------- members


def _membre_form_page(request, conseil, membre):
    data = request.POST if request.method == "POST" else None
    form = MembreForm(data, instance=membre or Membre(conseil=conseil))
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        services.log_access(
            membre=saved, user=request.user, action=AccesDonnees.Action.MODIFICATION
        )
        messages.success(request, "Membre enregistré.")
        return redirect(conseil)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "participation/membre_form.html",
        {"form": form, "conseil": conseil, "membre": membre},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def membre_create(request: HttpRequest, pk: int) -> HttpResponse:
    return _membre_form_page(request, _conseil(request, pk, write=True), None)


@require_http_methods(["GET", "POST"])
def membre_update(request: HttpRequest, pk: int) -> HttpResponse:
    membre = _membre(request, pk)
    if membre.anonymise_le:
        raise PermissionDenied("Ce membre a été anonymisé : sa fiche ne se modifie plus.")
    return _membre_form_page(request, membre.conseil, membre)


def membre_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membre = _membre(request, pk)
    services.log_access(membre=membre, user=request.user, action=AccesDonnees.Action.CONSULTATION)
    context = {
        "membre": membre,
        "presences": membre.presences.select_related("reunion__instance").order_by(
            "-reunion__debut"
        ),
        "acces": membre.acces.select_related("utilisateur")[:30],
    }
    return render(request, "participation/membre_detail.html", context)


def membre_export(request: HttpRequest, pk: int) -> HttpResponse:
    membre = _membre(request, pk)
    response = HttpResponse(
        services.membre_export(membre=membre, user=request.user),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="membre-{membre.pk}.json"'
    return response


@require_http_methods(["GET", "POST"])
def membre_erase(request: HttpRequest, pk: int) -> HttpResponse:
    membre = _membre(request, pk)
    if request.method == "POST":
        conseil = membre.conseil
        services.membre_erase(membre=membre, user=request.user)
        messages.success(
            request, "Identité et coordonnées effacées ; les statistiques sont conservées."
        )
        return redirect(conseil)
    return render(request, "participation/membre_confirm_erase.html", {"membre": membre})


# ---------------------------------------------------------------- presence in instances


def steering_list(request: HttpRequest) -> HttpResponse:
    since = timezone.now() - timedelta(days=365)
    meetings = (
        services.steering_meetings(since=since)
        .distinct()
        .select_related("instance__type")
        .order_by("-debut")
    )
    return render(request, "participation/steering_list.html", {"reunions": meetings})


@require_http_methods(["GET", "POST"])
def steering_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """Council members' attendance at a meeting: members the user may see, three buttons."""
    reunion = get_object_or_404(
        Reunion.objects.visible_to(request.user).select_related("instance"), pk=pk
    )
    membres = list(
        Membre.objects.visible_to(request.user)
        .actifs()
        .select_related("conseil")
        .order_by("conseil__nom", "nom")
    )
    if not membres:
        raise PermissionDenied(
            "Vous ne suivez aucun conseil : la présence de ses membres ne vous est pas accessible."
        )
    recorded = {p.membre_id: p.statut for p in PresenceMembre.objects.filter(reunion=reunion)}
    if request.method == "POST":
        allowed = {"present", "excuse", "absent"}
        with transaction.atomic():
            for membre in membres:
                value = request.POST.get(f"m-{membre.pk}", "")
                if value in allowed:
                    PresenceMembre.objects.update_or_create(
                        reunion=reunion, membre=membre, defaults={"statut": value}
                    )
        messages.success(request, "Présences des membres enregistrées.")
        return redirect("participation:steering_attendance", pk=reunion.pk)
    rows = [{"membre": m, "statut": recorded.get(m.pk, "")} for m in membres]
    return render(
        request,
        "participation/steering_attendance.html",
        {
            "reunion": reunion,
            "rows": rows,
            "statuts": PresenceMembre._meta.get_field("statut").choices,
        },
    )
