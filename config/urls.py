from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("maillage.www.pages.urls")),
    path("compte/", include("maillage.www.accounts.urls")),
    path("compte/", include("allauth.urls")),
    path("programme/", include("maillage.www.programmes.urls")),
    path("enfants/", include("maillage.www.people.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("gestion-technique/", admin.site.urls),
]

handler403 = "maillage.www.pages.views.error_403"
handler404 = "maillage.www.pages.views.error_404"
handler500 = "maillage.www.pages.views.error_500"

if settings.DEBUG:
    urlpatterns += [path("__debug__/500/", lambda request: 1 / 0)]
