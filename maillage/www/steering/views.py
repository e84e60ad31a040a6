"""Steering pages (*pilotage*): dashboards, objectives, budget, comité pack, ANCT workbook, network
level, territory diagnosis, partnership barometer. Aggregates only: no page here names a child.

Who sees what is decided in ``maillage.permissions``: the programme's dashboards open to the roles
reaching ``INDICATORS`` (exact counts for the coordinator only, suppressed for everyone else); the
network pages aggregate the programmes of the user's network level, always suppressed.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from maillage import permissions as perms
from maillage.accounts.stepup import non_nominative_document, recent_auth_required
from maillage.audit.access import not_sensitive
from maillage.core import exports
from maillage.programmes.enums import Role
from maillage.programmes.models import Programme
from maillage.steering import documents, queries, services
from maillage.steering import indicators as ind
from maillage.steering.dashboard import (
    cross_states,
    geography_states,
    key_figures,
    present,
    present_cross,
    present_one,
)
from maillage.steering.enums import ExportKind, ExportState, PeriodKind
from maillage.steering.models import BarometerRound, CopilNote, ExportJob, Target
from maillage.www.context import current_membership
from maillage.www.steering.forms import (
    BarometerAnswerForm,
    BarometerRoundForm,
    CopilNoteForm,
    FilterForm,
    FundingLineForm,
    TargetForm,
)


def _programme(request) -> Programme:
    """The current programme, if the user's role there opens its dashboards."""
    membership = current_membership(request)
    if membership is None:
        raise Http404
    return get_object_or_404(
        perms.steering_programmes_visible_to(request.user).prefetch_related(
            "schools", "communes", "priority_areas"
        ),
        pk=membership.programme_id,
    )


YEAR_MIN = 2000


def _year_param(request, default: int) -> int:
    """The ``annee`` query parameter, when it is a year the steering pages can show (2000 to five
    years ahead); anything else falls back to ``default`` with a message (never a 500)."""
    raw = request.GET.get("annee", "")
    if raw == "":
        return default
    year = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4 else None
    if year is None or not YEAR_MIN <= year <= timezone.localdate().year + 5:
        messages.warning(
            request,
            _("L'année demandée (« %(value)s ») n'est pas valide : l'année %(year)s est affichée.")
            % {"value": raw[:12], "year": default},
        )
        return default
    return year


def _decided(programme: Programme, period, filters=None) -> dict | None:
    """The states of the programme's figures in the decision shared with its network level."""
    return documents.decided_states(programme, period, filters)


def _dashboard_context(request, programme: Programme, *, always_suppressed: bool = False) -> dict:
    form = FilterForm(request.GET or None, programmes=[programme])
    suppressed = always_suppressed or not perms.indicators_unsuppressed(request.user, programme)
    context = documents.programme_figures(programme, form.period(), form.filters(), suppressed=suppressed)
    return {**context, "form": form}


@not_sensitive
@login_required
def dashboard(request):
    programme = _programme(request)
    context = _dashboard_context(request, programme)
    context["can_manage"] = perms.can_manage_steering(request.user, programme)
    context["can_export"] = perms.can_export_indicators(request.user, programme)
    return render(request, "steering/dashboard.html", context)


# --- objectives -----------------------------------------------------------------------------------


@not_sensitive
@login_required
def objectives(request):
    programme = _programme(request)
    can_manage = perms.can_manage_steering(request.user, programme)
    form = TargetForm(request.POST or None, initial={"year": ind.Period.current().year})
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            services.set_target(programme=programme, by=request.user, **form.cleaned_data)
            messages.success(request, _("L'objectif est enregistré."))
            return redirect("steering:objectives")
    year = _year_param(request, ind.Period.current().year)
    period = ind.Period(PeriodKind.SCHOOL_YEAR, year)
    suppressed = not perms.indicators_unsuppressed(request.user, programme)
    computed = ind.compute(ind.Scope((programme.pk,), period))
    decided = _decided(programme, period) if suppressed else None
    tables = present(computed, suppressed=suppressed, decided=decided)
    targets = Target.objects.filter(programme=programme, year=year)
    progress = ind.progress(tables, targets)
    return render(
        request,
        "steering/objectives.html",
        {
            "programme": programme,
            "form": form,
            "can_manage": can_manage,
            "progress": progress,
            "period": period,
        },
    )


