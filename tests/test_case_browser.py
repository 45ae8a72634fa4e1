"""The case pages in a real browser (Debian's chromium driven by Playwright): a radiologist fills
the radiology section from "my work"; an oncologist then sees it, read-only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from cases.models import Case, RadiologySection
from tests.conftest import Personas
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(chromium: Browser, base_url: str, user: User) -> Page:
    """A fresh browser context (its own cookies), logged in through the login page."""
    page = chromium.new_context(base_url=base_url).new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=f"Welcome, {user.display_name}")).to_be_visible()
    return page


def test_radiologist_fills_the_section_and_the_oncologist_reads_it(
    chromium: Browser, live_server: LiveServer, personas: Personas, make_case: Callable[..., Case]
) -> None:
    case = make_case()

    page = log_in(chromium, live_server.url, personas.radiologist)
    page.get_by_role("link", name="My work").click()
    waiting = page.get_by_role("table", name="Sections waiting for you")
    expect(waiting).to_contain_text("Radiologist: date of the whole-spine MRI")
    waiting.get_by_role("link", name=case.patient.name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.patient.name)
    page.get_by_role("link", name="Open the form (radiology)").click()

    page.get_by_label("Vertebrae involved (count)").fill("1")
    page.get_by_label("Brain metastases").select_option(label="no")
    page.get_by_label("Level, row 1", exact=True).select_option("T7")
    page.get_by_label("Index lesion, row 1", exact=True).check()
    page.get_by_label("ESCC grade (Bilsky), row 1", exact=True).select_option("2")
    page.get_by_label("Pathological fracture, row 1", exact=True).select_option(label="yes")
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("status")).to_contain_text("Draft saved.")
    expect(page.get_by_label("Vertebrae involved (count)")).to_have_value("1")
    expect(page.get_by_label("Brain metastases")).to_have_value("false")
    # A saved row is named by its level.
    expect(page.get_by_label("Level, T7", exact=True)).to_have_value("T7")
    expect(page.get_by_label("Index lesion, T7", exact=True)).to_be_checked()
    expect(page.get_by_label("ESCC grade (Bilsky), T7", exact=True)).to_have_value("2")
    expect(page.get_by_label("Pathological fracture, T7", exact=True)).to_have_value("true")
    section = RadiologySection.objects.get(case=case)
    assert (section.version, section.vertebrae_involved, section.brain_metastases) == (2, 1, False)
    assert list(section.lesions.values_list("level", "is_index", "escc_grade")) == [("T7", True, "2")]

    reader = log_in(chromium, live_server.url, personas.oncologist)
    reader.goto(f"/cases/{case.pk}/sections/radiology/")
    expect(reader.get_by_text("you see it read-only")).to_be_visible()
    expect(reader.get_by_text("T7: Index lesion yes, ESCC grade (Bilsky) 2, Pathological fracture yes")).to_be_visible()
    expect(reader.get_by_role("button", name="Save draft")).to_have_count(0)
    expect(reader.locator("input:not([type=hidden]), select, textarea")).to_have_count(0)
