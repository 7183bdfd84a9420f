"""Spreadsheet import of actions: upload, preview, confirm; and the template to fill in."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from .. import imports, rights
from ..forms_imports import ActionMappingForm


class ImportForm(forms.Form):
    fichier = forms.FileField(
        label="Fichier Excel (.xlsx) ou CSV",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_fichier(self):
        upload = self.cleaned_data["fichier"]
        imports.check_upload(name=upload.name, size=upload.size)
        self.content = upload.read()
        self.file = imports.read_file(self.content, csv=upload.name.lower().endswith(".csv"))
        return upload


STYLE_CHOICES = [
    ("", "d'après les autres montants du fichier"),
    ("fr", "« 1.200 » = mille deux cents euros (point des milliers)"),
    ("en", "« 1.200 » = un euro vingt (point décimal)"),
]


def _style(request: HttpRequest) -> str | None:
    value = request.POST.get("style", "")
    return value if value in ("fr", "en") else None


def _check_can_import(user) -> None:
    rights.require(
        imports.user_can_import(user),
        "L'import d'actions est réservé aux chefs de projet et au chef de service.",
    )


def _render(
    request: HttpRequest,
    form: ImportForm,
    *,
    file=None,
    mapping_form=None,
    plan=None,
    token: str = "",
    style=None,
) -> HttpResponse:
    context = {
        "form": form,
        "file": file,
        "mapping_form": mapping_form,
        "plan": plan,
        "token": token,
        "report": file.report if file else [],
        "style": style or "",
        "style_choices": STYLE_CHOICES,
        "columns": imports.COLUMNS,
        "rules": imports.RULES,
        "max_size_mb": imports.max_size() // 1_000_000,
    }
    return render(request, "cvu/action_import.html", context)


def _plan(request: HttpRequest, file, mapping, *, style=None):
    """The preview of the file read with this mapping. Unknown porteurs are all ticked for
    creation on the first preview; then the ticks the person left are kept."""
    create = set(request.POST.getlist("creer")) if "porteurs_vus" in request.POST else None
    return imports.action_import_plan(
        rows=list(imports.mapped_rows(file.table, mapping)),
        user=request.user,
        styles=file.styles(),
        style=style,
        create=create,
    )


def _mapping_form(request: HttpRequest, file) -> ActionMappingForm:
    """The columns as guessed, or as this user read the same layout last time."""
    remembered = imports.remembered_mapping(request.user, file)
    if remembered is not None:
        file.mapping = remembered
    form = ActionMappingForm(
        table=file.table,
        funders=file.funders,
        initial_mapping=file.mapping,
        initial={"contrat": file.mapping.contrat, "exercice": file.mapping.exercice},
    )
    form.remembered = remembered is not None
    return form


@require_http_methods(["GET", "POST"])
def action_import(request: HttpRequest) -> HttpResponse:
    """Upload → columns (guessed, corrected by the person) → preview → confirmation."""
    _check_can_import(request.user)
    if request.method == "POST" and "token" in request.POST:
        return _confirm(request)
    if request.method == "GET":
        return _render(request, ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, form)
    file = form.file
    imports.discard_upload(request.session.pop(imports.SESSION_KEY, None), user=request.user)
    # The session keeps a reference to a private temporary file, never its content.
    ref = imports.store_upload(form.content, user=request.user)
    request.session[imports.SESSION_KEY] = ref
    mapping_form = _mapping_form(request, file)
    plan = None
    if not file.mapping.missing():
        plan = _plan(request, file, file.mapping)
    return _render(
        request, ImportForm(), file=file, mapping_form=mapping_form, plan=plan, token=ref["token"]
    )


def _kept(request: HttpRequest):
    """The reference of the file this user previewed, if the posted token is its token."""
    ref = request.session.get(imports.SESSION_KEY)
    if not isinstance(ref, dict) or ref.get("token") != request.POST.get("token"):
        return None
    return ref


def _confirm(request: HttpRequest) -> HttpResponse:
    """Re-reads the kept file with the posted mapping, checks it again against today's data,
    then, when asked, saves all or nothing."""
    ref = _kept(request)
    try:
        content = imports.load_upload(ref, user=request.user)
    except FileNotFoundError:
        messages.error(request, "Ce fichier n'est plus disponible : déposez-le à nouveau.")
        return redirect("cvu:action_import")
    if "annuler" in request.POST:
        imports.discard_upload(ref, user=request.user)
        request.session.pop(imports.SESSION_KEY, None)
        messages.info(request, "Import annulé : rien n'a été enregistré.")
        return redirect("cvu:action_import")
    shown = request.POST.get("feuille_lue") or None
    wanted = request.POST.get("feuille") or shown
    try:
        file = imports.read_file(content, sheet=wanted)
    except ValidationError as error:
        messages.error(request, f"Feuille « {wanted} » : " + " ".join(error.messages))
        file, wanted = imports.read_file(content, sheet=shown), shown
    style = _style(request)
    if wanted != shown:  # another sheet: its columns are guessed again, nothing is previewed
        return _render(
            request,
            ImportForm(),
            file=file,
            mapping_form=_mapping_form(request, file),
            token=ref["token"],
            style=style,
        )
    mapping_form = ActionMappingForm(request.POST, table=file.table, funders=file.funders)
    page = {"file": file, "mapping_form": mapping_form, "token": ref["token"], "style": style}
    if not mapping_form.is_valid():
        return _render(request, ImportForm(), **page)
    file.mapping = mapping_form.mapping
    plan = _plan(request, file, mapping_form.mapping, style=style)
    if "confirmer" not in request.POST:  # columns or amounts' style changed: preview again
        return _render(request, ImportForm(), plan=plan, **page)
    try:
        imports.action_import_apply(plan=plan, user=request.user)
    except (ValidationError, PermissionDenied) as error:
        details = error.messages if isinstance(error, ValidationError) else [str(error)]
        messages.error(
            request,
            "Rien n'a été enregistré : les données ont changé depuis l'aperçu. "
            + " ; ".join(details[:10]),
        )
        return _render(request, ImportForm(), plan=plan, **page)
    imports.remember_mapping(request.user, file.table, mapping_form.mapping)
    imports.discard_upload(ref, user=request.user)
    request.session.pop(imports.SESSION_KEY, None)
    messages.success(request, plan.result_message)
    return redirect("cvu:action_list")


@require_GET
def action_import_template(request: HttpRequest) -> HttpResponse:
    _check_can_import(request.user)
    response = HttpResponse(imports.template_workbook(), content_type=imports.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="modele-import-actions.xlsx"'
    return response
