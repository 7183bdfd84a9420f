from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from core.exports import FORMATS, export_response
from core.lists import paginate

from .. import figures, intentions, payments, pieces, rights
from ..filters import OrganisationFilterSet
from ..forms import ContactFormSet, OrganisationForm
from ..models import Action, Financement, Instruction, Organisation
from ..models.actions import ChangementEcheance

ORGANISATION_COLUMNS = [
    ("Nom", lambda o: o.nom),
    ("Sigle", lambda o: o.sigle),
    ("Type", lambda o: o.get_type_display()),
    ("SIRET / SIREN", lambda o: o.siret),
    ("RNA", lambda o: o.rna),
    ("Adresse", lambda o: o.adresse),
    ("Code postal", lambda o: o.code_postal),
    ("Ville", lambda o: o.ville),
    ("E-mail", lambda o: o.email),
    ("Téléphone", lambda o: o.telephone),
    ("Actions portées", lambda o: o.nb_actions),
    ("Montants votés reçus (€)", lambda o: o.total_recu),
]


def organisation_list(request: HttpRequest) -> HttpResponse:
    queryset = figures.with_porteur_figures(
        Organisation.objects.visible_to(request.user)
    ).alphabetical()
    filterset = OrganisationFilterSet(request.GET, queryset=queryset)
    rows = filterset.qs
    if request.GET.get("export") in FORMATS:
        return export_response(
            rows,
            ORGANISATION_COLUMNS,
            filename="organisations",
            fmt=request.GET["export"],
            request=request,
        )
    page = paginate(request, rows)
    can_create = rights.may_create(request.user, Organisation)
    return render(
        request,
        "cvu/organisation_list.html",
        {"filter": filterset, "page_obj": page, "can_create": can_create},
    )


def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = get_object_or_404(
        Organisation.objects.visible_to(request.user).prefetch_related("contacts"), pk=pk
    )
    actions = (
        Action.objects.visible_to(request.user)
        .filter(porteur=organisation)
        .with_totals()
        .select_related("contrat")
    )
    received = (
        Financement.objects.filter(action__porteur=organisation)
        .values("annee")
        .annotate(
            demande=Sum("montant_demande"),
            vote=Sum("montant_vote", filter=figures.COUNTED_VOTE),
            verse=Sum("montant_verse"),
        )
        .order_by("-annee")
    )
    funded = (
        Financement.objects.filter(financeur=organisation)
        .values("annee")
        .annotate(
            demande=Sum("montant_demande"),
            vote=Sum("montant_vote"),
            verse=Sum("montant_verse"),
            nb=Count("action", distinct=True),
        )
        .order_by("-annee")
    )
    late = (
        Action.objects.bilan_en_retard()
        .with_exercice_en_retard()
        .filter(porteur=organisation)
        .select_related("appel")
        .order_by("date_limite_bilan")
    )
    derogations = ChangementEcheance.objects.filter(action__porteur=organisation).select_related(
        "action", "par"
    )
    opinions = (
        Instruction.objects.filter(action__porteur=organisation)
        .exclude(avis="")
        .select_related("action", "instruit_par")
        .order_by("-action__annee", "action__titre")
    )
    context = {
        "organisation": organisation,
        "late": late,
        "derogations": derogations[:20],
        "opinions": opinions[:20],
        "dependance": figures.dependance(organisation),
        # A section under the organisation's figures: a short page keeps them in view.
        "actions": paginate(request, actions, per_page=20),
        "received": received,
        "funded": funded,
        "can_edit": Organisation.objects.editable_by(request.user).filter(pk=pk).exists(),
        # The porteur's story: intentions and advice, pieces, payments and clawbacks.
        **intentions.organisation_section(request.user, organisation),
        **pieces.organisation_section(request.user, organisation),
        **payments.organisation_section(request.user, organisation),
    }
    return render(request, "cvu/organisation_detail.html", context)


def _organisation_form_page(request: HttpRequest, organisation: Organisation | None):
    instance = organisation or Organisation()
    data = request.POST if request.method == "POST" else None
    form = OrganisationForm(data, instance=instance)
    contacts = ContactFormSet(data, instance=instance, prefix="contacts")
    if request.method == "POST" and form.is_valid() and contacts.is_valid():
        with transaction.atomic():
            saved = form.save()
            contacts.instance = saved
            contacts.save()
        messages.success(request, "Organisation enregistrée.")
        return redirect(saved)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "cvu/organisation_form.html",
        {"form": form, "contacts": contacts, "organisation": organisation},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def organisation_create(request: HttpRequest) -> HttpResponse:
    rights.require_create(request.user, Organisation)
    return _organisation_form_page(request, None)


@require_http_methods(["GET", "POST"])
def organisation_update(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = rights.get_visible(request.user, Organisation.objects, pk, write=True)
    return _organisation_form_page(request, organisation)
