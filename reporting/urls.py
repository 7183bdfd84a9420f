from django.urls import path

from . import views, views_annuel, views_rapports

app_name = "reporting"

urlpatterns = [
    path("", views.home, name="home"),
    path("tableau-de-bord/", views.tableau_de_bord, name="tableau_de_bord"),
    path("rapports/", views_rapports.rapport_list, name="rapport_list"),
    path("rapports/<int:pk>/", views_rapports.rapport_detail, name="rapport_detail"),
    path("rapports/<int:pk>/relancer/", views_rapports.rapport_retry, name="rapport_retry"),
    path(
        "rapports/<int:pk>/telecharger/", views_rapports.rapport_download, name="rapport_download"
    ),
    path("rapports/<int:pk>/annexe/", views_rapports.rapport_annexe, name="rapport_annexe"),
    path(
        "rapports/<int:pk>/modifiable/",
        views_rapports.rapport_modifiable,
        name="rapport_modifiable",
    ),
    path("rapports-annuels/", views_annuel.annuel_list, name="annuel_list"),
    path("rapports-annuels/nouveau/", views_annuel.annuel_create, name="annuel_create"),
    path("rapports-annuels/<int:pk>/", views_annuel.annuel_detail, name="annuel_detail"),
    path("rapports-annuels/<int:pk>/dsu/", views_annuel.annuel_dsu, name="annuel_dsu"),
    path(
        "rapports-annuels/chapitres/<int:pk>/",
        views_annuel.chapitre_update,
        name="annuel_chapitre",
    ),
    path(
        "rapports-annuels/<int:pk>/consultations/nouvelle/",
        views_annuel.consultation_create,
        name="annuel_consultation_create",
    ),
    path(
        "rapports-annuels/consultations/<int:pk>/",
        views_annuel.consultation_update,
        name="annuel_consultation_update",
    ),
    path(
        "rapports-annuels/consultations/<int:pk>/supprimer/",
        views_annuel.consultation_delete,
        name="annuel_consultation_delete",
    ),
    path(
        "rapports-annuels/consultations/<int:pk>/fichier/",
        views_annuel.consultation_fichier,
        name="annuel_consultation_fichier",
    ),
    path(
        "rapports-annuels/<int:pk>/approbation/",
        views_annuel.annuel_approuver,
        name="annuel_approuver",
    ),
    path(
        "rapports-annuels/<int:pk>/publication/",
        views_annuel.annuel_publier,
        name="annuel_publier",
    ),
    path(
        "rapports-annuels/<int:pk>/produire/",
        views_annuel.annuel_produire,
        name="annuel_produire",
    ),
]
