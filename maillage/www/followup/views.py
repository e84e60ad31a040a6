"""The written forms of a pathway: consents, diagnosis, plan, contacts, notes and bilans.

Every view fetches the pathway through ``perms.pathways_visible_to`` and then checks the predicate
of what it writes (``can_manage_consents``, ``can_edit_pathway``, ``can_write_items``): a pathway
out of scope and a form the user may not use are the same 404. Every write goes through
``maillage.pathways.services``; a ``JourneyError`` is shown on the form and nothing is saved. Each
page shows something of the child, so each display is journaled with ``record_access``.
"""

import copy
import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from maillage import permissions as perms
from maillage.accounts.stepup import nominative_document
from maillage.audit.access import record_access, sensitive
from maillage.pathways import services
from maillage.pathways.enums import HEALTH_DIMENSIONS, Circle, Dimension
from maillage.pathways.models import DiagnosticSection, Objective, Pathway
from maillage.pathways.plan_text import redact_plan
from maillage.pathways.services import JourneyError
from maillage.programmes.defaults import EXIT_REASONS, WITHDRAWAL_EXIT_CODE
from maillage.programmes.enums import ListKind
from maillage.programmes.models import ListItem
from maillage.www.followup import forms

# --- helpers --------------------------------------------------------------------------------------


def _pathway(request, pathway_pk: int, allowed) -> Pathway:
    """The pathway, in the user's scope and open to the write ``allowed(user, pathway)``; else 404."""
    pathway = get_object_or_404(
        perms.pathways_visible_to(request.user).select_related(
            "programme", "child", "child__school", "referent"
        ),
        pk=pathway_pk,
    )
    if not allowed(request.user, pathway):
        raise Http404
    return pathway


def _back(pathway: Pathway, anchor: str) -> str:
    return reverse("pathways:detail", args=[pathway.pk]) + f"#{anchor}"


def _author_membership(user, pathway: Pathway):
    """The membership the circle rules apply to (the one ``circles_writable_by`` reads)."""
    return perms.nominative_memberships(user).filter(programme=pathway.programme_id).first()


def _referent_name(pathway: Pathway) -> str:
    referent = pathway.referent
    return f"{referent.first_name} {referent.last_name}".strip() if referent else ""


def _show_error(form, error: JourneyError) -> None:
    for message in error.messages:
        form.add_error(None, message)


def _render(request, template: str, pathway: Pathway, context: dict, *, verb: str, circles=(), **payload):
    """Journal what the page shows of the child, then render it."""
    identity = perms.identity_visible(request.user, pathway)
    record_access(request, pathway, verb=verb, circles=circles, identity=identity, **payload)
    child = pathway.child
    context = {
        "pathway": pathway,
        "identity": identity,
        "subject": (
            f"{child.first_name} {child.last_name} — {pathway.case_code}"
            if identity
            else perms.pseudonym(pathway)
        ),
        "pathway_url": reverse("pathways:detail", args=[pathway.pk]),
        **context,
    }
    return render(request, template, context)


def _circle_kwargs(request, pathway: Pathway, *, dimension: str = "") -> dict:
    circles = perms.circles_writable_by(request.user, pathway)
    if dimension:
        circles = forms.diagnostic_circles(circles, dimension)
    return {
        "circles": circles,
        "referent_name": _referent_name(pathway),
        "author_is_referent": pathway.referent_id == request.user.pk,
    }


def _circle_context(circles: list[str], *, health: bool = False) -> dict:
    return {
        "team_only": circles == [Circle.TEAM],
        "health": health,
    }


# --- consents -------------------------------------------------------------------------------------


