from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from maillage import permissions as perms
from maillage.audit.access import not_sensitive, record_access_many, sensitive
from maillage.audit.middleware import charter_gate_exempt
from maillage.programmes.enums import Role
from maillage.www.context import current_membership, set_current_membership
from maillage.www.pathways.summary import reminders_for

STATIC_PAGES = {
    "accessibility": "pages/accessibility.html",
    "legal": "pages/legal.html",
    "privacy": "pages/privacy.html",
}

# What each role gives access to, in the words of the people who hold it.
ROLE_INTRODUCTIONS = {
    Role.COORDINATOR: _(
        "Vous coordonnez le programme : vous recevez les orientations, vérifiez l'éligibilité, désignez "
        "les référent·es, animez les équipes pluridisciplinaires de soutien et configurez le programme. "
        "Vous voyez tous les enfants suivis par le programme."
    ),
    Role.REFERENT: _(
        "Vous êtes référent·e de parcours : vous verrez ici les enfants dont vous suivez le parcours, "
        "leurs familles, leur diagnostic et leur plan. Seuls les enfants de vos parcours vous sont "
        "accessibles."
    ),
    Role.EPS_MEMBER: _(
        "Vous siégez dans une équipe pluridisciplinaire de soutien : vous accéderez aux situations "
        "inscrites à l'ordre du jour de votre équipe, pendant la période prévue par la charte, et aux "
        "parcours auxquels vous êtes associé·e."
    ),
    Role.REFERRER: _(
        "Vous êtes partenaire orienteur : vous pourrez adresser une fiche d'orientation au programme et "
        "suivre son état. Vous ne voyez pas le contenu des parcours."
    ),
    Role.PROVIDER: _(
        "Vous intervenez dans une action du programme : vous verrez la liste des enfants de vos groupes "
        "(prénom, initiale du nom, âge) et pourrez noter les présences. Vous n'avez pas accès aux parcours."
    ),
    Role.STEERING: _(
        "Vous participez au pilotage du programme : vous verrez des indicateurs agrégés, jamais le nom "
        "d'un enfant ou d'une famille. Les effectifs inférieurs à 5 sont masqués."
    ),
    Role.MANAGER: _(
        "Vous gérez la structure porteuse : les membres de l'équipe, les partenaires, les catalogues et "
        "le budget. Vous n'avez pas accès au contenu des situations des enfants."
    ),
    Role.DPO: _(
        "Vous êtes délégué·e à la protection des données : vous consulterez le journal des accès, les "
        "durées de conservation et les demandes d'accès. L'accès à un dossier nominatif passe par un "
        "accès exceptionnel motivé et journalisé."
    ),
    Role.NETWORK: _(
        "Vous représentez un niveau réseau : vous verrez des indicateurs agrégés et des comparaisons "
        "entre programmes, jamais de données nominatives."
    ),
}


# The home page deals with an unsigned charter itself: a callout, and no reminders (no names).
@sensitive("pathway.listed")
@charter_gate_exempt
@login_required
def home(request):
    membership = current_membership(request)
    context = {"membership": membership, "counts": [], "abilities": {}, "must_sign_charter": False}
    if membership is not None:
        programme = membership.programme
        abilities = perms.abilities(request.user, programme)
        counts = []
        if perms.access(membership.role, perms.CHILD) == perms.Access.PROGRAMME:
            counts += [
                {
                    "label": _("enfants connus du programme"),
                    "value": perms.children_visible_to(request.user).filter(programme=programme).count(),
                    "url_name": "people:children",
                },
                {
                    "label": _("foyers"),
                    "value": perms.households_visible_to(request.user).filter(programme=programme).count(),
                    "url_name": "",
                },
            ]
        if abilities["configure"]:
            counts += [
                {
                    "label": _("membres actifs de l'équipe et des partenaires"),
                    "value": perms.memberships_visible_to(request.user)
                    .active()
                    .filter(programme=programme)
                    .count(),
                    "url_name": "",
                },
                {
                    "label": _("organisations partenaires"),
                    "value": perms.organisations_visible_to(request.user)
                    .filter(programme=programme, is_active=True)
                    .count(),
                    "url_name": "programmes:organisations",
                },
            ]
        context.update(
            counts=counts,
            abilities=abilities,
            introduction=ROLE_INTRODUCTIONS.get(membership.role, ""),
            must_sign_charter=perms.must_sign_charter(membership),
        )
        if membership.role in {Role.COORDINATOR, Role.REFERENT} and not context["must_sign_charter"]:
            reminders = reminders_for(request.user, programme)
            context["reminders"] = reminders
            # The home page names children: one journal entry per pathway shown.
            record_access_many(request, reminders["overdue"] + reminders["due_soon"], verb="pathway.listed")
    return render(request, "pages/home.html", context)


@not_sensitive
@login_required
@require_POST
def switch_membership(request):
    """Make another of the user's memberships in force the current one (the programme switcher)."""
    raw = request.POST.get("membership", "")
    # Someone else's membership, an ended one or garbage: the same 404.
    membership = get_object_or_404(
        perms.active_memberships(request.user).select_related("programme"), pk=raw if raw.isdigit() else None
    )
    set_current_membership(request, membership)
    messages.success(
        request,
        _("Vous travaillez maintenant dans le programme « %(programme)s » (%(role)s).")
        % {"programme": membership.programme.name, "role": membership.get_role_display()},
    )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "home"
    return redirect(target)


@not_sensitive
def static_page(request, page: str):
    """Accessibility statement, legal notice and privacy notice: public, filled from the settings."""
    membership = current_membership(request) if request.user.is_authenticated else None
    placeholder = _("[à compléter par l'opérateur]")
    context = {
        "membership": membership,
        "programme": membership.programme if membership else None,
        "placeholder": placeholder,
        "operator": {
            "name": settings.MAILLAGE_OPERATOR_NAME,
            "address": getattr(settings, "MAILLAGE_OPERATOR_ADDRESS", ""),
            "email": getattr(settings, "MAILLAGE_OPERATOR_EMAIL", ""),
            "publication_director": getattr(settings, "MAILLAGE_PUBLICATION_DIRECTOR", ""),
            "dpo_email": getattr(settings, "MAILLAGE_DPO_EMAIL", ""),
        },
        "hosting": {
            "name": getattr(settings, "MAILLAGE_HOSTING_NAME", ""),
            "address": getattr(settings, "MAILLAGE_HOSTING_ADDRESS", ""),
            "contact": getattr(settings, "MAILLAGE_HOSTING_CONTACT", ""),
        },
    }
    return render(request, STATIC_PAGES[page], context)


@not_sensitive
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
    # The server is in trouble, perhaps its database too: no request context, no query, static only.
    template = loader.get_template("errors/500.html")
    return HttpResponseServerError(template.render({"site_title": settings.MAILLAGE_INSTANCE_NAME}))
