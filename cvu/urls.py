from django.urls import path

from .views import actions, contrats, documents, imports, organisations, programmes

app_name = "cvu"

urlpatterns = [
    # Actions
    path("actions/", actions.action_list, name="action_list"),
    path("actions/nouvelle/", actions.action_create, name="action_create"),
    path("actions/<int:pk>/", actions.action_detail, name="action_detail"),
    path("actions/<int:pk>/modifier/", actions.action_update, name="action_update"),
    path("actions/<int:pk>/supprimer/", actions.action_delete, name="action_delete"),
    path("actions/<int:pk>/documents/", documents.document_upload, name="document_upload"),
    path("actions/documents/<int:pk>/", documents.document_download, name="document_download"),
    path(
        "actions/documents/<int:pk>/supprimer/", documents.document_delete, name="document_delete"
    ),
    path("actions/import/", imports.action_import, name="action_import"),
    path(
        "actions/import/modele.xlsx", imports.action_import_template, name="action_import_template"
    ),
    # Programmes
    path("actions/programmes/", programmes.programme_list, name="programme_list"),
    path("actions/programmes/nouveau/", programmes.programme_create, name="programme_create"),
    path("actions/programmes/<int:pk>/", programmes.programme_detail, name="programme_detail"),
    path(
        "actions/programmes/<int:pk>/modifier/",
        programmes.programme_update,
        name="programme_update",
    ),
    path(
        "actions/programmes/<int:pk>/valider/",
        programmes.programme_validate,
        name="programme_validate",
    ),
    # Organisations
    path("organisations/", organisations.organisation_list, name="organisation_list"),
    path("organisations/nouvelle/", organisations.organisation_create, name="organisation_create"),
    path("organisations/<int:pk>/", organisations.organisation_detail, name="organisation_detail"),
    path(
        "organisations/<int:pk>/modifier/",
        organisations.organisation_update,
        name="organisation_update",
    ),
    # Contracts
    path("contrats/", contrats.contrat_list, name="contrat_list"),
    path("contrats/<int:pk>/", contrats.contrat_detail, name="contrat_detail"),
]
