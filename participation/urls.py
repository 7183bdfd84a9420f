from django.urls import path

from . import views

app_name = "participation"

urlpatterns = [
    path("", views.conseil_list, name="conseil_list"),
    path("conseils/nouveau/", views.conseil_create, name="conseil_create"),
    path("conseils/<int:pk>/", views.conseil_detail, name="conseil_detail"),
    path("conseils/<int:pk>/modifier/", views.conseil_update, name="conseil_update"),
    path("conseils/<int:pk>/membres/nouveau/", views.membre_create, name="membre_create"),
    path("conseils/<int:pk>/membres/import/", views.membre_import, name="membre_import"),
    path("membres/<int:pk>/", views.membre_detail, name="membre_detail"),
    path("membres/<int:pk>/modifier/", views.membre_update, name="membre_update"),
    path("membres/<int:pk>/export/", views.membre_export, name="membre_export"),
    path("membres/<int:pk>/effacer/", views.membre_erase, name="membre_erase"),
    path("demarches/", views.demarche_list, name="demarche_list"),
    path("demarches/nouvelle/", views.demarche_create, name="demarche_create"),
    path("demarches/<int:pk>/", views.demarche_detail, name="demarche_detail"),
    path("demarches/<int:pk>/modifier/", views.demarche_update, name="demarche_update"),
    path("demarches/<int:pk>/charte/", views.demarche_charte, name="demarche_charte"),
    path("charte/", views.charte, name="charte"),
    path("charte/nouvelle-version/", views.charte_create, name="charte_create"),
    path("cycles/", views.cycle_list, name="cycle_list"),
    path("cycles/nouveau/", views.cycle_create, name="cycle_create"),
    path("cycles/<int:pk>/", views.cycle_detail, name="cycle_detail"),
    path("cycles/<int:pk>/sessions/nouvelle/", views.session_create, name="session_create"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("presences/", views.steering_list, name="steering_list"),
    path("presences/<int:pk>/", views.steering_attendance, name="steering_attendance"),
]
