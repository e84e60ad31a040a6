"""The partnership barometer: anonymous answers, one per person, results for groups of 5 or more."""

import pytest
from django.urls import reverse

from maillage.programmes.enums import Role
from maillage.steering import queries, services
from maillage.steering.models import BarometerParticipation, BarometerResponse, BarometerRound
from tests.factories import MembershipFactory, programme_with_lists

pytestmark = pytest.mark.django_db

SCORES = {"objectives": 3, "trust": 4, "information": 2, "practice": 3, "tools": 1}


@pytest.fixture
def barometer():
    programme = programme_with_lists()
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR)
    return services.open_barometer_round(programme=programme, title="Baromètre 2026", by=coordinator.user)


def _answer(barometer, position="staff", scores=SCORES, text=""):
    member = MembershipFactory(programme=barometer.programme, role=Role.REFERRER)
    services.answer_barometer(
        barometer_round=barometer, position=position, scores=scores, open_answer=text, by=member.user
    )
    return member


def test_a_round_is_seeded_with_the_five_statements(barometer):
    assert list(barometer.items.values_list("code", flat=True)) == [
        "objectives", "trust", "information", "practice", "tools",
    ]  # fmt: skip


def test_an_answer_stores_the_position_only_and_a_separate_marker_that_the_person_answered(barometer):
    member = _answer(barometer, text="Plus de retours après les EPS.")
    response = BarometerResponse.objects.get()
    fields = {f.name for f in BarometerResponse._meta.get_fields()}
    assert not {"user", "membership", "created_at", "updated_at"} & fields
    assert response.position == "staff"
    assert BarometerParticipation.objects.filter(round=barometer, user=member.user).exists()
    assert {f.name for f in BarometerParticipation._meta.get_fields()} == {"id", "round", "user"}


def test_the_same_person_cannot_answer_twice(barometer):
    member = _answer(barometer)
    with pytest.raises(services.AlreadyAnswered):
        services.answer_barometer(
            barometer_round=barometer, position="social", scores=SCORES, open_answer="", by=member.user
        )
    assert BarometerResponse.objects.count() == 1


def test_results_are_hidden_under_five_answers_and_per_position_only_for_groups_of_five(barometer):
    for _ in range(4):
        _answer(barometer, position="staff")
    assert queries.barometer_results(barometer)["shown"] is False
    _answer(barometer, position="staff")
    _answer(barometer, position="elected")
    results = queries.barometer_results(barometer)
    assert results["shown"] is True
    assert [p[0] for p in results["positions"]] == ["staff"]
    assert [str(label) for label in results["hidden_positions"]] == ["Élu·e"]
    assert results["rows"][0]["mean"] == 3.0


def test_results_compare_with_the_previous_round(barometer):
    for _ in range(5):
        _answer(barometer, scores={**SCORES, "trust": 2})
    BarometerRound.objects.filter(pk=barometer.pk).update(opened_on="2025-01-10")
    later = services.open_barometer_round(programme=barometer.programme, title="Baromètre suivant", by=None)
    for _ in range(5):
        _answer(later, scores={**SCORES, "trust": 4})
    trust = next(row for row in queries.barometer_results(later)["rows"] if "confiance" in row["statement"])
    assert (trust["mean"], trust["previous"], trust["delta"]) == (4.0, 2.0, 2.0)


def test_a_partner_answers_through_the_page_and_is_told_when_answering_again(client, barometer):
    member = MembershipFactory(programme=barometer.programme, role=Role.PROVIDER)
    client.force_login(member.user)
    url = reverse("steering:barometer_answer", args=[barometer.pk])
    data = {"position": "association", **{f"item_{code}": value for code, value in SCORES.items()}}
    assert client.post(url, data).status_code == 302
    assert BarometerResponse.objects.filter(round=barometer, position="association").count() == 1
    again = client.get(url, follow=True)
    assert "déjà répondu" in again.content.decode()
    assert BarometerResponse.objects.count() == 1


def test_a_closed_round_takes_no_more_answers(client, barometer):
    services.close_barometer_round(barometer_round=barometer, by=None)
    member = MembershipFactory(programme=barometer.programme, role=Role.PROVIDER)
    client.force_login(member.user)
    assert client.get(reverse("steering:barometer_answer", args=[barometer.pk])).status_code == 403
