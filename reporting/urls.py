from django.urls import path

from . import views, views_rapports

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
]
