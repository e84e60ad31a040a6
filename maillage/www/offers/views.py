"""Pages of actions: catalogue, groups and roll-call, family contracts and alerts, support fund.

Thin views: fetch through a scope of ``maillage.permissions`` (out of scope = 404), check a
predicate (403), call a service of ``maillage.offers.services``, render or redirect. Rosters show
first name, initial and age only; pages that show them journal one entry per child shown.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage import permissions as perms
from maillage.accounts.stepup import nominative_document
from maillage.audit.access import not_sensitive, record_access, record_access_many, sensitive
from maillage.core.uploads import download_name
from maillage.offers import queries, services
from maillage.offers.enums import AttendanceStatus, EnrolmentStatus, FundRequestState
from maillage.offers.models import (
    Attendance,
    Enrolment,
    Group,
    InterventionTask,
    Offer,
    Session,
)
from maillage.offers.services import OffersError
from maillage.pathways.enums import Circle
from maillage.pathways.models import Objective, Pathway
from maillage.programmes.enums import Role
from maillage.steering.models import FundingLine
from maillage.www.context import current_membership
from maillage.www.offers import forms

PAGE_SIZE = 50


def _programme(request):
    membership = current_membership(request)
    if membership is None:
        raise Http404
    return membership.programme


def _show_error(form, error: OffersError) -> None:
    for message in error.messages:
        form.add_error(None, message)


def _children(rows) -> list:
    return [row.child for row in rows if row.child_id]


# --- catalogue ---------------------------------------------------------------------------------------


@login_required
@not_sensitive
def catalogue(request):
    """The catalogue of the current programme: filters, places left, no names."""
    user = request.user
    programme = _programme(request)
    visible = perms.offers_visible_to(user).filter(programme=programme)
    organisations = perms.organisations_visible_to(user).filter(
        programme=programme, pk__in=visible.values("provider_id")
    )
    form = forms.CatalogueFilterForm(request.GET or None, organisations=organisations)
    offers = visible
    filtered = False
    if form.is_valid():
        data = form.cleaned_data
        if not data.get("inactive"):
            offers = offers.active()
        if data.get("q"):
            offers = offers.filter(title__icontains=data["q"])
        if data.get("kind"):
            offers = offers.filter(kind=data["kind"])
        if data.get("dimension"):
            offers = offers.filter(dimensions__icontains=f'"{data["dimension"]}"')
        if data.get("provider"):
            offers = offers.filter(provider=data["provider"])
        filtered = any(data.get(key) for key in ("q", "kind", "dimension", "provider", "with_places"))
    else:
        offers = offers.active()
    paginator = Paginator(offers.order_by("title", "pk"), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    rows = queries.offers_with_places(
        Offer.objects.filter(pk__in=[o.pk for o in page.object_list]).order_by("title", "pk")
    )
    if form.is_valid() and form.cleaned_data.get("with_places"):
        rows = [o for o in rows if o.places_left is None or o.places_left > 0]
    context = {
        "programme": programme,
        "form": form,
        "rows": rows,
        "page_obj": page,
        "filtered": filtered,
        "manage": perms.can_manage_offers(user, programme),
    }
    return render(request, "offers/catalogue.html", context)


def _offer_form(request, programme, instance=None):
    organisations = perms.organisations_visible_to(request.user).filter(programme=programme, is_active=True)
    lines = FundingLine.objects.filter(programme=programme).order_by("-year", "label")
    return forms.OfferForm(
        request.POST or None, instance=instance, organisations=organisations, funding_lines=lines
    )


@login_required
@not_sensitive
def offer_create(request):
    programme = _programme(request)
    if not perms.can_manage_offers(request.user, programme):
        raise PermissionDenied
    form = _offer_form(request, programme)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        title = data.pop("title")
        try:
            offer = services.offer_create(programme=programme, title=title, by=request.user, **data)
        except OffersError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("L'action est ajoutée au catalogue."))
            return redirect("offers:offer", pk=offer.pk)
    return render(request, "offers/form.html", {"form": form, "title": _("Nouvelle action")})


@login_required
@not_sensitive
def offer_edit(request, pk: int):
    offer = get_object_or_404(perms.offers_visible_to(request.user), pk=pk)
    if not perms.can_manage_offers(request.user, offer.programme):
        raise PermissionDenied
    form = _offer_form(request, offer.programme, instance=Offer.objects.get(pk=offer.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.offer_update(offer=offer, by=request.user, **form.cleaned_data)
        except OffersError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("L'action est modifiée."))
            return redirect("offers:offer", pk=offer.pk)
    context = {"form": form, "title": _("Modifier l'action"), "offer": offer}
    return render(request, "offers/form.html", context)


@login_required
@not_sensitive
def offer_detail(request, pk: int):
    """An action: description, provider, cost, funding, its groups with places left (no names)."""
    user = request.user
    offer = get_object_or_404(perms.offers_visible_to(user).select_related("provider", "funding_line"), pk=pk)
    groups = list(
        queries.with_places(perms.groups_visible_to(user).filter(offer=offer)).order_by("-starts_on", "pk")
    )
    public_groups = list(queries.with_places(Group.objects.filter(offer=offer)).order_by("-starts_on", "pk"))
    visible_ids = {g.pk for g in groups}
    for group in public_groups:
        group.places_left = queries.group_places_left(group)
        group.visible = group.pk in visible_ids
    context = {
        "offer": offer,
        "dimension_labels": queries._dimension_labels(offer.dimensions),
        "groups": public_groups,
        "manage": perms.can_manage_offers(user, offer.programme),
    }
    return render(request, "offers/offer.html", context)


@login_required
@not_sensitive
def group_create(request, pk: int):
    offer = get_object_or_404(perms.offers_visible_to(request.user), pk=pk)
    if not perms.can_manage_offers(request.user, offer.programme):
        raise PermissionDenied
    memberships = (
        perms.memberships_visible_to(request.user)
        .filter(programme=offer.programme, role__in=[Role.PROVIDER, Role.COORDINATOR, Role.REFERENT])
        .select_related("user")
        .order_by("user__last_name")
    )
    form = forms.GroupForm(request.POST or None, memberships=memberships)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            group = services.group_create(
                offer=offer,
                name=data["name"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                capacity=data["capacity"],
                place=data["place"],
                facilitators=data["facilitators"],
                by=request.user,
            )
            if data.get("weekday") is not None:
                starts = services.weekly_starts(
                    data["starts_on"], data["ends_on"], data["weekday"], data["start_time"]
                )
                services.sessions_plan(
                    group=group,
                    starts=starts,
                    duration=datetime.timedelta(minutes=data.get("duration_minutes") or 90),
                    by=request.user,
                )
        except OffersError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("Le groupe est créé."))
            return redirect("offers:group", pk=group.pk)
    context = {
        "form": form,
        "title": _("Nouveau groupe — %(offer)s") % {"offer": offer.title},
        "offer": offer,
    }
    return render(request, "offers/form.html", context)


# --- groups, roster, roll-call ---------------------------------------------------------------------


@login_required
@not_sensitive
def my_groups(request):
    """Groups the user runs or coordinates, with their next session: no names on this page."""
    user = request.user
    programme = _programme(request)
    now = timezone.now()
    today = timezone.localdate()
    groups = list(
        queries.with_places(
            perms.groups_visible_to(user).filter(
                offer__programme=programme, ends_on__gte=today - datetime.timedelta(days=30)
            )
        ).order_by("offer__title", "name")[:PAGE_SIZE]
    )
    sessions = Session.objects.filter(group__in=groups, cancelled=False, starts_at__date__gte=today).order_by(
        "starts_at"
    )
    first = {}
    for session in sessions:
        first.setdefault(session.group_id, session)
    today_sessions = (
        Session.objects.filter(group__in=groups, cancelled=False, starts_at__date=today)
        .select_related("group__offer")
        .order_by("starts_at")
    )
    for group in groups:
        group.next_session = first.get(group.pk)
        group.places_left = queries.group_places_left(group)
    context = {"groups": groups, "today_sessions": list(today_sessions), "now": now}
    return render(request, "offers/groups.html", context)


def _group_or_404(request, pk: int) -> Group:
    return get_object_or_404(perms.groups_visible_to(request.user).select_related("offer__provider"), pk=pk)


@login_required
@sensitive("group.roster_viewed")
def group_detail(request, pk: int):
    """A group: its sessions and its roster (first name, initial, age), waiting list."""
    user = request.user
    group = _group_or_404(request, pk)
    rows = list(
        group.enrolments.exclude(status=EnrolmentStatus.LEFT)
        .select_related("child", "beneficiary", "guardian")
        .order_by("status", "position", "child__first_name", "beneficiary__first_name", "pk")
    )
    enrolled = [r for r in rows if r.status == EnrolmentStatus.ENROLLED]
    waiting = [r for r in rows if r.status == EnrolmentStatus.WAITING]
    sessions = list(
        group.sessions.annotate(
            present=Count("attendances", filter=Q(attendances__status=AttendanceStatus.PRESENT)),
            recorded=Count("attendances"),
        ).order_by("starts_at")
    )
    manage = perms.can_manage_offers(user, group.offer.programme)
    beneficiary_form = forms.BeneficiaryForm(
        request.POST if request.POST.get("action") == "enrol" else None, prefix="b"
    )
    if request.method == "POST":
        if not manage:
            raise PermissionDenied
        if request.POST.get("action") == "leave":
            leaving = next((r for r in rows if str(r.pk) == request.POST.get("enrolment")), None)
            if leaving is None:
                raise Http404
            _leave(request, leaving)
            return redirect("offers:group", pk=group.pk)
        if beneficiary_form.is_valid() and _enrol_beneficiary(request, group, beneficiary_form):
            return redirect("offers:group", pk=group.pk)
    for session in sessions:
        session.can_call = (
            perms.can_take_attendance(user, session)
            if session.starts_at.date() <= timezone.localdate() + datetime.timedelta(days=1)
            else False
        )
    record_access_many(request, _children(rows), verb="group.roster_viewed")
    context = {
        "group": group,
        "offer": group.offer,
        "enrolled": enrolled,
        "waiting": waiting,
        "places_left": services.places_left(group, enrolled=len(enrolled)),
        "capacity": group.effective_capacity,
        "sessions": sessions,
        "manage": manage,
        "beneficiary_form": beneficiary_form if manage else None,
    }
    return render(request, "offers/group.html", context)


def _enrol_beneficiary(request, group: Group, form) -> bool:
    """Enrol a new collective-only participant (minimal data) from the group page."""
    try:
        beneficiary = services.beneficiary_create(
            programme=group.offer.programme, by=request.user, **form.cleaned_data
        )
        enrolment = services.enrol(group=group, by=request.user, beneficiary=beneficiary)
    except OffersError as error:
        _show_error(form, error)
        return False
    if enrolment.status == EnrolmentStatus.WAITING:
        messages.warning(
            request, _("Le groupe est complet : la personne est inscrite sur la liste d'attente.")
        )
    else:
        messages.success(request, _("La personne est inscrite dans le groupe."))
    return True


def _leave(request, enrolment: Enrolment) -> None:
    try:
        services.enrolment_leave(enrolment=enrolment, by=request.user)
    except OffersError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("La personne ne fait plus partie du groupe."))


STATUS_CHOICES = [
    (AttendanceStatus.PRESENT, _("Présent·e"), "present"),
    (AttendanceStatus.EXCUSED, _("Excusé·e"), "excused"),
    (AttendanceStatus.UNEXCUSED, _("Absent·e"), "unexcused"),
]


@login_required
@sensitive("attendance.form_viewed")
def rollcall(request, pk: int):
    """The roll-call of a session, for a phone: one tap per person, the whole group in one POST."""
    user = request.user
    session = get_object_or_404(perms.sessions_visible_to(user).select_related("group__offer"), pk=pk)
    if not perms.can_take_attendance(user, session):
        raise PermissionDenied
    rows = list(services.roster(session))
    existing = dict(Attendance.objects.filter(session=session).values_list("enrolment_id", "status"))
    errors = []
    if request.method == "POST":
        statuses = {}
        for row in rows:
            value = request.POST.get(f"p{row.pk}", "")
            if value in AttendanceStatus.values:
                statuses[row.pk] = value
        missing = [row for row in rows if row.pk not in statuses]
        if missing:
            errors = missing
            existing.update(statuses)
        else:
            try:
                services.attendance_save(session=session, statuses=statuses, by=user)
            except OffersError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(
                    request,
                    _("L'appel est enregistré : %(present)s présent·es sur %(total)s.")
                    % {
                        "present": sum(1 for s in statuses.values() if s == AttendanceStatus.PRESENT),
                        "total": len(statuses),
                    },
                )
                return redirect("offers:group", pk=session.group_id)
    error_ids = {row.pk for row in errors}
    for row in rows:
        row.current = existing.get(row.pk, "")
        row.has_error = row.pk in error_ids
    record_access_many(request, _children(rows), verb="attendance.form_viewed")
    context = {
        "session": session,
        "group": session.group,
        "rows": rows,
        "choices": STATUS_CHOICES,
        "errors": errors,
        "recorded": bool(existing),
    }
    return render(request, "offers/rollcall.html", context)


# --- a pathway's catalogue actions, contract and fund requests --------------------------------------


def _pathway(request, pathway_pk: int, allowed) -> Pathway:
    pathway = get_object_or_404(
        perms.pathways_visible_to(request.user).select_related("child", "programme"), pk=pathway_pk
    )
    if not allowed(request.user, pathway):
        raise PermissionDenied
    return pathway


def _subject(user, pathway: Pathway) -> str:
    if perms.identity_visible(user, pathway):
        return f"{pathway.child.first_name} {pathway.child.last_name} — {pathway.case_code}"
    return perms.pseudonym(pathway)


def _pathway_page(request, template: str, pathway: Pathway, context: dict, *, verb: str):
    record_access(request, pathway, verb=verb)
    context = {
        "pathway": pathway,
        "pathway_url": reverse("pathways:detail", args=[pathway.pk]),
        "subject": _subject(request.user, pathway),
        **context,
    }
    return render(request, template, context)


@login_required
@sensitive("plan_action.form_viewed")
def plan_from_catalogue(request, pathway_pk: int):
    """Add an action of the catalogue to a child's plan; a collective one enrols the child."""
    user = request.user
    pathway = _pathway(request, pathway_pk, perms.can_edit_pathway)
    offers = perms.offers_visible_to(user).filter(programme=pathway.programme_id).active()
    offer_rows = queries.offers_with_places(offers.order_by("title"))
    places = {o.pk: o.places_left for o in offer_rows}
    today = timezone.localdate()
    groups = list(
        queries.with_places(
            Group.objects.filter(offer__in=offers, offer__kind="collective", ends_on__gte=today)
        ).order_by("offer__title", "starts_on")
    )
    for group in groups:
        group.places_left = queries.group_places_left(group)
    offer_queryset = offers.order_by("title")
    form = forms.PlanFromCatalogueForm(
        request.POST or None,
        offers=offer_queryset,
        groups=Group.objects.filter(pk__in=[g.pk for g in groups]),
        objectives=perms.plan_texts_readable_by(user, Objective).filter(pathway=pathway).order_by("pk"),
        circles=perms.circles_writable_by(user, pathway) or [Circle.TEAM],
    )
    # The places left, shown in the choices' labels.
    by_pk = {g.pk: g for g in groups}
    form.fields["group"].label_from_instance = lambda g: forms.GroupChoiceField.label_from_instance(
        form.fields["group"], by_pk.get(g.pk, g)
    )
    form.fields["offer"].label_from_instance = lambda o: forms.PlanFromCatalogueForm._offer_label(
        next((row for row in offer_rows if row.pk == o.pk), o)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _action, enrolment = services.plan_action_from_offer(
                pathway=pathway,
                offer=data["offer"],
                group=data.get("group"),
                objective=data.get("objective"),
                circle=data["circle"],
                by=user,
            )
        except OffersError as error:
            _show_error(form, error)
        else:
            if enrolment is not None and enrolment.status == EnrolmentStatus.WAITING:
                messages.warning(
                    request,
                    _("Action ajoutée au plan ; groupe complet : l'enfant est en liste d'attente."),
                )
            else:
                messages.success(request, _("L'action est ajoutée au plan."))
            return redirect(reverse("pathways:detail", args=[pathway.pk]) + "#plan")
    context = {
        "form": form,
        "title": _("Ajouter une action du catalogue"),
        "groups": groups,
        "places": places,
    }
    return _pathway_page(
        request, "offers/pathway_form.html", pathway, context, verb="plan_action.form_viewed"
    )


@login_required
@sensitive("enrolment.form_viewed")
def parent_enrol(request, pathway_pk: int):
    """Enrol the child's parents (guardians of the household) in a collective action's group."""
    user = request.user
    pathway = _pathway(request, pathway_pk, perms.can_edit_pathway)
    if not perms.identity_visible(user, pathway):
        raise PermissionDenied
    offers = perms.offers_visible_to(user).filter(programme=pathway.programme_id, kind="collective").active()
    groups = list(
        queries.with_places(
            Group.objects.filter(offer__in=offers, ends_on__gte=timezone.localdate())
        ).order_by("offer__title", "starts_on")
    )
    for group in groups:
        group.places_left = queries.group_places_left(group)
    by_pk = {g.pk: g for g in groups}
    guardians = perms.guardians_visible_to(user).filter(household=pathway.child.household_id).order_by("pk")
    form = forms.ParentEnrolForm(
        request.POST or None, groups=Group.objects.filter(pk__in=list(by_pk)), guardians=guardians
    )
    form.fields["group"].label_from_instance = lambda g: forms.GroupChoiceField.label_from_instance(
        None, by_pk.get(g.pk, g)
    )
    if request.method == "POST" and form.is_valid():
        group = form.cleaned_data["group"]
        try:
            results = [
                services.enrol(group=group, by=user, guardian=g) for g in form.cleaned_data["guardians"]
            ]
        except OffersError as error:
            _show_error(form, error)
        else:
            waiting = sum(1 for e in results if e.status == EnrolmentStatus.WAITING)
            if waiting:
                messages.warning(request, _("Groupe complet : inscription sur la liste d'attente."))
            else:
                messages.success(request, _("Les parents sont inscrits dans le groupe."))
            return redirect(reverse("pathways:detail", args=[pathway.pk]) + "#plan")
    record_access_many(request, list(guardians), verb="enrolment.form_viewed")
    context = {"form": form, "title": _("Inscrire un parent à une action collective"), "groups": groups}
    return _pathway_page(request, "offers/pathway_form.html", pathway, context, verb="enrolment.form_viewed")


@login_required
@sensitive("contract.form_viewed")
def contract_create(request, pathway_pk: int):
    pathway = _pathway(request, pathway_pk, perms.can_edit_contract)
    form = forms.ContractForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_create(pathway=pathway, by=request.user, **form.cleaned_data)
        except OffersError as error:
            _show_error(form, error)
        else:
            messages.success(
                request, _("Le contrat d'engagement est enregistré. Imprimez-le pour le faire signer.")
            )
            return redirect("offers:contract", pk=contract.pk)
    context = {"form": form, "title": _("Contrat d'engagement")}
    return _pathway_page(request, "offers/pathway_form.html", pathway, context, verb="contract.form_viewed")


@login_required
@sensitive("contract.viewed")
def contract_detail(request, pk: int):
    user = request.user
    contract = get_object_or_404(perms.contracts_visible_to(user).select_related("pathway__child"), pk=pk)
    pathway = contract.pathway
    edit = perms.can_edit_contract(user, pathway)
    form = forms.SignForm(request.POST or None) if edit and not contract.signed_on else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.contract_sign(contract=contract, signed_on=form.cleaned_data["signed_on"], by=user)
            except OffersError as error:
                _show_error(form, error)
            else:
                messages.success(request, _("La date de signature est enregistrée."))
                return redirect("offers:contract", pk=contract.pk)
    alerts = list(perms.breach_alerts_visible_to(user).filter(pathway=pathway).select_related("rule"))
    context = {
        "contract": contract,
        "form": form,
        "alerts": alerts,
        "title": _("Contrat d'engagement"),
        "pdf": perms.identity_visible(user, pathway),
    }
    return _pathway_page(request, "offers/contract.html", pathway, context, verb="contract.viewed")


@login_required
@sensitive("document.generated")
@nominative_document
def contract_pdf(request, pk: int):
    """The contract to print and sign: it names the child, so only for who sees the identity."""
    from maillage.offers.documents import contract_pdf as render_contract

    user = request.user
    contract = get_object_or_404(perms.contracts_visible_to(user).select_related("pathway__child"), pk=pk)
    if not perms.identity_visible(user, contract.pathway):
        raise PermissionDenied
    content = render_contract(contract=contract, user=user)
    record_access(request, contract.pathway, verb="document.generated", document="family_contract")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{contract.pathway.case_code}-contrat-engagement.pdf"'
    )
    return response


