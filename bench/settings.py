"""The harness's settings: the project's, plus a bare authenticated page (``bench.urls``) to compare with.

The bare page lives here and not in ``maillage/``: it exists only to measure the cost of the full layout
(middleware, session, navigation, header and footer) without any of a real page's work.
"""

from config.settings import *  # noqa: F403
from config.settings import BASE_DIR, TEMPLATES

ROOT_URLCONF = "bench.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]