# --- budget ---------------------------------------------------------------------------------------


@not_sensitive
@login_required
def budget(request):
    programme = _programme(request)
    can_edit = perms.can_edit_budget(request.user, programme)
    year = _year_param(request, ind.Period.current().budget_year)
    form = FundingLineForm(request.POST or None, initial={"year": year})
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            services.add_funding_line(programme=programme, by=request.user, **form.cleaned_data)
            messages.success(request, _("La ligne de financement est enregistrée."))
            return redirect(f"{request.path}?annee={form.cleaned_data['year']}")
    suppressed = not perms.indicators_unsuppressed(request.user, programme)
    summary = queries.budget_summary([programme.pk], year, suppressed=suppressed)
    return render(
        request,
        "steering/budget.html",
        {
            "programme": programme,
            "year": year,
            # The school year that reads this budget (the one starting in this calendar year).
            "budget_rule": ind.Period(PeriodKind.SCHOOL_YEAR, year).budget_rule,
            "suppressed": suppressed,
            "years": [year + 1, year, year - 1, year - 2],
            "summary": summary,
            "form": form,
            "can_edit": can_edit,
            "age_bands": ind.AGE_BANDS[1:],
        },
    )


# --- comité de pilotage pack ----------------------------------------------------------------------


@not_sensitive
@login_required
def copil_page(request):
    programme = _programme(request)
    year = ind.Period.current().year
    note = CopilNote.objects.filter(programme=programme, year=year).first()
    can_manage = perms.can_manage_steering(request.user, programme)
    form = CopilNoteForm(request.POST or None, initial={"highlights": note.highlights if note else ""})
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.save_copil_note(
                    programme=programme,
                    year=year,
                    highlights=form.cleaned_data["highlights"],
                    by=request.user,
                )
            except ValidationError as error:  # a name or a case code: the élu reads this text
                form.add_error("highlights", error)
            else:
                messages.success(request, _("Les faits marquants sont enregistrés."))
                return redirect("steering:copil")
    return render(
        request,
        "steering/copil.html",
        {
            "programme": programme,
            "form": form,
            "can_manage": can_manage,
            "can_export": perms.can_export_indicators(request.user, programme),
            "note": note,
            "period": ind.Period.current(),
        },
    )


@not_sensitive
@login_required
def copil_document(request):
    """The comité pack's page: prepared by the task worker (POST), then downloaded when ready."""
    programme = _programme(request)
    if not perms.can_export_indicators(request.user, programme):
        raise PermissionDenied
    form = FilterForm(request.GET or None, programmes=[programme])
    return _document_page(
        request,
        kind=ExportKind.COPIL_PDF,
        programme=programme,
        parameters=documents.period_parameters(form.period(), form.filters()),
        back=reverse("steering:copil"),
    )


# --- ANCT workbook --------------------------------------------------------------------------------


@not_sensitive
@login_required
def anct_document(request):
    """The ANCT workbook's page: exact counts for the coordinator, suppressed for anyone else (the
    job records which, and only the same audience downloads it)."""
    programme = _programme(request)
    if not perms.can_export_indicators(request.user, programme):
        raise PermissionDenied
    form = FilterForm(request.GET or None, programmes=[programme])
    parameters = documents.period_parameters(form.period(), form.filters())
    parameters["suppressed"] = not perms.indicators_unsuppressed(request.user, programme)
    return _document_page(
        request,
        kind=ExportKind.ANCT_XLSX,
        programme=programme,
        parameters=parameters,
        back=reverse("steering:dashboard"),
    )


# --- territory diagnosis --------------------------------------------------------------------------


