"""The annual report's pages: the list, starting one, its page (checklist, chapters,
consultations, approval, versions) and the forms of each step. reporting.annuel decides and
checks every right again."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.views import stored_file
from cvu import rights
from cvu.models import ContratDeVille
from cvu.services import UPLOAD_TYPES

from . import annuel
from .forms import current_contract
from .forms_annuel import (
    ApprobationForm,
    ChapitreForm,
    CommunesDsuForm,
    ConsultationForm,
    DemarrerForm,
    PublicationForm,
)
from .models import ChapitreRapport, Consultation, RapportAnnuel


def _get(request: HttpRequest, pk: int) -> RapportAnnuel:
    return get_object_or_404(
        RapportAnnuel.objects.visible_to(request.user).select_related("contrat"), pk=pk
    )


def _form_page(request, rapport, form, title: str, *, status=200, intro: str = ""):
    return render(
        request,
        "reporting/annuel_form.html",
        {"rapport_annuel": rapport, "form": form, "title": title, "intro": intro},
        status=status,
    )


def _step(request, rapport, form, save, *, title: str, success, intro: str = ""):
    """A step of the report: on a valid POST, `save(cleaned_data)` calls the service, whose
    refusals (ValidationError) show on the form; then back to the report with `success` (a
    message, or a function giving it once saved)."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, success() if callable(success) else success)
            return redirect(rapport)
    status = 400 if request.method == "POST" else 200
    return _form_page(request, rapport, form, title, status=status, intro=intro)


@require_GET
def annuel_list(request: HttpRequest) -> HttpResponse:
    rapports = RapportAnnuel.objects.visible_to(request.user).select_related("contrat")
    return render(
        request,
        "reporting/annuel_list.html",
        {"rapports": rapports, "can_start": rights.is_manager(request.user)},
    )


@require_http_methods(["GET", "POST"])
def annuel_create(request: HttpRequest) -> HttpResponse:
    rights.require_manager(request.user)
    contrat = (
        get_object_or_404(ContratDeVille, pk=request.GET["contrat"])
        if request.GET.get("contrat", "").isdigit()
        else current_contract()
    )
    if contrat is None:
        raise Http404("Aucun contrat de ville n'est saisi.")
    annee = min(max(timezone.localdate().year - 1, contrat.annee_debut), contrat.annee_fin)
    form = DemarrerForm(
        request.POST or None,
        contrat=contrat,
        initial={"annee": annee, "communes_dsu": annuel.dsu_par_defaut(contrat, annee)},
    )
    if request.method == "POST" and form.is_valid():
        rapport = annuel.demarrer(
            contrat=contrat,
            annee=form.cleaned_data["annee"],
            communes_dsu=form.cleaned_data["communes_dsu"],
            user=request.user,
        )
        messages.success(
            request,
            "Rapport annuel créé : les chefs de projet peuvent rédiger les chapitres de leurs "
            "communes.",
        )
        return redirect(rapport)
    return _form_page(
        request,
        None,
        form,
        f"Préparer le rapport annuel – {contrat.nom}",
        status=400 if request.method == "POST" else 200,
        intro="Le projet est assemblé à partir des données de l'année ; chaque commune du "
        "contrat et chaque commune DSU reçoit un chapitre à rédiger.",
    )


@require_GET
def annuel_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rapport = _get(request, pk)
    data = annuel.contenu(rapport)
    editables = set(annuel.chapitres_editables(request.user, rapport).values_list("pk", flat=True))
    manager = rights.is_manager(request.user)
    versions = list(annuel.versions(rapport))
    for version in versions:
        etape = version.parametres.get("etape")
        version.etape_libelle = RapportAnnuel.Etape(etape).label if etape else ""
    return render(
        request,
        "reporting/annuel_detail.html",
        {
            **data,
            "checklist": annuel.checklist(data),
            "editables": editables,
            "can_manage": manager,
            "ouvert": not rapport.approuve,
            "versions": versions,
            "chapitre_groupes": [
                ("Communes du contrat", data["chapitres_communes"]),
                ("Communes bénéficiaires de la DSU", data["chapitres_dsu"]),
                ("Chapitres du service", data["chapitres_service"]),
            ],
        },
    )


@require_http_methods(["GET", "POST"])
def annuel_dsu(request: HttpRequest, pk: int) -> HttpResponse:
    rapport = _get(request, pk)
    rights.require_manager(request.user)
    form = CommunesDsuForm(
        request.POST or None,
        rapport=rapport,
        initial={"communes_dsu": list(rapport.communes_dsu.all())},
    )
    return _step(
        request,
        rapport,
        form,
        lambda data: annuel.communes_dsu_save(
            rapport=rapport, communes=data["communes_dsu"], user=request.user
        ),
        title="Communes bénéficiaires de la DSU",
        success="Communes DSU enregistrées.",
    )