@login_required
@sensitive("consent.form_viewed")
def consent_add(request, pathway_pk: int):
    pathway = _pathway(request, pathway_pk, perms.can_manage_consents)
    in_force = perms.consents_visible_to(request.user).valid().filter(pathway=pathway)
    guardians = (
        perms.guardians_visible_to(request.user)
        .filter(household=pathway.child.household_id, has_parental_authority=True)
        .exclude(pk__in=in_force.values("guardian"))
        .order_by("last_name", "first_name", "pk")
    )
    organisations = (
        perms.organisations_visible_to(request.user)
        .filter(programme=pathway.programme_id, is_active=True)
        .order_by("name")
    )
    form = forms.ConsentForm(
        request.POST or None,
        request.FILES or None,
        guardians=guardians,
        organisations=organisations,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        proof = data["proof"]
        try:
            services.consent_record(
                pathway=pathway,
                guardian=data["guardian"],
                given_on=data["given_on"],
                by=request.user,
                care=data["care"],
                shared_with=list(data["shared_with"]),
                image_use=data["image_use"],
                evaluation_use=data["evaluation_use"],
                proof=proof.file if proof else None,
                proof_content_type=proof.content_type if proof else "",
                notice_delivered_on=data["notice_delivered_on"],
                child_informed_on=data["child_informed_on"],
            )
        except JourneyError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("L'accord de la famille est enregistré."))
            return redirect(_back(pathway, "consentements"))
    context = {
        "form": form,
        "title": _("Enregistrer l'accord de la famille"),
        "has_guardians": guardians.exists(),
        "household_url": reverse("people:household", args=[pathway.child.household_id]),
        "file_lost": request.method == "POST" and bool(request.FILES),
    }
    return _render(request, "followup/consent_form.html", pathway, context, verb="consent.form_viewed")


def _withdrawal_label(pathway: Pathway) -> str:
    item = ListItem.objects.filter(
        programme=pathway.programme_id, kind=ListKind.EXIT_REASON, code=WITHDRAWAL_EXIT_CODE
    ).first()
    if item is not None:
        return item.label
    return _(next(label for code, label, _final in EXIT_REASONS if code == WITHDRAWAL_EXIT_CODE))


@login_required
@sensitive("consent.withdrawal_viewed")
def consent_withdraw(request, pathway_pk: int, pk: int):
    pathway = _pathway(request, pathway_pk, perms.can_manage_consents)
    consents = perms.consents_visible_to(request.user).filter(pathway=pathway)
    consent = get_object_or_404(consents.select_related("guardian"), pk=pk)
    if consent.withdrawn_on is not None:
        messages.info(request, _("Cet accord a déjà été retiré."))
        return redirect(_back(pathway, "consentements"))
    others_in_force = (
        consents.valid().filter(guardian__has_parental_authority=True).exclude(pk=consent.pk).exists()
    )
    form = forms.ConsentWithdrawForm(request.POST or None, consent=consent)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_withdraw(
                consent=consent,
                withdrawn_on=form.cleaned_data["withdrawn_on"],
                by=request.user,
                note=form.cleaned_data["note"],
            )
        except JourneyError as error:
            _show_error(form, error)
        else:
            pathway.refresh_from_db(fields=["state"])
            if pathway.is_open:
                messages.success(request, _("Le retrait de l'accord est enregistré."))
            else:
                messages.success(
                    request,
                    _(
                        "Le retrait de l'accord est enregistré. "
                        "Le parcours est clôturé avec le motif « %(reason)s »."
                    )
                    % {"reason": _withdrawal_label(pathway)},
                )
            return redirect(_back(pathway, "consentements"))
    context = {
        "form": form,
        "title": _("Retirer l'accord de la famille"),
        "consent": consent,
        "will_close": not others_in_force,
        "exit_reason": _withdrawal_label(pathway),
    }
    return _render(
        request,
        "followup/consent_withdraw.html",
        pathway,
        context,
        verb="consent.withdrawal_viewed",
        consent=consent.pk,
    )


PROOF_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


@require_safe
@login_required
@sensitive("consent.proof_downloaded")
@nominative_document
def consent_proof(request, pathway_pk: int, pk: int):
    """The signed consent, as a download: only for whoever reads the consent and the child's identity."""
    pathway = get_object_or_404(perms.pathways_visible_to(request.user), pk=pathway_pk)
    consent = get_object_or_404(
        perms.consents_visible_to(request.user).filter(pathway=pathway).exclude(proof=""), pk=pk
    )
    # The signed paper names the family: it is not for those who see the situation pseudonymised.
    if not perms.identity_visible(request.user, pathway):
        raise Http404
    try:
        stream = consent.proof.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    record_access(request, pathway, verb="consent.proof_downloaded", consent=consent.pk)
    content_type = consent.proof_content_type or "application/octet-stream"
    extension = PROOF_EXTENSIONS.get(content_type) or os.path.splitext(consent.proof.name)[1]
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=f"accord-{pathway.case_code}-{consent.pk}{extension}",
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- diagnosis ------------------------------------------------------------------------------------


