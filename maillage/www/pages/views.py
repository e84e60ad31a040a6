from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from maillage.www.context import current_membership

STATIC_PAGES = {
    "accessibility": "pages/accessibility.html",
    "legal": "pages/legal.html",
    "privacy": "pages/privacy.html",
}


@login_required
def home(request):
    membership = current_membership(request)
    return render(request, "pages/home.html", {"membership": membership})


def static_page(request, page: str):
    return render(request, STATIC_PAGES[page])


@never_cache
def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def error_403(request, exception=None):
    return render(request, "errors/403.html", status=403)


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def error_500(request):
    return render(request, "errors/500.html", status=500)
