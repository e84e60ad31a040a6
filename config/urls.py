from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.urls import include, path

from maillage.core.views import security_txt


def not_found(request):
    raise Http404


urlpatterns = [
    path(".well-known/security.txt", security_txt, name="security_txt"),
    path("", include("maillage.www.pages.urls")),
    path("compte/", include("maillage.www.accounts.urls")),
    # Addresses are set by invitation: allauth's page to add or change one stays closed.
    path("compte/email/", not_found, name="account_email"),
    # ProConnect's login and callback (maillage.accounts.social), ahead of allauth's OpenID Connect views.
    path("compte/oidc/proconnect/", include("maillage.accounts.social")),
    path("compte/", include("allauth.urls")),
    path("programme/", include("maillage.www.programmes.urls")),
    path("enfants/", include("maillage.www.people.urls")),
    path("orientations/", include("maillage.www.referrals.urls")),
    path("parcours/", include("maillage.www.pathways.urls")),
    path("parcours/<int:pathway_pk>/suivi/", include("maillage.www.followup.urls")),
    path("parcours/<int:pathway_pk>/documents/", include("maillage.www.documents.urls")),
    path("journal/", include("maillage.www.journal.urls")),
    path("actions/", include("maillage.www.offers.urls")),
    path("pilotage/", include("maillage.www.steering.urls")),
    path("instances/", include("maillage.www.governance.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("gestion-technique/", admin.site.urls),
]

handler403 = "maillage.www.pages.views.error_403"
handler404 = "maillage.www.pages.views.error_404"
handler500 = "maillage.www.pages.views.error_500"

if settings.DEBUG:
    urlpatterns += [path("__debug__/500/", lambda request: 1 / 0)]
