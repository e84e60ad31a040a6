"""The partnership's pages: bodies and meetings, EPS agendas and decisions, circulation, notifications,
mission sheets and the memento.

EPS agendas show ``perms.pseudonym(pathway)`` unless the reader may see the child's identity
(``perms.identity_visible``: the case team, or an EPS member under the secret conditions during the
meeting's access window); every such page is journaled with one entry per situation shown.
"""

import difflib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from maillage import permissions as perms
from maillage.accounts.stepup import nominative_document, non_nominative_document
from maillage.audit.access import not_sensitive, record_access, record_access_many, sensitive
from maillage.core.uploads import download_name
from maillage.governance import invitations, memento, queries, services
from maillage.governance.enums import BodyKind, MissionSheetStatus
from maillage.governance.models import (
    AgendaItem,
    Body,
    Decision,
    Meeting,
    MementoPage,
    Notification,
    NotificationPreference,
)
from maillage.pathways.enums import Circle, PathwayState
from maillage.programmes.models import Membership, Programme
from maillage.www.context import current_membership
from maillage.www.governance import forms

PAGE_SIZE = 50


def _current_programme(request) -> Programme:
    membership = current_membership(request)
    if membership is None:
        raise Http404
    return get_object_or_404(perms.programmes_visible_to(request.user), pk=membership.programme_id)


def _form_page(request, form, *, heading: str, submit: str, back_url: str, **extra):
    context = {"form": form, "heading": heading, "submit_label": submit, "back_url": back_url, **extra}
    return render(request, "governance/_form.html", context)


def _confirm(request, *, heading: str, submit: str, back_url: str, text: str = ""):
    context = {"heading": heading, "submit_label": submit, "back_url": back_url, "text": text}
    return render(request, "governance/_confirm.html", context)


def _errors(form, error: ValidationError) -> None:
    for message in error.messages:
        form.add_error(None, message)


def _body_or_404(request, pk: int) -> Body:
    return get_object_or_404(
        perms.bodies_visible_to(request.user).select_related("programme", "level"), pk=pk
    )


def _meeting_or_404(request, pk: int) -> Meeting:
    return get_object_or_404(perms.meetings_visible_to(request.user).select_related("body__programme"), pk=pk)


def _managed_or_403(request, body: Body) -> None:
    if not perms.can_manage_body(request.user, body):
        raise PermissionDenied


def _situation_labels(user, pathways) -> dict[int, dict]:
    """Pathway id → how the reader sees the situation: name (when the identity is visible) or pseudonym."""
    pathways = list(pathways)
    visible_children = set(
        perms.children_visible_to(user)
        .filter(pk__in=[p.child_id for p in pathways])
        .values_list("pk", flat=True)
    )
    readable = set(
        perms.pathways_visible_to(user).filter(pk__in=[p.pk for p in pathways]).values_list("pk", flat=True)
    )
    labels = {}
    for pathway in pathways:
        identity = pathway.child_id in visible_children
        if identity:
            label = f"{pathway.child.first_name} {pathway.child.last_name.upper()} — {pathway.case_code}"
        else:
            label = perms.pseudonym(pathway)
        labels[pathway.pk] = {"label": label, "identity": identity, "readable": pathway.pk in readable}
    return labels


# --- bodies --------------------------------------------------------------------------------------


@not_sensitive
@login_required
def bodies(request):
    programme = _current_programme(request)
    # A body above the programme (a network level's comité, possibly held by a neighbour programme) is
    # listed to those who sit in it through the current membership.
    sitting = Body.objects.filter(level__isnull=False, members__membership=current_membership(request))
    rows = list(
        perms.bodies_visible_to(request.user)
        .filter(Q(programme=programme) | Q(pk__in=sitting.values("pk")))
        .select_related("level")
        .annotate(member_count=Count("members", distinct=True))
        .order_by("kind", "name")
    )
    today = timezone.localdate()
    now = timezone.now()
    upcoming = {
        m.body_id: m
        for m in Meeting.objects.filter(body__in=rows, starts_at__gte=now, cancelled=False).order_by(
            "-starts_at"
        )
    }
    warnings = queries.rhythm_warnings_many(rows, today)
    for body in rows:
        body.warnings = warnings[body.pk]
        body.next_meeting = upcoming.get(body.pk)
    context = {
        "programme": programme,
        "bodies": rows,
        "can_create": programme.pk in perms._governance_programmes(request.user, perms.COMMITTEES, "write"),
    }
    return render(request, "governance/bodies.html", context)


