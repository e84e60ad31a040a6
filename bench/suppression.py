"""Microbenchmark of the suppression decision shared by a network level and its programmes (no page,
no database): the time ``levels.decide`` takes for 3, 10 and 50 programmes on one level.

    .venv/bin/python bench/suppression.py            # 3, 10 and 50 programmes
    .venv/bin/python bench/suppression.py 10 100     # other sizes

Each programme is made up (fixed seed) with the breakdowns a real one publishes — children followed
by residence × school, sex, age band and school level, collective-only beneficiaries, parents,
referrals by referrer and by motif, exits, plan actions by dimension and by kind, the territory
diagnosis's referrals — from 3 to 60 children, so that small counts are common. Reading the figures
from the database is not timed here: it takes a constant number of queries (see
``tests/steering/test_two_levels.py``).
"""

import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MAILLAGE_ENV", "test")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from maillage.steering import levels  # noqa: E402
from maillage.steering import suppression as sup  # noqa: E402
from maillage.steering.indicators import AGE_BANDS, SCHOOL_STAGES, Indicator, Row  # noqa: E402


def split(rng: random.Random, total: int, keys: list) -> list[Row]:
    """``total`` spread over ``keys``, unevenly (some rows small or empty)."""
    weights = [rng.choice([0, 1, 1, 2, 5]) for _ in keys]
    if not any(weights):
        weights[0] = 1
    counts = [0] * len(keys)
    for _ in range(total):
        counts[rng.choices(range(len(keys)), weights)[0]] += 1
    return [Row(key, "", n) for key, n in zip(keys, counts, strict=True)]


def indicator(code: str, rows: list[Row], **kwargs) -> Indicator:
    kwargs.setdefault("total", sum(r.value for r in rows))
    return Indicator(code, "", "", rows, **kwargs)


def programme(rng: random.Random) -> tuple[dict, dict]:
    children = rng.randint(3, 60)
    grid = [(q, s) for q in levels.QPV for s in levels.SCHOOLS]
    joint = {(r.key[0], r.key[1]): r.value for r in split(rng, children, grid)}
    by_qpv = [Row(q, "", sum(joint[(q, s)] for s in levels.SCHOOLS)) for q in levels.QPV]
    by_school = [Row(s, "", sum(joint[(q, s)] for q in levels.QPV)) for s in levels.SCHOOLS]
    referrals = rng.randint(2, children + 10)
    referrers = split(rng, referrals, ["ecole", "service_social", "famille", "pmi"])
    motifs = [Row(m, "", rng.randint(0, referrals)) for m in ["scolaire", "sante", "famille", "langue"]]
    actions = rng.randint(0, 3 * children)
    computed = {
        "pathway_vs_collective": indicator(
            "pathway_vs_collective",
            [Row("pathway", "", children), Row("collective", "", rng.randint(0, 12))],
        ),
        "children_by_sex": indicator("children_by_sex", split(rng, children, ["F", "M"])),
        "children_by_age": indicator("children_by_age", split(rng, children, [k for k, *_ in AGE_BANDS])),
        "children_by_school_level": indicator(
            "children_by_school_level", split(rng, children, [k for k, *_ in SCHOOL_STAGES])
        ),
        "children_by_qpv": indicator("children_by_qpv", by_qpv, joint=joint),
        "children_by_priority_education": indicator("children_by_priority_education", by_school),
        "parents_reached": indicator("parents_reached", [Row("parents", "", rng.randint(0, 20))]),
        "referrals_by_referrer": indicator("referrals_by_referrer", referrers),
        "referrals_by_motif": indicator("referrals_by_motif", motifs, total=referrals, additive=False),
        "exits_by_reason": indicator(
            "exits_by_reason", split(rng, rng.randint(0, children), ["objectifs", "demenagement", "autre"])
        ),
        "plan_actions_by_dimension": indicator(
            "plan_actions_by_dimension",
            split(rng, actions, ["school", "health", "family", "social", "cultural", "sport", "none"]),
        ),
        "plan_actions_by_kind": indicator(
            "plan_actions_by_kind", split(rng, actions, ["individual", "collective"])
        ),
    }
    cells = split(rng, referrals, ["qpv_rep", "qpv_only", "rep_only", "neither"])
    diagnosis = {
        "diagnosis_children": None,
        "diagnosis_referrals": indicator("diagnosis_referrals", cells),
    }
    return computed, diagnosis


def main(sizes: list[int]):
    print(f"{'programmes':>10} {'figures':>8} {'small':>6} {'hidden':>7} {'decide':>9}")
    for n in sizes:
        rng = random.Random(13)
        per_programme = {pk: levels.programme_figures(pk, *programme(rng)) for pk in range(1, n + 1)}
        scope = frozenset(per_programme)
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            decision = levels.decide(per_programme, [scope])
            timings.append(time.perf_counter() - start)
        states = [
            s for codes in decision.programmes.values() for rows in codes.values() for s in rows.values()
        ]
        states += list(decision.children.values())
        states += [s for rows in decision.networks[scope].values() for s in rows.values()]
        small, hidden = states.count(sup.PRIMARY), len([s for s in states if s])
        print(f"{n:>10} {len(states):>8} {small:>6} {hidden:>7} {min(timings):>8.2f}s")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [3, 10, 50])
