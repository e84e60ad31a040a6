"""Results: the rows of ``var/bench/results.json``, the printed table, the acceptance thresholds."""

import json
import time
from pathlib import Path

from django.db import connection

# Issue 12, « Acceptance ». Ratios are against the hand-written SQL (scopes) or the bare page (pages).
SCOPE_RATIO = 1.5
SCOPE_E2E_SLACK_MS = 2.0
# Pages and their ratio to the bare page (the structuring table is reported, with no threshold).
PAGE_RATIO = {
    "page:pathway page": 3.0,
    "page:caseload": 3.0,
    "page:searched list": 3.0,
    "page:searched list p95": 3.0,
    "page:EPS meeting": 3.0,
    "page:roll-call": 3.0,
    "page:dashboard": 5.0,
    "page:network dashboard": 5.0,
}
PATHWAY_PAGE_QUERIES = 30
LOAD_THROUGHPUT = 0.5


def row(
    name: str, scale: str, ms: float | None, baseline_ms: float | None, queries: int | None = None, **extra
):
    ratio = round(ms / baseline_ms, 2) if ms is not None and baseline_ms else None
    return {
        "name": name,
        "scale": scale,
        "backend": connection.vendor,
        "ms": None if ms is None else round(ms, 3),
        "baseline_ms": None if baseline_ms is None else round(baseline_ms, 3),
        "ratio": ratio,
        "queries": queries,
        **extra,
    }


def merge(path: Path, rows: list[dict]) -> None:
    """Replace the rows of the same (name, scale, backend), keep the others (other scales and backends)."""
    existing = json.loads(path.read_text()) if path.exists() else []
    keys = {(r["name"], r["scale"], r["backend"]) for r in rows}
    kept = [r for r in existing if (r["name"], r["scale"], r["backend"]) not in keys]
    path.write_text(json.dumps(kept + rows, indent=1, ensure_ascii=False) + "\n")


def mark_growth(path: Path, rows: list[dict]) -> None:
    """A page whose query count differs at another scale (same backend) grows with the data."""
    if not path.exists():
        return
    others = [r for r in json.loads(path.read_text()) if r["name"].startswith("page:")]
    for r in rows:
        if not r["name"].startswith("page:"):
            continue
        for o in others:
            if (o["name"], o["backend"]) == (r["name"], r["backend"]) and o["scale"] != r["scale"]:
                if o["queries"] != r["queries"]:
                    r["grows"] = f"{r['queries']} queries at {r['scale']}, {o['queries']} at {o['scale']}"


def _fmt(value, digits=1):
    return "—" if value is None else f"{value:.{digits}f}"


def table(rows: list[dict]) -> None:
    print()
    head = ["ms", "base ms", "ratio", "e2e ms", "base e2e", "q", "rows"]
    print(f"{'name':<62} " + " ".join(f"{h:>9}" for h in head))
    for r in rows:
        cells = [
            _fmt(r["ms"], 2),
            _fmt(r["baseline_ms"], 2),
            _fmt(r["ratio"], 2),
            _fmt(r.get("e2e_ms"), 2),
            _fmt(r.get("baseline_e2e_ms"), 2),
            "" if r.get("queries") is None else str(r["queries"]),
            "" if r.get("rows") is None else str(r["rows"]),
        ]
        print(f"{r['name'][:62]:<62} " + " ".join(f"{c:>9}" for c in cells))


def failures(rows: list[dict]) -> list[str]:
    found = []
    for r in rows:
        name = r["name"]
        if r.get("ids_match") is False:
            found.append(
                f"{name}: the policy and the hand-written SQL return different rows ({r.get('diff')})"
            )
        if name.startswith("scope:") and r["ratio"] is not None:
            if r["ratio"] > SCOPE_RATIO:
                found.append(f"{name}: database time {r['ratio']}× the hand-written SQL (≤ {SCOPE_RATIO})")
            limit = SCOPE_RATIO * r["baseline_e2e_ms"] + SCOPE_E2E_SLACK_MS
            if r["e2e_ms"] > limit:
                found.append(f"{name}: end to end {r['e2e_ms']:.1f} ms > {limit:.1f} ms (1.5× + 2 ms)")
        if name.startswith("page:") and r["ratio"] is not None:
            limit = next((v for k, v in PAGE_RATIO.items() if name.startswith(k + " [")), None)
            if limit is not None and r["ratio"] > limit:
                found.append(f"{name}: {r['ratio']}× the bare page (≤ {limit})")
            if name.startswith("page:pathway") and (r["queries"] or 0) > PATHWAY_PAGE_QUERIES:
                found.append(f"{name}: {r['queries']} queries (≤ {PATHWAY_PAGE_QUERIES})")
        if r.get("grows"):
            found.append(f"{name}: its query count grows with the data ({r['grows']})")
        if name.startswith("load:") and r["scale"] == "national":
            if r.get("errors"):
                found.append(f"{name}: {r['errors']} errors")
            if r["ratio"] is not None and r["ratio"] < LOAD_THROUGHPUT:
                found.append(f"{name}: throughput {r['ratio']}× the bare page's (≥ {LOAD_THROUGHPUT})")
    return found


def verify_audit_row(scale: str) -> dict:
    """``manage.py verify_audit``'s check, timed on the whole journal."""
    from maillage.audit.models import AuditEvent
    from maillage.audit.services import verify_journal

    entries = AuditEvent.objects.count()
    started = time.perf_counter()
    reports, problems = verify_journal()
    elapsed = (time.perf_counter() - started) * 1000
    print(
        f"verify_audit: {entries:,} entries, {len(reports)} chains, {len(problems)} problems,"
        f" {elapsed / 1000:.1f} s"
    )
    for problem in problems[:5]:
        print(f"  {problem}")
    return row(
        "verify:verify_audit",
        scale,
        elapsed,
        None,
        None,
        rows=entries,
        chains=len(reports),
        problems=len(problems),
    )
