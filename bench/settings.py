"""Settings for the benchmark: the production settings, plus the bench-only URL `/bench/ping/`.

Everything else comes from the environment exactly as in production (`bench.__main__` sets
DJANGO_DEBUG=0, a SECRET_KEY and the rest). Two differences, both outside the code paths measured:
the URLconf adds the baseline endpoint, and collected static files go to the bench's own folder
so a run never writes into the checkout's `staticfiles/`.
"""

from tumourboard.settings import *  # noqa: F403
from tumourboard.settings import BASE_DIR

ROOT_URLCONF = "bench.urls"
STATIC_ROOT = BASE_DIR / "var" / "bench" / "static"
