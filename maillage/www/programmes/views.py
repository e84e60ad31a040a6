"""The programme's own pages: profile, partner directory, charter of confidentiality."""

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from maillage import permissions as perms
from maillage.audit.access import not_sensitive
from maillage.core.text import normalise_name
from maillage.programmes import services
from maillage.programmes.models import CharterSignature, CharterVersion, Programme
from maillage.www.context import current_membership
from maillage.www.programmes.forms import (
    CharterPublishForm,
    CharterSignForm,
    OrganisationForm,
    OrganisationSearchForm,
    ProgrammeProfileForm,
)

PAGE_SIZE = 25


def _current_programme(request) -> Programme:
    """The programme of the current membership, through the scope (no membership: nothing to show)."""
    membership = current_membership(request)
    if membership is None:
        raise Http404
    return get_object_or_404(
        perms.programmes_visible_to(request.user).select_related("network_level"), pk=membership.programme_id
    )


def _current_charter(user, programme: Programme) -> CharterVersion | None:
    return perms.charter_versions_visible_to(user).filter(programme=programme).order_by("-number").first()


def _paragraphs(text: str) -> list[str]:
    """Paragraphs of a text typed in a textarea (browsers send CRLF line ends)."""
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


# --- profile -------------------------------------------------------------------------------------


@not_sensitive
@login_required
def profile(request):
    programme = _current_programme(request)
    context = {
        "programme": programme,
        "communes": programme.communes.order_by("name"),
        "priority_areas": programme.priority_areas.order_by("code"),
        "schools": programme.schools.select_related("commune").order_by("-priority_education", "name"),
        "abilities": perms.abilities(request.user, programme),
    }
    return render(request, "programmes/profile.html", context)


@not_sensitive
@login_required
def profile_edit(request):
    programme = _current_programme(request)
    if not perms.can_configure_programme(request.user, programme):
        raise PermissionDenied
    # The form works on a copy: the service compares the submitted values with the stored ones.
    form = ProgrammeProfileForm(request.POST or None, instance=copy.copy(programme), programme=programme)
    if request.method == "POST" and form.is_valid():
        services.programme_update(programme=programme, by=request.user, **form.changes())
        messages.success(request, _("Le profil du programme est enregistré."))
        return redirect("programmes:profile")
    return render(request, "programmes/profile_form.html", {"programme": programme, "form": form})


# --- partner directory ---------------------------------------------------------------------------


@not_sensitive
@login_required
def organisations(request):
    programme = _current_programme(request)
    if not perms.can_read_directory(request.user, programme):
        raise Http404
    today = timezone.localdate()
    active_members = (
        Q(memberships__starts_on__lte=today)
        & (Q(memberships__ends_on__isnull=True) | Q(memberships__ends_on__gte=today))
        & Q(memberships__user__is_active=True)
    )
    current_charter = (
        CharterVersion.objects.published().filter(programme=programme).order_by("-number").values("pk")[:1]
    )
    rows = (
        perms.organisations_visible_to(request.user)
        .filter(programme=programme)
        .select_related("school")
        .annotate(
            member_count=Count("memberships", filter=active_members, distinct=True),
            # The partner directory (issue 7): who is bound by secrecy, who signed the current charter.
            bound_count=Count(
                "memberships", filter=active_members & Q(memberships__bound_by_secrecy=True), distinct=True
            ),
            signed_count=Count(
                "memberships",
                filter=active_members & Q(memberships__charter_signatures__version__in=current_charter),
                distinct=True,
            ),
        )
        .order_by("-is_active", "name")
    )
    form = OrganisationSearchForm(request.GET or None)
    if form.is_valid():
        for term in normalise_name(form.cleaned_data["q"]).split():
            # A partner is found by its name or by the services it offers.
            rows = rows.filter(Q(name_normalised__contains=term) | Q(services__icontains=term))
        if form.cleaned_data["kind"]:
            rows = rows.filter(kind=form.cleaned_data["kind"])
    filtered = bool(request.GET.get("q") or request.GET.get("kind"))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "programme": programme,
        "form": form,
        "page_obj": page,
        "filtered": filtered,
        "abilities": perms.abilities(request.user, programme),
    }
    return render(request, "programmes/organisation_list.html", context)


@not_sensitive
@login_required
def organisation_detail(request, pk: int):
    organisation = get_object_or_404(
        perms.organisations_visible_to(request.user).select_related("programme", "school"), pk=pk
    )
    current = (
        CharterVersion.objects.published()
        .filter(programme=organisation.programme_id)
        .order_by("-number")
        .values("pk")[:1]
    )
    members = (
        perms.memberships_visible_to(request.user)
        .active()
        .filter(organisation=organisation)
        .select_related("user")
        .annotate(
            charter_signed=Exists(
                CharterSignature.objects.filter(membership=OuterRef("pk"), version__in=current)
            )
        )
        .order_by("user__last_name", "user__first_name", "pk")
    )
    context = {
        "organisation": organisation,
        "members": members,
        "abilities": perms.abilities(request.user, organisation),
        **_partnership_of(request.user, organisation),
    }
    return render(request, "programmes/organisation_detail.html", context)


