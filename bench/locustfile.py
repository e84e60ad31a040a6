"""Locust scenario of ``bench/load.py``: simulated référents, each with their own session (made by the
harness with ``force_login``) and their own pathways; no think time, so that the throughput measured is
the server's. ``BENCH_LOAD_SCENARIO``: ``bare`` (the bare authenticated page) or ``pages`` (the caseload,
then three of the référent's pathway pages, in turn)."""

import itertools
import json
import os
import random

from locust import HttpUser, constant, task

ACCOUNTS = json.loads(open(os.environ["BENCH_LOAD_USERS"]).read())  # noqa: SIM115
SCENARIO = os.environ.get("BENCH_LOAD_SCENARIO", "pages")
_next = itertools.count()
TIMEOUT = 30


class Referent(HttpUser):
    wait_time = constant(0)

    def on_start(self):
        account = ACCOUNTS[next(_next) % len(ACCOUNTS)]
        self.client.cookies.set("sessionid", account["session"])
        self.pathways = account["pathways"]
        self.step = 0

    @task
    def browse(self):
        if SCENARIO == "bare":
            self.client.get("/__bench__/bare/", name="bare", timeout=TIMEOUT)
            return
        if self.step % 4 == 0 or not self.pathways:
            self.client.get("/parcours/mes-parcours/", name="caseload", timeout=TIMEOUT)
        else:
            pk = random.choice(self.pathways)  # noqa: S311
            self.client.get(f"/parcours/{pk}/", name="pathway page", timeout=TIMEOUT)
        self.step += 1
