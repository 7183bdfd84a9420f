from django.http import HttpRequest, HttpResponse


def action_import(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError  # Being written: spreadsheet import with preview.


def action_import_template(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
