"""Calculator pages: forms generated from the registry, validated by it, results as in spec 1.3."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects
from rest_framework.test import APIClient

from accounts.models import User
from scoring.forms import BOOLEAN_HELP
from scoring.registry import REGISTRY
from tests.conftest import Personas

pytestmark = pytest.mark.django_db

SINS_CASE_1 = {
    "level": "L3", "pain": "occasional_non_mechanical", "bone_lesion": "mixed", "alignment": "normal",
    "collapse": "none_over_50_involved", "posterolateral": "unilateral",
}  # fmt: skip


@pytest.fixture
def browser(personas: Personas) -> Client:
    client = Client()
    client.force_login(personas.surgeon)
    return client


def test_list_links_every_system_and_marks_provisional_ones(browser: Client) -> None:
    response = browser.get("/calculators/")

    assert response.status_code == 200
    for system in REGISTRY.values():
        assertContains(response, f'<a href="/calculators/{system.name}/">{system.title}</a>', html=True)
    assert response.content.decode().count('<span class="badge">provisional</span>') == 2
    assertContains(response, "not treatment rules")


def test_nav_links_the_calculators(browser: Client) -> None:
    assertContains(browser.get("/"), '<a href="/calculators/">Calculators</a>', html=True)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_form_has_every_input_with_a_bound_label(browser: Client, name: str) -> None:
    response = browser.get(f"/calculators/{name}/")

    assert response.status_code == 200
    html = response.content.decode()
    assertContains(response, "csrfmiddlewaretoken")
    assertContains(response, "not treatment rules")
    for spec in REGISTRY[name].inputs:
        assert f'<label for="id_{spec.name}">{spec.label}' in html
        assert f'name="{spec.name}"' in html and f'id="id_{spec.name}"' in html
        help_text = BOOLEAN_HELP if spec.type == "boolean" else spec.help
        if help_text:
            assertContains(response, f'<span class="help" id="id_{spec.name}_helptext">{help_text}</span>', html=True)
    assert ('<span class="badge">provisional</span>' in html) is REGISTRY[name].provisional


def _select(html: str, name: str) -> str:
    match = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no select for {name}"
    return match.group(1)


def test_widgets_follow_the_input_types(browser: Client) -> None:
    sins = browser.get("/calculators/sins/").content.decode()
    collapse = _select(sins, "collapse")
    codes = ["", "over_50", "under_50", "none_over_50_involved", "none"]
    assert re.findall(r'<option value="([^"]*)"', collapse) == codes
    assert '<option value="" selected>—</option>' in collapse
    assert 'aria-required="true"' in sins.split('name="collapse"')[1].split(">")[0]

    bauer = browser.get("/calculators/bauer/").content.decode()
    fracture = _select(bauer, "pathological_fracture")
    assert re.findall(r'<option value="([^"]*)">([^<]*)<', fracture.replace(" selected", "")) == [
        ("", "—"), ("true", "yes"), ("false", "no"),
    ]  # fmt: skip
    assert '<option value="breast">' in _select(bauer, "primary")

    vdl = browser.get("/calculators/van_der_linden/").content.decode()
    kps = re.search(r'<input type="number" name="kps"[^>]*>', vdl)
    assert kps and all(attr in kps.group(0) for attr in ('min="20"', 'max="100"', 'step="10"'))
    rades = browser.get("/calculators/rades/").content.decode()
    months = re.search(r'<input type="number" name="months_from_diagnosis"[^>]*>', rades)
    assert months and 'step="any"' in months.group(0) and 'min="0"' in months.group(0)


def test_valid_post_shows_total_category_items_and_citation(browser: Client) -> None:
    response = browser.post("/calculators/sins/", SINS_CASE_1)

    assert response.status_code == 200
    assertContains(response, '<dd class="total">6</dd>', html=True)
    assertContains(response, '<dd class="category">Stable (0-6)</dd>', html=True)
    for label, value, points in [
        ("Spinal location (SINS)", "mobile", 2),
        ("Pain (SINS)", "occasional non mechanical", 1),
        ("Bone lesion", "mixed", 1),
        ("Radiographic spinal alignment", "normal", 0),
        ("Vertebral body collapse", "none over 50 involved", 1),
        ("Posterolateral involvement of spinal elements", "unilateral", 1),
    ]:
        assertContains(response, f"<tr><td>{label}</td><td>{value}</td><td>{points}</td></tr>", html=True)
    assertContains(response, REGISTRY["sins"].citation)
    assertNotContains(response, 'role="alert"')


def test_provisional_result_shows_badge_and_flag(browser: Client) -> None:
    body = {"primary": "kidney", "months_from_diagnosis": "40", "visceral_metastases": "false",
            "other_bone_metastases": "true", "ambulatory": "true", "motor_deficit_days": "10"}  # fmt: skip

    response = browser.post("/calculators/rades/", body)

    assertContains(response, '<dd class="total">35</dd>', html=True)
    assertContains(response, "6-month survival 48 %")
    assertContains(response, '<li class="flag">provisional: ', count=1)
    assertContains(response, "<tr><td>Ambulatory before treatment</td><td>yes</td><td>7</td></tr>", html=True)
    # Typed as an integer, kept as one (as a JSON client's 40 would be).
    assertContains(response, "<tr><td>Months from primary diagnosis to MSCC</td><td>40</td><td>7</td></tr>", html=True)


def test_no_is_an_answer_and_not_given_is_not(browser: Client) -> None:
    body = {"primary": "breast", "visceral_or_brain_metastases": "false", "solitary_skeletal_metastasis": "true"}

    missing = browser.post("/calculators/bauer/", {**body, "pathological_fracture": ""})
    answered = browser.post("/calculators/bauer/", {**body, "pathological_fracture": "false"})

    assertContains(
        missing,
        '<span class="errorlist" id="id_pathological_fracture_error" role="alert">This field is required.</span>',
        html=True,
    )
    assertContains(answered, '<dd class="total">5</dd>', html=True)
    assertContains(answered, '<dd class="category">Good (4-5)</dd>', html=True)


def test_invalid_post_shows_the_registrys_errors_and_keeps_the_input(
    browser: Client, client_for: Callable[[User], APIClient], personas: Personas
) -> None:
    response = browser.post("/calculators/tokuhashi_revised/", {
        "kps": "75", "extraspinal_bone_metastases": "2", "vertebral_metastases": "",
        "major_organ_metastases": "removable", "primary": "breast", "frankel": "",
    })  # fmt: skip

    assert response.status_code == 200
    api_body = {"kps": 75, "extraspinal_bone_metastases": 2, "major_organ_metastases": "removable", "primary": "breast"}
    api = client_for(personas.surgeon)
    api_errors = api.post("/api/v1/calculators/tokuhashi_revised/", api_body, format="json").json()
    assert set(api_errors) == {"kps", "vertebral_metastases", "frankel"}
    for name, messages in api_errors.items():
        assertContains(
            response, f'<span class="errorlist" id="id_{name}_error" role="alert">{messages[0]}</span>', html=True
        )
    html = response.content.decode()
    assert re.search(r'<input type="number" name="kps" value="75"[^>]*aria-invalid="true"', html)
    assert re.search(r'<input type="number" name="extraspinal_bone_metastases" value="2"', html)
    assert '<option value="removable" selected>' in _select(html, "major_organ_metastases")
    assert '<option value="breast" selected>' in _select(html, "primary")
    assertNotContains(response, 'class="result"')


def test_exactly_one_of_is_shown_above_the_form(browser: Client) -> None:
    response = browser.post("/calculators/sins/", {**SINS_CASE_1, "location": "mobile"})

    assertContains(
        response,
        '<div class="errors" role="alert"><p>Give exactly one of level or location (got both).</p></div>',
        html=True,
    )
    assertNotContains(response, 'class="result"')


@pytest.mark.parametrize("typed", ["eighty", "80.0"])
def test_a_kps_that_is_not_an_integer_is_worded_as_in_the_api(browser: Client, typed: str) -> None:
    response = browser.post("/calculators/performance_status/", {"kps": typed, "ecog": ""})

    assertContains(
        response,
        '<span class="errorlist" id="id_kps_error" role="alert">A valid integer is required.</span>',
        html=True,
    )
    # What was typed counts as given, so exactly-one-of has nothing to add.
    assertContains(response, 'role="alert"', count=1)
    assertContains(response, f'value="{typed}"')


def test_primary_without_a_tabulated_value_needs_the_override(browser: Client) -> None:
    body = {"primary": "myeloma", "visceral_metastases": "none", "bone_metastases": "multiple", "primary_growth": ""}

    response = browser.post("/calculators/tomita/", body)

    assertContains(
        response,
        '<span class="errorlist" id="id_primary_growth_error" role="alert">'
        'This field is required: spec 2.1 gives primary "myeloma" no growth class.</span>',
        html=True,
    )


def test_unknown_system_is_404(browser: Client) -> None:
    assert browser.get("/calculators/nesms/").status_code == 404


@pytest.mark.parametrize("path", ["/calculators/", "/calculators/sins/"])
def test_login_required(client: Client, path: str) -> None:
    response = client.get(path)

    assertRedirects(response, f"/accounts/login/?next={path}", fetch_redirect_response=False)


def test_post_needs_csrf(personas: Personas) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.surgeon)

    assert client.post("/calculators/sins/", SINS_CASE_1).status_code == 403
