"""The call for projects: list, page, Dauphin import, instruction, committee, notification, bilan."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import mappings
from core.editable import CONTENT_TYPE as DOCX
from core.editable import render_docx
from core.exports import FORMATS, export_response
from core.formsets import check_counts
from core.lists import paginate
from core.pdf import render_pdf
from quartiers.models import Qpv

from .. import aap, conventions, dauphin, figures, imports, pieces, rights, services
from ..filters import AppelFilterSet, DossierFilterSet
from ..forms_aap import (
    AppelForm,
    AvisFinanceurFormSet,
    BilanForm,
    ComiteForm,
    DauphinUploadForm,
    DecisionsForm,
    EnveloppeFormSet,
    IndicateurRealiseFormSet,
    InstructionForm,
    MappingForm,
    ProposeFormSet,
    TransitionForm,
    posted_row_changed,
    with_funders,
)
from ..models import (
    Action,
    AppelAProjets,
    Bilan,
    BilanFinancement,
    Comite,
    DecisionComite,
    Financement,
    Instruction,
)
from ..models.aap import PLACEHOLDERS
from ..models.actions import ZERO, missing_yearly_bilans

S = Action.Statut


def _get_appel(request: HttpRequest, pk: int, *, write: bool = False) -> AppelAProjets:
    return rights.get_visible(
        request.user, AppelAProjets.objects.select_related("contrat"), pk, write=write
    )


def _get_dossier(request: HttpRequest, pk: int, *, write: bool = False) -> Action:
    return rights.get_visible(
        request.user,
        Action.objects.filter(appel__isnull=False).select_related(
            "appel__contrat", "porteur", "referent"
        ),
        pk,
        write=write,
    )


def _lines_of_year(appel: AppelAProjets):
    return Financement.objects.filter(annee=appel.annee).select_related("financeur")


# ---------------------------------------------------------------- calls


APPEL_COLUMNS = [
    ("Appel à projets", lambda a: a.nom),
    ("Contrat", lambda a: a.contrat.nom),
    ("Exercice", lambda a: a.annee),
    ("Ouverture du dépôt", lambda a: a.date_ouverture),
    ("Clôture du dépôt", lambda a: a.date_cloture),
    ("Statut", lambda a: a.get_statut_display()),
    ("Dossiers", lambda a: a.nb_dossiers),
    ("À instruire", lambda a: a.nb_a_instruire),
]


def aap_list(request: HttpRequest) -> HttpResponse:
    appels = (
        AppelAProjets.objects.visible_to(request.user)
        .select_related("contrat")
        .annotate(
            nb_dossiers=Count("dossiers", distinct=True),
            nb_a_instruire=Count(
                "dossiers", filter=Q(dossiers__statut__in=aap.WAITING_INSTRUCTION), distinct=True
            ),
        )
        .order_by("-annee", "nom")
    )
    filterset = AppelFilterSet(request.GET, queryset=appels)
    if request.GET.get("export") in FORMATS:
        return export_response(
            filterset.qs,
            APPEL_COLUMNS,
            filename="appels-a-projets",
            fmt=request.GET["export"],
            request=request,
        )
    return render(
        request,
        "cvu/aap_list.html",
        {
            "filter": filterset,
            "page_obj": paginate(request, filterset.qs),
            "can_create": rights.may_create(request.user, AppelAProjets),
        },
    )


def _dossier_columns(envelopes, chiffres):
    """The programming table: one row per dossier of the year, its amounts as cvu.figures counts
    them (a refused or withdrawn dossier's vote is not counted), by funder and in total."""
    axes = chiffres.names_of(chiffres.liens_axe)
    qpvs = chiffres.names_of(chiffres.liens_qpv)
    communes = chiffres.names_of(chiffres.liens_commune)
    columns = [
        ("N° Dauphin", lambda a: a.numero_dauphin),
        ("Intitulé", lambda a: a.titre),
        ("Porteur", lambda a: str(a.porteur)),
        ("SIRET", lambda a: a.porteur.siret),
        ("Référent", lambda a: str(a.referent or "")),
        ("Statut", lambda a: a.get_statut_display()),
        ("Appel à projets", lambda a: "oui" if a.appel_id else "hors appel"),
        ("Avis d'instruction", lambda a: _avis(a)),
        ("Axes", lambda a: " ; ".join(axes.get(a.pk, []))),
        ("QPV", lambda a: " ; ".join(qpvs.get(a.pk, []))),
        ("Communes", lambda a: " ; ".join(communes.get(a.pk, []))),
    ]
    for envelope in envelopes:  # a funder, or one of its funding lines
        name = envelope.abrege
        for header, field in (
            ("demandé", "demande"),
            ("proposé", "propose"),
            ("voté", "vote"),
            ("versé", "verse"),
        ):
            columns.append(
                (
                    f"{name} {header}",
                    lambda a, key=envelope.key, field=field: _amount(chiffres, a, key, field),
                )
            )
    columns += [
        ("Total demandé", lambda a: chiffres.par_action[a.pk].demande),
        ("Total voté", lambda a: chiffres.par_action[a.pk].vote),
        ("Total versé", lambda a: chiffres.par_action[a.pk].verse),
    ]
    return columns


def _avis(action: Action) -> str:
    instruction = getattr(action, "instruction", None)
    return instruction.get_avis_display() if instruction and instruction.avis else ""


def _amount(chiffres, action: Action, key: tuple, field: str):
    amounts = chiffres.par_ligne.get((action.pk, key))
    return None if amounts is None else getattr(amounts, field)


def _dossiers(appel: AppelAProjets):
    """The dossiers of the call's year: its own, and the contract's actions financed that year
    outside the call (cvu.figures counts them in the envelopes too)."""
    return (
        figures.dossiers(appel.contrat, appel.annee)
        .select_related("porteur", "referent", "instruction")
        .order_by("titre", "pk")
    )


def aap_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appel = _get_appel(request, pk)
    chiffres = figures.Chiffres(appel.contrat, appel.annee)
    synthese = figures.synthese(chiffres)
    envelopes = synthese.par_financeur  # aap.envelopes(appel), from the same sums
    filterset = DossierFilterSet(request.GET, queryset=_dossiers(appel), appel=appel)
    dossiers = filterset.qs
    cleaned = filterset.form.cleaned_data if filterset.is_valid() else {}
    statut = cleaned.get("statut") or ""
    sans_referent = cleaned.get("referent") == "aucun"
    if request.GET.get("export") in FORMATS:
        return export_response(
            dossiers,
            _dossier_columns(envelopes, chiffres),
            filename=f"programmation-{appel.annee}",
            fmt=request.GET["export"],
            request=request,
        )
    filtered = any(cleaned.values())
    # Unfiltered, the rows are the year's dossiers, which the figures already counted.
    known = synthese.nb_dossiers if filterset.is_valid() and not filtered else None
    page = paginate(request, dossiers, count=known)
    montants = chiffres.montants_de([action.pk for action in page.object_list])
    for action in page.object_list:
        action.montants = montants[action.pk]
        action.avis_instruction = _avis(action)
    context = {
        "appel": appel,
        "envelopes": envelopes,
        "par_statut": aap.dossiers_by_status(appel, synthese),
        "total": synthese.total,
        "nb_dossiers": synthese.nb_dossiers,
        "nb_hors_appel": None if filtered else synthese.hors_appel(appel),
        "dossiers": page.object_list,
        "page_obj": page,
        "filter": filterset,
        "statut": statut,
        "statuts": S.choices,
        "comites": appel.comites.annotate(nb=Count("dossiers")).order_by("date"),
        "orientations": appel.orientations.all(),
        "can_manage": request.user.sees_everything_as_manager,
        "can_import": request.user.sees_everything_as_manager,
        "sans_referent": sans_referent,
        "nb_sans_referent": appel.dossiers.filter(referent__isnull=True).count(),
        "chefs_de_projet": get_user_model()
        .objects.filter(role="chef_projet", is_active=True)
        .order_by("last_name", "first_name")
        if request.user.sees_everything_as_manager
        else [],
    }
    return render(request, "cvu/aap_detail.html", context)


@require_POST
def aap_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """The chef de service gives the ticked dossiers (often fresh from Dauphin) a referent."""
    appel = _get_appel(request, pk, write=True)
    referent = (
        get_user_model()
        .objects.filter(role="chef_projet", is_active=True, pk=request.POST.get("referent") or 0)
        .first()
    )
    ids = [int(pk) for pk in request.POST.getlist("dossiers") if pk.isdigit()]
    if referent is None:
        messages.error(request, "Choisissez le chef de projet référent.")
    elif not ids:
        messages.error(request, "Cochez au moins un dossier.")
    else:
        with transaction.atomic():
            dossiers = list(appel.dossiers.filter(pk__in=ids))
            for dossier in dossiers:
                dossier.referent = referent
                dossier.save(update_fields=["referent", "updated_at"])  # kept in history
        messages.success(
            request, f"{len(dossiers)} dossier(s) attribué(s) à {referent.get_full_name()}."
        )
    return redirect(f"{appel.get_absolute_url()}#dossiers")


def _appel_form_page(request: HttpRequest, appel: AppelAProjets | None) -> HttpResponse:
    if appel is None:
        rights.require_create(request.user, AppelAProjets)
    else:
        rights.require_change(request.user, appel)
    instance = appel or AppelAProjets()
    data = request.POST if request.method == "POST" else None
    form = AppelForm(data, instance=instance)
    formset = with_funders(EnveloppeFormSet, data, instance=instance, prefix="env")
    check_counts(formset, can_add=True)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        with transaction.atomic():
            saved = form.save()
            formset.instance = saved
            formset.save()
        messages.success(request, f"Appel à projets « {saved} » enregistré.")
        return redirect(saved)
    return render(
        request,
        "cvu/aap_form.html",
        {"form": form, "formset": formset, "appel": appel, "placeholders": PLACEHOLDERS},
    )


@require_http_methods(["GET", "POST"])
def aap_create(request: HttpRequest) -> HttpResponse:
    return _appel_form_page(request, None)


@require_http_methods(["GET", "POST"])
def aap_update(request: HttpRequest, pk: int) -> HttpResponse:
    return _appel_form_page(request, _get_appel(request, pk, write=True))


# ---------------------------------------------------------------- Dauphin import


@require_http_methods(["GET", "POST"])
def aap_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload → column mapping → preview → confirmation (one transaction)."""
    appel = _get_appel(request, pk, write=True)
    funders = dauphin.funders(appel)
    context = {"appel": appel, "funders": funders, "max_size_mb": imports.max_size() // 1_000_000}
    if request.method == "GET" or "token" not in request.POST:
        form = DauphinUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            # The session keeps a reference to a private temporary file, never its content.
            dauphin.STORE.discard(request.session.pop(dauphin.SESSION_KEY, None))
            ref = dauphin.STORE.store(
                owner=request.user.pk,
                content=form.content,
                filename=form.cleaned_data["fichier"].name,
            )
            request.session[dauphin.SESSION_KEY] = ref
            mapping = dauphin.guess_mapping(form.table.headers, funders)
            remembered = mappings.recall(request.user, "dauphin", form.table.headers)
            if remembered is not None:  # how this user read the same columns last time
                mapping.update({k: i for k, i in remembered[0].items() if k in mapping})
            mapping_form = MappingForm(initial=mapping, headers=form.table.headers, funders=funders)
            return render(
                request,
                "cvu/aap_import.html",
                {
                    **context,
                    "token": ref["token"],
                    "mapping_form": mapping_form,
                    "table": form.table,
                    "ignored": dauphin.ignored(form.table, mapping),
                },
            )
        return render(request, "cvu/aap_import.html", {**context, "form": form})

    ref = request.session.get(dauphin.SESSION_KEY)
    if not isinstance(ref, dict) or ref.get("token") != request.POST["token"]:
        ref = None
    stored = dauphin.STORE.load(ref, owner=request.user.pk)
    if stored is None:
        messages.error(request, "Ce fichier n'est plus disponible : déposez-le à nouveau.")
        return redirect("cvu:aap_import", pk=appel.pk)
    if "annuler" in request.POST:
        dauphin.STORE.discard(ref)
        request.session.pop(dauphin.SESSION_KEY, None)
        messages.info(request, "Import annulé : rien n'a été enregistré.")
        return redirect(appel)
    table = dauphin.read_table(stored[0])
    mapping_form = MappingForm(request.POST, headers=table.headers, funders=funders)
    plan = None
    ignored = []
    if mapping_form.is_valid():
        ignored = dauphin.ignored(table, mapping_form.mapping())
        try:
            plan = dauphin.plan_import(
                table=table,
                mapping=mapping_form.mapping(),
                appel=appel,
                user=request.user,
                create=(
                    set(request.POST.getlist("creer")) if "porteurs_vus" in request.POST else None
                ),
                intentions=(
                    {
                        key.removeprefix("intention_"): value
                        for key, value in request.POST.items()
                        if key.startswith("intention_")
                    }
                    if "intentions_vues" in request.POST
                    else None
                ),
            )
        except ValidationError as error:
            mapping_form.add_error(None, error)
    if plan is not None and plan.ok and "confirmer" in request.POST:
        dauphin.apply_import(plan=plan, appel=appel, user=request.user)
        mappings.remember(request.user, "dauphin", table.headers, mapping_form.mapping())
        dauphin.STORE.discard(ref)
        request.session.pop(dauphin.SESSION_KEY, None)
        if plan.created or plan.updated:
            summary = (
                f"Import terminé : {plan.created} dossier(s) créé(s), {plan.updated} mis à jour, "
                f"{plan.unchanged} inchangé(s)."
            )
        else:
            summary = (
                f"Rien à enregistrer : les {plan.unchanged} dossier(s) du fichier sont à jour."
            )
        if plan.rattachees:
            summary += f" {len(plan.rattachees)} dossier(s) rattaché(s) à leur fiche d'intention."
        if plan.disparus:
            summary += (
                f" {len(plan.disparus)} dossier(s) de l'appel absent(s) du fichier : laissé(s) "
                "tel(s) quel(s)."
            )
        messages.success(request, summary)
        return redirect(appel)
    return render(
        request,
        "cvu/aap_import.html",
        {
            **context,
            "token": ref["token"],
            "mapping_form": mapping_form,
            "table": table,
            "plan": plan,
            "ignored": ignored,
        },
    )


# ---------------------------------------------------------------- a dossier


def dossier_panel(request: HttpRequest, action: Action) -> dict:
    """What the action page shows of a dossier's cycle: next steps, history, links."""
    can_edit = Action.objects.editable_by(request.user).filter(pk=action.pk).exists()
    manager = request.user.sees_everything_as_manager
    steps = [s for s in aap.allowed_next(action) if manager or s not in aap.COMMITTEE_DECISIONS]
    can_notify = action.statut not in (
        S.DEPOSE,
        S.EN_INSTRUCTION,
        S.INSTRUIT,
        S.AJOURNE,
        S.REFUSE,
        S.RETIRE,
    )
    return {
        "can_edit": can_edit,
        "steps": [(s, aap.label(s)) for s in steps] if can_edit else [],
        "reopen": [(s, aap.label(s)) for s in aap.earlier_statuses(action)] if manager else [],
        "transitions": action.transitions.select_related("par"),
        "conventions": aap.conventions_required(action),
        # The porteur's late bilans matter until the committee decides (a derogation then).
        "late": []
        if action.statut in rights.DECIDED
        else list(aap.late_bilans(action.porteur, exclude=action)[:5]),
        "bilan_en_retard": Action.objects.filter(pk=action.pk).bilan_en_retard().exists(),
        "bilans": bilan_rows(action) if action.annee_fin else [],
        # A CPO in its last year: time to prepare its renewal ("3/3", else empty).
        "renouvellement": action.rang_cpo(action.annee_fin)
        if action.annee_fin == timezone.localdate().year and action.statut in aap.AWAITING_BILAN
        else "",
        "can_notify": can_notify,
        # One notification letter per funder that voted, the collectivité's first.
        "lettres": aap.letter_funders(
            _lines_of_year(action.appel).filter(action=action, montant_vote__gt=0),
            conventions.collectivite(action.contrat),
        )
        if can_notify
        else [],
    }


def bilan_rows(action: Action) -> list[dict]:
    """A CPO's exercices with their bilan, deadline and state (cvu's late rule, per exercice)."""
    today = timezone.localdate()
    received = {bilan.exercice: bilan for bilan in action.bilans.all()}
    late = set()
    if Action.objects.filter(pk=action.pk).bilan_attendu().exists():
        late = set(missing_yearly_bilans(today, action).values_list("annee", flat=True))
    if Action.objects.filter(pk=action.pk).bilan_final_en_retard(today).exists():
        late.add(action.derniere_annee)
    return [
        {
            "exercice": year,
            "rang": action.rang_cpo(year),
            "echeance": action.echeance_bilan(year),
            "bilan": received.get(year),
            "en_retard": year in late and year not in received,
        }
        for year in action.exercices
    ]


@require_POST
def dossier_statut(request: HttpRequest, pk: int) -> HttpResponse:
    action = _get_dossier(request, pk, write=True)
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            aap.change_status(
                action,
                form.cleaned_data["vers"],
                user=request.user,
                motif=form.cleaned_data["motif"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, f"Dossier passé au statut « {aap.label(form.cleaned_data['vers'])} »."
            )
    else:
        messages.error(request, "Statut inconnu.")
    return redirect(f"{action.get_absolute_url()}#cycle")


@require_http_methods(["GET", "POST"])
def dossier_instruction(request: HttpRequest, pk: int) -> HttpResponse:
    action = _get_dossier(request, pk)
    can_edit = rights.may_change(request.user, action)
    if request.method == "POST":
        rights.require_change(request.user, action)
    instruction = Instruction.objects.filter(action=action).first() or Instruction(action=action)
    data = request.POST if request.method == "POST" else None
    form = InstructionForm(data, instance=instruction)
    avis = with_funders(AvisFinanceurFormSet, data, instance=action, prefix="avis")
    propose = ProposeFormSet(
        data, queryset=_lines_of_year(action.appel).filter(action=action), prefix="prop"
    )
    check_counts(avis, can_add=True)
    check_counts(propose)  # one line per funder of the year: none to add
    if not rights.financement_field_editable(request.user, action, "montant_propose"):
        # Proposed amounts lock once the committee has decided: whatever is posted is ignored.
        for line_form in propose.forms:
            line_form.fields["montant_propose"].disabled = True
    if request.method == "POST" and form.is_valid() and avis.is_valid() and propose.is_valid():
        with transaction.atomic():
            instruction = form.save(commit=False)
            instruction.instruit_par = request.user
            instruction.save()
            for avis_form in avis.forms:
                avis_form.instance.saisi_par = request.user
            avis.save()
            propose.save()
            if action.statut == S.DEPOSE:
                aap.change_status(action, S.EN_INSTRUCTION, user=request.user)
        action.refresh_from_db()
        if "terminer" in request.POST:
            try:
                aap.change_status(action, S.INSTRUIT, user=request.user)
            except ValidationError as error:
                messages.warning(
                    request,
                    "Instruction enregistrée, dossier non clos : " + " ".join(error.messages),
                )
                return redirect("cvu:dossier_instruction", pk=action.pk)
            messages.success(request, "Instruction terminée : le dossier est instruit.")
            return redirect(action)
        messages.success(request, "Instruction enregistrée.")
        return redirect("cvu:dossier_instruction", pk=action.pk)
    if not can_edit:
        for read_only in [form, *propose.forms]:
            for field in read_only.fields.values():
                field.disabled = True
    context = {
        "action": action,
        "form": form,
        "avis": avis,
        "propose": propose,
        "can_edit": can_edit,
        "instruction": instruction,
    }
    return render(request, "cvu/dossier_instruction.html", context)


@require_GET
def dossier_notification(request: HttpRequest, pk: int, extension: str = "pdf") -> HttpResponse:
    """The notification letter as a PDF, or as an editable .docx with the same text (the agent
    adapts it in a word processor), from the call's letter template."""
    action = _get_dossier(request, pk)
    if action.statut in (S.DEPOSE, S.EN_INSTRUCTION, S.INSTRUIT, S.AJOURNE, S.REFUSE, S.RETIRE):
        messages.error(request, "Le courrier de notification suit la programmation du dossier.")
        return redirect(action)
    lines = [
        line for line in _lines_of_year(action.appel).filter(action=action) if line.montant_vote
    ]
    collectivite = conventions.collectivite(action.contrat)
    funders = aap.letter_funders(lines, collectivite)
    if not funders:
        messages.error(request, "Aucun montant n'est voté pour ce dossier : rien à notifier.")
        return redirect(action)
    asked = request.GET.get("financeur", "")
    giver = next((f for f in funders if str(f.pk) == asked), funders[0])
    notified = [line for line in lines if line.financeur_id == giver.pk]
    informed = [line for line in lines if line.financeur_id != giver.pk]
    montant = sum((line.montant_vote for line in notified), ZERO)
    total = sum((line.montant_vote for line in lines), ZERO)
    deadline = action.date_limite_bilan or aap.default_bilan_deadline(action)
    from django.template.defaultfilters import date as date_filter

    from core.templatetags.formats import euros

    corps = aap.letter_text(
        action.appel,
        {
            "porteur": str(action.porteur),
            "action": action.titre,
            "numero_dauphin": action.numero_dauphin or "—",
            "exercice": action.periode,
            "financeur": giver.nom,
            "montant_notifie": euros(montant),
            "montant_total": euros(total),
            "date_limite_bilan": date_filter(deadline, "j F Y"),
            "appel": action.appel.nom,
        },
    )
    renderer = render_docx if extension == "docx" else render_pdf
    content = renderer(
        "cvu/pdf/notification.html",
        {
            "action": action,
            "appel": action.appel,
            "financeur": giver,
            "collectivite": giver == collectivite,
            "paragraphes": [p for p in corps.split("\n\n") if p.strip()],
            "lignes": notified,
            "montant": montant,
            "autres": informed,
            "total": total,
            "conventions": aap.conventions_required(action, giver),
            "auteur": request.user.get_full_name() or request.user.email,
        },
    )
    response = HttpResponse(
        content, content_type=DOCX if extension == "docx" else "application/pdf"
    )
    name = f"notification-{action.numero_dauphin or action.pk}-{slugify(giver.sigle or giver.nom)}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _bilan_qpvs(action, bilan) -> list[Qpv]:
    """The QPVs a bilan may count residents of: the dossier's (all of the contract's geography
    when it names none), and any it already counts."""
    qpvs = list(action.qpvs.all()) or list(Qpv.objects.filter(geographie=action.contrat.geographie))
    if bilan.pk:
        known = {qpv.pk for qpv in qpvs}
        qpvs += [row.qpv for row in bilan.par_qpv.select_related("qpv") if row.qpv_id not in known]
    return sorted(qpvs, key=lambda qpv: qpv.nom)


@require_http_methods(["GET", "POST"])
def dossier_bilan(request: HttpRequest, pk: int) -> HttpResponse:
    action = _get_dossier(request, pk)
    can_edit = rights.may_change(request.user, action)
    if request.method == "POST":
        rights.require_change(request.user, action)
    if action.statut not in (*aap.AWAITING_BILAN, S.BILAN_RECU, S.SOLDE):
        messages.error(request, "Un bilan se saisit pour un dossier notifié.")
        return redirect(action)
    received = {bilan.exercice: bilan for bilan in action.bilans.all()}
    exercice = _bilan_exercice(request, action, received)
    bilan = received.get(exercice) or Bilan(
        action=action, exercice=exercice, recu_le=timezone.localdate()
    )
    last = exercice == action.derniere_annee
    lines = action.financements.select_related("financeur").order_by("annee", "financeur__nom")
    if action.annee_fin:  # a CPO's bilan accounts for its exercice's lines
        lines = lines.filter(annee=exercice)
    lines = list(lines)
    data = request.POST if request.method == "POST" else None
    form = BilanForm(
        data, request.FILES or None, instance=bilan, lignes=lines, qpvs=_bilan_qpvs(action, bilan)
    )
    indicateurs = IndicateurRealiseFormSet(data, queryset=action.indicateurs.all(), prefix="ind")
    check_counts(indicateurs)
    if request.method == "POST" and form.is_valid() and indicateurs.is_valid():
        with transaction.atomic():
            bilan = form.save(commit=False)
            bilan.saisi_par = request.user
            upload = form.cleaned_data.get("fichier")
            if upload:
                bilan.cerfa = services.document_add(
                    action=action,
                    upload=upload,
                    user=request.user,
                    content_type=form.content_type,
                )
            bilan.save()
            form.save_par_qpv(bilan)
            for line in lines:
                amount = form.cleaned_data.get(f"realise_{line.pk}")
                if amount is None:
                    BilanFinancement.objects.filter(bilan=bilan, financement=line).delete()
                else:
                    BilanFinancement.objects.update_or_create(
                        financement=line, defaults={"bilan": bilan, "montant_realise": amount}
                    )
            indicateurs.save()
            # An earlier exercice's bilan leaves the dossier running; the last one closes it.
            if last and action.statut in (S.EN_COURS, S.BILAN_ATTENDU, S.NOTIFIE, S.CONVENTIONNE):
                path = {
                    S.NOTIFIE: [S.EN_COURS, S.BILAN_ATTENDU, S.BILAN_RECU],
                    S.CONVENTIONNE: [S.EN_COURS, S.BILAN_ATTENDU, S.BILAN_RECU],
                    S.EN_COURS: [S.BILAN_ATTENDU, S.BILAN_RECU],
                    S.BILAN_ATTENDU: [S.BILAN_RECU],
                }[action.statut]
                try:
                    for step in path:
                        aap.change_status(action, step, user=request.user)
                        action.refresh_from_db()
                except ValidationError as error:
                    transaction.set_rollback(True)
                    form.add_error(None, error)
        if not form.errors:
            messages.success(request, f"Bilan {exercice} enregistré.")
            return redirect(f"{action.get_absolute_url()}#cycle")
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    realised = {r.financement_id: r.montant_realise for r in bilan.lignes.all()} if bilan.pk else {}
    comparison = []
    for line in lines:
        prevu, realise = line.montant_vote or ZERO, realised.get(line.pk)
        comparison.append(
            {
                "line": line,
                "field": form[f"realise_{line.pk}"],
                "prevu": prevu,
                "realise": realise,
                "ecart": None if realise is None else realise - prevu,
            }
        )
    context = {
        "action": action,
        "form": form,
        "indicateurs": indicateurs,
        "bilan": bilan if bilan.pk else None,
        "comparison": comparison,
        "can_edit": can_edit,
        "exercice": exercice,
        "rang": action.rang_cpo(exercice),
        "onglets": [(year, action.rang_cpo(year), received.get(year)) for year in action.exercices]
        if action.annee_fin
        else [],
        "deadline": action.echeance_bilan(exercice) or aap.default_bilan_deadline(action),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "cvu/dossier_bilan.html", context, status=status)


def _bilan_exercice(request: HttpRequest, action: Action, received: dict) -> int:
    """The exercice asked for (?exercice=), else the first one without a bilan, else the last."""
    try:
        asked = int(request.GET.get("exercice", ""))
    except ValueError:
        asked = None
    if asked in action.exercices:
        return asked
    missing = [year for year in action.exercices if year not in received]
    return missing[0] if missing else action.derniere_annee


def mes_dossiers(request: HttpRequest) -> HttpResponse:
    """The chef de projet's dossiers of every call, by what they wait for."""
    today = timezone.localdate()
    mine = (
        Action.objects.visible_to(request.user)
        .filter(appel__isnull=False, referent=request.user)
        .select_related("appel", "porteur")
        .order_by("appel__annee", "titre")
    )
    groups = [
        ("À instruire", mine.filter(statut__in=aap.WAITING_INSTRUCTION), "instruction"),
        ("Instruits, en attente du comité", mine.filter(statut__in=[S.INSTRUIT, S.AJOURNE]), ""),
        ("À notifier", mine.filter(statut=S.PROGRAMME), "notification"),
        ("Bilans en retard", mine.bilan_en_retard(today).with_exercice_en_retard(today), "bilan"),
        ("Bilans attendus", mine.bilan_dans_les_delais(today), "bilan"),
        ("Bilans reçus, à solder", mine.filter(statut=S.BILAN_RECU), ""),
        (
            "Conventions pluriannuelles dans leur dernière année : renouvellement à préparer",
            mine.bilan_attendu().filter(annee_fin=today.year),
            "",
        ),
    ]
    return render(
        request,
        "cvu/mes_dossiers.html",
        {"groups": [(title, list(qs), link) for title, qs, link in groups]},
    )


# ---------------------------------------------------------------- the committee


@require_http_methods(["GET", "POST"])
def comite_create(request: HttpRequest, pk: int) -> HttpResponse:
    appel = _get_appel(request, pk, write=True)
    form = ComiteForm(
        request.POST or None,
        instance=Comite(appel=appel),
        appel=appel,
        initial={"dossiers": appel.dossiers.filter(statut__in=[S.INSTRUIT, S.AJOURNE])},
    )
    if request.method == "POST" and form.is_valid():
        comite = form.save()
        messages.success(request, f"{comite} créé.")
        return redirect(comite)
    return render(request, "cvu/comite_form.html", {"form": form, "appel": appel})


@require_http_methods(["GET", "POST"])
def comite_update(request: HttpRequest, pk: int) -> HttpResponse:
    comite = get_object_or_404(Comite.objects.select_related("appel"), pk=pk)
    appel = _get_appel(request, comite.appel_id, write=True)
    form = ComiteForm(request.POST or None, instance=comite, appel=appel)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Comité enregistré.")
        return redirect(comite)
    return render(request, "cvu/comite_form.html", {"form": form, "appel": appel, "comite": comite})


COMITE_FILTRES = [("a_decider", "À décider"), ("decides", "Décidés"), ("tous", "Tous")]


def _comite_dossiers(comite: Comite, appel: AppelAProjets) -> list[Action]:
    return list(
        comite.dossiers.select_related("porteur", "referent", "instruction")
        .prefetch_related(
            Prefetch("financements", queryset=_lines_of_year(appel), to_attr="lignes_appel"),
            "avis_financeurs__financeur",
        )
        .order_by("titre", "pk")
    )


def _pending(action: Action, decisions: dict) -> bool:
    """Still to decide by this committee (not instructed yet counts: it needs attention)."""
    if action.pk in decisions:
        return False
    return action.statut in [*aap.WAITING_INSTRUCTION, S.INSTRUIT, S.AJOURNE]


@require_http_methods(["GET", "POST"])
def comite_detail(request: HttpRequest, pk: int) -> HttpResponse:
    comite = get_object_or_404(Comite.objects.select_related("appel__contrat", "reunion"), pk=pk)
    appel = _get_appel(request, comite.appel_id)
    manager = request.user.sees_everything_as_manager
    if request.method == "POST":
        rights.require_manager(request.user)
    tous = _comite_dossiers(comite, appel)
    decisions = {d.action_id: d for d in DecisionComite.objects.filter(comite=comite)}
    pending = [a for a in tous if _pending(a, decisions)]
    counts = {"a_decider": len(pending), "decides": len(tous) - len(pending), "tous": len(tous)}
    filtre = request.GET.get("filtre")
    if filtre not in counts:
        filtre = "a_decider" if pending else "tous"
    recherche = request.GET.get("q", "").strip()
    dossiers = {"a_decider": pending, "tous": tous}.get(
        filtre, [a for a in tous if not _pending(a, decisions)]
    )
    if recherche:
        needle = recherche.casefold()
        dossiers = [
            a
            for a in dossiers
            if needle in f"{a.titre} {a.porteur.nom} {a.numero_dauphin}".casefold()
        ]
    posted = set()
    if request.method == "POST":
        # Save the rows the page showed, whatever the filter says by now (a row another person
        # decided meanwhile would otherwise vanish from the save without a word).
        posted = {
            int(key[5:]) for key in request.POST if key.startswith("etat_") and key[5:].isdigit()
        }
        if posted:
            dossiers = [a for a in tous if a.pk in posted]
    porteurs = {a.porteur_id for a in dossiers}
    late_porteurs = set(
        Action.objects.bilan_en_retard()
        .filter(porteur_id__in=porteurs)
        .values_list("porteur_id", flat=True)
    )
    late = {a.pk for a in dossiers if a.porteur_id in late_porteurs}
    # The porteurs' missing or expired administrative pieces, for all rows in one query.
    missing_pieces = pieces.problems_for(porteurs)
    form = DecisionsForm(
        request.POST if request.method == "POST" else None,
        dossiers=dossiers,
        decisions=decisions,
        late=late,
    )
    overrun_lines = []
    if request.method == "POST" and form.is_valid():
        lignes = form.changed_rows()
        try:
            count = aap.committee_record(
                comite=comite,
                lignes=lignes,
                user=request.user,
                confirmed=form.cleaned_data["confirmer"],
            )
        except aap.EnvelopeOverrun as error:
            overrun_lines = aap.overruns(comite, lignes)
            form.add_error(None, error)
        except ValidationError as error:
            form.add_error(
                None,
                f"{len(error.message_dict)} dossier(s) n'ont pas pu être enregistrés : "
                "rien n'a été enregistré. Corrigez les lignes signalées puis enregistrez à nouveau.",
            )
            for action_pk, problems in error.message_dict.items():
                form.add_error(f"sens_{action_pk}", problems)
        else:
            closed = [
                a
                for a in dossiers
                if a.pk in posted
                and aap.committee_closed_reason(a)
                and posted_row_changed(request.POST, a)
            ]
            if closed:
                messages.warning(
                    request,
                    "Non modifié(s), le dossier ayant changé d'étape entre-temps : "
                    + ", ".join(f"« {a.titre} » ({a.get_statut_display()})" for a in closed),
                )
            if count:
                messages.success(
                    request,
                    f"{count} décision enregistrée."
                    if count == 1
                    else f"{count} décisions enregistrées.",
                )
            else:
                messages.info(request, "Aucune modification : rien n'a été enregistré.")
            return redirect(request.get_full_path())
    envelopes = aap.envelopes(appel)
    requested = {(line.financeur_id, line.ligne_id) for a in tous for line in a.lignes_appel}
    shown = [line for line in envelopes if line.montant is not None or line.key in requested]
    rows = form.rows()
    for row in rows:
        # One column per funder or funding line: a dossier has one line per funder in a year.
        by_key = {
            (line.financeur_id, line.ligne_id): {"line": line, "field": field}
            for line, field in row["lignes"]
        }
        row["cells"] = [by_key.get(column.key) for column in shown]
        row["decision"] = decisions.get(row["action"].pk)
        row["avis"] = _avis(row["action"])
        # Only where a decision is still to take: a decided dossier's gaps are followed on its page.
        row["pieces"] = (
            missing_pieces.get(row["action"].porteur_id, [])
            if _pending(row["action"], decisions)
            else []
        )
    editable = [row for row in rows if row["sens"]]
    context = {
        "comite": comite,
        "appel": appel,
        "form": form,
        "rows": rows,
        "envelopes": envelopes,
        "columns": shown,
        "overrun_lines": overrun_lines,
        "can_decide": manager,
        "editable_count": len(editable),
        "filtres": [(key, label, counts[key]) for key, label in COMITE_FILTRES],
        "filtre": filtre,
        "recherche": recherche,
    }
    return render(request, "cvu/comite_detail.html", context)