# --- alerts and interventions ---------------------------------------------------------------------


@login_required
@sensitive("breach_alert.listed")
def alerts(request):
    """Breach alerts and intervention tasks the user sees, with their states (case codes only)."""
    user = request.user
    programme = _programme(request)
    show_all = request.GET.get("tout") == "1"
    alert_rows = perms.breach_alerts_visible_to(user).filter(pathway__programme=programme)
    task_rows = perms.intervention_tasks_visible_to(user).filter(pathway__programme=programme)
    if not show_all:
        alert_rows = alert_rows.pending()
        task_rows = task_rows.pending()
    alert_rows = list(alert_rows.select_related("rule", "pathway").order_by("-raised_at")[:PAGE_SIZE])
    task_rows = list(
        task_rows.select_related("pathway", "assignee__user").order_by("-created_at")[:PAGE_SIZE]
    )
    pathways = {a.pathway_id: a.pathway for a in alert_rows} | {t.pathway_id: t.pathway for t in task_rows}
    record_access_many(request, list(pathways.values()), verb="breach_alert.listed", identity=False)
    context = {"alert_rows": alert_rows, "task_rows": task_rows, "show_all": show_all}
    return render(request, "offers/alerts.html", context)


@login_required
@sensitive("breach_alert.viewed")
def alert_detail(request, pk: int):
    user = request.user
    alert = get_object_or_404(
        perms.breach_alerts_visible_to(user).select_related("rule", "pathway__child"), pk=pk
    )
    pathway = alert.pathway
    handle = perms.can_handle_alert(user, alert) and alert.state == "open"
    workers = services.social_workers(pathway) if handle else []
    escalate_form = forms.EscalateForm(
        request.POST if request.POST.get("action") == "escalate" else None, social_workers=workers, prefix="e"
    )
    close_form = forms.CloseAlertForm(
        request.POST if request.POST.get("action") == "close" else None, prefix="c"
    )
    if request.method == "POST":
        if not handle:
            raise PermissionDenied
        try:
            if request.POST.get("action") == "escalate" and escalate_form.is_valid():
                services.alert_escalate(
                    alert=alert,
                    assignee=escalate_form.cleaned_data["assignee"],
                    instructions=escalate_form.cleaned_data["instructions"],
                    by=user,
                )
                messages.success(request, _("L'intervention est demandée au travailleur social."))
                return redirect("offers:alert", pk=alert.pk)
            if request.POST.get("action") == "close" and close_form.is_valid():
                services.alert_close(alert=alert, note=close_form.cleaned_data["note"], by=user)
                messages.success(request, _("L'alerte est classée sans suite."))
                return redirect("offers:alert", pk=alert.pk)
        except OffersError as error:
            messages.error(request, " ".join(error.messages))
    task = InterventionTask.objects.filter(alert=alert).select_related("assignee__user").first()
    context = {
        "alert": alert,
        "task": task,
        "handle": handle,
        "workers": workers,
        "escalate_form": escalate_form,
        "close_form": close_form,
        "title": _("Alerte de manquement au contrat"),
    }
    return _pathway_page(request, "offers/alert.html", pathway, context, verb="breach_alert.viewed")


