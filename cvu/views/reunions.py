from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from core.exports import FORMATS, export_response
from core.forms import model_choices
from core.lists import paginate
from core.presences import Attendee, presence_formset

from .. import minutes, rights, services
from ..filters import SuiteFilterSet
from ..forms_gouvernance import (
    ClotureForm,
    DecisionFormSet,
    PointFormSet,
    ReunionForm,
    SuiteFormSet,
    SuiteUpdateForm,
    contact_label,
)
from ..forms_presences import AutresPresentsForm
from ..models import (
    Action,
    Contact,
    Decision,
    Instance,
    PointOrdreDuJour,
    Presence,
    ProgrammeActions,
    Reunion,
    SuiteADonner,
)


def _get_reunion(request: HttpRequest, pk: int, *, write: bool = False) -> Reunion:
    return rights.get_visible(
        request.user,
        Reunion.objects.select_related("instance__type", "instance__organisateur"),
        pk,
        write=write,
    )


def _linked_choices(reunion: Reunion | None) -> dict:
    """Actions and programmes an agenda item or decision may point to, computed once."""
    actions = Action.objects.order_by("-annee", "titre")
    if reunion is not None:
        year = reunion.debut.year
        actions = actions.filter(annee__in=[year - 1, year, year + 1])
        communes = list(reunion.instance.communes.values_list("pk", flat=True))
        if communes:
            actions = actions.filter(qpvs__communes__in=communes).distinct()
    return {
        "action": model_choices(actions.only("pk", "titre", "annee"), lambda a: f"{a.annee} · {a}"),
        "programme": model_choices(
            ProgrammeActions.objects.only("pk", "nom", "annee_debut", "annee_fin")
        ),
    }


# ---------------------------------------------------------------- prepare