@login_required
@sensitive("diagnostic.form_viewed")
def diagnostic_edit(request, pathway_pk: int, dimension: str):
    """Create or edit the user's own section of one dimension of the diagnosis."""
    if dimension not in Dimension.values:
        raise Http404
    pathway = _pathway(request, pathway_pk, perms.can_write_items)
    section = (
        perms.items_readable_by(request.user, DiagnosticSection)
        .filter(pathway=pathway, dimension=dimension, author=request.user)
        .order_by("-written_on", "-pk")
        .first()
    )
    circle_kwargs = _circle_kwargs(request, pathway, dimension=dimension)
    initial = {"circle": Circle.TEAM}
    if section is not None:
        initial = {name: getattr(section, name) for name in forms.DiagnosticSectionForm.FIELDS}
        initial["circle"] = section.circle if section.circle in circle_kwargs["circles"] else Circle.TEAM
    form = forms.DiagnosticSectionForm(request.POST or None, initial=initial, **circle_kwargs)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in (*form.FIELDS, "circle")}
        try:
            services.diagnostic_section_save(
                pathway=pathway,
                dimension=dimension,
                by=request.user,
                membership=_author_membership(request.user, pathway),
                section=section,
                **fields,
            )
        except JourneyError as error:
            _show_error(form, error)
        else:
            messages.success(
                request,
                _("Le diagnostic « %(dimension)s » est enregistré.")
                % {"dimension": Dimension(dimension).label},
            )
            return redirect(_back(pathway, "diagnostic"))
    context = {
        "form": form,
        "title": _("Diagnostic : %(dimension)s") % {"dimension": Dimension(dimension).label},
        "section": section,
        "dimension": Dimension(dimension),
        **_circle_context(circle_kwargs["circles"], health=dimension in HEALTH_DIMENSIONS),
    }
    return _render(
        request,
        "followup/diagnostic_form.html",
        pathway,
        context,
        verb="diagnostic.form_viewed",
        circles=[section.circle] if section else [],
        dimension=dimension,
    )


# --- plan -----------------------------------------------------------------------------------------


@login_required
@sensitive("objective.form_viewed")
def objective_add(request, pathway_pk: int):
    pathway = _pathway(request, pathway_pk, perms.can_edit_pathway)
    wanted = request.GET.get("dimension")
    circle_kwargs = _circle_kwargs(request, pathway)
    form = forms.ObjectiveForm(
        request.POST or None,
        initial={"dimension": wanted if wanted in Dimension.values else "", "circle": Circle.TEAM},
        **circle_kwargs,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.objective_add(
                pathway=pathway,
                by=request.user,
                membership=_author_membership(request.user, pathway),
                **form.cleaned_data,
            )
        except JourneyError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("L'objectif est ajouté au plan."))
            return redirect(_back(pathway, "plan"))
    context = {
        "form": form,
        "title": _("Ajouter un objectif"),
        "submit_label": _("Ajouter l'objectif"),
        "anchor": "plan",
        **_circle_context(circle_kwargs["circles"]),
    }
    return _render(request, "followup/form.html", pathway, context, verb="objective.form_viewed")


@login_required
@sensitive("objective.status_form_viewed")
def objective_status(request, pathway_pk: int, pk: int):
    pathway = _pathway(request, pathway_pk, perms.can_edit_pathway)
    objective = get_object_or_404(
        perms.plan_visible_to(request.user, Objective).filter(pathway=pathway), pk=pk
    )
    shown = copy.copy(objective)
    redact_plan(request.user, [shown])
    form = forms.ObjectiveStatusForm(request.POST or None, initial={"status": objective.status})
    if request.method == "POST" and form.is_valid():
        status = form.cleaned_data["status"]
        if status == objective.status:
            messages.info(request, _("L'état de l'objectif n'a pas changé."))
            return redirect(_back(pathway, "plan"))
        try:
            services.objective_set_status(objective=objective, status=status, by=request.user)
        except JourneyError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("L'état de l'objectif est enregistré."))
            return redirect(_back(pathway, "plan"))
    context = {
        "form": form,
        "title": _("Changer l'état de l'objectif"),
        "lead": _("Objectif : « %(wording)s » (%(dimension)s)")
        % {"wording": shown.wording, "dimension": shown.get_dimension_display()},
        "submit_label": _("Enregistrer l'état"),
        "anchor": "plan",
    }
    return _render(
        request,
        "followup/form.html",
        pathway,
        context,
        verb="objective.status_form_viewed",
        objective=objective.pk,
    )