@login_required
@sensitive("intervention_task.viewed")
def task_detail(request, pk: int):
    user = request.user
    task = get_object_or_404(
        perms.intervention_tasks_visible_to(user).select_related(
            "alert__rule", "pathway__child", "assignee__user"
        ),
        pk=pk,
    )
    record_outcome = perms.can_record_task_outcome(user, task) and task.state != "done"
    form = forms.TaskOutcomeForm(request.POST or None) if record_outcome else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if request.POST.get("action") == "start":
            try:
                services.task_start(task=task, by=user)
            except OffersError as error:
                messages.error(request, " ".join(error.messages))
            return redirect("offers:task", pk=task.pk)
        if form.is_valid():
            try:
                services.task_complete(
                    task=task,
                    outcome=form.cleaned_data["outcome"],
                    note=form.cleaned_data["outcome_note"],
                    by=user,
                )
            except OffersError as error:
                _show_error(form, error)
            else:
                messages.success(request, _("Le résultat de l'intervention est enregistré."))
                return redirect("offers:task", pk=task.pk)
    context = {"task": task, "form": form, "title": _("Intervention au titre du dispositif")}
    return _pathway_page(request, "offers/task.html", task.pathway, context, verb="intervention_task.viewed")


# --- the support fund -----------------------------------------------------------------------------


