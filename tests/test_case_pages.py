"""Case pages in the browser (issue 4): my work, the case list, the case page, the section form,
the referral form and the history page.

Forms are filled the way a browser fills them: the page is fetched, its form's current values are
read from the HTML, some are changed, and everything is posted back (version included).
"""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import SECTION_MODELS, Case, OncologySection, PainSection, Patient, RadiologySection, SurgerySection
from tests.conftest import VerifiedClient, enter_sins_lesion

pytestmark = pytest.mark.django_db

FormData = dict[str, list[str]]


class _FormReader(HTMLParser):
    """The values a browser would send for the form carrying `css_class` (no button pressed)."""

    def __init__(self, css_class: str) -> None:
        super().__init__()
        self.css_class = css_class
        self.inside = self.found = False
        self.data: FormData = {}
        self._select: str | None = None
        self._options: list[str] = []
        self._selected: list[str] = []
        self._textarea: str | None = None
        self._text = ""

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.css_class in a.get("class", "").split() and not self.found:
            self.inside = self.found = True
        if not self.inside:
            return
        if tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(a["name"], a.get("value", "on"))
            elif kind not in ("submit", "button"):
                self._add(a["name"], a.get("value", ""))
        elif tag == "select":
            self._select, self._options, self._selected = a["name"], [], []
        elif tag == "option" and self._select:
            self._options.append(a.get("value", ""))
            if "selected" in a:
                self._selected.append(a.get("value", ""))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            self._add(self._select, (self._selected or self._options[:1] or [""])[0])
            self._select = None
        elif tag == "textarea" and self._textarea:
            self._add(self._textarea, html.unescape(self._text.removeprefix("\n")))
            self._textarea = None


def read_form(content: bytes, css_class: str = "section-form") -> FormData:
    reader = _FormReader(css_class)
    reader.feed(content.decode())
    assert reader.found, f"no form with class {css_class!r} on the page"
    return reader.data


def browser(user) -> Client:
    client = VerifiedClient()
    client.force_login(user)
    return client


def section_url(case: Case, discipline: str) -> str:
    return f"/cases/{case.pk}/sections/{discipline}/"


def fill(client: Client, case: Case, discipline: str, action: str = "save", **values: str | list[str]) -> FormData:
    """The section form as the page shows it, with `values` typed in and a button pressed."""
    data = read_form(client.get(section_url(case, discipline)).content)
    for name, value in values.items():
        data[name] = value if isinstance(value, list) else [value]
    data["action"] = [action]
    return data


def markup(response) -> str:
    """The page's HTML, unescaped, whitespace collapsed."""
    return " ".join(html.unescape(response.content.decode()).split())


