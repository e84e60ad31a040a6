"""Two people enrolling into the last place at the same time (PostgreSQL only: SQLite serialises)."""

import threading

import pytest
from django.db import connection, connections

from maillage.offers import services
from maillage.offers.models import Enrolment
from tests.offers.helpers import active_pathway, world

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_two_enrolments_into_the_last_place_end_with_one_enrolled_and_one_waiting():
    w = world(capacity=1)
    by = w["coordinator"].user
    children = [active_pathway(w["programme"], by).child for _ in range(2)]
    barrier = threading.Barrier(2)
    errors = []

    def enrol(child):
        try:
            barrier.wait(timeout=10)
            services.enrol(group=w["group"], by=by, child=child)
        except Exception as error:  # noqa: BLE001 -- reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=enrol, args=(child,)) for child in children]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors
    statuses = sorted(Enrolment.objects.filter(group=w["group"]).values_list("status", flat=True))
    assert statuses == ["enrolled", "waiting"]