@login_required
@sensitive("fund_request.listed")
def fund(request):
    """Requests to the support fund (case codes only), with totals per funding line and per child."""
    user = request.user
    programme = _programme(request)
    requests_ = perms.fund_requests_visible_to(user).filter(programme=programme)
    state = request.GET.get("etat", "")
    listed = requests_.filter(state=state) if state in FundRequestState.values else requests_
    paginator = Paginator(
        listed.select_related("pathway", "funding_line").order_by("-created_at", "-pk"), PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page"))
    rows = list(page.object_list)
    totals = queries.fund_totals(requests_)
    record_access_many(
        request,
        list({r.pathway_id: r.pathway for r in rows}.values()),
        verb="fund_request.listed",
        identity=False,
    )
    context = {
        "rows": rows,
        "page_obj": page,
        "totals": totals,
        "state": state,
        "states": FundRequestState.choices,
    }
    return render(request, "offers/fund.html", context)


@login_required
@sensitive("fund_request.form_viewed")
def fund_request_create(request, pathway_pk: int):
    pathway = _pathway(request, pathway_pk, perms.can_request_fund)
    lines = FundingLine.objects.filter(programme=pathway.programme_id, in_kind=False).order_by(
        "-year", "label"
    )
    form = forms.FundRequestForm(request.POST or None, request.FILES or None, funding_lines=lines)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        checked = data.pop("invoice")
        try:
            fund_request = services.fund_request_create(
                pathway=pathway,
                by=request.user,
                invoice=checked.file if checked else None,
                invoice_content_type=checked.content_type if checked else "",
                **data,
            )
        except OffersError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("La demande est transmise à la coordination."))
            return redirect("offers:fund_request", pk=fund_request.pk)
    context = {"form": form, "title": _("Demander une aide au fonds"), "multipart": True}
    return _pathway_page(
        request, "offers/pathway_form.html", pathway, context, verb="fund_request.form_viewed"
    )