@login_required
@sensitive("plan_action.form_viewed")
def action_add(request, pathway_pk: int):
    pathway = _pathway(request, pathway_pk, perms.can_edit_pathway)
    objectives = perms.plan_visible_to(request.user, Objective).filter(pathway=pathway).order_by("pk")
    organisations = (
        perms.organisations_visible_to(request.user)
        .filter(programme=pathway.programme_id, is_active=True)
        .order_by("name")
    )
    objectives = objectives.filter(pk__in=perms.plan_texts_readable_by(request.user, Objective).values("pk"))
    circle_kwargs = _circle_kwargs(request, pathway)
    form = forms.PlanActionForm(
        request.POST or None,
        objectives=objectives,
        organisations=organisations,
        initial={"circle": Circle.TEAM},
        **circle_kwargs,
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        title = data.pop("title")
        try:
            services.plan_action_add(
                pathway=pathway,
                title=title,
                by=request.user,
                membership=_author_membership(request.user, pathway),
                **data,
            )
        except JourneyError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("L'action est ajoutée au plan."))
            return redirect(_back(pathway, "plan"))
    context = {
        "form": form,
        "title": _("Ajouter une action au plan"),
        "submit_label": _("Ajouter l'action"),
        "anchor": "plan",
        **_circle_context(circle_kwargs["circles"]),
    }
    return _render(request, "followup/form.html", pathway, context, verb="plan_action.form_viewed")


# --- follow-up ------------------------------------------------------------------------------------


def _circle_item_add(request, pathway_pk: int, *, form_class, service, success, title, submit_label, verb):
    """A written item with a circle (contact, note): the form, the service, back to the follow-up."""
    pathway = _pathway(request, pathway_pk, perms.can_write_items)
    circle_kwargs = _circle_kwargs(request, pathway)
    form = form_class(request.POST or None, **circle_kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            service(
                pathway=pathway,
                by=request.user,
                membership=_author_membership(request.user, pathway),
                **form.cleaned_data,
            )
        except JourneyError as error:
            _show_error(form, error)
        else:
            messages.success(request, success)
            return redirect(_back(pathway, "suivi"))
    context = {
        "form": form,
        "title": title,
        "submit_label": submit_label,
        "anchor": "suivi",
        **_circle_context(circle_kwargs["circles"]),
    }
    return _render(request, "followup/form.html", pathway, context, verb=verb)


@login_required
@sensitive("contact.form_viewed")
def contact_add(request, pathway_pk: int):
    return _circle_item_add(
        request,
        pathway_pk,
        form_class=forms.ContactForm,
        service=services.contact_add,
        success=_("Le contact est ajouté au suivi."),
        title=_("Ajouter un contact"),
        submit_label=_("Ajouter le contact"),
        verb="contact.form_viewed",
    )


@login_required
@sensitive("note.form_viewed")
def note_add(request, pathway_pk: int):
    return _circle_item_add(
        request,
        pathway_pk,
        form_class=forms.NoteForm,
        service=services.note_add,
        success=_("La note est ajoutée au suivi."),
        title=_("Ajouter une note"),
        submit_label=_("Ajouter la note"),
        verb="note.form_viewed",
    )


@login_required
@sensitive("review.form_viewed")
def review_add(request, pathway_pk: int):
    pathway = _pathway(request, pathway_pk, perms.can_write_items)
    # Every objective is rated; those whose text the writer may not read show as a placeholder.
    objectives = redact_plan(
        request.user, perms.plan_visible_to(request.user, Objective).filter(pathway=pathway).order_by("pk")
    )
    circle_kwargs = _circle_kwargs(request, pathway)
    form = forms.ReviewForm(
        request.POST or None,
        objectives=objectives,
        # A final bilan sets the state of every objective: only those who may edit the plan write one.
        final_allowed=perms.can_edit_pathway(request.user, pathway),
        **circle_kwargs,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.review_add(
                pathway=pathway,
                kind=data["kind"],
                held_on=data["held_on"],
                by=request.user,
                ratings=form.ratings(),
                summary=data["summary"],
                membership=_author_membership(request.user, pathway),
                circle=data["circle"],
            )
        except JourneyError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("Le bilan est enregistré."))
            return redirect(_back(pathway, "bilans"))
    context = {"form": form, "title": _("Ajouter un bilan"), **_circle_context(circle_kwargs["circles"])}
    return _render(request, "followup/review_form.html", pathway, context, verb="review.form_viewed")
