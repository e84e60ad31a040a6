"""The real pages through Django's test client (``force_login``, every middleware, the templates, the journal
written), against the bare authenticated page with the full layout (``bench.urls``) for the same user.

``ms``: the median of 5 requests after one warm-up (3 when a request takes over 2 s, 1 over 10 s), each
after a request of the bare page, whose median is the row's ``baseline_ms`` (the machine is shared: both
see the same load); ``queries``: the queries of one request.
"""

import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from bench.report import row

RUNS = 5
BARE = "/__bench__/bare/"


def _timed(client: Client, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(url)
    return (time.perf_counter() - started) * 1000, response.status_code


def measure(client: Client, url: str) -> tuple[float, float, int, int]:
    """The page and the bare page, requested in turn so that both see the same load on a shared machine:
    (median ms, bare page's median ms, queries, status)."""
    _timed(client, BARE)
    warm_up, _status = _timed(client, url)  # warm-up (caches, first journal entry of the chain…)
    runs = RUNS if warm_up < 2000 else 3 if warm_up < 10000 else 1  # keep the national run bounded
    timings, bare = [], []
    for _ in range(runs):
        bare.append(_timed(client, BARE)[0])
        timings.append(_timed(client, url)[0])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return statistics.median(timings), statistics.median(bare), len(queries), response.status_code


def run(fixtures: dict, scale: str) -> list[dict]:
    from maillage.accounts.models import User

    pathway = fixtures["referent_pathway"]
    pages = [
        ("caseload", "referent", "/parcours/mes-parcours/"),
        ("pathway page", "referent", f"/parcours/{pathway}/"),
        ("pathway page", "coordinator", f"/parcours/{pathway}/"),
        ("searched list", "coordinator", f"/parcours/?q={fixtures['misspelt']}"),
        ("EPS meeting", "eps_in", f"/instances/reunions/{fixtures['open_meeting']}/"),
        ("roll-call", "provider", f"/actions/seances/{fixtures['session']}/appel/"),
        ("dashboard", "coordinator", "/pilotage/"),
        ("network dashboard", "network", "/pilotage/reseau/"),
        ("structuring table", "network", "/pilotage/reseau/structuration/"),
    ]
    labels = {"eps_in": "EPS member in window", "referent": "référent"}
    rows, bare = [], {}
    for name, who, url in pages:
        if who not in fixtures:
            continue
        client = Client()
        client.force_login(User.objects.get(pk=fixtures[who]))
        label = labels.get(who, who)
        if who not in bare:
            client.get(BARE)  # the first request of a session records it (usersessions): not counted
            with CaptureQueriesContext(connection) as queries:
                status = client.get(BARE).status_code
            count = len(queries)  # now: every request starts by emptying the log (request_started)
            bare_ms = statistics.median(_timed(client, BARE)[0] for _ in range(RUNS))
            bare[who] = bare_ms
            rows.append(row(f"page:bare [{label}]", scale, bare_ms, bare_ms, count, status=status))
            print(f"  {'page:bare [' + label + ']':<50} {bare_ms:>8.1f} ms {count:>4} queries  {status}")
        ms, bare_ms, queries, status = measure(client, url)
        rows.append(row(f"page:{name} [{label}]", scale, ms, bare_ms, queries, status=status, url=url))
        flag = "" if status == 200 else "  NOT 200"
        print(
            f"  {'page:' + name + ' [' + label + ']':<50} {ms:>8.1f} ms {queries:>4} queries  {status}"
            f"  (bare page {bare_ms:.1f} ms){flag}",
            flush=True,
        )
    rows.append(search_p95(fixtures, scale, bare.get("coordinator")))
    return rows


def search_p95(fixtures: dict, scale: str, bare_ms: float | None) -> dict:
    """The coordinator's pathway list searched for 20 different misspelt names: the 95th percentile."""
    from bench.build import _misspell
    from maillage.accounts.models import User
    from maillage.people.models import Child

    names = (
        Child.objects.filter(programme_id=fixtures["programme"])
        .order_by("pk")
        .values_list("first_name", "last_name")[:2000:100]
    )
    client = Client()
    client.force_login(User.objects.get(pk=fixtures["coordinator"]))
    client.get("/parcours/", {"q": _misspell(names[0][1])})
    timings, found = [], 0
    for first, last in names:
        started = time.perf_counter()
        response = client.get("/parcours/", {"q": f"{first} {_misspell(last)}"})
        timings.append((time.perf_counter() - started) * 1000)
        found += escape(last.upper()) in response.content.decode()  # the list shows « NAME First name »
    p95 = statistics.quantiles(timings, n=20)[-1]
    print(
        f"  {'page:searched list, p95 of 20 names [coordinator]':<50} {p95:>8.1f} ms  found {found}/20",
        flush=True,
    )
    return row(
        "page:searched list p95 [coordinator]", scale, p95, bare_ms, None, found=found, searches=len(timings)
    )
