"""Building referrals and fiche submissions for the referral screens' tests (synthetic data only)."""

import datetime
import html

from django.utils import timezone

from maillage.programmes.defaults import ensure_default_lists
from maillage.programmes.enums import ListKind, Role
from maillage.programmes.models import ListItem
from maillage.referrals.services import referral_submit
from maillage.territories.geo import geometry_bbox
from maillage.territories.models import PriorityArea
from tests.factories import MembershipFactory

# Text that must never appear where the policy hides it (a referrer's list, another programme…).
SENTINEL = "Quillebœuf-Sentinelle"
CONTEXT = "Contexte-confidentiel : des absences répétées depuis la Toussaint."


def years_ago(years: int, days: int = 30) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - datetime.timedelta(days=days)


def item(programme, kind: str, code: str) -> ListItem:
    ensure_default_lists(programme)
    return ListItem.objects.get(programme=programme, kind=kind, code=code)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def fiche(programme, **overrides) -> dict:
    """The POST data of a complete fiche d'orientation for ``programme``."""
    data = {
        "referrer_type": item(programme, ListKind.REFERRER_TYPE, "ecole").pk,
        "referrer_contact": "Mme Morel, directrice, 01 23 45 67 89",
        "child_first_name": "Inès",
        "child_last_name": SENTINEL,
        "child_birth_date": years_ago(9).isoformat(),
        "child_sex": "F",
        "school": "",
        "school_level": "CE2",
        "address": "12 rue des Lilas",
        "postcode": "75019",
        "guardian_name": "Fatima Benali",
        "guardian_relation": "mother",
        "guardian_phone": "06 12 34 56 78",
        "guardian_email": "",
        "motifs": [item(programme, ListKind.REFERRAL_MOTIF, "absenteisme").pk],
        "context": CONTEXT,
        "family_informed": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def make_referral(programme, *, by=None, motifs=None, **fields):
    """A referral submitted through the service, by a new referrer of ``programme`` unless ``by``."""
    ensure_default_lists(programme)
    by = by or MembershipFactory(programme=programme, role=Role.REFERRER).user
    values = {
        "referrer_type": item(programme, ListKind.REFERRER_TYPE, "ecole"),
        "child_first_name": "Inès",
        "child_last_name": SENTINEL,
        "child_birth_date": years_ago(9),
        "child_sex": "F",
        "guardian_name": "Fatima Benali",
        "guardian_phone": "06 12 34 56 78",
        "context": CONTEXT,
        "family_informed": True,
        **fields,
    }
    motifs = motifs or [item(programme, ListKind.REFERRAL_MOTIF, "absenteisme")]
    return referral_submit(programme=programme, by=by, motifs=motifs, **values)


def square_area(code: str, name: str, *, lat: float, lon: float, half_side: float = 0.01) -> PriorityArea:
    """A square QPV centred on (``lat``, ``lon``)."""
    ring = [
        [lon - half_side, lat - half_side],
        [lon + half_side, lat - half_side],
        [lon + half_side, lat + half_side],
        [lon - half_side, lat + half_side],
        [lon - half_side, lat - half_side],
    ]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    min_lon, min_lat, max_lon, max_lat = geometry_bbox(geometry)
    return PriorityArea.objects.create(
        code=code,
        name=name,
        geometry=geometry,
        min_lon=min_lon,
        min_lat=min_lat,
        max_lon=max_lon,
        max_lat=max_lat,
    )
