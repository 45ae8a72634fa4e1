"""The case page's clinical panels: MSCC emergency (spec 6), NOMS proposal (spec 5), decisions."""

from __future__ import annotations

import pytest
from django.core import mail

pytestmark = pytest.mark.django_db


def _emergency(personas, make_case, section_api):
    case = make_case()
    section_api(personas.radiologist, case.pk).patch("radiology", {"lesions": [{"level": "T8", "escc_grade": "3"}]})
    section_api(personas.surgeon, case.pk).patch("surgery", {"motor_deficit": True})
    return case


def test_emergency_panel_checklist_and_clock(client, personas, make_case, section_api):
    case = _emergency(personas, make_case, section_api)
    client.force_login(personas.surgeon)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "MSCC emergency" in html and "Do not wait for the weekly meeting" in html
    assert "Dexamethasone 8 mg" in html
    assert "24-hour target" in html
    response = client.post(f"/cases/{case.pk}/emergency/admit/", {"note": "Ward 4"}, follow=True)
    html = response.content.decode()
    assert "Checklist step acknowledged." in html and "Ward 4" in html
    # Service accounts read, never write.
    client.force_login(personas.service)
    assert client.post(f"/cases/{case.pk}/emergency/whole_spine_mri/").status_code == 403
    client.force_login(personas.outsider)
    assert client.post(f"/cases/{case.pk}/emergency/whole_spine_mri/").status_code == 404
    assert len(mail.outbox) == 1


def test_chair_sets_urgency_on_the_page(client, personas, make_case, section_api):
    case = _emergency(personas, make_case, section_api)
    client.force_login(personas.surgeon)
    assert client.post(f"/cases/{case.pk}/urgency/", {"urgency": "urgent", "reason": "x"}).status_code == 403
    client.force_login(personas.chair)
    refused = client.post(f"/cases/{case.pk}/urgency/", {"urgency": "urgent", "reason": ""}, follow=True)
    assert "needs a recorded reason" in refused.content.decode()
    done = client.post(
        f"/cases/{case.pk}/urgency/", {"urgency": "urgent", "reason": "Long-standing, treated"}, follow=True
    )
    assert "Urgency set to urgent." in done.content.decode()
    case.refresh_from_db()
    assert (case.urgency, case.urgency_computed) == ("urgent", "emergency")


def test_recommendation_panel_shows_rules_and_decision_support(client, personas, make_case, section_api):
    case = make_case()
    section_api(personas.oncologist, case.pk).patch("oncology", {"primary": "unknown"})
    client.force_login(personas.pain)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "NOMS proposal" in html and "the board decides" in html
    assert "Incomplete: missing" in html
    assert "R17" in html and "R19" in html  # work-up for the unknown primary; bone-targeted agent
