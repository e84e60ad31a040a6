"""The QPV chosen on a referral is the child's residence fact once accepted (issue #13, point 13):
the dashboard, the ANCT workbook and the comité pack count QPV residents from ``Child.in_priority_area``."""

import importlib

import pytest
from django.apps import apps

from maillage.people.models import Child
from maillage.programmes.enums import Role
from maillage.referrals import services
from maillage.referrals.enums import ReferralState
from maillage.referrals.models import Referral
from tests.factories import ChildFactory, MembershipFactory
from tests.www.referrals.helpers import make_referral, square_area

pytestmark = pytest.mark.django_db

migration = importlib.import_module("maillage.referrals.migrations.0002_copy_priority_area_to_children")


def _accepted(programme, *, area=None, child=None):
    coordinator = MembershipFactory(programme=programme, role=Role.COORDINATOR).user
    referral = make_referral(programme, school=programme.rep_school, priority_area=area)
    services.referral_transition(referral=referral, to_state=ReferralState.UNDER_REVIEW, by=coordinator)
    return services.referral_accept(referral=referral, by=coordinator, child=child)


def test_accepting_a_referral_with_a_qpv_marks_the_new_child_as_residing_in_it(journey_programme):
    area = square_area("QP093001", "Les Tilleuls", lat=48.9, lon=2.4)
    journey_programme.priority_areas.add(area)

    pathway = _accepted(journey_programme, area=area)

    assert Child.objects.get(pk=pathway.child_id).in_priority_area is True


def test_an_existing_child_without_the_fact_gets_it_and_one_with_the_fact_keeps_it(journey_programme):
    area = square_area("QP093002", "Les Acacias", lat=48.8, lon=2.3)
    journey_programme.priority_areas.add(area)
    unknown = ChildFactory(programme=journey_programme, in_priority_area=None)
    known = ChildFactory(programme=journey_programme, in_priority_area=False)

    _accepted(journey_programme, area=area, child=unknown)
    _accepted(journey_programme, area=area, child=known)

    unknown.refresh_from_db()
    known.refresh_from_db()
    assert unknown.in_priority_area is True
    assert known.in_priority_area is False  # a recorded fact is not overwritten


def test_without_a_qpv_on_the_referral_the_fact_stays_unknown(journey_programme):
    pathway = _accepted(journey_programme)
    assert Child.objects.get(pk=pathway.child_id).in_priority_area is None


def test_the_data_migration_copies_the_qpv_of_accepted_referrals_onto_children_without_it(journey_programme):
    area = square_area("QP093003", "Les Ormes", lat=48.7, lon=2.2)
    journey_programme.priority_areas.add(area)
    lost = _accepted(journey_programme, area=area).child
    kept = _accepted(journey_programme, area=area).child
    outside = _accepted(journey_programme).child
    # What the old code left behind: the fact dropped at acceptance (and one recorded by hand).
    Child.objects.filter(pk=lost.pk).update(in_priority_area=None)
    Child.objects.filter(pk=kept.pk).update(in_priority_area=False)
    pending = make_referral(journey_programme, priority_area=area)  # not accepted: no child
    assert pending.child_id is None

    updated = migration.copy_priority_area_to_children(
        apps.get_model("referrals", "Referral"), apps.get_model("people", "Child")
    )

    assert updated == 1
    facts = dict(Child.objects.values_list("pk", "in_priority_area"))
    assert facts[lost.pk] is True
    assert facts[kept.pk] is False
    assert facts[outside.pk] is None
    assert Referral.objects.filter(state=ReferralState.ACCEPTED).count() == 3