@not_sensitive
@login_required
def diagnosis(request):
    programme = _programme(request)
    form = FilterForm(request.GET or None, programmes=[programme], with_places=False)
    scope = ind.Scope((programme.pk,), form.period())
    result = queries.territory_diagnosis(scope)
    suppressed = not perms.indicators_unsuppressed(request.user, programme)
    # Each priority table crosses residence (QPV or not) with the school (REP/REP+ or not); its
    # margins are published (and printed on the dashboard): two-way suppression.
    margins = [
        _("Total résidence en QPV"),
        _("Total résidence hors QPV"),
        _("Total école REP/REP+"),
        _("Total école hors éducation prioritaire"),
    ]
    # The children's table shares its decisions with the dashboard's breakdowns by QPV and by
    # priority education (the same counts): one decision per count, whatever the page.
    linked = {
        "diagnosis_referrals": cross_states(result["priority"][0]),
        "diagnosis_children": geography_states(ind.priority_geography(scope))["diagnosis_children"],
    }
    decided = _decided(programme, scope.period) if suppressed else None
    if decided is not None:  # in a network: the decision shared with the level (and the dashboard)
        linked = {code: decided.get(code, states) for code, states in linked.items()}
    tables = [
        present_cross(i, shape=(2, 2), margins=margins, suppressed=suppressed, linked=linked.get(i.code))
        for i in result["priority"]
    ]
    tables.append(present_one(result["needs"], suppressed=suppressed))
    return render(
        request,
        "steering/diagnosis.html",
        {
            "programme": programme,
            "form": form,
            "period": scope.period,
            "tables": tables,
            "suppressed": suppressed,
        },
    )


# --- network level --------------------------------------------------------------------------------


def _network_programmes(request) -> list[Programme]:
    programmes = list(
        perms.network_programmes_visible_to(request.user)
        .select_related("network_level")
        .prefetch_related("communes", "priority_areas", "schools")
        .order_by("name")
    )
    if not programmes:
        raise Http404
    return programmes


@not_sensitive
@login_required
def network(request):
    programmes = _network_programmes(request)
    form = FilterForm(request.GET or None, programmes=programmes, with_places=False)
    scope = ind.Scope(tuple(p.pk for p in programmes), form.period(), form.filters())
    tables = documents.network_tables(programmes, scope)
    return render(
        request,
        "steering/network.html",
        {
            "programmes": programmes,
            "levels": perms.network_levels_of(request.user),
            "form": form,
            "period": scope.period,
            "tables": tables,
            "key_figures": key_figures(tables),
            "suppressed": True,
        },
    )


@not_sensitive
@login_required
def network_anct_document(request):
    """The ANCT workbook consolidated over the programmes of the user's network level: sums over
    the programmes, always suppressed (the network reads aggregates only, never a name)."""
    programmes = _network_programmes(request)
    form = FilterForm(request.GET or None, programmes=programmes, with_places=False)
    parameters = documents.period_parameters(form.period())
    parameters["programmes"] = [p.pk for p in programmes]
    return _document_page(
        request,
        kind=ExportKind.NETWORK_ANCT_XLSX,
        network_level=perms.network_levels_of(request.user).first(),
        parameters=parameters,
        back=reverse("steering:network"),
    )


@not_sensitive
@login_required
def structuring(request):
    programmes = _network_programmes(request)
    period = ind.Period.current()
    sort = request.GET.get("tri", "programme")
    descending = request.GET.get("ordre") == "desc"
    rows = queries.sort_structuring(queries.structuring_table(programmes, period), sort, descending)
    return render(
        request,
        "steering/structuring.html",
        {
            "rows": rows,
            "columns": queries.STRUCTURING_COLUMNS,
            "sort": sort,
            "descending": descending,
            "period": period,
        },
    )


@not_sensitive
@login_required
def structuring_document(request):
    programmes = _network_programmes(request)
    parameters = documents.period_parameters(ind.Period.current())
    parameters["programmes"] = [p.pk for p in programmes]
    return _document_page(
        request,
        kind=ExportKind.STRUCTURING_XLSX,
        network_level=perms.network_levels_of(request.user).first(),
        parameters=parameters,
        back=reverse("steering:structuring"),
    )