@not_sensitive
@login_required
def body_create(request):
    programme = _current_programme(request)
    if programme.pk not in perms._governance_programmes(request.user, perms.COMMITTEES, "write"):
        raise PermissionDenied
    form = forms.BodyForm(request.POST or None, programme=programme)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["kind"] == BodyKind.EPS and not perms.has_role(
            request.user, programme, *perms._governance_roles(perms.EPS_MEETINGS, "write", perms.A.PROGRAMME)
        ):
            raise PermissionDenied
        if Body.objects.filter(programme=programme, name=form.cleaned_data["name"]).exists():
            form.add_error("name", _("Une instance porte déjà ce nom."))
        else:
            body = services.body_save(programme=programme, by=request.user, **form.cleaned_data)
            messages.success(request, _("L'instance « %(name)s » est créée.") % {"name": body.name})
            return redirect("governance:body", pk=body.pk)
    return _form_page(
        request,
        form,
        heading=_("Nouvelle instance"),
        submit=_("Créer l'instance"),
        back_url=reverse("governance:bodies"),
    )


@not_sensitive
@login_required
def body_detail(request, pk: int):
    body = _body_or_404(request, pk)
    manage = perms.can_manage_body(request.user, body)
    members = body.members.select_related("membership__user", "membership__organisation").order_by("pk")
    meetings = body.meetings.annotate(items=Count("agenda_items")).order_by("-starts_at")
    page = Paginator(meetings, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "body": body,
        "members": members,
        "page_obj": page,
        "warnings": queries.rhythm_warnings(body),
        "received": body.received.select_related("meeting__body", "by")[:20],
        "manage": manage,
        "member_form": forms.BodyMemberForm(
            memberships=Membership.objects.active().filter(programme=body.programme).select_related("user")
        )
        if manage
        else None,
    }
    return render(request, "governance/body_detail.html", context)


