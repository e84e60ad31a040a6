"""Pathways found by case code however it is typed, and by name, in the programme's list and the caseload."""

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from maillage.pathways.models import Pathway
from maillage.pathways.search import case_code_key
from maillage.programmes.enums import Role
from tests.factories import ChildFactory, open_pathway, programme_with_lists

LIST = reverse("pathways:list")
CASELOAD = reverse("pathways:caseload")


@pytest.mark.parametrize(
    ("term", "key"),
    [
        ("PRE-2026-0042", "PRE20260042"),
        ("pre-2026-0042", "PRE20260042"),
        ("PRE 2026 42", "PRE20260042"),
        (" pré – 2026 – 42 ", "PRE20260042"),
        ("pre20260042", "PRE20260042"),
        ("P12-2026-7", "P1220260007"),  # a prefix with digits: the number is the last run
        ("2026-42", "20260042"),
        ("0042", "0042"),
        ("Dupont", ""),  # no digit: a name, not a code
        ("PRE", ""),
        ("", ""),
    ],
)
def test_a_case_code_is_compacted_however_it_is_typed(term, key):
    assert case_code_key(term) == key


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40))
def test_the_case_code_key_never_fails_and_is_idempotent(text):
    key = case_code_key(text)
    assert case_code_key(key) == key
    assert key == "" or key.isalnum()


@pytest.fixture
def coded(db, client, login_as):
    """Three pathways of a programme whose codes differ by year or number only."""
    programme = programme_with_lists(case_code_prefix="PRE")
    coordinator = login_as(Role.COORDINATOR, programme=programme).user
    pathways = {}
    for code in ("PRE-2026-0042", "PRE-2026-0420", "PRE-2025-0042"):
        pathway = open_pathway(programme=programme, by=coordinator, referent=coordinator)
        Pathway.objects.filter(pk=pathway.pk).update(case_code=code)
        pathways[code] = pathway.pk
    return pathways


def rows(client, url, term) -> list[int]:
    response = client.get(url, {"q": term})
    assert response.status_code == 200
    return [row.pk for row in response.context["rows"]]


WHOLE_CODES = ["PRE-2026-0042", "pre-2026-0042", "PRE 2026 42", "pre20260042", "pre 2026-042"]


@pytest.mark.parametrize("url", [LIST, CASELOAD])
@pytest.mark.parametrize("term", WHOLE_CODES)
def test_a_whole_case_code_finds_its_pathway_alone(client, coded, url, term):
    assert rows(client, url, term) == [coded["PRE-2026-0042"]]


def test_a_part_of_a_case_code_finds_every_pathway_containing_it(client, coded):
    assert rows(client, LIST, "2026-42") == [coded["PRE-2026-0042"]]
    assert set(rows(client, LIST, "0042")) == {coded["PRE-2026-0042"], coded["PRE-2025-0042"]}
    assert set(rows(client, LIST, "2026")) == {coded["PRE-2026-0042"], coded["PRE-2026-0420"]}


@pytest.mark.django_db
def test_a_misspelt_name_finds_the_pathway_in_the_caseload_best_match_first(client, login_as):
    programme = programme_with_lists()
    referent = login_as(Role.REFERENT, programme=programme).user
    wanted = open_pathway(
        programme=programme,
        referent=referent,
        child=ChildFactory(programme=programme, first_name="Éloïse", last_name="D'Aubigné"),
    )
    other = open_pathway(
        programme=programme,
        referent=referent,
        child=ChildFactory(programme=programme, first_name="Louise", last_name="Aubin"),
    )

    found = rows(client, CASELOAD, "eloise daubinge")

    assert found[0] == wanted.pk
    assert set(found) <= {wanted.pk, other.pk}
