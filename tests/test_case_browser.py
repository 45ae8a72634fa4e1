"""The case pages in a real browser (Debian's chromium driven by Playwright): a radiologist fills
the radiology section from "my work"; an oncologist then sees it, read-only."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

