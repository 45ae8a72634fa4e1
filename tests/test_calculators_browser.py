"""The SINS calculator in a real browser: log in, fill worked case 1's L3 lesion, read the result."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import Personas
from tests.factories import TEST_PASSWORD


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sins_worked_case_1(chromium: Browser, live_server: LiveServer, personas: Personas) -> None:
    page = chromium.new_page()
    page.goto(f"{live_server.url}/calculators/sins/")
    # The login page comes first and brings us back.
    page.get_by_label("Username").fill(personas.radiologist.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/calculators/sins/")

    page.get_by_label("Vertebral level of the lesion").select_option("L3")
    page.get_by_label("Pain (SINS)").select_option("occasional_non_mechanical")
    page.get_by_label("Bone lesion").select_option("mixed")
    page.get_by_label("Radiographic spinal alignment").select_option("normal")
    page.get_by_label("Vertebral body collapse").select_option("none_over_50_involved")
    page.get_by_label("Posterolateral involvement of spinal elements").select_option("unilateral")
    page.get_by_role("button", name="Calculate").click()

    result = page.get_by_role("region", name="Result")
    expect(result.locator("dd.total")).to_have_text("6")
    expect(result.locator("dd.category")).to_have_text("Stable (0-6)")
    expect(result.get_by_role("row", name="Spinal location (SINS) mobile 2")).to_be_visible()
    expect(page.get_by_label("Vertebral level of the lesion")).to_have_value("L3")
    page.close()
