"""The page shell: header, navigation by role, programme switcher, skip links, messages, footer."""

import datetime

import pytest
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from maillage.programmes.enums import Role
from maillage.www import navigation
from maillage.www.context import SESSION_KEY
from tests.factories import MembershipFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db


def nav_labels(response) -> list[str]:
    return [item["label"] for item in response.context["navigation"]]


def test_the_header_names_the_instance_the_programme_and_the_role(client, login_as, programme):
    login_as(Role.REFERENT, programme=programme)
    body = client.get(reverse("home")).content.decode()
    assert '<p class="fr-header__service-title">Maillage</p>' in body
    assert programme.name in body
    assert "Référent·e de parcours" in body


def test_the_state_brand_block_is_absent_by_default(client, login_as, settings):
    settings.MAILLAGE_STATE_OPERATED = False
    login_as(Role.COORDINATOR)
    body = client.get(reverse("home")).content.decode()
    assert "République<br>Française" not in body
    assert "fr-logo" not in body


def test_the_state_brand_block_appears_on_an_instance_operated_by_the_state(client, settings):
    settings.MAILLAGE_STATE_OPERATED = True
    body = client.get(reverse("legal")).content.decode()
    assert body.count('<p class="fr-logo">République<br>Française</p>') == 2  # header and footer


def test_the_instance_name_comes_from_the_settings(client, settings):
    settings.MAILLAGE_INSTANCE_NAME = "Réussite Éducative de Démo"
    body = client.get(reverse("accessibility")).content.decode()
    assert '<p class="fr-header__service-title">Réussite Éducative de Démo</p>' in body


def test_every_page_starts_with_skip_links_to_content_menu_and_footer(client, login_as):
    login_as(Role.COORDINATOR)
    body = client.get(reverse("home")).content.decode()
    skiplinks = body[body.index("fr-skiplinks") : body.index("</nav>")]
    for target in ('href="#content"', 'href="#fr-navigation"', 'href="#footer"'):
        assert target in skiplinks
    for anchor in ('id="content"', 'id="fr-navigation"', 'id="footer"'):
        assert anchor in body


def test_anonymous_pages_skip_to_content_and_footer_without_a_menu(client):
    body = client.get(reverse("legal")).content.decode()
    assert 'href="#content"' in body
    assert 'href="#fr-navigation"' not in body
    assert "Se connecter" in body


def test_the_footer_links_to_the_accessibility_statement_legal_notice_and_privacy_notice(client):
    body = client.get(reverse("privacy")).content.decode()
    footer = body[body.index('id="footer"') :]
    for url_name in ("accessibility", "legal", "privacy"):
        assert f'href="{reverse(url_name)}"' in footer
    assert "Accessibilité : partiellement conforme" in footer


@pytest.mark.parametrize(
    ("role", "sees", "does_not_see"),
    [
        (
            Role.COORDINATOR,
            ["Accueil", "Programme", "Enfants", "Partenaires", "Charte de confidentialité"],
            [],
        ),
        (Role.REFERENT, ["Enfants", "Partenaires"], ["Équipe"]),
        (Role.MANAGER, ["Partenaires", "Charte de confidentialité"], ["Enfants"]),
        (Role.STEERING, ["Programme"], ["Enfants", "Équipe"]),
        (Role.PROVIDER, ["Partenaires"], ["Enfants", "Équipe"]),
        (Role.NETWORK, ["Accueil", "Programme"], ["Enfants", "Partenaires", "Équipe"]),
    ],
)
def test_the_main_menu_follows_the_role(client, login_as, role, sees, does_not_see):
    login_as(role)
    labels = nav_labels(client.get(reverse("home")))
    for label in sees:
        assert label in labels
    for label in does_not_see:
        assert label not in labels


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.MANAGER])
def test_the_team_entry_is_offered_to_coordinators_and_managers(client, login_as, role):
    login_as(role)
    labels = nav_labels(client.get(reverse("home")))
    assert "Équipe" in labels


@pytest.mark.parametrize("entry", navigation.MENU, ids=lambda entry: entry.url_name)
def test_every_menu_entry_reverses_to_a_page_in_a_known_section(entry):
    # A typo in a URL name, or a page renamed without its menu entry, fails here instead of the entry
    # quietly vanishing from the menu.
    assert reverse(entry.url_name).startswith("/")
    assert entry.group == "" or entry.group in navigation.GROUPS
    assert entry.roles <= navigation.ALL_ROLES


def test_an_entry_whose_url_name_is_broken_fails_loudly(client, login_as, monkeypatch):
    monkeypatch.setattr(
        navigation,
        "MENU",
        [*navigation.MENU, navigation.MenuEntry("Plus tard", "nowhere:to-be-seen", navigation.ALL_ROLES)],
    )
    membership = login_as(Role.COORDINATOR)
    request = RequestFactory().get(reverse("home"))
    with pytest.raises(NoReverseMatch):
        navigation.menu_for(request, membership)


