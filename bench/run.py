"""Performance harness (issue 12, not part of the test run): scopes and pages against their baselines.

    make bench                                          # department scale, SQLite
    BENCH_SCALE=department BENCH_BACKEND=postgres make bench
    BENCH_SCALE=national make bench                     # PostgreSQL (the default at this scale)

Environment: ``BENCH_SCALE`` (department, national; smoke for checking the harness itself),
``BENCH_BACKEND`` (sqlite, postgres), ``BENCH_PG`` (server URL, default postgres://postgres@127.0.0.1:5432),
``BENCH_ONLY`` (comma-separated: build, scopes, pages, verify, load), ``BENCH_SCOPES`` (comma-separated parts
of scope row names, e.g. ``items_readable_by,[DPO``), ``BENCH_REBUILD=1``, ``BENCH_JIT=on``
(PostgreSQL's JIT as the server sets it; off by default), ``BENCH_STRICT=1``
(exit 1 when a threshold of the issue's acceptance list fails).

The scratch database (``var/bench/<scale>.sqlite3``, or the PostgreSQL database ``maillage_bench_<scale>``)
is built once by bulk inserts (``bench/build.py``) and reused while the scale, the builder and the
migrations are unchanged. Results are merged into ``var/bench/results.json`` by (name, scale, backend).
"""

import hashlib
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "var" / "bench"
OUT.mkdir(parents=True, exist_ok=True)

SCALE = os.environ.get("BENCH_SCALE", "department")
BACKEND = os.environ.get("BENCH_BACKEND", "postgres" if SCALE == "national" else "sqlite")
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_NAME = f"maillage_bench_{SCALE}"
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
SQLITE_PATH = OUT / f"{SCALE}.sqlite3"

if BACKEND == "sqlite":
    os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_PATH}"
else:
    os.environ["DATABASE_URL"] = f"{PG_SERVER}/{PG_NAME}"
os.environ.setdefault("MAILLAGE_ENV", "test")
# PostgreSQL's JIT off on every connection of the harness, gunicorn's included (libpq reads PGOPTIONS):
# with its default, the scopes' correlated sub-plans make the planner compile for seconds
# (docs/PERFORMANCE.md, « Noticed, left alone »). BENCH_JIT=on measures the server's default instead.
if os.environ.get("BENCH_JIT", "off") == "off":
    os.environ["PGOPTIONS"] = (os.environ.get("PGOPTIONS", "") + " -c jit=off").strip()
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"


def fingerprint() -> str:
    """The scale, the builder's code and the migrations: a cached database is reused while it holds."""
    digest = hashlib.sha256(SCALE.encode())
    for path in sorted(
        [*ROOT.glob("maillage/*/migrations/*.py"), ROOT / "bench" / "build.py", ROOT / "bench" / "db.py"]
    ):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


META = OUT / f"{SCALE}-{BACKEND}.json"


def cached() -> dict | None:
    if os.environ.get("BENCH_REBUILD") or not META.exists():
        return None
    meta = json.loads(META.read_text())
    if meta.get("fingerprint") != fingerprint():
        return None
    if BACKEND == "sqlite" and not SQLITE_PATH.exists():
        return None
    if BACKEND == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_NAME]).fetchone():
                return None
    return meta


def recreate_database() -> None:
    if BACKEND == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_NAME}"')


def main() -> int:
    meta = cached()
    if meta is None:
        recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench import report
    from bench.build import Builder, refresh_clock

    if meta is None:
        print(f"Building the {SCALE} scale on {connection.vendor} ({connection.settings_dict['NAME']})…")
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        migrated = time.perf_counter() - started
        fixtures = Builder(SCALE).run()
        built = time.perf_counter() - started
        meta = {
            "fingerprint": fingerprint(),
            "scale": SCALE,
            "backend": connection.vendor,
            "migrate_s": round(migrated, 1),
            "build_s": round(built, 1),
            "fixtures": fixtures,
        }
        META.write_text(json.dumps(meta, indent=1))
        print(f"Built in {built:.0f} s (migrations {migrated:.0f} s).")
        for label, count in fixtures["counts"].items():
            print(f"  {label:<32} {count:>10,}")
    else:
        print(f"Reusing the {SCALE} scale on {connection.vendor} (built in {meta['build_s']} s).")
    fixtures = meta["fixtures"]
    refresh_clock(fixtures)

    rows = []
    results = OUT / ("results-smoke.json" if SCALE == "smoke" else "results.json")

    def save(new: list[dict]) -> None:
        """Each stage's rows are merged as soon as they exist: a later stage failing loses nothing."""
        report.mark_growth(results, new)
        report.merge(results, new)
        rows.extend(new)

    if not ONLY or "scopes" in ONLY:
        from bench import scopes

        save(scopes.run(fixtures, SCALE))
    if not ONLY or "pages" in ONLY:
        from bench import pages

        save(pages.run(fixtures, SCALE))
    if "verify" in ONLY or (not ONLY and SCALE == "national"):
        save([report.verify_audit_row(SCALE)])
    if "load" in ONLY or (not ONLY and (SCALE == "national" or os.environ.get("BENCH_LOAD") == "1")):
        from bench import load

        save(load.run(fixtures, SCALE))
    if "load-csv" in ONLY:  # the load rows again from Locust's last statistics, without a new run
        from bench import load

        save(load.report_rows(SCALE))
    report.table(rows)
    failures = report.failures(rows)
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures and os.environ.get("BENCH_STRICT") == "1" else 0


if __name__ == "__main__":
    sys.exit(main())
