"""The real pages through Django's test client (``force_login``, every middleware, the templates, the journal
written), against the bare authenticated page with the full layout (``bench.urls``) for the same user.

``ms``: the median of 5 requests after one warm-up (3 when a request takes over 2 s, 1 over 10 s);
``queries``: the queries of one request.
"""

import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from bench.report import row

RUNS = 5


def measure(client: Client, url: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    response = client.get(url)  # warm-up (caches, first journal entry of the chain…)
    warm_up = time.perf_counter() - started
    runs = RUNS if warm_up < 2 else 3 if warm_up < 10 else 1  # keep the national run bounded
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return statistics.median(timings), len(queries), response.status_code


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
            ms, queries, status = measure(client, "/__bench__/bare/")
            bare[who] = ms
            rows.append(row(f"page:bare [{label}]", scale, ms, ms, queries, status=status))
            print(
                f"  {'page:bare [' + label + ']':<50} {ms:>8.1f} ms {queries:>4} queries  {status}",
                flush=True,
            )
        ms, queries, status = measure(client, url)
        rows.append(row(f"page:{name} [{label}]", scale, ms, bare[who], queries, status=status, url=url))
        flag = "" if status == 200 else "  NOT 200"
        print(
            f"  {'page:' + name + ' [' + label + ']':<50} {ms:>8.1f} ms {queries:>4} queries  {status}{flag}",
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