# --- documents prepared by the task worker --------------------------------------------------------


def _document_page(request, *, kind, parameters: dict, back: str, programme=None, network_level=None):
    """A document's page: POST asks the task worker for it (a job already pending, or just made, for
    the same document is reused; ``fresh`` asks for a new one), GET shows the latest job for these
    parameters — its progress, its download, or its failure with a retry. The caller has checked
    the permission; the query string (period, filters) is kept from page to page."""
    parameters = {**parameters, "language": get_language() or settings.LANGUAGE_CODE}
    if request.method == "POST":
        services.export_job_request(
            kind=kind,
            parameters=parameters,
            programme=programme,
            network_level=network_level,
            by=request.user,
            fresh=request.POST.get("fresh") == "1",
        )
        query = request.GET.urlencode()
        return redirect(f"{request.path}?{query}" if query else request.path)
    fingerprint = services.export_fingerprint(
        kind=kind,
        programme_id=programme.pk if programme else None,
        network_level_id=network_level.pk if network_level else None,
        parameters=parameters,
    )
    job = ExportJob.objects.filter(fingerprint=fingerprint).order_by("-created_at").first()
    period = documents.period_of(parameters)
    return render(
        request,
        "steering/export.html",
        {
            "kind": ExportKind(kind),
            "programme": programme,
            "period": period,
            "job": job,
            **_job_context(job),
            "back": back,
        },
    )


def _job_context(job: ExportJob | None) -> dict:
    if job is None:
        return {}
    failed = job.state == ExportState.FAILED or job.stale
    return {
        "job": job,
        "job_failed": failed,
        "job_pending": job.pending and not failed,
        "job_error": job.error or (services.EXPORT_STALE_ERROR if job.stale else ""),
    }


def _job_or_404(request, pk) -> ExportJob:
    """A job the user may follow and download: the same checks as the page that prepared it.

    In SQL, the jobs of the programmes whose dashboards the user opens and of their network levels;
    then, for a programme's job, the export permission on that programme (403, as the page) and the
    same audience (exact counts only for whoever sees them); for a network job, every programme it
    sums must still be one the user's level aggregates (404 otherwise)."""
    job = get_object_or_404(
        ExportJob.objects.filter(
            Q(programme__in=perms.steering_programmes_visible_to(request.user))
            | Q(network_level__in=perms.network_levels_of(request.user))
        ).select_related("programme", "network_level"),
        pk=pk,
    )
    if job.programme_id:
        if not perms.can_export_indicators(request.user, job.programme):
            raise PermissionDenied
        unsuppressed = job.parameters.get("suppressed") is False
        if unsuppressed and not perms.indicators_unsuppressed(request.user, job.programme):
            raise Http404
    else:
        visible = set(perms.network_programmes_visible_to(request.user).values_list("pk", flat=True))
        if not set(job.parameters.get("programmes", [])) <= visible:
            raise Http404
    return job


