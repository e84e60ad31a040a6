"""The project's URLs plus ``/__bench__/bare/``: an authenticated page with the full layout and no content."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from config.urls import handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as project_urlpatterns


@login_required
def bare(request):
    return render(request, "bench/bare.html")


urlpatterns = [path("__bench__/bare/", bare, name="bench_bare"), *project_urlpatterns]
