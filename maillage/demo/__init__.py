"""The demo programme "Ville de Démo", built by ``manage.py seed_demo``. Synthetic people only.

Each module adds one area and is idempotent: running the seed twice changes nothing.
"""

DEMO_PASSWORD = "Maillage-demo-2026"  # noqa: S105 -- published demo password, refused in production
DEMO_SLUG = "ville-de-demo"
