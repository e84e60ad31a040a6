"""Eligibility of a child for the programme, explained in words (design/PRODUCT.md, journey step 2)."""

import datetime
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from maillage.programmes.enums import EligibilityRule


def age_on(birth_date: datetime.date, on: datetime.date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


@dataclass
class Eligibility:
    eligible: bool
    age: int
    age_ok: bool
    in_priority_area: bool
    in_priority_school: bool
    territory_ok: bool
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "eligible": self.eligible,
            "age": self.age,
            "age_ok": self.age_ok,
            "in_priority_area": self.in_priority_area,
            "in_priority_school": self.in_priority_school,
            "territory_ok": self.territory_ok,
            "reasons": self.reasons,
        }


def check_eligibility(*, programme, birth_date, on, priority_area=None, school=None) -> Eligibility:
    """Apply the programme's age window and its QPV/REP rule; every part of the answer is explained."""
    reasons: list[str] = []
    age = age_on(birth_date, on)
    age_ok = programme.age_min <= age <= programme.age_max
    if age_ok:
        reasons.append(
            _("Âge : %(age)s ans, dans la tranche du programme (%(min)s à %(max)s ans).")
            % {"age": age, "min": programme.age_min, "max": programme.age_max}
        )
    else:
        reasons.append(
            _("Âge : %(age)s ans, hors de la tranche du programme (%(min)s à %(max)s ans).")
            % {"age": age, "min": programme.age_min, "max": programme.age_max}
        )
    in_area = priority_area is not None
    if in_area:
        reasons.append(_("Résidence : dans le quartier prioritaire %(name)s.") % {"name": priority_area.name})
    else:
        reasons.append(_("Résidence : hors des quartiers prioritaires connus du programme."))
    in_school = school is not None and school.priority_education in {"REP", "REP+"}
    if school is None:
        reasons.append(_("Scolarité : établissement non renseigné."))
    elif in_school:
        reasons.append(
            _("Scolarité : %(school)s, en %(level)s.")
            % {"school": school.name, "level": school.priority_education}
        )
    else:
        reasons.append(_("Scolarité : %(school)s, hors éducation prioritaire.") % {"school": school.name})
    rule = programme.eligibility_rule
    territory_ok = {
        EligibilityRule.QPV_OR_REP: in_area or in_school,
        EligibilityRule.QPV_AND_REP: in_area and in_school,
        EligibilityRule.QPV_ONLY: in_area,
        EligibilityRule.REP_ONLY: in_school,
    }[rule]
    rule_label = EligibilityRule(rule).label
    if territory_ok:
        reasons.append(_("Règle du programme (« %(rule)s ») : remplie.") % {"rule": rule_label})
    else:
        reasons.append(_("Règle du programme (« %(rule)s ») : non remplie.") % {"rule": rule_label})
    return Eligibility(
        eligible=age_ok and territory_ok,
        age=age,
        age_ok=age_ok,
        in_priority_area=in_area,
        in_priority_school=in_school,
        territory_ok=territory_ok,
        reasons=reasons,
    )
