"""Spreadsheet import of actions: upload, preview, confirm; and the template to fill in."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from .. import imports


class ImportForm(forms.Form):
    fichier = forms.FileField(
        label="Fichier Excel (.xlsx)",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def clean_fichier(self):
        upload = self.cleaned_data["fichier"]
        imports.check_upload(name=upload.name, size=upload.size)
        self.content = upload.read()
        self.rows = imports.read_rows(self.content)
        return upload


def _check_can_import(user) -> None:
    if not imports.user_can_import(user):
        raise PermissionDenied(
            "L'import d'actions est réservé aux chefs de projet et au chef de service."
        )


def _render(request: HttpRequest, form: ImportForm, plan=None, token: str = "") -> HttpResponse:
    context = {
        "form": form,
        "plan": plan,
        "token": token,
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
    plan = imports.action_import_plan(rows=form.rows, user=request.user)
    token = imports.store_upload(form.content, user=request.user) if plan.ok else ""
    return _render(request, ImportForm(), plan, token)


def _confirm(request: HttpRequest) -> HttpResponse:
    """Re-reads the kept file, checks it again against today's data, then saves all or nothing."""
    token = request.POST["token"]
    try:
        content = imports.load_upload(token, user=request.user)
    except FileNotFoundError:
        messages.error(request, "Ce fichier n'est plus disponible : déposez-le à nouveau.")
        return redirect("cvu:action_import")
    imports.discard_upload(token, user=request.user)
    if "annuler" in request.POST:
        messages.info(request, "Import annulé : rien n'a été enregistré.")
        return redirect("cvu:action_import")
    plan = imports.action_import_plan(rows=imports.read_rows(content), user=request.user)
    try:
        imports.action_import_apply(plan=plan, user=request.user)
    except (ValidationError, PermissionDenied) as error:
        details = error.messages if isinstance(error, ValidationError) else [str(error)]
        messages.error(
            request,
            "Rien n'a été enregistré : les données ont changé depuis l'aperçu. "
            + " ; ".join(details[:10]),
        )
        return _render(request, ImportForm(), plan)
    messages.success(request, plan.result_message)
    return redirect("cvu:action_list")


@require_GET
def action_import_template(request: HttpRequest) -> HttpResponse:
    _check_can_import(request.user)
    response = HttpResponse(imports.template_workbook(), content_type=imports.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="modele-import-actions.xlsx"'
    return response
