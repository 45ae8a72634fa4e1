"""The append-only audit log of reads and exports (issue 9)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.models import AccessEvent, AppendOnlyError

pytestmark = pytest.mark.django_db


def test_reads_of_patient_data_are_logged_with_who_what_where(client_for, personas, make_case):
    case = make_case()
    client = client_for(personas.surgeon)
    client.get(f"/api/v1/cases/{case.pk}/", HTTP_USER_AGENT="pytest-agent")
    client.get(f"/api/v1/cases/{case.pk}/sections/radiology/")
    client.get("/api/v1/cases/?status=referred")
    events = list(AccessEvent.objects.order_by("id"))
    assert [(e.username, e.action, e.resource, e.object_id) for e in events] == [
        ("surgeon", "read", "case", str(case.pk)),
        ("surgeon", "read", "section:radiology", str(case.pk)),
        ("surgeon", "read", "case_list", "status=referred"),
    ]
    assert events[0].board_id == personas.board.pk and events[0].case_id == case.pk
    assert events[0].ip == "127.0.0.1" and events[0].user_agent == "pytest-agent"


def test_refused_reads_and_writes_are_not_read_events(client_for, personas, make_case):
    case = make_case()
    client_for(personas.outsider).get(f"/api/v1/cases/{case.pk}/")  # 404: nothing was read
    client_for(personas.oncologist).patch(f"/api/v1/cases/{case.pk}/sections/oncology/", {}, format="json")
    assert AccessEvent.objects.count() == 0


def test_the_log_is_append_only(client_for, personas, make_case):
    case = make_case()
    client_for(personas.chair).get(f"/api/v1/cases/{case.pk}/")
    event = AccessEvent.objects.get()
    event.username = "someone else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.update(username="x")
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.all().delete()


def test_chairs_view_their_boards_events_with_filters(client_for, personas, make_case, admin_client):
    case = make_case()
    client_for(personas.surgeon).get(f"/api/v1/cases/{case.pk}/")
    client_for(personas.pain).get(f"/api/v1/cases/{case.pk}/")
    chair = client_for(personas.chair)
    body = chair.get("/api/v1/audit/", {"username": "pain"}).json()
    assert [e["username"] for e in body["results"]] == ["pain"]
    assert chair.get("/api/v1/audit/", {"case": case.pk}).json()["count"] == 2
    assert client_for(personas.surgeon).get("/api/v1/audit/").status_code == 403
    assert client_for(personas.outsider).get("/api/v1/audit/").status_code == 403
    assert admin_client.get("/admin/common/accessevent/").status_code == 200
    chair_page = client_for(personas.chair)
    chair_page.force_login(personas.chair)
    page = chair_page.get("/audit/", {"username": "surgeon"})
    assert page.status_code == 200 and "surgeon" in page.content.decode()


def test_a_case_read_is_logged_with_its_board_without_reading_the_case_twice(client_for, personas, make_case):
    # The detail view tells the log which case and board it served (common.audit.note_case).
    case = make_case()
    with CaptureQueriesContext(connection) as queries:
        response = client_for(personas.surgeon).get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200
    assert len([q for q in queries if 'FROM "cases_case"' in q["sql"]]) == 1
    event = AccessEvent.objects.get()
    assert (event.resource, event.case_id, event.board_id) == ("case", case.pk, personas.board.pk)


def test_a_case_read_whose_view_names_no_case_is_looked_up_by_the_urls_id(client, personas, make_case):
    case = make_case()
    client.force_login(personas.surgeon)
    assert client.get(f"/cases/{case.pk}/sections/radiology/").status_code == 200
    event = AccessEvent.objects.get()
    assert (event.resource, event.case_id, event.board_id) == ("section:radiology", case.pk, personas.board.pk)
