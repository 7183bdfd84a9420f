from django.contrib import admin
from django.urls import include, path

from core.views import accessibilite, favicon, healthz

admin.site.site_header = "Pilotage CVU – administration"
admin.site.site_title = "Pilotage CVU"
admin.site.index_title = "Données de référence"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("accessibilite/", accessibilite, name="accessibilite"),
    path("admin/", admin.site.urls),
    path("comptes/", include("comptes.urls")),
    path("quartiers/", include("quartiers.urls")),
    path("", include("cvu.urls")),
    path("participation/", include("participation.urls")),
    path("", include("reporting.urls")),
]
