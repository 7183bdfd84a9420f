"""The open-data export of the collectivité's grants (décret 2017-779)."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .. import opendata

FORMATS = {
    "csv": ("text/csv; charset=utf-8", opendata.to_csv),
    "json": ("application/json; charset=utf-8", opendata.to_json),
}


class OpenDataForm(forms.Form):
    annee = forms.IntegerField(label="Exercice", min_value=2017, max_value=2100)
    format = forms.ChoiceField(
        label="Format",
        choices=[
            ("apercu", "Aperçu à l'écran, avec les avertissements"),
            ("csv", "CSV (UTF-8, séparateur « ; »)"),
            ("json", "JSON (liste d'objets)"),
        ],
        initial="apercu",
        widget=forms.RadioSelect,
    )


@require_GET
def donnees_essentielles(request: HttpRequest) -> HttpResponse:
    """The year's file (?annee=2025&format=csv|json) or the page to choose and check it."""
    data = request.GET.copy() if "annee" in request.GET else None
    if data is not None:
        data.setdefault("format", "apercu")
    form = OpenDataForm(data, initial={"annee": timezone.localdate().year - 1})
    context = {"form": form, "export": None, "error": None, "schema": opendata.SCHEMA}
    if data is None or not form.is_valid():
        return render(request, "cvu/opendata.html", context, status=400 if data else 200)
    fmt = form.cleaned_data["format"]
    try:
        export = opendata.build(request.user, form.cleaned_data["annee"])
    except opendata.OpenDataError as error:
        context["error"] = str(error)
        return render(request, "cvu/opendata.html", context, status=200 if fmt == "apercu" else 409)
    if fmt in FORMATS:
        content_type, serialise = FORMATS[fmt]
        response = HttpResponse(serialise(export), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename(fmt)}"'
        return response
    context["export"] = export
    context["fields"] = opendata.FIELDS
    return render(request, "cvu/opendata.html", context)
