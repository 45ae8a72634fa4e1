"""Conditional requests (issue 8): ETag and Last-Modified on reads, 304 on a matching If-None-Match."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_section_etag_and_304(client_for, personas, make_case, section_api):
    case = make_case()
    client = client_for(personas.chair)
    url = f"/api/v1/cases/{case.pk}/sections/oncology/"
    first = client.get(url)
    assert first["ETag"] == f'"oncology-{case.pk}-v1"'
    assert "Last-Modified" in first
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    section_api(personas.oncologist, case.pk).patch("oncology", {"kps": 80})
    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] == f'"oncology-{case.pk}-v2"'


def test_case_and_list_etags(client_for, personas, make_case):
    case = make_case()
    client = client_for(personas.chair)
    detail = client.get(f"/api/v1/cases/{case.pk}/")
    assert detail["ETag"] == f'"case-{case.pk}-v{case.version}"'
    assert client.get(f"/api/v1/cases/{case.pk}/", HTTP_IF_NONE_MATCH=detail["ETag"]).status_code == 304
    listing = client.get("/api/v1/cases/")
    assert listing.has_header("ETag")
    assert client.get("/api/v1/cases/", HTTP_IF_NONE_MATCH=listing["ETag"]).status_code == 304
    make_case()
    assert client.get("/api/v1/cases/", HTTP_IF_NONE_MATCH=listing["ETag"]).status_code == 200