@not_sensitive
@login_required
def export_status(request, pk):
    """The job's state for the page's script (JSON): state, progress, and the fragment to show."""
    job = _job_or_404(request, pk)
    context = _job_context(job)
    response = JsonResponse(
        {
            "state": "failed" if context["job_failed"] else job.state,
            "progress": job.progress,
            "label": str(_("Le document est prêt.") if job.ready else job.get_state_display()),
            "download_url": reverse("steering:export_download", args=[job.pk]) if job.ready else "",
            "error": str(context["job_error"]),
            "html": render_to_string("steering/_export_job.html", context, request=request),
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@non_nominative_document  # aggregates, suppressed unless for the coordinator (step-up as an export)
@recent_auth_required
@not_sensitive
@login_required
def export_download(request, pk):
    """A prepared document, journaled as when it was rendered in the request."""
    job = _job_or_404(request, pk)
    if not job.ready:
        raise Http404
    try:
        with job.file.open("rb") as file:
            content = file.read()
    except FileNotFoundError as error:  # removed by the retention since the page was shown
        raise Http404 from error
    exports.journal_export(
        request,
        verb=documents.VERBS[job.kind],
        rows=job.rows,
        filename=job.filename,
        file_format=job.filename.rsplit(".", 1)[-1],
        target=job.network_level,
        programme=job.programme,
        payload={**job.summary, "job": str(job.pk)},
    )
    response = HttpResponse(content, content_type=documents.content_type(job.filename))
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=job.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


# --- barometer ------------------------------------------------------------------------------------


def _member_programme(request) -> Programme:
    membership = current_membership(request)
    if membership is None:
        raise Http404
    return get_object_or_404(perms.programmes_visible_to(request.user), pk=membership.programme_id)


@not_sensitive
@login_required
def barometer(request):
    programme = _member_programme(request)
    can_manage = perms.can_manage_steering(request.user, programme)
    form = BarometerRoundForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            services.open_barometer_round(programme=programme, by=request.user, **form.cleaned_data)
            messages.success(request, _("Le questionnaire est ouvert aux partenaires."))
            return redirect("steering:barometer")
    rounds = list(BarometerRound.objects.filter(programme=programme).order_by("-opened_on", "-pk"))
    answered = set(
        BarometerRound.objects.filter(programme=programme, participations__user=request.user).values_list(
            "pk", flat=True
        )
    )
    return render(
        request,
        "steering/barometer.html",
        {
            "programme": programme,
            "rounds": rounds,
            "answered": answered,
            "form": form,
            "can_manage": can_manage,
            "can_see_results": can_manage or programme in perms.steering_programmes_visible_to(request.user),
        },
    )


@not_sensitive
@login_required
def barometer_results(request, pk: int):
    """The results of a round (aggregates only); the coordinator closes the round from here (POST)."""
    barometer_round = get_object_or_404(
        BarometerRound.objects.filter(programme__in=perms.steering_programmes_visible_to(request.user)), pk=pk
    )
    if request.method == "POST":
        if not perms.can_manage_steering(request.user, barometer_round.programme):
            raise PermissionDenied
        if request.POST.get("close") == "1" and barometer_round.state == "open":
            services.close_barometer_round(barometer_round=barometer_round, by=request.user)
            messages.success(request, _("Le questionnaire est clôturé."))
        return redirect("steering:barometer_results", pk=pk)
    return render(
        request,
        "steering/barometer_results.html",
        {
            "round": barometer_round,
            "results": queries.barometer_results(barometer_round),
            "can_manage": perms.can_manage_steering(request.user, barometer_round.programme),
        },
    )


@not_sensitive
@login_required
def barometer_answer(request, pk: int):
    barometer_round = get_object_or_404(
        BarometerRound.objects.filter(programme__in=perms.programmes_visible_to(request.user)), pk=pk
    )
    if not perms.can_answer_barometer(request.user, barometer_round):
        raise PermissionDenied
    if barometer_round.participations.filter(user=request.user).exists():
        messages.info(request, _("Vous avez déjà répondu à ce questionnaire. Merci !"))
        return redirect("steering:barometer")
    membership = current_membership(request)
    initial = {"position": Role.COORDINATOR == getattr(membership, "role", "") and "staff" or ""}
    form = BarometerAnswerForm(
        request.POST or None,
        items=barometer_round.items.all(),
        open_question=barometer_round.open_question,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.answer_barometer(
                barometer_round=barometer_round,
                position=form.cleaned_data["position"],
                scores=form.scores(),
                open_answer=form.cleaned_data["open_answer"],
                by=request.user,
            )
        except services.AlreadyAnswered:
            messages.info(request, _("Vous avez déjà répondu à ce questionnaire. Merci !"))
        else:
            messages.success(request, _("Merci : vos réponses sont enregistrées, sans votre nom."))
        return redirect("steering:barometer")
    return render(request, "steering/barometer_answer.html", {"round": barometer_round, "form": form})
