from django.urls import path

from . import views

app_name = "reporting"

urlpatterns = [
    path("", views.home, name="home"),
    path("tableau-de-bord/", views.tableau_de_bord, name="tableau_de_bord"),
]