@require_http_methods(["GET", "POST"])
def chapitre_update(request: HttpRequest, pk: int) -> HttpResponse:
    chapitre = get_object_or_404(
        ChapitreRapport.objects.filter(
            rapport__in=RapportAnnuel.objects.visible_to(request.user)
        ).select_related("rapport__contrat", "commune"),
        pk=pk,
    )
    rights.require(
        annuel.chapitres_editables(request.user, chapitre.rapport).filter(pk=pk).exists(),
        annuel.CHAPITRE_REFUSE,
    )
    form = ChapitreForm(request.POST or None, instance=chapitre)
    if request.method == "POST" and form.is_valid():
        annuel.chapitre_save(chapitre=chapitre, texte=form.cleaned_data["texte"], user=request.user)
        messages.success(request, f"Chapitre « {chapitre.titre} » enregistré.")
        return redirect(chapitre.rapport)
    rapport = chapitre.rapport
    repere = []
    if chapitre.commune_id:
        from .dashboard import Scope

        scope = Scope(contrat=rapport.contrat, annee=rapport.annee, commune=chapitre.commune)
        montants = scope.chiffres.par_action
        repere = [
            (action, montants[action.pk])
            for action in scope.actions().select_related("porteur").order_by("titre")
        ]
    return render(
        request,
        "reporting/annuel_chapitre.html",
        {"rapport_annuel": rapport, "chapitre": chapitre, "form": form, "repere": repere},
        status=400 if request.method == "POST" else 200,
    )


def _consultation_form_page(request, rapport, consultation, title):
    form = ConsultationForm(request.POST or None, request.FILES or None, instance=consultation)
    return _step(
        request,
        rapport,
        form,
        lambda data: annuel.consultation_save(form=form, user=request.user),
        title=title,
        success=lambda: f"Consultation de {form.instance.instance_nom} enregistrée.",
        intro="Le conseil a au moins un mois pour rendre son avis ; sans réponse à l'échéance, "
        "il est réputé favorable.",
    )


@require_http_methods(["GET", "POST"])
def consultation_create(request: HttpRequest, pk: int) -> HttpResponse:
    rapport = _get(request, pk)
    rights.require_manager(request.user)
    annuel.require_open(rapport)
    return _consultation_form_page(
        request, rapport, Consultation(rapport=rapport), "Soumettre le projet à un conseil"
    )


def _consultation(request, pk: int) -> Consultation:
    rights.require_manager(request.user)
    return get_object_or_404(
        Consultation.objects.select_related("rapport__contrat", "conseil_citoyen", "commune"),
        pk=pk,
    )


@require_http_methods(["GET", "POST"])
def consultation_update(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = _consultation(request, pk)
    annuel.require_open(consultation.rapport)
    return _consultation_form_page(
        request,
        consultation.rapport,
        consultation,
        f"Consultation de {consultation.instance_nom}",
    )


@require_http_methods(["GET", "POST"])
def consultation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = _consultation(request, pk)
    rapport = consultation.rapport
    if request.method == "POST":
        annuel.consultation_delete(consultation=consultation, user=request.user)
        messages.success(request, "Consultation supprimée.")
        return redirect(rapport)
    return render(
        request,
        "reporting/annuel_consultation_confirm_delete.html",
        {"consultation": consultation},
    )


@require_GET
def consultation_fichier(request: HttpRequest, pk: int) -> FileResponse:
    """The signed opinion: it may name the council's members, so the chef de service only."""
    consultation = _consultation(request, pk)
    if not consultation.fichier:
        raise Http404("Aucun fichier pour cet avis.")
    extension = consultation.fichier.name.rsplit(".", 1)[-1].lower()
    return stored_file(
        consultation.fichier,
        name=f"avis-{consultation.pk}.{extension}",
        content_type=UPLOAD_TYPES.get(extension, ("application/octet-stream",))[0],
        missing="Le fichier de cet avis a été supprimé.",
    )


@require_http_methods(["GET", "POST"])
def annuel_approuver(request: HttpRequest, pk: int) -> HttpResponse:
    rapport = _get(request, pk)
    rights.require_manager(request.user)
    annuel.require_open(rapport)
    form = ApprobationForm(request.POST or None, rapport=rapport)
    return _step(
        request,
        rapport,
        form,
        lambda data: annuel.approuver(
            rapport=rapport,
            date_approbation=data["date_approbation"],
            numero_deliberation=data["numero_deliberation"],
            suites=form.suites(),
            user=request.user,
        ),
        title="Approbation par le conseil communautaire",
        success="Approbation enregistrée : le texte du rapport est figé.",
        intro="Une fois l'approbation enregistrée, les chapitres et les avis ne changent plus.",
    )


@require_http_methods(["GET", "POST"])
def annuel_publier(request: HttpRequest, pk: int) -> HttpResponse:
    rapport = _get(request, pk)
    rights.require_manager(request.user)
    form = PublicationForm(
        request.POST or None,
        initial={"publie_le": timezone.localdate(), "lieu": rapport.lieu_publication},
    )
    return _step(
        request,
        rapport,
        form,
        lambda data: annuel.publier(
            rapport=rapport, publie_le=data["publie_le"], lieu=data["lieu"], user=request.user
        ),
        title="Publication du rapport",
        success="Publication enregistrée.",
    )


@require_POST
def annuel_produire(request: HttpRequest, pk: int) -> HttpResponse:
    rapport = _get(request, pk)
    version = annuel.produire(rapport=rapport, user=request.user)
    messages.success(
        request,
        "Le PDF et la version modifiable sont en préparation : ils s'affichent ici dès qu'ils "
        "sont prêts, et restent dans les versions du rapport.",
    )
    return redirect(version)