def text(response) -> str:
    """What a reader sees: the page without its tags."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


# --- who sees what


PAGES = ("/cases/", "/cases/my-work/", "/cases/{id}/", "/cases/{id}/sections/radiology/", "/cases/{id}/history/")


@pytest.mark.parametrize("page", PAGES)
def test_pages_need_a_login(client, make_case, page):
    case = make_case()
    response = client.get(page.format(id=case.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ["oncologist", "surgeon", "radiologist", "pain", "chair", "coordinator", "service"])
@pytest.mark.parametrize("page", PAGES)
def test_every_board_member_reads_every_page(personas, make_case, role, page):
    case = make_case()
    assert browser(getattr(personas, role)).get(page.format(id=case.pk)).status_code == 200


@pytest.mark.parametrize(
    "page",
    [
        "/cases/{id}/",
        "/cases/{id}/history/",
        *(f"/cases/{{id}}/sections/{d}/" for d in ("radiology", "surgery", "oncology", "pain")),
    ],
)
def test_outsider_gets_404_for_the_case(personas, make_case, page):
    case = make_case()
    client = browser(personas.outsider)
    assert client.get(page.format(id=case.pk)).status_code == 404
    assert client.post(page.format(id=case.pk), {"version": "1", "action": "save"}).status_code in (404, 405)


def test_outsider_posting_to_a_section_gets_404_and_writes_nothing(personas, make_case):
    case = make_case()
    response = browser(personas.outsider).post(section_url(case, "oncology"), {"version": "1", "kps": "80"})
    assert response.status_code == 404
    assert OncologySection.objects.get(case=case).version == 1


def test_outsider_lists_show_nothing_of_other_boards(personas, make_case):
    make_case()
    client = browser(personas.outsider)
    assert "Patient 1" not in text(client.get("/cases/"))
    assert "Patient 1" not in text(client.get("/cases/my-work/"))


def test_unknown_section_is_404(personas, make_case):
    case = make_case()
    assert browser(personas.radiologist).get(section_url(case, "cardiology")).status_code == 404


# --- case list and my work


def test_case_list_puts_emergencies_first(personas, make_case):
    make_case()
    second, third = make_case(), make_case()
    Case.objects.filter(pk=third.pk).update(urgency="emergency")
    Case.objects.filter(pk=second.pk).update(urgency="urgent")
    page = text(browser(personas.chair).get("/cases/"))
    assert page.index("Patient 3") < page.index("Patient 2") < page.index("Patient 1")
    assert "Emergency" in page
    assert "8 items, from Radiologist, Spine surgeon, Oncologist, Pain specialist" in page


def test_my_work_lists_the_specialists_waiting_sections_emergency_first_then_oldest(personas, make_case):
    old = make_case()
    make_case()
    urgent = make_case()
    Case.objects.filter(pk=old.pk).update(referral_date=timezone.localdate() - timedelta(days=5))
    Case.objects.filter(pk=urgent.pk).update(urgency="emergency")
    response = browser(personas.radiologist).get("/cases/my-work/")
    page = text(response)
    assert "Sections waiting for you" in page
    assert page.index("Patient 3") < page.index("Patient 1") < page.index("Patient 2")
    assert f'href="/cases/{old.pk}/sections/radiology/"' in markup(response)
    assert "Radiologist: date of the whole-spine MRI" in page  # what they still owe
    assert "Oncologist:" not in page  # not what others owe


def test_my_work_drops_submitted_sections_and_closed_cases(personas, make_case, section_api):
    submitted, closed = make_case(), make_case()
    make_case()
    api = section_api(personas.pain, submitted.pk)
    api.patch("pain", {"vas": 3})
    api.submit("pain")
    Case.objects.filter(pk=closed.pk).update(status="closed")
    page = text(browser(personas.pain).get("/cases/my-work/"))
    assert "Patient 3" in page
    assert "Patient 1" not in page and "Patient 2" not in page


def test_my_work_for_a_coordinator_shows_what_is_missing_and_from_whom(personas, make_case):
    make_case(goals="")
    page = text(browser(personas.coordinator).get("/cases/my-work/"))
    assert "Waiting for data" in page
    assert "Radiologist: Radiology section not submitted" in page
    assert "Oncologist: performance status (KPS or ECOG)" in page
    assert "Coordinator: the patient's stated goals and preferences" in page
    assert "Sections waiting for you" not in page


def test_my_work_of_a_ready_case_for_the_chair(personas, make_case):
    case = make_case()
    Case.objects.filter(pk=case.pk).update(status="ready")
    page = text(browser(personas.chair).get("/cases/my-work/"))
    ready_part = page[page.index("Ready for the board") : page.index("Waiting for data")]
    assert "Patient 1" in ready_part


def test_my_work_of_a_service_account_is_empty(personas, make_case):
    make_case()
    page = text(browser(personas.service).get("/cases/my-work/"))
    assert "Nothing is assigned to you" in page


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("role", "url"), [("chair", "/cases/"), ("radiologist", "/cases/my-work/"), ("coordinator", "/cases/my-work/")]
)
def test_lists_run_a_constant_number_of_queries(personas, make_case, django_assert_max_num_queries, role, url):
    client = browser(getattr(personas, role))
    make_case()
    one = _count(client, url)
    for _ in range(9):
        make_case()
    with django_assert_max_num_queries(one):
        response = client.get(url)
    assert "Patient 10" in text(response)


def test_case_page_runs_a_constant_number_of_queries(personas, make_case, section_api, django_assert_max_num_queries):
    case = make_case()
    client = browser(personas.chair)
    section_api(personas.radiologist, case.pk).patch("radiology", {"lesions": [{"level": "T4"}]})
    one = _count(client, f"/cases/{case.pk}/")
    levels = ("T4", "T5", "T6", "T7", "T8", "T9")
    section_api(personas.radiologist, case.pk).patch("radiology", {"lesions": [{"level": lvl} for lvl in levels]})
    section_api(personas.pain, case.pk).patch(
        "pain", {"lesions": [{"level": lvl, "sins_pain": "pain_free"} for lvl in levels]}
    )
    with django_assert_max_num_queries(one):
        response = client.get(f"/cases/{case.pk}/")
    assert "T9" in text(response)


# --- referral


REFERRAL = {
    "mrn": "MRN-0042",
    "name": "Ana Novak",
    "birth_date": "1961-04-09",
    "sex": "female",
    "referral_reason": "New thoracic back pain, known breast cancer",
    "referrer": "Dr Kos, oncology",
    "referred_primary": "breast",
    "goals": "Wants to keep walking",
}


def test_coordinator_registers_a_referral(personas):
    client = browser(personas.coordinator)
    page = client.get("/cases/new/")
    assert page.status_code == 200
    assert personas.other_board.name not in text(page)  # only boards they coordinate
    response = client.post("/cases/new/", {**REFERRAL, "board": personas.board.pk})
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/"
    assert (case.patient.mrn, case.referrer, case.created_by) == ("MRN-0042", "Dr Kos, oncology", personas.coordinator)
    assert "Ana Novak" in text(client.get(response["Location"]))


@pytest.mark.parametrize("role", ["surgeon", "chair", "service", "outsider"])
def test_only_coordinators_see_the_referral_form(personas, role):
    client = browser(getattr(personas, role))
    assert client.get("/cases/new/").status_code == 403
    assert client.post("/cases/new/", {**REFERRAL, "board": personas.board.pk}).status_code == 403
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"referral_reason": ""}, "referral_reason", "This field is required."),
        ({"birth_date": "2999-01-01"}, "birth_date", "Cannot be in the future"),
        ({"birth_date": "1850-01-01"}, "birth_date", "before 1900 is not plausible"),
        ({"referred_primary": "spleen"}, "referred_primary", "Select a valid choice"),
        ({"board": "999999"}, "board", "Select a valid choice"),
    ],
)
def test_referral_errors_are_shown_on_the_field_and_input_kept(personas, change, field, message):
    response = browser(personas.coordinator).post("/cases/new/", {**REFERRAL, "board": personas.board.pk, **change})
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page
    assert message in html.unescape(page)
    assert 'value="MRN-0042"' in page  # what the user typed stays
    assert not Case.objects.exists()


def test_referral_with_an_mrn_of_another_person_is_refused_on_the_mrn_field(personas, make_case):
    make_case(patient={"mrn": "MRN-0042", "name": "Someone Else", "birth_date": date(1950, 1, 1), "sex": "male"})
    response = browser(personas.coordinator).post("/cases/new/", {**REFERRAL, "board": personas.board.pk})
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert 'id="id_mrn_error"' in page
    assert "MRN MRN-0042 already belongs to Someone Else" in page
    assert Patient.objects.count() == 1 and Case.objects.count() == 1


# --- case page


def test_case_page_shows_summary_readiness_sections_and_scores(personas, make_case, section_api):
    case = make_case(goals="")
    section_api(personas.oncologist, case.pk).patch("oncology", {"primary": "lung_nsclc", "kps": 70})
    response = browser(personas.surgeon).get(f"/cases/{case.pk}/")
    page = text(response)
    assert "Patient 1" in page and "Spine MDT" in page and "Back pain, known cancer" in page
    # readiness: exactly what is missing, and from whom
    assert "Radiologist: date of the whole-spine MRI" in page
    assert "Oncologist: histology" in page
    assert "Oncologist: expected survival estimate" in page
    assert "Coordinator: the patient's stated goals and preferences" in page
    assert "Oncologist: performance status" not in page  # KPS is recorded
    # sections side by side with their state and key values
    for title in (
        "Radiology",
        "Surgery (neurology and surgical candidacy)",
        "Oncology (oncologic and systemic)",
        "Pain",
    ):
        assert title in page
    assert "Karnofsky performance status (KPS) 70" in page
    assert f'href="/cases/{case.pk}/sections/oncology/"' in markup(response)
    # scores: context, not treatment rules (spec 1.6)
    assert "not treatment rules" in page
    assert "Revised Tokuhashi score" in page
    assert "incomplete, missing: number of extraspinal bone metastases (foci)" in page
    assert "Rades MSCC survival score provisional" in page
    assert f'href="/cases/{case.pk}/history/"' in markup(response)


def test_case_page_shows_a_complete_score_with_its_items(personas, make_case, section_api):
    case = make_case()
    enter_sins_lesion(section_api, personas, case.pk)
    page = markup(browser(personas.chair).get(f"/cases/{case.pk}/"))
    sins = page[page.index("Spinal Instability Neoplastic Score (SINS)") :]
    assert sins.split("</tr>")[0].count("<td") >= 3
    assert '<td class="score">6</td>' in sins
    assert "<details>" in sins and "<summary>Items</summary>" in sins
    assert "ESCC graded below the conus" in page  # a flag


def test_stale_scores_are_never_shown_as_current(personas, make_case):
    case = make_case()
    client = browser(personas.pain)
    data = fill(client, case, "pain", vas="7")
    # The browser's save commits no on-commit callbacks here, so the recomputation has not run.
    assert client.post(section_url(case, "pain"), data).status_code == 302
    page = text(client.get(f"/cases/{case.pk}/"))
    assert "being recomputed" in page
    assert "incomplete, missing" not in page


def test_case_page_names_the_signer_of_a_submitted_section(personas, make_case, section_api):
    case = make_case()
    api = section_api(personas.pain, case.pk)
    api.patch("pain", {"vas": 3})
    api.submit("pain")
    page = text(browser(personas.chair).get(f"/cases/{case.pk}/"))
    assert f"Submitted by {personas.pain.display_name} on" in page


# --- section form: who edits


def test_owner_gets_the_form_and_others_a_read_only_view(personas, make_case):
    case = make_case()
    owner = browser(personas.oncologist).get(section_url(case, "oncology")).content.decode()
    assert 'class="form section-form"' in owner
    assert 'name="version" value="1"' in owner
    assert 'name="csrfmiddlewaretoken"' in owner
    for role in ("surgeon", "chair", "coordinator", "service"):
        page = browser(getattr(personas, role)).get(section_url(case, "oncology")).content.decode()
        assert "section-form" not in page
        assert "Karnofsky performance status (KPS)" in page


@pytest.mark.parametrize("role", ["surgeon", "radiologist", "pain", "chair", "coordinator", "service"])
def test_others_posting_to_a_section_get_403(personas, make_case, role):
    case = make_case()
    response = browser(getattr(personas, role)).post(
        section_url(case, "oncology"), {"version": "1", "action": "save", "kps": "80"}
    )
    assert response.status_code == 403
    assert OncologySection.objects.get(case=case).version == 1


def test_labels_are_bound_to_inputs(personas, make_case):
    case = make_case()
    page = browser(personas.radiologist).get(section_url(case, "radiology")).content.decode()
    assert '<label for="id_vertebrae_involved">' in page and 'id="id_vertebrae_involved"' in page
    assert '<label class="visually-hidden" for="id_lesions-0-level">' in page
    assert "<legend>Visceral metastases</legend>" in page


# --- section form: saving


def test_radiologist_saves_a_lesion_and_case_fields(personas, make_case):
    case = make_case()
    client = browser(personas.radiologist)
    data = fill(
        client,
        case,
        "radiology",
        vertebrae_involved="2",
        brain_metastases="false",
        visceral_organs=["none"],
        **{
            "lesions-0-level": "T4",
            "lesions-0-is_index": "on",
            "lesions-0-escc_grade": "2",
            "lesions-0-pathological_fracture": "true",
        },
    )
    response = client.post(section_url(case, "radiology"), data)
    assert response.status_code == 302 and response["Location"] == section_url(case, "radiology")
    section = RadiologySection.objects.get(case=case)
    assert (section.version, section.vertebrae_involved, section.brain_metastases, section.visceral_organs) == (
        2,
        2,
        False,
        [],
    )
    lesion = section.lesions.get()
    assert (lesion.level, lesion.is_index, lesion.escc_grade, lesion.pathological_fracture, lesion.retropulsion) == (
        "T4",
        True,
        "2",
        True,
        None,
    )
    assert section.extraspinal_pathological_fracture is None  # untouched: not recorded, never "no"
    page = markup(client.get(section_url(case, "radiology")))
    assert "Draft saved." in page
    assert 'name="version" value="2"' in page


def test_nothing_recorded_stays_null_and_organs_can_be_cleared(personas, make_case):
    case = make_case()
    client = browser(personas.radiologist)
    client.post(
        section_url(case, "radiology"),
        fill(client, case, "radiology", visceral_organs=["lung", "liver"], brain_metastases="true"),
    )
    assert RadiologySection.objects.get(case=case).visceral_organs == ["lung", "liver"]
    client.post(
        section_url(case, "radiology"), fill(client, case, "radiology", visceral_organs=[], brain_metastases="unknown")
    )
    section = RadiologySection.objects.get(case=case)
    assert (section.visceral_organs, section.brain_metastases) == (None, None)


def test_removing_a_lesion_row(personas, make_case, section_api):
    case = make_case()
    section_api(personas.radiologist, case.pk).patch("radiology", {"lesions": [{"level": "T4"}, {"level": "T9"}]})
    client = browser(personas.radiologist)
    data = fill(client, case, "radiology", **{"lesions-1-DELETE": "on"})
    assert data["lesions-1-level"] == ["T9"]
    assert client.post(section_url(case, "radiology"), data).status_code == 302
    assert list(RadiologySection.objects.get(case=case).lesions.values_list("level", flat=True)) == ["T4"]


def test_surgery_and_pain_rows_follow_radiology_levels(personas, make_case, section_api):
    case = make_case()
    section_api(personas.radiologist, case.pk).patch("radiology", {"lesions": [{"level": "T9"}, {"level": "T4"}]})
    client = browser(personas.surgeon)
    data = fill(client, case, "surgery", **{"lesions-0-mechanical_judgement": "unstable", "frankel": "D"})
    assert (data["lesions-0-level"], data["lesions-1-level"]) == (["T4"], ["T9"])
    assert client.post(section_url(case, "surgery"), data).status_code == 302
    section = SurgerySection.objects.get(case=case)
    assert section.frankel == "D"
    # an empty row records nothing for its level
    assert list(section.lesions.values_list("level", "mechanical_judgement")) == [("T4", "unstable")]


def test_saving_an_unchanged_form_writes_nothing(personas, make_case):
    case = make_case()
    client = browser(personas.pain)
    response = client.post(section_url(case, "pain"), fill(client, case, "pain"), follow=True)
    assert "Nothing to save" in text(response)
    assert PainSection.objects.get(case=case).version == 1


# --- section form: errors


@pytest.mark.parametrize(
    ("discipline", "owner", "values", "field", "message"),
    [
        ("oncology", "oncologist", {"kps": "75"}, "kps", "Must be a multiple of 10; 75 is not"),
        ("oncology", "oncologist", {"ecog": "6"}, "ecog", "less than or equal to 5"),
        (
            "oncology",
            "oncologist",
            {"primary_diagnosis_date": "2999-01-01"},
            "primary_diagnosis_date",
            "Cannot be in the future",
        ),
        ("oncology", "oncologist", {"kps": "eighty"}, "kps", "Enter a whole number"),
        ("pain", "pain", {"vas": "11"}, "vas", "less than or equal to 10"),
        ("radiology", "radiologist", {"vertebrae_involved": "0"}, "vertebrae_involved", "greater than or equal to 1"),
        (
            "radiology",
            "radiologist",
            {"visceral_organs": ["none", "lung"]},
            "visceral_organs",
            'Tick "none" or organs, not both.',
        ),
    ],
)
def test_field_errors_are_shown_with_the_input_kept(personas, make_case, discipline, owner, values, field, message):
    case = make_case()
    client = browser(getattr(personas, owner))
    response = client.post(section_url(case, discipline), fill(client, case, discipline, **values))
    assert response.status_code == 400
    page = response.content.decode()
    error = re.search(rf'<ul class="errorlist" role="alert" id="id_{field}_error">(.*?)</ul>', page)
    assert error is not None and message in html.unescape(error[1])
    assert 'aria-invalid="true"' in page
    typed = next(iter(values.values()))
    if isinstance(typed, str):
        assert f'value="{typed}"' in page
    assert SECTION_MODELS[discipline].objects.get(case=case).version == 1  # type: ignore[attr-defined]


def test_lesion_errors_land_on_their_row_and_table(personas, make_case):
    case = make_case()
    client = browser(personas.radiologist)
    # A row with values but no level, and two index lesions.
    data = fill(
        client,
        case,
        "radiology",
        **{
            "lesions-0-escc_grade": "2",
            "lesions-0-is_index": "on",
            "lesions-1-level": "T4",
            "lesions-1-is_index": "on",
        },
    )
    response = client.post(section_url(case, "radiology"), data)
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert 'id="id_lesions-0-level_error"' in page and "This field is required." in page
    assert RadiologySection.objects.get(case=case).version == 1
    data = fill(
        client,
        case,
        "radiology",
        **{"lesions-0-level": "T4", "lesions-0-is_index": "on", "lesions-1-level": "T5", "lesions-1-is_index": "on"},
    )
    page = html.unescape(client.post(section_url(case, "radiology"), data).content.decode())
    assert "Exactly one lesion can be the index lesion (spec 4.5)." in page
    assert 'value="T5" selected' in page


def test_prior_radiotherapy_rows_are_saved_and_their_errors_land_on_the_row(personas, make_case):
    case = make_case()
    client = browser(personas.oncologist)
    course = {
        "prior_radiotherapy-0-level": "T4",
        "prior_radiotherapy-0-dose_gy": "8",
        "prior_radiotherapy-0-date": "2024-01-01",
    }
    response = client.post(
        section_url(case, "oncology"),
        fill(client, case, "oncology", **course, **{"prior_radiotherapy-0-fractions": "0"}),
    )
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert re.search(
        r'id="id_prior_radiotherapy-0-fractions_error"><li>Ensure this value is greater than or equal to 1.', page
    )
    response = client.post(
        section_url(case, "oncology"),
        fill(client, case, "oncology", **course, **{"prior_radiotherapy-0-fractions": "1"}),
    )
    assert response.status_code == 302
    stored = OncologySection.objects.get(case=case).prior_radiotherapy
    assert stored == [{"level": "T4", "dose_gy": 8.0, "fractions": 1, "date": "2024-01-01"}]
    # the stored course reads back as unchanged
    again = client.post(section_url(case, "oncology"), fill(client, case, "oncology"), follow=True)
    assert "Nothing to save" in text(again)


# --- submit and reopen


def test_save_and_submit_signs_the_section(personas, make_case):
    case = make_case()
    client = browser(personas.pain)
    response = client.post(section_url(case, "pain"), fill(client, case, "pain", "submit", vas="4"))
    assert response.status_code == 302
    section = PainSection.objects.get(case=case)
    assert (section.state, section.vas, section.submitted_by, section.version) == ("submitted", 4, personas.pain, 3)
    page = text(client.get(section_url(case, "pain")))
    assert "Section submitted and signed." in page
    assert f"Submitted by {personas.pain.display_name}" in page
    assert "section-form" not in page and "Reopen the section" in page


def test_submit_rules_are_shown_on_the_fields_and_the_draft_is_kept(personas, make_case):
    case = make_case()
    client = browser(personas.surgeon)
    response = client.post(
        section_url(case, "surgery"),
        fill(client, case, "surgery", "submit", motor_deficit="true", fit_for_surgery="false"),
    )
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "Draft saved, but not submitted" in page
    assert 'id="id_motor_deficit_onset_error"' in page and "Required when motor_deficit is true (spec 4.2)." in page
    assert 'id="id_fit_for_surgery_reason_error"' in page
    section = SurgerySection.objects.get(case=case)
    assert (section.state, section.motor_deficit, section.fit_for_surgery) == ("draft", True, False)
    assert f'name="version" value="{section.version}"' in page


def test_radiology_cannot_be_submitted_without_a_lesion(personas, make_case):
    case = make_case()
    client = browser(personas.radiologist)
    response = client.post(section_url(case, "radiology"), fill(client, case, "radiology", "submit"))
    assert response.status_code == 400
    assert "Describe at least one lesion before submitting." in html.unescape(response.content.decode())
    assert RadiologySection.objects.get(case=case).state == "draft"


def test_reopen_needs_a_reason(personas, make_case, section_api):
    case = make_case()
    api = section_api(personas.pain, case.pk)
    api.patch("pain", {"vas": 4})
    api.submit("pain")
    client = browser(personas.pain)
    blank = read_form(client.get(section_url(case, "pain")).content, "reopen")
    response = client.post(section_url(case, "pain"), {**blank, "reason": "  "})
    assert response.status_code == 400
    assert 'id="id_reason_error"' in response.content.decode()
    assert PainSection.objects.get(case=case).state == "submitted"
    response = client.post(section_url(case, "pain"), {**blank, "reason": "New MRI shows a second level"})
    assert response.status_code == 302
    section = PainSection.objects.get(case=case)
    assert (section.state, section.reopen_reason, section.submitted_by) == (
        "draft",
        "New MRI shows a second level",
        None,
    )
    assert "section-form" in client.get(section_url(case, "pain")).content.decode()


def test_a_closed_case_shows_its_sections_read_only(personas, make_case):
    case = make_case()
    Case.objects.filter(pk=case.pk).update(status="closed")
    client = browser(personas.pain)
    page = text(client.get(section_url(case, "pain")))
    assert "section-form" not in page and "can no longer be changed" in page
    response = client.post(section_url(case, "pain"), {"version": "1", "action": "save", "vas": "4"}, follow=True)
    assert "its sections can no longer be changed" in text(response)
    assert PainSection.objects.get(case=case).version == 1


# --- concurrent edits


def test_stale_form_keeps_the_users_input_and_shows_the_other_value(personas, make_case, section_api):
    case = make_case()
    client = browser(personas.oncologist)
    mine = fill(client, case, "oncology", kps="90", histology_detail="Adenocarcinoma")
    # Another oncologist's tab saves first.
    assert section_api(personas.oncologist, case.pk).patch("oncology", {"kps": 70, "ecog": 1}).status_code == 200
    response = client.post(section_url(case, "oncology"), mine)
    assert response.status_code == 409
    page = html.unescape(response.content.decode())
    assert "Someone else changed this section" in page
    assert 'name="kps" value="90"' in page  # the user's input is kept
    assert "Adenocarcinoma" in page
    kps = page[page.index('name="kps"') :].split("</div>")[0]
    assert "Now saved by" in kps and "<strong>70</strong>" in kps
    ecog = page[page.index('name="ecog"') :].split("</div>")[0]
    assert "<strong>1</strong>" in ecog
    histology = page[page.index('name="histology_detail"') :].split("</div>")[0]
    assert "<strong>not recorded</strong>" in histology
    section = OncologySection.objects.get(case=case)
    assert (section.kps, section.version) == (70, 2)  # nothing overwritten
    # Saving again, having seen their change, is deliberate: the form now carries version 2.
    again = read_form(response.content)
    assert again["version"] == ["2"] and again["kps"] == ["90"]
    again["action"] = ["save"]
    assert client.post(section_url(case, "oncology"), again).status_code == 302
    section.refresh_from_db()
    # Their ECOG was shown next to the (blank) field; the user kept the blank, so it is cleared.
    assert (section.kps, section.ecog, section.histology_detail, section.version) == (90, None, "Adenocarcinoma", 3)


def test_stale_form_on_a_section_submitted_meanwhile_keeps_the_input_for_reference(personas, make_case, section_api):
    case = make_case()
    client = browser(personas.pain)
    mine = fill(client, case, "pain", vas="8")
    api = section_api(personas.pain, case.pk)
    api.patch("pain", {"vas": 3})
    api.submit("pain")
    response = client.post(section_url(case, "pain"), mine)
    assert response.status_code == 409
    page = response.content.decode()
    assert 'name="vas" value="8"' in page and "<strong>3</strong>" in page
    assert "Save draft" not in page and "Reopen the section" in page
    assert PainSection.objects.get(case=case).vas == 3


def test_stale_lesion_table_shows_the_saved_rows(personas, make_case, section_api):
    case = make_case()
    client = browser(personas.radiologist)
    mine = fill(client, case, "radiology", **{"lesions-0-level": "T4"})
    section_api(personas.radiologist, case.pk).patch("radiology", {"lesions": [{"level": "L1", "escc_grade": "3"}]})
    page = html.unescape(client.post(section_url(case, "radiology"), mine).content.decode())
    table = page[page.index('id="table-lesions"') :]
    assert "Now saved by" in table and "L1: ESCC grade (Bilsky) 3" in table


def test_stale_reopen_changes_nothing(personas, make_case, section_api):
    case = make_case()
    api = section_api(personas.pain, case.pk)
    api.patch("pain", {"vas": 4})
    api.submit("pain")
    client = browser(personas.pain)
    response = client.post(
        section_url(case, "pain"), {"version": "1", "action": "reopen", "reason": "old tab"}, follow=True
    )
    assert "Someone else changed this section" in text(response)
    assert PainSection.objects.get(case=case).state == "submitted"


# --- history


def test_history_page_shows_field_by_field_changes(personas, make_case, section_api):
    case = make_case()
    api = section_api(personas.pain, case.pk)
    api.patch("pain", {"vas": 4, "analgesic_step": "2"})
    api.submit("pain")
    api.reopen("pain", "New MRI")
    api.patch("pain", {"vas": 6})
    page = markup(browser(personas.chair).get(f"/cases/{case.pk}/history/"))
    assert f"pain changed by {personas.pain.display_name}" in page
    assert '<th scope="row">Pain VAS (0-10)</th><td class="old">4</td><td class="new">6</td>' in page
    assert "(reopened: New MRI)" in page
    assert f'<td class="new">{personas.pain.display_name}</td>' in page  # the signer, not an id
    assert "Analgesic step (WHO ladder)" in page and "step 2" in page
    assert "case created by" in page and "(referral registered)" in page


def test_history_page_query_count_is_bounded(personas, make_case, section_api, django_assert_max_num_queries):
    case = make_case()
    client = browser(personas.chair)
    one = _count(client, f"/cases/{case.pk}/history/")
    api = section_api(personas.pain, case.pk)
    for vas in range(5):
        api.patch("pain", {"vas": vas, "lesions": []})
    with django_assert_max_num_queries(one):
        client.get(f"/cases/{case.pk}/history/")


def test_whole_spine_imaging_time_round_trips(personas, make_case):
    case = make_case()
    client = browser(personas.radiologist)
    when = timezone.localtime(timezone.now() - timedelta(days=1)).replace(second=0, microsecond=0)
    data = fill(
        client,
        case,
        "radiology",
        whole_spine_imaging_at=when.strftime("%Y-%m-%dT%H:%M"),
        whole_spine_imaging_modality="mri",
    )
    assert client.post(section_url(case, "radiology"), data).status_code == 302
    assert RadiologySection.objects.get(case=case).whole_spine_imaging_at == when
    page = browser(personas.chair).get(f"/cases/{case.pk}/").content.decode()
    assert when.strftime("%Y-%m-%d %H:%M") in page
