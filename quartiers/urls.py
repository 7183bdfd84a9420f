from django.urls import path

from . import views

app_name = "quartiers"

urlpatterns = [
    path("", views.qpv_list, name="qpv_list"),
    path("qpv/<int:pk>/", views.qpv_detail, name="qpv_detail"),
    path("communes/", views.commune_list, name="commune_list"),
    path("communes/<str:code_insee>/", views.commune_detail, name="commune_detail"),
    path("secteurs/", views.secteur_list, name="secteur_list"),
    path("observations/<int:pk>/modifier/", views.observation_update, name="observation_update"),
    path("observations/<int:pk>/supprimer/", views.observation_delete, name="observation_delete"),
    path("valeurs/<int:pk>/modifier/", views.valeur_update, name="valeur_update"),
    path("valeurs/<int:pk>/supprimer/", views.valeur_delete, name="valeur_delete"),
]