@login_required
@sensitive("fund_request.viewed")
def fund_request_detail(request, pk: int):
    user = request.user
    fund_request = get_object_or_404(
        perms.fund_requests_visible_to(user).select_related(
            "pathway__child", "funding_line", "requested_by", "decided_by"
        ),
        pk=pk,
    )
    decide = perms.can_decide_fund_request(user, fund_request)
    form = forms.DecisionForm(request.POST or None) if decide else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.fund_request_decide(
                    fund_request=fund_request,
                    approve=form.cleaned_data["decision"] == "approve",
                    reason=form.cleaned_data["reason"],
                    by=user,
                )
            except OffersError as error:
                _show_error(form, error)
            else:
                messages.success(request, _("La décision est enregistrée."))
                return redirect("offers:fund_request", pk=fund_request.pk)
    context = {"fund_request": fund_request, "form": form, "title": _("Demande au fonds d'aide")}
    return _pathway_page(
        request, "offers/fund_request.html", fund_request.pathway, context, verb="fund_request.viewed"
    )


@login_required
@sensitive("fund_request.invoice_downloaded")
@nominative_document
def fund_invoice(request, pk: int):
    fund_request = get_object_or_404(perms.fund_requests_visible_to(request.user), pk=pk)
    if not fund_request.invoice:
        raise Http404
    record_access(request, fund_request.pathway, verb="fund_request.invoice_downloaded")
    return FileResponse(
        fund_request.invoice.open("rb"),
        as_attachment=True,
        filename=download_name(
            f"{fund_request.pathway.case_code}-facture", fund_request.invoice_content_type
        ),
        content_type=fund_request.invoice_content_type or "application/octet-stream",
    )