@not_sensitive
@login_required
def body_member_add(request, pk: int):
    body = _body_or_404(request, pk)
    _managed_or_403(request, body)
    form = forms.BodyMemberForm(
        request.POST or None,
        memberships=Membership.objects.active().filter(programme=body.programme).select_related("user"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.body_member_add(body=body, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, _("Le membre est ajouté."))
            return redirect("governance:body", pk=body.pk)
    return _form_page(
        request,
        form,
        heading=_("Ajouter un membre : %(body)s") % {"body": body.name},
        submit=_("Ajouter le membre"),
        back_url=reverse("governance:body", args=[body.pk]),
    )


# --- meetings ------------------------------------------------------------------------------------


@not_sensitive
@login_required
def meeting_schedule(request, pk: int):
    body = _body_or_404(request, pk)
    _managed_or_403(request, body)
    form = forms.MeetingForm(request.POST or None, initial={"duration_minutes": 120})
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_schedule(body=body, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, _("La réunion est programmée."))
            return redirect("governance:meeting", pk=meeting.pk)
    return _form_page(
        request,
        form,
        heading=_("Programmer une réunion : %(body)s") % {"body": body.name},
        submit=_("Programmer la réunion"),
        back_url=reverse("governance:body", args=[body.pk]),
    )


@not_sensitive
@login_required
def meeting_edit(request, pk: int):
    meeting = _meeting_or_404(request, pk)
    _managed_or_403(request, meeting.body)
    initial = {
        "starts_at": timezone.localtime(meeting.starts_at),
        "duration_minutes": meeting.duration_minutes,
        "place": meeting.place,
        "video_link": meeting.video_link,
        "agenda": meeting.agenda,
    }
    form = forms.MeetingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        publish = data.pop("publish")
        try:
            services.meeting_update(meeting=meeting, by=request.user, **data)
            if publish and not meeting.agenda_published_at:
                services.meeting_publish_agenda(meeting=meeting, by=request.user)
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, _("La réunion est mise à jour."))
            return redirect("governance:meeting", pk=meeting.pk)
    return _form_page(
        request,
        form,
        heading=_("Modifier la réunion : %(meeting)s") % {"meeting": meeting},
        submit=_("Enregistrer"),
        back_url=reverse("governance:meeting", args=[meeting.pk]),
    )


@login_required
@sensitive("meeting.viewed")
def meeting_detail(request, pk: int):
    meeting = _meeting_or_404(request, pk)
    body = meeting.body
    manage = perms.can_manage_body(request.user, body)
    decisions = Prefetch("decisions", queryset=Decision.objects.select_related("decided_by"))
    items = list(
        meeting.agenda_items.select_related("pathway__child__school", "pathway__programme").prefetch_related(
            decisions
        )
    )
    pathways = [item.pathway for item in items if item.pathway_id]
    labels = _situation_labels(request.user, pathways)
    readable_decisions = set(
        perms.decision_texts_readable_by(request.user)
        .filter(agenda_item__meeting=meeting)
        .values_list("pk", flat=True)
    )
    for item in items:
        item.situation = labels.get(item.pathway_id)
        for decision in item.decisions.all():
            # Outside the decision's circle: that a decision exists, not what it says.
            decision.text_hidden = decision.pk not in readable_decisions
            if decision.text_hidden:
                decision.text = _("Décision (contenu réservé)")
                decision.who_does_what = ""
    shown = [p for p in pathways if labels[p.pk]["identity"]]
    record_access(request, meeting, verb="meeting.viewed", situations=len(pathways))
    if shown:
        record_access_many(request, shown, verb="meeting.situation_viewed", identity=True)
    hidden = [p for p in pathways if not labels[p.pk]["identity"]]
    if hidden:
        record_access_many(request, hidden, verb="meeting.situation_viewed", identity=False)
    can_add_situation = (
        body.kind == BodyKind.EPS
        and not meeting.cancelled
        and (manage or perms.pathways_editable_by(request.user).filter(programme=body.programme_id).exists())
    )
    context = {
        "meeting": meeting,
        "body": body,
        "items": items,
        "manage": manage,
        "is_eps": body.kind == BodyKind.EPS,
        "can_add_situation": can_add_situation,
        "window_open": meeting.agenda_published_at is not None
        and meeting.agenda_published_at <= timezone.now() <= (meeting.access_ends_at or timezone.now()),
        "attendances": meeting.attendances.select_related("member__membership__user"),
        "documents": perms.meeting_documents_readable_by(request.user).filter(meeting=meeting),
        "forwardings": meeting.forwardings.select_related("to_body"),
        "item_form": forms.AgendaItemForm() if manage else None,
    }
    return render(request, "governance/meeting_detail.html", context)


@not_sensitive
@login_required
def meeting_publish(request, pk: int):
    meeting = _meeting_or_404(request, pk)
    _managed_or_403(request, meeting.body)
    back = reverse("governance:meeting", args=[meeting.pk])
    if request.method != "POST":
        return _confirm(
            request,
            heading=_("Publier l'ordre du jour : %(meeting)s") % {"meeting": meeting},
            submit=_("Publier l'ordre du jour"),
            back_url=back,
            text=_(
                "Pour une EPS, la publication ouvre la fenêtre d'accès des membres aux situations inscrites."
            ),
        )
    try:
        services.meeting_publish_agenda(meeting=meeting, by=request.user)
        messages.success(request, _("L'ordre du jour est publié."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(back)


@not_sensitive
@login_required
def meeting_cancel(request, pk: int):
    meeting = _meeting_or_404(request, pk)
    _managed_or_403(request, meeting.body)
    back = reverse("governance:meeting", args=[meeting.pk])
    if request.method != "POST":
        return _confirm(
            request,
            heading=_("Annuler la réunion : %(meeting)s") % {"meeting": meeting},
            submit=_("Annuler la réunion"),
            back_url=back,
            text=_("Les membres sont prévenus ; la fenêtre d'accès d'une EPS se ferme aussitôt."),
        )
    services.meeting_cancel(meeting=meeting, by=request.user)
    messages.success(request, _("La réunion est annulée."))
    return redirect(back)


@not_sensitive
@login_required
def meeting_invite(request, pk: int):
    meeting = _meeting_or_404(request, pk)
    _managed_or_403(request, meeting.body)
    back = reverse("governance:meeting", args=[meeting.pk])
    if request.method != "POST":
        return _confirm(
            request,
            heading=_("Envoyer les invitations : %(meeting)s") % {"meeting": meeting},
            submit=_("Envoyer les invitations"),
            back_url=back,
            text=_("Chaque membre reçoit un courriel avec l'invitation pour son agenda (fichier .ics)."),
        )
    sent = invitations.send_invitations(
        meeting=meeting, by=request.user, base_url=request.build_absolute_uri("/")[:-1]
    )
    messages.success(
        request,
        ngettext("%(count)s invitation envoyée.", "%(count)s invitations envoyées.", sent) % {"count": sent},
    )
    return redirect(back)


@non_nominative_document  # the meeting's date and place, no situation
@not_sensitive
@login_required
def meeting_ics(request, pk: int):
    meeting = _meeting_or_404(request, pk)
    response = HttpResponse(
        invitations.ics_for(meeting, method="PUBLISH"), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="reunion-{meeting.pk}.ics"'
    return response


@not_sensitive
@login_required
def agenda_item_add(request, pk: int):
    meeting = _meeting_or_404(request, pk)
    _managed_or_403(request, meeting.body)
    form = forms.AgendaItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.agenda_item_add(meeting=meeting, by=request.user, title=form.cleaned_data["title"])
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, _("Le point est ajouté à l'ordre du jour."))
            return redirect("governance:meeting", pk=meeting.pk)
    return _form_page(
        request,
        form,
        heading=_("Ajouter un point : %(meeting)s") % {"meeting": meeting},
        submit=_("Ajouter le point"),
        back_url=reverse("governance:meeting", args=[meeting.pk]),
    )


def upcoming_eps_meetings(pathway):
    """The EPS meetings to come of the pathway's programme that do not have the situation yet."""
    return (
        Meeting.objects.filter(
            body__programme=pathway.programme_id,
            body__kind=BodyKind.EPS,
            cancelled=False,
            starts_at__gte=timezone.now(),
        )
        .exclude(agenda_items__pathway=pathway)
        .select_related("body__programme")
        .order_by("starts_at", "pk")
    )


@not_sensitive
@login_required
def pathway_to_eps(request, pk: int):
    """From the pathway page: put the situation on the agenda of an upcoming EPS (the pathway fixed)."""
    pathway = get_object_or_404(
        perms.pathways_editable_by(request.user).select_related("programme"), pk=pk, closed_on__isnull=True
    )
    meetings = upcoming_eps_meetings(pathway)
    form = forms.EpsMeetingChoiceForm(request.POST or None, meetings=meetings)
    back_url = reverse("pathways:detail", args=[pathway.pk])
    if request.method == "POST" and form.is_valid():
        meeting = form.cleaned_data["meeting"]
        if not perms.can_put_on_agenda(request.user, meeting, pathway):
            raise PermissionDenied
        try:
            services.agenda_item_add(meeting=meeting, by=request.user, pathway=pathway, title=_("Situation"))
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(
                request,
                _("La situation est inscrite à l'ordre du jour de la réunion « %(meeting)s » (présentée "
                  "pseudonymisée).") % {"meeting": meeting},
            )  # fmt: skip
            return redirect(back_url)
    return _form_page(
        request,
        form,
        heading=_("Inscrire à l'ordre du jour d'une EPS : situation %(code)s") % {"code": pathway.case_code},
        submit=_("Inscrire à l'ordre du jour"),
        back_url=back_url,
        intro=None if meetings.exists() else _("Aucune réunion d'EPS à venir dans le programme."),
    )


@login_required
@sensitive("meeting.situations_listed")
def situation_add(request, pk: int):
    """A référent (their pathways) or the coordinator (all) puts a situation on an EPS agenda."""
    meeting = _meeting_or_404(request, pk)
    if meeting.body.kind != BodyKind.EPS or meeting.cancelled:
        raise Http404
    candidates = (
        perms.pathways_editable_by(request.user)
        .filter(
            programme=meeting.body.programme_id, state__in=[PathwayState.DIAGNOSTIC, PathwayState.EPS_REVIEW]
        )
        .exclude(agenda_items__meeting=meeting)
        .select_related("child__school", "programme")
        .order_by("case_code")
    )
    if not candidates.exists() and not perms.can_manage_body(request.user, meeting.body):
        raise PermissionDenied
    rows = list(candidates[:PAGE_SIZE])
    labels = {pk: row["label"] for pk, row in _situation_labels(request.user, rows).items()}
    form = forms.SituationForm(request.POST or None, pathways=candidates, labels=labels)
    if request.method == "POST" and form.is_valid():
        pathway = form.cleaned_data["pathway"]
        if not perms.can_put_on_agenda(request.user, meeting, pathway):
            raise PermissionDenied
        try:
            services.agenda_item_add(meeting=meeting, by=request.user, pathway=pathway, title=_("Situation"))
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(
                request, _("La situation est inscrite à l'ordre du jour (présentée pseudonymisée).")
            )
            return redirect("governance:meeting", pk=meeting.pk)
    record_access_many(request, rows, verb="meeting.situations_listed")
    return _form_page(
        request,
        form,
        heading=_("Inscrire une situation : %(meeting)s") % {"meeting": meeting},
        submit=_("Inscrire à l'ordre du jour"),
        back_url=reverse("governance:meeting", args=[meeting.pk]),
        intro=_(
            "Les membres de l'EPS verront la situation sous forme pseudonymisée ; seuls ceux qui sont "
            "soumis au secret professionnel et couverts par l'accord de la famille verront le nom, "
            "pendant la fenêtre d'accès."
        ),
    )


@not_sensitive
@login_required
def agenda_item_remove(request, pk: int):
    item = get_object_or_404(
        AgendaItem.objects.filter(meeting__in=perms.meetings_visible_to(request.user)).select_related(
            "meeting"
        ),
        pk=pk,
    )
    meeting = item.meeting
    allowed = perms.can_manage_body(request.user, meeting.body) or (
        item.pathway_id and perms.pathways_editable_by(request.user).filter(pk=item.pathway_id).exists()
    )
    if not allowed:
        raise PermissionDenied
    back = reverse("governance:meeting", args=[meeting.pk])
    if request.method != "POST":
        return _confirm(
            request,
            heading=_("Retirer un point de l'ordre du jour : %(meeting)s") % {"meeting": meeting},
            submit=_("Retirer le point"),
            back_url=back,
        )
    try:
        services.agenda_item_remove(item=item, by=request.user)
        messages.success(request, _("Le point est retiré de l'ordre du jour."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(back)


@login_required
@sensitive("meeting.decision_viewed")
def decision_add(request, pk: int):
    item = get_object_or_404(
        AgendaItem.objects.filter(meeting__in=perms.meetings_visible_to(request.user)).select_related(
            "meeting__body__programme", "pathway__child__school", "pathway__programme"
        ),
        pk=pk,
    )
    meeting = item.meeting
    _managed_or_403(request, meeting.body)
    situation = None
    if item.pathway_id:
        situation = _situation_labels(request.user, [item.pathway])[item.pathway_id]
        record_access(request, item.pathway, verb="meeting.decision_viewed", identity=situation["identity"])
        form_class = forms.DecisionForm
    else:
        record_access(request, meeting, verb="meeting.decision_viewed", identity=False)
        form_class = forms.CommitteeDecisionForm
    initial = {"move_to_active": bool(item.pathway_id and item.pathway.state == PathwayState.EPS_REVIEW)}
    form_kwargs = {}
    if item.pathway_id:
        initial["circle"] = Circle.TEAM
        form_kwargs["circles"] = perms.circles_writable_by(request.user, item.pathway) or [Circle.TEAM]
    form = form_class(request.POST or None, initial=initial, **form_kwargs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        objective = None
        if data.get("objective_wording"):
            objective = (data["objective_dimension"], data["objective_wording"])
        try:
            services.decision_record(
                item=item,
                text=data["text"],
                who_does_what=data.get("who_does_what", ""),
                due_on=data.get("due_on"),
                objective=objective,
                action_title=data.get("action_title", ""),
                move_to_active=data.get("move_to_active", False),
                circle=data.get("circle", Circle.TEAM),
                by=request.user,
            )
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, _("La décision est enregistrée."))
            return redirect("governance:meeting", pk=meeting.pk)
    return _form_page(
        request,
        form,
        heading=_("Relevé de décisions : %(meeting)s") % {"meeting": meeting},
        submit=_("Enregistrer la décision"),
        back_url=reverse("governance:meeting", args=[meeting.pk]),
        situation=situation,
        intro=item.title if not item.pathway_id else "",
    )


@not_sensitive
@login_required
def minutes_edit(request, pk: int):
    meeting = _meeting_or_404(request, pk)
    _managed_or_403(request, meeting.body)
    form = forms.MinutesForm(request.POST or None, initial={"minutes": meeting.minutes})
    if request.method == "POST" and form.is_valid():
        try:
            services.minutes_save(meeting=meeting, text=form.cleaned_data["minutes"], by=request.user)
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, _("Le compte rendu est enregistré."))
            return redirect("governance:meeting", pk=meeting.pk)
    return _form_page(
        request,
        form,
        heading=_("Compte rendu : %(meeting)s") % {"meeting": meeting},
        submit=_("Enregistrer le compte rendu"),
        back_url=reverse("governance:meeting", args=[meeting.pk]),
        intro=_(
            "Le compte rendu d'une instance est non nominatif : il est refusé s'il contient le nom "
            "d'un enfant ou un code de situation."
        ),
    )


@not_sensitive
@login_required
def attendance_edit(request, pk: int):
    meeting = _meeting_or_404(request, pk)
    _managed_or_403(request, meeting.body)
    members = meeting.body.members.select_related("membership__user", "membership__organisation").order_by(
        "pk"
    )
    current = dict(meeting.attendances.values_list("member_id", "status"))
    form = forms.AttendanceForm(request.POST or None, members=members, current=current)
    if request.method == "POST" and form.is_valid():
        services.attendance_record(meeting=meeting, statuses=form.statuses(), by=request.user)
        messages.success(request, _("Les présences sont enregistrées."))
        return redirect("governance:meeting", pk=meeting.pk)
    return _form_page(
        request,
        form,
        heading=_("Présences : %(meeting)s") % {"meeting": meeting},
        submit=_("Enregistrer les présences"),
        back_url=reverse("governance:meeting", args=[meeting.pk]),
    )


@not_sensitive
@login_required
def document_add(request, pk: int):
    meeting = _meeting_or_404(request, pk)
    _managed_or_403(request, meeting.body)
    situations = (
        perms.pathways_visible_to(request.user)
        .filter(agenda_items__meeting=meeting)
        .distinct()
        .select_related("child__school")
    )
    form = forms.DocumentForm(
        request.POST or None,
        request.FILES or None,
        pathways=situations,
        labels={k: v["label"] for k, v in _situation_labels(request.user, situations).items()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.document_add(
                meeting=meeting,
                title=form.cleaned_data["title"],
                upload=form.cleaned_data["file"],
                by=request.user,
                circle=form.cleaned_data["circle"],
                pathway=form.cleaned_data["pathway"],
            )
        except ValidationError as error:
            form.add_error("title" if isinstance(error, services.GovernanceError) else "file", error)
        else:
            messages.success(request, _("Le document est ajouté."))
            return redirect("governance:meeting", pk=meeting.pk)
    return _form_page(
        request,
        form,
        heading=_("Ajouter un document : %(meeting)s") % {"meeting": meeting},
        submit=_("Ajouter le document"),
        back_url=reverse("governance:meeting", args=[meeting.pk]),
        multipart=True,
    )


@login_required
@sensitive("meeting.document_downloaded")
@nominative_document
def document_download(request, pk: int):
    document = get_object_or_404(
        perms.meeting_documents_readable_by(request.user).select_related("meeting__body", "pathway"), pk=pk
    )
    # A document about a situation is nominative: the download is journaled on the pathway, so that it
    # appears in « who consulted this file »; otherwise on the meeting.
    record_access(
        request,
        document.pathway or document.meeting.body,
        verb="meeting.document_downloaded",
        circles=[document.circle],
        document=document.pk,
        meeting=document.meeting_id,
    )
    response = FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=True,
        filename=download_name(slugify(document.title) or "document", document.content_type),
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@not_sensitive
@login_required
def forward(request, pk: int):
    meeting = _meeting_or_404(request, pk)
    _managed_or_403(request, meeting.body)
    programme = meeting.body.programme
    targets = Body.objects.filter(
        Q(programme=programme) | Q(level__isnull=False, level=programme.network_level_id)
    ).exclude(pk=meeting.body_id)
    decision = None
    decision_pk = request.GET.get("decision") or request.POST.get("decision")
    if decision_pk:
        # A malformed id (``?decision=abc``) names no decision: 404, not a 500 from the ORM.
        if not (decision_pk.isascii() and decision_pk.isdigit()) or len(decision_pk) > 18:
            raise Http404
        decision = get_object_or_404(
            Decision.objects.filter(agenda_item__meeting=meeting), pk=int(decision_pk)
        )
    initial = {}
    if decision is not None and decision.agenda_item.pathway_id is None:
        initial["summary"] = decision.text
    elif request.GET.get("compte-rendu") and meeting.minutes:
        initial["summary"] = meeting.minutes  # the minutes are non-nominative by construction
    form = forms.ForwardForm(request.POST or None, bodies=targets, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.forward(
                meeting=meeting,
                to_body=form.cleaned_data["to_body"],
                summary=form.cleaned_data["summary"],
                decision=decision,
                by=request.user,
            )
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, _("La synthèse est transmise."))
            return redirect("governance:meeting", pk=meeting.pk)
    return _form_page(
        request,
        form,
        heading=_("Transmettre une synthèse : %(meeting)s") % {"meeting": meeting},
        submit=_("Transmettre"),
        back_url=reverse("governance:meeting", args=[meeting.pk]),
        intro=_(
            "La synthèse circule entre instances : elle ne nomme aucun enfant et ne cite aucun code "
            "de situation."
        ),
    )


# --- notifications -------------------------------------------------------------------------------


@not_sensitive
@login_required
def notifications(request):
    preference, _created = NotificationPreference.objects.get_or_create(user=request.user)
    form = forms.DigestForm(request.POST or None, initial={"digest": preference.digest})
    if request.method == "POST" and form.is_valid():
        preference.digest = form.cleaned_data["digest"]
        preference.save(update_fields=["digest", "updated_at"])
        messages.success(request, _("Votre choix de résumé par courriel est enregistré."))
        return redirect("governance:notifications")
    rows = Notification.objects.filter(user=request.user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page_obj": page, "form": form, "unread": rows.filter(read_at__isnull=True).count()}
    return render(request, "governance/notifications.html", context)


@not_sensitive
@login_required
@require_POST
def notifications_read(request):
    services.notifications_mark_read(user=request.user)
    return redirect("governance:notifications")


# --- mission sheets ------------------------------------------------------------------------------


@not_sensitive
@login_required
def mission_sheets(request):
    programme = _current_programme(request)
    rows = (
        perms.mission_sheets_visible_to(request.user)
        .filter(programme=programme)
        .select_related("proposed_at__body")
        .annotate(
            version_count=Count("versions", distinct=True),
            contributor_count=Count("contributors", distinct=True),
        )
    )
    context = {
        "programme": programme,
        "sheets": rows,
        "can_create": perms.can_contribute_mission_sheet(request.user, programme),
    }
    return render(request, "governance/mission_sheets.html", context)


@not_sensitive
@login_required
def mission_sheet_create(request):
    programme = _current_programme(request)
    if not perms.can_contribute_mission_sheet(request.user, programme):
        raise PermissionDenied
    form = forms.MissionSheetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sheet = services.mission_sheet_create(programme=programme, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _errors(form, error)
        else:
            return redirect("governance:mission_sheet", pk=sheet.pk)
    return _form_page(
        request,
        form,
        heading=_("Nouvelle fiche mission"),
        submit=_("Créer la fiche"),
        back_url=reverse("governance:mission_sheets"),
    )


def _diff(old: str, new: str) -> list[dict]:
    rows = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        kind = "added" if line.startswith("+") else "removed" if line.startswith("-") else "context"
        if line.startswith("@@"):
            kind = "hunk"
        rows.append({"kind": kind, "text": line})
    return rows


@not_sensitive
@login_required
def mission_sheet_detail(request, pk: int):
    sheet = get_object_or_404(
        perms.mission_sheets_visible_to(request.user).select_related("programme"), pk=pk
    )
    versions = list(sheet.versions.select_related("author").order_by("-number"))
    shown = versions[0] if versions else None
    wanted = request.GET.get("version")
    if wanted and wanted.isdigit():
        shown = next((v for v in versions if v.number == int(wanted)), shown)
    previous = next((v for v in versions if shown and v.number == shown.number - 1), None)
    contribute = perms.can_contribute_mission_sheet(request.user, sheet.programme)
    validate = perms.can_validate_mission_sheet(request.user, sheet.programme)
    meetings = (
        Meeting.objects.filter(body__programme=sheet.programme, cancelled=False)
        .exclude(body__kind=BodyKind.EPS)
        .order_by("-starts_at")[:20]
    )
    context = {
        "sheet": sheet,
        "versions": versions,
        "shown": shown,
        "diff": _diff(previous.body, shown.body) if previous and shown else [],
        "previous": previous,
        "comments": sheet.comments.select_related("author"),
        "contributors": sheet.contributors.order_by("last_name", "first_name"),
        "contribute": contribute,
        "validate": validate,
        "comment_form": forms.CommentForm() if contribute else None,
        "propose_form": forms.ProposeForm(
            meetings=Meeting.objects.filter(pk__in=[m.pk for m in meetings]).order_by("-starts_at")
        )
        if validate
        else None,
        "statuses": MissionSheetStatus,
    }
    return render(request, "governance/mission_sheet_detail.html", context)


@not_sensitive
@login_required
def mission_sheet_edit(request, pk: int):
    sheet = get_object_or_404(
        perms.mission_sheets_visible_to(request.user).select_related("programme"), pk=pk
    )
    if not perms.can_contribute_mission_sheet(request.user, sheet.programme):
        raise PermissionDenied
    current = sheet.current
    form = forms.MissionRevisionForm(request.POST or None, initial={"body": current.body if current else ""})
    if request.method == "POST" and form.is_valid():
        try:
            services.mission_sheet_revise(sheet=sheet, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, _("La nouvelle version est enregistrée."))
            return redirect("governance:mission_sheet", pk=sheet.pk)
    return _form_page(
        request,
        form,
        heading=_("Fiche mission : %(title)s") % {"title": sheet.title},
        submit=_("Enregistrer une nouvelle version"),
        back_url=reverse("governance:mission_sheet", args=[sheet.pk]),
    )


@not_sensitive
@login_required
def mission_sheet_comment(request, pk: int):
    sheet = get_object_or_404(
        perms.mission_sheets_visible_to(request.user).select_related("programme"), pk=pk
    )
    if not perms.can_contribute_mission_sheet(request.user, sheet.programme):
        raise PermissionDenied
    form = forms.CommentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.mission_sheet_comment(sheet=sheet, body=form.cleaned_data["body"], by=request.user)
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, _("Votre commentaire est ajouté."))
            return redirect("governance:mission_sheet", pk=sheet.pk)
    return _form_page(
        request,
        form,
        heading=_("Commenter : %(title)s") % {"title": sheet.title},
        submit=_("Commenter"),
        back_url=reverse("governance:mission_sheet", args=[sheet.pk]),
    )


@not_sensitive
@login_required
def mission_sheet_propose(request, pk: int):
    sheet = get_object_or_404(
        perms.mission_sheets_visible_to(request.user).select_related("programme"), pk=pk
    )
    if not perms.can_validate_mission_sheet(request.user, sheet.programme):
        raise PermissionDenied
    meetings = (
        perms.meetings_visible_to(request.user)
        .filter(body__programme=sheet.programme, cancelled=False)
        .exclude(body__kind=BodyKind.EPS)
        .order_by("-starts_at")
    )
    form = forms.ProposeForm(request.POST or None, meetings=meetings)
    if request.method == "POST" and form.is_valid():
        try:
            services.mission_sheet_propose(sheet=sheet, meeting=form.cleaned_data["meeting"], by=request.user)
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, _("La fiche est proposée pour validation."))
            return redirect("governance:mission_sheet", pk=sheet.pk)
    return _form_page(
        request,
        form,
        heading=_("Proposer à une réunion : %(title)s") % {"title": sheet.title},
        submit=_("Proposer à cette réunion"),
        back_url=reverse("governance:mission_sheet", args=[sheet.pk]),
    )


@not_sensitive
@login_required
def mission_sheet_validate(request, pk: int):
    sheet = get_object_or_404(
        perms.mission_sheets_visible_to(request.user).select_related("programme"), pk=pk
    )
    if not perms.can_validate_mission_sheet(request.user, sheet.programme):
        raise PermissionDenied
    back = reverse("governance:mission_sheet", args=[sheet.pk])
    if request.method != "POST":
        return _confirm(
            request,
            heading=_("Valider la fiche mission : %(title)s") % {"title": sheet.title},
            submit=_("Marquer validée"),
            back_url=back,
            text=_("La fiche sera marquée validée à la date de la réunion où elle a été proposée."),
        )
    try:
        services.mission_sheet_validate(sheet=sheet, by=request.user)
        messages.success(request, _("La fiche est validée."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(back)


# --- memento -------------------------------------------------------------------------------------


@not_sensitive
@login_required
def memento_index(request):
    programme = _current_programme(request)
    if not perms.can_read_memento(request.user, programme):
        raise Http404
    context = {
        "programme": programme,
        "sections": memento.sections(programme),
        "pages": perms.memento_pages_visible_to(request.user).filter(programme=programme),
        "edit": perms.can_edit_memento(request.user, programme),
    }
    return render(request, "governance/memento.html", context)


@not_sensitive
@login_required
def memento_page_edit(request, pk: int | None = None):
    programme = _current_programme(request)
    page = None
    if pk is not None:
        page = get_object_or_404(perms.memento_pages_visible_to(request.user), pk=pk)
        programme = page.programme
    if not perms.can_edit_memento(request.user, programme):
        raise PermissionDenied
    initial = (
        {"title": page.title, "slug": page.slug, "body": page.body, "position": page.position} if page else {}
    )
    form = forms.MementoPageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        clash = MementoPage.objects.filter(programme=programme, slug=data["slug"]).exclude(
            pk=page.pk if page else None
        )
        if clash.exists():
            form.add_error("slug", _("Une page porte déjà cet identifiant."))
        else:
            try:
                services.memento_page_save(programme=programme, page=page, by=request.user, **data)
            except ValidationError as error:
                _errors(form, error)
            else:
                messages.success(request, _("La page du mémento est enregistrée."))
                return redirect("governance:memento")
    preview = memento.render_markdown(
        form.data.get("body", "") if form.is_bound else (page.body if page else "")
    )
    return _form_page(
        request,
        form,
        heading=_("Page du mémento : %(title)s") % {"title": page.title}
        if page
        else _("Nouvelle page du mémento"),
        submit=_("Enregistrer la page"),
        back_url=reverse("governance:memento"),
        preview=preview,
    )


@non_nominative_document  # the programme's memento: no child, no family
@not_sensitive
@login_required
def memento_pdf(request):
    programme = _current_programme(request)
    if not perms.can_read_memento(request.user, programme):
        raise Http404
    response = HttpResponse(memento.booklet_pdf(programme), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="memento-{programme.slug}.pdf"'
    return response
