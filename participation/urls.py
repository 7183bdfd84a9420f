from django.urls import path

from . import views

app_name = "participation"

urlpatterns = [
    path("", views.conseil_list, name="conseil_list"),
    path("conseils/nouveau/", views.conseil_create, name="conseil_create"),
    path("conseils/<int:pk>/", views.conseil_detail, name="conseil_detail"),
    path("conseils/<int:pk>/modifier/", views.conseil_update, name="conseil_update"),
    path("conseils/<int:pk>/membres/nouveau/", views.membre_create, name="membre_create"),
    path("membres/<int:pk>/", views.membre_detail, name="membre_detail"),
    path("membres/<int:pk>/modifier/", views.membre_update, name="membre_update"),
    path("membres/<int:pk>/export/", views.membre_export, name="membre_export"),
    path("membres/<int:pk>/effacer/", views.membre_erase, name="membre_erase"),
    path("presences/", views.steering_list, name="steering_list"),
    path("presences/<int:pk>/", views.steering_attendance, name="steering_attendance"),
]
