"""A bounded load test (issue 12): 50 simulated référents browsing their caseload and pathway pages, the
journal on, against the bare authenticated page — loopback only, under 5 minutes.

    BENCH_ONLY=load make bench           # or as part of the national run

The harness starts gunicorn on 127.0.0.1 (2 workers × 4 threads, the 2-core budget of the architecture)
on the scratch database, then runs Locust headless twice (``BENCH_LOAD_SECONDS`` each, default 75): the
bare page, then caseload + pathway pages. Rows ``load:``: ``ms``/``baseline_ms`` are the median response
times, ``ratio`` the throughput (requests/s) of the pages over the bare page's, ``errors`` the failed or
timed-out (30 s) requests.
"""

import csv
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection
from django.test import Client

from bench.report import row

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"
USERS = 50


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accounts(fixtures: dict) -> Path:
    from maillage import permissions as perms
    from maillage.accounts.models import User

    accounts = []
    for user in User.objects.filter(pk__in=fixtures["loaders"][:USERS]):
        client = Client()
        client.force_login(user)
        pathways = list(
            perms.pathways_visible_to(user)
            .filter(referent=user)
            .order_by("pk")
            .values_list("pk", flat=True)[:30]
        )
        accounts.append({"session": client.cookies["sessionid"].value, "pathways": pathways})
    path = OUT / "load-accounts.json"
    path.write_text(json.dumps(accounts))
    return path


def _warm_up(port: int, session: str) -> None:
    """Wait until both workers answer the bare page (Django loaded, connections open)."""
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/__bench__/bare/", headers={"Cookie": f"sessionid={session}"}
    )
    answered = 0
    for _ in range(300):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 -- loopback
                answered += response.status == 200
        except OSError:
            time.sleep(0.5)
        if answered >= 10:
            return
    raise RuntimeError("the server did not answer the bare page")


def _number(value: str) -> float | None:
    return None if value in ("", "N/A") else float(value)


def _stats(prefix: Path) -> dict:
    with open(f"{prefix}_stats.csv") as f:
        for line in csv.DictReader(f):
            if line["Name"] == "Aggregated":
                return line
    raise RuntimeError("no aggregated row in Locust's statistics")


def run(fixtures: dict, scale: str) -> list[dict]:
    seconds = int(os.environ.get("BENCH_LOAD_SECONDS", "75"))
    accounts = _accounts(fixtures)
    port = _free_port()
    env = {**os.environ, "BENCH_LOAD_USERS": str(accounts)}
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    results = {}
    try:
        _warm_up(port, json.loads(accounts.read_text())[0]["session"])
        for scenario in ("bare", "pages"):
            prefix = OUT / f"load-{scale}-{connection.vendor}-{scenario}"
            subprocess.run(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "locust",
                    "-f",
                    str(ROOT / "bench" / "locustfile.py"),
                    "--headless",
                    "-u",
                    str(USERS),
                    "-r",
                    "25",
                    "-t",
                    f"{seconds}s",
                    "--host",
                    f"http://127.0.0.1:{port}",
                    "--csv",
                    str(prefix),
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=ROOT,
                env={**env, "BENCH_LOAD_SCENARIO": scenario},
                check=False,
            )
            results[scenario] = _stats(prefix)
    finally:
        server.terminate()  # graceful: waits for the requests in flight…
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # …which may be pages taking tens of seconds
            server.kill()
            server.wait()
    return report_rows(scale)


def report_rows(scale: str) -> list[dict]:
    """The ``load:`` rows from the statistics Locust wrote last at this scale and backend."""
    results = {s: _stats(OUT / f"load-{scale}-{connection.vendor}-{s}") for s in ("bare", "pages")}
    bare, pages = results["bare"], results["pages"]
    rps, bare_rps = float(pages["Requests/s"]), float(bare["Requests/s"])
    rows = [
        row(
            f"load:bare page [{USERS} référents]",
            scale,
            _number(bare["Median Response Time"]),
            _number(bare["Median Response Time"]),
            None,
            rps=round(bare_rps, 2),
            p95_ms=_number(bare["95%"]),
            requests=int(bare["Request Count"]),
            errors=int(bare["Failure Count"]),
        ),
        row(
            f"load:caseload+pathway [{USERS} référents]",
            scale,
            _number(pages["Median Response Time"]),
            _number(bare["Median Response Time"]),
            None,
            rps=round(rps, 2),
            baseline_rps=round(bare_rps, 2),
            p95_ms=_number(pages["95%"]),
            requests=int(pages["Request Count"]),
            errors=int(pages["Failure Count"]),
        ),
    ]
    # For these rows the ratio is the throughput's, pages over bare page (the acceptance: ≥ 0.5).
    rows[0]["ratio"] = 1.0
    rows[1]["ratio"] = round(rps / bare_rps, 3) if bare_rps else None
    for r in rows:
        print(
            f"  {r['name']:<50} {r['rps']:>8.2f} req/s  median {r['ms']:.0f} ms  p95 {r['p95_ms']:.0f} ms"
            f"  {r['errors']} errors / {r['requests']}"
        )
    return rows