def _partnership_of(user, organisation) -> dict:
    """The partner directory's extras (issue 7): actions the partner provides (from the catalogue of
    the offers app, when it exists) and the bodies its members sit in."""
    from django.apps import apps

    try:
        offer_model = apps.get_model("offers", "Offer")
    except LookupError:
        offers = None
    else:
        offers = list(offer_model.objects.filter(provider=organisation, is_active=True).order_by("title"))
    bodies = (
        perms.bodies_visible_to(user)
        .filter(members__membership__organisation=organisation)
        .distinct()
        .order_by("kind", "name")
    )
    return {"offers": offers, "bodies": list(bodies)}


@not_sensitive
@login_required
def organisation_create(request):
    programme = _current_programme(request)
    if not perms.can_configure_programme(request.user, programme):
        raise PermissionDenied
    form = OrganisationForm(request.POST or None, programme=programme)
    if request.method == "POST" and form.is_valid():
        organisation = services.organisation_create(programme=programme, by=request.user, **form.changes())
        messages.success(request, _("Le partenaire « %(name)s » est ajouté.") % {"name": organisation.name})
        return redirect("programmes:organisation", pk=organisation.pk)
    return render(request, "programmes/organisation_form.html", {"form": form, "organisation": None})


@not_sensitive
@login_required
def organisation_edit(request, pk: int):
    organisation = get_object_or_404(
        perms.organisations_visible_to(request.user).select_related("programme"), pk=pk
    )
    if not perms.can_configure_programme(request.user, organisation.programme):
        raise PermissionDenied
    form = OrganisationForm(
        request.POST or None, instance=copy.copy(organisation), programme=organisation.programme
    )
    if request.method == "POST" and form.is_valid():
        services.organisation_update(organisation=organisation, by=request.user, **form.changes())
        messages.success(request, _("Les informations du partenaire sont enregistrées."))
        return redirect("programmes:organisation", pk=organisation.pk)
    return render(request, "programmes/organisation_form.html", {"form": form, "organisation": organisation})


# --- charter -------------------------------------------------------------------------------------


@not_sensitive
@login_required
def charter(request):
    membership = current_membership(request)
    programme = _current_programme(request)
    version = _current_charter(request.user, programme)
    signature = None
    if version is not None:
        signature = CharterSignature.objects.filter(version=version, membership=membership).first()
    previous = (
        perms.charter_versions_visible_to(request.user)
        .filter(programme=programme)
        .exclude(pk=version.pk if version else None)
        .order_by("-number")
    )
    context = {
        "programme": programme,
        "membership": membership,
        "version": version,
        "paragraphs": _paragraphs(version.body) if version else [],
        "signature": signature,
        "requires_signature": perms.membership_requires_charter(membership),
        "previous_versions": previous,
        "form": CharterSignForm(),
        "abilities": perms.abilities(request.user, programme),
    }
    return render(request, "programmes/charter.html", context)


@not_sensitive
@login_required
@require_POST
def charter_sign(request):
    membership = current_membership(request)
    programme = _current_programme(request)
    version = _current_charter(request.user, programme)
    if version is None:
        raise Http404
    form = CharterSignForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("Cochez la case pour confirmer que vous avez lu la charte et vous engagez à la respecter."),
        )
        return redirect("programmes:charter")
    services.charter_sign(membership=membership, by=request.user, version=version)
    messages.success(
        request,
        _("Vous avez signé la version %(number)s de la charte de confidentialité.")
        % {"number": version.number},
    )
    return redirect("programmes:charter")


@not_sensitive
@login_required
def charter_publish(request):
    programme = _current_programme(request)
    if not perms.can_publish_charter(request.user, programme):
        raise PermissionDenied
    current = _current_charter(request.user, programme)
    initial = (
        {"title": current.title, "body": current.body}
        if current
        else {"title": _("Charte de confidentialité")}
    )
    form = CharterPublishForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        version = services.charter_publish(
            programme=programme,
            by=request.user,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
        )
        messages.success(
            request,
            _(
                "La version %(number)s de la charte est publiée. Les membres concernés sont invités "
                "à la signer."
            )
            % {"number": version.number},
        )
        return redirect("programmes:charter")
    return render(
        request, "programmes/charter_publish.html", {"programme": programme, "form": form, "current": current}
    )