def _reunion_form_page(request: HttpRequest, reunion: Reunion | None) -> HttpResponse:
    instances = Instance.objects.editable_by(request.user).filter(active=True)
    initial = {}
    if reunion is None and request.GET.get("instance"):
        chosen = instances.filter(pk=request.GET["instance"]).first()
        if chosen is not None:
            initial = {
                "instance": chosen,
                "invites_contacts": list(chosen.contacts_membres.all()),
            }
    data = request.POST if request.method == "POST" else None
    form = ReunionForm(data, instance=reunion or Reunion(), instances=instances, initial=initial)
    points = PointFormSet(
        data,
        instance=reunion or Reunion(),
        prefix="points",
        form_kwargs={"choices": _linked_choices(reunion)},
    )
    if request.method == "POST" and form.is_valid() and points.is_valid():
        try:
            saved = services.reunion_save(form=form, points=points, user=request.user)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Réunion enregistrée.")
            return redirect(saved)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "points": points, "reunion": reunion}
    return render(request, "cvu/reunion_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def reunion_create(request: HttpRequest) -> HttpResponse:
    rights.require_create(request.user, Reunion)
    return _reunion_form_page(request, None)


@require_http_methods(["GET", "POST"])
def reunion_update(request: HttpRequest, pk: int) -> HttpResponse:
    return _reunion_form_page(request, _get_reunion(request, pk, write=True))


@require_http_methods(["GET", "POST"])
def reunion_delete(request: HttpRequest, pk: int) -> HttpResponse:
    reunion = _get_reunion(request, pk, write=True)
    if request.method == "POST":
        instance = reunion.instance
        reunion.delete()
        messages.success(request, "Réunion supprimée.")
        return redirect(instance)
    return render(request, "cvu/reunion_confirm_delete.html", {"reunion": reunion})


def reunion_detail(request: HttpRequest, pk: int) -> HttpResponse:
    reunion = get_object_or_404(
        Reunion.objects.visible_to(request.user)
        .select_related("instance__type", "instance__organisateur", "created_by")
        .prefetch_related(
            Prefetch(
                "points",
                queryset=PointOrdreDuJour.objects.select_related(
                    "action", "programme", "proposition"
                ),
            ),
            "invites_utilisateurs",
            Prefetch("invites_contacts", queryset=Contact.objects.select_related("organisation")),
            Prefetch(
                "presences",
                queryset=Presence.objects.select_related("contact", "utilisateur", "organisation"),
            ),
            Prefetch("decisions", queryset=Decision.objects.select_related("action", "programme")),
            Prefetch(
                "suites",
                queryset=SuiteADonner.objects.select_related("responsable", "responsable_contact"),
            ),
        ),
        pk=pk,
    )
    presences = list(reunion.presences.all())
    propositions = [
        point.proposition for point in reunion.points.all() if hasattr(point, "proposition")
    ]
    context = {
        "reunion": reunion,
        "propositions": propositions,
        "decidable": {p.pk for p in propositions if rights.may_decide_proposition(request.user, p)},
        "can_edit": Reunion.objects.editable_by(request.user).filter(pk=pk).exists(),
        "presents": [p for p in presences if p.statut == Presence.Statut.PRESENT],
        "excuses": [p for p in presences if p.statut == Presence.Statut.EXCUSE],
        "absents": [p for p in presences if p.statut == Presence.Statut.ABSENT],
        **minutes.etat(reunion),
    }
    return render(request, "cvu/reunion_detail.html", context)


# ---------------------------------------------------------------- hold


@require_http_methods(["GET", "POST"])
def reunion_presences(request: HttpRequest, pk: int) -> HttpResponse:
    """Attendance taken quickly in the room: one row per invited person, three buttons."""
    reunion = _get_reunion(request, pk, write=True)
    recorded = {
        ("u", p.utilisateur_id) if p.utilisateur_id else ("c", p.contact_id): p
        for p in Presence.objects.filter(reunion=reunion).select_related("contact__organisation")
    }
    people = [("u", u, "PMA") for u in reunion.invites_utilisateurs.all()]
    people += [
        ("c", c, c.organisation.nom)
        for c in reunion.invites_contacts.select_related("organisation")
    ]
    invited_keys = {(kind, person.pk) for kind, person, _org in people}
    # People who came without an invitation keep their row, marked as such.
    people += [
        ("c", p.contact, p.contact.organisation.nom)
        for key, p in recorded.items()
        if key not in invited_keys and p.contact_id
    ]
    by_key = {f"{kind}-{person.pk}": (kind, person.pk) for kind, person, _org in people}
    attendees = [
        Attendee(
            key=f"{kind}-{person.pk}",
            name=str(person),
            detail=org,
            note="" if (kind, person.pk) in invited_keys else "non invité",
            status=recorded[(kind, person.pk)].statut if (kind, person.pk) in recorded else "",
        )
        for kind, person, org in people
    ]
    others = (
        Contact.objects.select_related("organisation")
        .exclude(pk__in=[pk for kind, pk in by_key.values() if kind == "c"])
        .order_by("organisation__nom", "nom")
    )
    data = request.POST if request.method == "POST" else None
    formset = presence_formset(data, people=attendees, choices=Presence.Statut.choices)
    autres_form = AutresPresentsForm(data, queryset=others)
    if data is not None and formset.is_valid() and autres_form.is_valid():
        statuses = {by_key[key]: statut for key, statut in formset.statuses().items() if statut}
        extra = list(autres_form.cleaned_data["autres"])
        services.presences_save(reunion=reunion, statuses=statuses, extra_contacts=extra)
        messages.success(request, f"Présences enregistrées ({len(statuses) + len(extra)}).")
        if extra:
            names = ", ".join(contact_label(c) for c in extra)
            messages.warning(request, f"Présents sans avoir été invités : {names}.")
        return redirect(f"{reunion.get_absolute_url()}#presences")
    context = {"reunion": reunion, "formset": formset, "autres_form": autres_form}
    return render(
        request, "cvu/reunion_presences.html", context, status=400 if data is not None else 200
    )


# ---------------------------------------------------------------- close


@require_http_methods(["GET", "POST"])
def reunion_cloture(request: HttpRequest, pk: int) -> HttpResponse:
    """Minutes, decisions and follow-ups in one form; nothing typed is lost on an error."""
    reunion = _get_reunion(request, pk, write=True)
    data = request.POST if request.method == "POST" else None
    choices = _linked_choices(reunion)
    form = ClotureForm(data, instance=reunion)
    # A proposal's decision is recorded and shown with the proposal, not rewritten here.
    decisions = DecisionFormSet(
        data,
        instance=reunion,
        prefix="decisions",
        form_kwargs={"choices": choices},
        queryset=Decision.objects.filter(proposition__isnull=True),
    )
    suites = SuiteFormSet(data, instance=reunion, prefix="suites")
    if request.method == "POST" and form.is_valid() and decisions.is_valid() and suites.is_valid():
        services.cloture_save(form=form, decisions=decisions, suites=suites)
        messages.success(request, "Compte rendu, décisions et suites enregistrés.")
        return redirect(reunion)
    status = 400 if request.method == "POST" else 200
    context = {
        "reunion": reunion,
        "form": form,
        "decisions": decisions,
        "suites": suites,
        "decisions_propositions": Decision.objects.filter(
            reunion=reunion, proposition__isnull=False
        ).select_related("proposition"),
    }
    return render(request, "cvu/reunion_cloture.html", context, status=status)


# ---------------------------------------------------------------- follow-ups


SUITE_COLUMNS = [
    ("Suite à donner", lambda s: s.quoi),
    ("Responsable", lambda s: str(s.owner)),
    ("Échéance", lambda s: s.echeance),
    ("Statut", lambda s: s.get_statut_display()),
    ("En retard", lambda s: s.is_overdue),
    ("Instance", lambda s: s.reunion.instance.nom),
    ("Réunion du", lambda s: s.reunion.debut),
]


def suite_list(request: HttpRequest) -> HttpResponse:
    queryset = SuiteADonner.objects.visible_to(request.user).select_related(
        "responsable", "responsable_contact", "reunion__instance"
    )
    open_statuses = [SuiteADonner.Statut.A_FAIRE, SuiteADonner.Statut.EN_COURS]
    data = request.GET.copy()
    if not data:
        data.setlist("statut", open_statuses)
        # The agents' own follow-ups first; the direction, never responsible, sees them all.
        if request.user.is_writer:
            data["responsable"] = str(request.user.pk)
    filterset = SuiteFilterSet(data, queryset=queryset, request=request)
    rows = filterset.qs.order_by("echeance", "pk")
    if request.GET.get("export") in FORMATS:
        return export_response(
            rows, SUITE_COLUMNS, filename="suites", fmt=request.GET["export"], request=request
        )
    page = paginate(request, rows)
    editable = set(
        SuiteADonner.objects.editable_by(request.user)
        .filter(pk__in=[suite.pk for suite in page])
        .values_list("pk", flat=True)
    )
    views = {
        "mine": reverse(
            "cvu:suite_list", query={"responsable": request.user.pk, "statut": open_statuses}
        ),
        "all": reverse("cvu:suite_list", query={"responsable": "", "statut": open_statuses}),
    }
    responsable = filterset.form.cleaned_data.get("responsable") if filterset.is_valid() else None
    return render(
        request,
        "cvu/suite_list.html",
        {
            "filter": filterset,
            "page_obj": page,
            "editable": editable,
            "views": views,
            "showing_mine": responsable == request.user,
        },
    )


@require_http_methods(["GET", "POST"])
def suite_update(request: HttpRequest, pk: int) -> HttpResponse:
    suite = rights.get_visible(
        request.user, SuiteADonner.objects.select_related("reunion__instance"), pk, write=True
    )
    form = SuiteUpdateForm(request.POST if request.method == "POST" else None, instance=suite)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Suite mise à jour.")
        return redirect("cvu:suite_list")
    status = 400 if request.method == "POST" else 200
    return render(request, "cvu/suite_form.html", {"form": form, "suite": suite}, status=status)


@require_POST
def suite_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Marks a follow-up done in one click, where it is shown (home, meeting, list).

    With htmx the follow-up's status block is swapped; a plain form comes back to `next`.
    """
    suite = rights.get_visible(request.user, SuiteADonner.objects, pk, write=True)
    suite.mark_done()
    if request.htmx:
        response = render(
            request,
            "cvu/includes/_suite_statut_inner.html",
            {"suite": suite, "can_mark": True, "next": "", "just_done": True},
        )
        patch_vary_headers(response, ["HX-Request"])
        return response
    messages.success(request, f"Suite « {suite.quoi} » marquée comme faite.")
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("cvu:suite_list")
