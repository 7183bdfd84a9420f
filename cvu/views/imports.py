"""Spreadsheet import of actions: upload, preview, confirm; and the template to fill in."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from .. import imports, rights


class ImportForm(forms.Form):
    fichier = forms.FileField(
        label="Fichier Excel (.xlsx)",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def clean_fichier(self):
        upload = self.cleaned_data["fichier"]
        imports.check_upload(name=upload.name, size=upload.size)
        self.content = upload.read()
        self.file = imports.read_file(self.content)
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
    request: HttpRequest, form: ImportForm, plan=None, token: str = "", file=None, style=None
) -> HttpResponse:
    context = {
        "form": form,
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


@require_http_methods(["GET", "POST"])
def action_import(request: HttpRequest) -> HttpResponse:
    _check_can_import(request.user)
    if request.method == "POST" and "token" in request.POST:
        return _confirm(request)
    if request.method == "GET":
        return _render(request, ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, form)
    file = form.file
    plan = imports.action_import_plan(rows=file.rows, user=request.user, styles=file.styles)
    imports.discard_upload(request.session.pop(imports.SESSION_KEY, None), user=request.user)
    token = ""
    if plan.ok or plan.ambiguous:
        # The session keeps a reference to a private temporary file, never its content.
        ref = imports.store_upload(form.content, user=request.user)
        request.session[imports.SESSION_KEY] = ref
        token = ref["token"]
    return _render(request, ImportForm(), plan, token, file)


def _kept(request: HttpRequest):
    """The reference of the file this user previewed, if the posted token is its token."""
    ref = request.session.get(imports.SESSION_KEY)
    if not isinstance(ref, dict) or ref.get("token") != request.POST.get("token"):
        return None
    return ref


def _confirm(request: HttpRequest) -> HttpResponse:
    """Re-reads the kept file, checks it again against today's data, then saves all or nothing."""
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
    file = imports.read_file(content)
    style = _style(request)
    plan = imports.action_import_plan(
        rows=file.rows, user=request.user, styles=file.styles, style=style
    )
    if "confirmer" not in request.POST:  # the amounts' style was chosen: preview again
        return _render(request, ImportForm(), plan, ref["token"], file, style)
    try:
        imports.action_import_apply(plan=plan, user=request.user)
    except (ValidationError, PermissionDenied) as error:
        details = error.messages if isinstance(error, ValidationError) else [str(error)]
        messages.error(
            request,
            "Rien n'a été enregistré : les données ont changé depuis l'aperçu. "
            + " ; ".join(details[:10]),
        )
        return _render(request, ImportForm(), plan, "", file, style)
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
