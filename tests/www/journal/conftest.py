"""A programme with a pathway, its référent, its coordinator and its DPO; another programme beside it."""

import html
from types import SimpleNamespace

import pytest
from django.test import Client

from maillage.programmes.enums import OrganisationKind, Role
from tests.factories import (
    ChildFactory,
    MembershipFactory,
    OrganisationFactory,
    open_pathway,
    programme_with_lists,
)

CHILD_LAST_NAME = "Sentinelle-Journal"
REFERENT_LAST_NAME = "Référente-Nommée"


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(db):
    programme = programme_with_lists(name="PRE de Villeneuve-sur-Démo")
    ccas = OrganisationFactory(programme=programme, kind=OrganisationKind.CCAS, name="CCAS de Villeneuve")
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR, organisation=ccas)
    referent = MembershipFactory(
        programme=programme,
        role=Role.REFERENT,
        organisation=OrganisationFactory(programme=programme, name="Association Trait d'Union"),
        user__last_name=REFERENT_LAST_NAME,
        user__email="referente.nommee@exemple.test",
    )
    dpo = MembershipFactory(
        programme=programme, role=Role.DPO, organisation=ccas, user__email="dpo@exemple.test"
    )
    child = ChildFactory(programme=programme, first_name="Philomène", last_name=CHILD_LAST_NAME)
    pathway = open_pathway(programme=programme, referent=referent.user, by=coordinator.user, child=child)
    other_pathway = open_pathway(programme=programme, by=coordinator.user)

    elsewhere = programme_with_lists(name="PRE de Montagne-Lointaine")
    foreign_coordinator = MembershipFactory(programme=elsewhere, role=Role.COORDINATOR)
    foreign_pathway = open_pathway(programme=elsewhere, by=foreign_coordinator.user)
    return SimpleNamespace(
        programme=programme,
        coordinator=coordinator,
        referent=referent,
        dpo=dpo,
        pathway=pathway,
        child=pathway.child,
        other_pathway=other_pathway,
        elsewhere=elsewhere,
        foreign_coordinator=foreign_coordinator,
        foreign_pathway=foreign_pathway,
    )
