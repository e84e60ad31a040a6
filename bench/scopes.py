"""Every scope of ``maillage/permissions.py`` that lists rows, for representative users, without and with
narrowing filters, against the hand-written SQL of ``bench/baseline.py`` returning the same ids.

``ms``/``baseline_ms``: database time — planning + execution from ``EXPLAIN (ANALYZE, FORMAT JSON)`` on
PostgreSQL, execution and fetch through the driver on SQLite — best of 5 (of 3 when a run takes over a
second, of 1 over 5 s).
``e2e_ms``/``baseline_e2e_ms``: the same through the ORM, from building the queryset (the
policy reads the user's memberships) to the list of ids; the hand-written side reads the memberships with
its own query, then runs its SQL. Only public functions of the policy are called.
"""

import os
import time

from django.core.exceptions import EmptyResultSet
from django.db import connection

from bench import baseline as b
from bench.report import row
from maillage import permissions as perms
from maillage.governance.models import Meeting
from maillage.pathways.models import Contact, DiagnosticSection, Note, Objective, PlanAction, Review

ITEM_MODELS = [Note, Contact, DiagnosticSection, Review]
PLAN_MODELS = [Objective, PlanAction]


def best(fn, runs: int = 5) -> float:
    timings = []
    for n in range(runs):
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1000)
        if timings[-1] > 5000 or (n == 2 and min(timings) > 1000):
            break
    return min(timings)


def _sql(queryset):
    return queryset.query.get_compiler(using=queryset.db).as_sql()


def _fetch(sql: str, params: list) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def db_time(sql: str, params: list) -> float:
    if connection.vendor == "postgresql":
        timings = []

        def explain():
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
                plan = cursor.fetchone()[0]
                plan = plan[0] if isinstance(plan, list) else plan
                timings.append(plan["Planning Time"] + plan["Execution Time"])

        best(explain)
        return min(timings)
    return best(lambda: _fetch(sql, params))


def case(name, scale, user_id, policy, hand):
    """``policy()``: the scope's queryset (filtered); ``hand(ctx)``: the hand-written (sql, params)."""
    from maillage.accounts.models import User

    user = User.objects.get(pk=user_id)

    def ids():
        return policy(user).order_by().values_list("pk", flat=True)

    got = set(ids())
    sql, params = hand(b.Ctx(user_id))
    want = {r[0] for r in _fetch(sql, params)}
    try:
        policy_sql, policy_params = _sql(ids())
        ms = db_time(policy_sql, policy_params)
    except EmptyResultSet:  # the ORM knows the answer is empty and sends no query
        ms = 0.0
    baseline_ms = db_time(sql, params)
    e2e = best(lambda: list(ids()))
    baseline_e2e = best(lambda: _fetch(*hand(b.Ctx(user_id))))
    extra = {
        "e2e_ms": round(e2e, 3),
        "baseline_e2e_ms": round(baseline_e2e, 3),
        "rows": len(got),
        "ids_match": got == want,
    }
    if got != want:
        extra["diff"] = f"{len(got - want)} only in the policy, {len(want - got)} only by hand"
    return row(name, scale, ms, baseline_ms, 1, **extra)