def test_only_the_most_specific_menu_entry_is_current(client, login_as):
    login_as(Role.COORDINATOR)
    items = client.get(reverse("programmes:organisations")).context["navigation"]
    current = [item["label"] for item in items if item["current"]]
    assert current == ["Partenaires"]
    body = client.get(reverse("programmes:profile")).content.decode()
    assert f'href="{reverse("programmes:profile")}" aria-current="page"' in body


def test_home_is_current_only_on_the_home_page(client, login_as):
    login_as(Role.COORDINATOR)
    items = client.get(reverse("home")).context["navigation"]
    assert [item["label"] for item in items if item["current"]] == ["Accueil"]


# --- programme switcher --------------------------------------------------------------------------


@pytest.fixture
def two_memberships(client, programme, other_programme):
    first = MembershipFactory(role=Role.COORDINATOR, programme=programme)
    second = MembershipFactory(user=first.user, role=Role.REFERENT, programme=other_programme)
    client.force_login(first.user)
    return first, second


def test_a_person_with_one_membership_sees_no_switcher(client, login_as):
    login_as(Role.COORDINATOR)
    body = client.get(reverse("home")).content.decode()
    assert "Changer de programme" not in body


def test_a_person_with_several_memberships_sees_the_switcher_with_each_of_them(client, two_memberships):
    first, second = two_memberships
    body = client.get(reverse("home")).content.decode()
    assert 'id="programme-switcher-menu"' in body
    assert f'name="membership" value="{second.pk}"' in body
    assert f"{first.programme.name} — Coordination" in body
    assert f"{second.programme.name} — Référent·e de parcours" in body


def test_switching_programme_changes_the_header_and_the_role(client, two_memberships):
    first, second = two_memberships
    assert client.get(reverse("home")).context["current_membership"] == first

    response = client.post(reverse("switch_membership"), {"membership": second.pk}, follow=True)

    assert response.status_code == 200
    assert client.session[SESSION_KEY] == second.pk
    assert response.context["current_membership"] == second
    body = response.content.decode()
    assert f"Vous travaillez maintenant dans le programme « {second.programme.name} »" in body
    assert "Enfants" in nav_labels(response)  # referent sees the children entry


def test_switching_goes_back_to_a_safe_local_address_only(client, two_memberships):
    _first, second = two_memberships
    response = client.post(
        reverse("switch_membership"), {"membership": second.pk, "next": "https://ailleurs.example/"}
    )
    assert response["Location"] == reverse("home")
    response = client.post(
        reverse("switch_membership"), {"membership": second.pk, "next": reverse("programmes:charter")}
    )
    assert response["Location"] == reverse("programmes:charter")


def test_switching_to_an_ended_membership_of_ones_own_is_a_404(client, two_memberships):
    first, second = two_memberships
    second.starts_on = datetime.date(2020, 1, 1)
    second.ends_on = datetime.date(2020, 12, 31)
    second.save(update_fields=["starts_on", "ends_on"])

    response = client.post(reverse("switch_membership"), {"membership": second.pk})

    assert response.status_code == 404
    assert client.get(reverse("home")).context["current_membership"] == first


@pytest.mark.parametrize("value", ["", "abc", "999999"])
def test_switching_to_nothing_or_garbage_is_a_404(client, two_memberships, value):
    assert client.post(reverse("switch_membership"), {"membership": value}).status_code == 404


def test_switching_only_accepts_post(client, two_memberships):
    assert client.get(reverse("switch_membership")).status_code == 405


def test_switching_requires_to_be_logged_in(client):
    second = MembershipFactory(programme=ProgrammeFactory())
    response = client.post(reverse("switch_membership"), {"membership": second.pk})
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_a_stale_session_choice_falls_back_to_a_membership_in_force(client, two_memberships):
    first, second = two_memberships
    client.post(reverse("switch_membership"), {"membership": second.pk})
    second.starts_on = second.ends_on = datetime.date(2020, 1, 1)
    second.save(update_fields=["starts_on", "ends_on"])

    assert client.get(reverse("home")).context["current_membership"] == first


def test_the_coordinators_menu_is_grouped_in_sections_and_a_lone_entry_stays_a_link(client, login_as):
    login_as(Role.COORDINATOR)
    response = client.get(reverse("pathways:list"))
    sections = response.context["navigation_sections"]
    labels = [section["label"] for section in sections]
    # Home and programme, then sections: short enough for one line on a 1280 px screen. The
    # coordinator's only steering entry is a plain link.
    assert labels == [
        "Accueil",
        "Programme",
        "Enfants et parcours",
        "Actions",
        "Partenariat",
        "Indicateurs",
        "Administration",
    ]
    follow_up = next(section for section in sections if section["label"] == "Enfants et parcours")
    assert follow_up["current"] and [e["label"] for e in follow_up["entries"] if e["current"]] == ["Parcours"]
    body = response.content.decode()
    assert (
        'class="fr-nav__btn" aria-expanded="false" aria-controls="menu-follow_up" aria-current="true"' in body
    )

    client.logout()
    login_as(Role.PROVIDER)
    sections = client.get(reverse("home")).context["navigation_sections"]
    # The provider's single "Actions" entry is a plain link, not a drop-down of one.
    groups = next(s for s in sections if s["label"] == "Mes groupes")
    assert "entries" not in groups