def run(fixtures: dict, scale: str) -> list[dict]:
    from maillage.accounts.models import User

    P = fixtures["programme"]
    users = {
        "référent": fixtures["referent"],
        "coordinator": fixtures["coordinator"],
        "EPS member in window": fixtures["eps_in"],
        "EPS member out of window": fixtures["eps_out"],
        "DPO with break-glass": fixtures["dpo"],
        "referrer": fixtures["referrer"],
        "provider": fixtures["provider"],
    }
    pathway_users = [k for k in users if k not in {"referrer", "provider"}]

    def one_pathway(uid):
        ids = sorted(perms.pathways_visible_to(User.objects.get(pk=uid)).values_list("pk", flat=True))
        return ids[len(ids) // 2] if ids else fixtures["referent_pathway"]

    rows = []
    only = [part for part in os.environ.get("BENCH_SCOPES", "").split(",") if part]

    def add(name, uid, policy, hand):
        if only and not any(part in name for part in only):
            return
        started = time.perf_counter()
        r = case(name, scale, uid, policy, hand)
        rows.append(r)
        flag = "" if r["ids_match"] else f"  ROWS DIFFER: {r['diff']}"
        print(
            f"  {name:<70} {r['ms']:>9.2f} {r['baseline_ms']:>9.2f} {r['rows']:>7}  "
            f"({time.perf_counter() - started:.1f} s){flag}",
            flush=True,
        )

    for label in pathway_users:
        uid = users[label]
        x = one_pathway(uid)
        narrow = (
            ("referent", {"referent_id": uid}, " AND p.referent_id = %s", [uid])
            if label == "référent"
            else ("programme", {"programme_id": P}, " AND p.programme_id = %s", [P])
        )
        add(f"scope:pathways_visible_to [{label}]", uid, perms.pathways_visible_to, b.pathways)
        key, kw, extra, xp = narrow
        add(
            f"scope:pathways_visible_to [{label}, {key}=]",
            uid,
            lambda u, kw=kw: perms.pathways_visible_to(u).filter(**kw),
            lambda c, e=extra, x_=xp: b.pathways(c, e, x_),
        )
        add(
            f"scope:pathways_visible_to [{label}, one pathway]",
            uid,
            lambda u, x=x: perms.pathways_visible_to(u).filter(pk=x),
            lambda c, x=x: b.pathways(c, " AND p.id = %s", [x]),
        )
        add(f"scope:children_visible_to [{label}]", uid, perms.children_visible_to, b.children)
        add(
            f"scope:children_visible_to [{label}, programme=]",
            uid,
            lambda u: perms.children_visible_to(u).filter(programme_id=P),
            lambda c: b.children(c, " AND p.programme_id = %s", [P]),
        )
        add(f"scope:consents_visible_to [{label}]", uid, perms.consents_visible_to, b.consents)
        add(
            f"scope:consents_visible_to [{label}, one pathway]",
            uid,
            lambda u, x=x: perms.consents_visible_to(u).filter(pathway_id=x),
            lambda c, x=x: b.consents(c, " AND p.id = %s", [x]),
        )
        for scope, models, baseline in [
            (perms.items_readable_by, ITEM_MODELS, b.items),
            (perms.plan_visible_to, PLAN_MODELS, b.plan),
        ]:
            for model in models:
                name, table = f"scope:{scope.__name__}({model.__name__})", model._meta.db_table
                add(
                    f"{name} [{label}]",
                    uid,
                    lambda u, s=scope, m=model: s(u, m),
                    lambda c, f=baseline, t=table: f(c, t),
                )
                add(
                    f"{name} [{label}, one pathway]",
                    uid,
                    lambda u, s=scope, m=model, x=x: s(u, m).filter(pathway_id=x),
                    lambda c, f=baseline, t=table, x=x: f(c, t, " AND p.id = %s", [x]),
                )
    for label in ["référent", "coordinator"]:
        uid = users[label]
        add(f"scope:pathways_editable_by [{label}]", uid, perms.pathways_editable_by, b.pathways_editable)
    for label in ["coordinator", "référent", "referrer"]:
        uid = users[label]
        add(f"scope:referrals_visible_to [{label}]", uid, perms.referrals_visible_to, b.referrals)
        add(
            f"scope:referrals_visible_to [{label}, programme=]",
            uid,
            lambda u: perms.referrals_visible_to(u).filter(programme_id=P),
            lambda c: b.referrals(c, " AND p.programme_id = %s", [P]),
        )
    for label in ["coordinator", "référent", "EPS member in window", "EPS member out of window", "provider"]:
        uid = users[label]
        add(f"scope:meetings_visible_to [{label}]", uid, perms.meetings_visible_to, b.meetings)
        add(
            f"scope:meetings_visible_to [{label}, programme=]",
            uid,
            lambda u: perms.meetings_visible_to(u).filter(body__programme_id=P),
            lambda c: b.meetings(c, " AND p.programme_id = %s", [P]),
        )
    for label in ["coordinator", "provider", "référent"]:
        uid = users[label]
        for name, scope, hand in [
            ("groups_visible_to", perms.groups_visible_to, b.groups),
            ("sessions_visible_to", perms.sessions_visible_to, b.sessions),
            ("enrolments_visible_to", perms.enrolments_visible_to, b.enrolments),
        ]:
            add(f"scope:{name} [{label}]", uid, scope, hand)
    assert Meeting  # noqa: S101 -- imported for the reader: meetings are reached through their bodies
    return rows
