"""Token authentication (contract "Conventions") and the boards endpoint (contract "Boards")."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.factories import TEST_PASSWORD, BoardFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_token_issued_for_good_credentials(api_client, personas):
    response = api_client.post("/api/v1/auth/token/", {"username": "surgeon", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=personas.surgeon).key}


def test_wrong_password_is_400_with_a_clear_message(api_client, personas):
    response = api_client.post("/api/v1/auth/token/", {"username": "surgeon", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}


def test_missing_credentials_name_the_fields(api_client, db):
    response = api_client.post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert response.json() == {"username": ["This field is required."], "password": ["This field is required."]}


def test_no_token_is_401(api_client, db):
    response = api_client.get("/api/v1/boards/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_invalid_token_is_401(api_client, db):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api_client.get("/api/v1/boards/").status_code == 401


def test_boards_list_the_users_boards_and_roles(client_for, personas):
    response = client_for(personas.surgeon).get("/api/v1/boards/")
    assert response.status_code == 200
    assert response.json() == [{"id": personas.board.pk, "name": "Spine MDT", "roles": ["surgeon"]}]


def test_boards_of_another_board_are_invisible(client_for, personas):
    response = client_for(personas.outsider).get("/api/v1/boards/")
    assert response.json() == [{"id": personas.other_board.pk, "name": "Regional MDT", "roles": ["oncologist"]}]


def test_person_with_discipline_and_function_on_two_boards(client_for, db):
    user = UserFactory(username="multi")
    a, b = BoardFactory(name="A board"), BoardFactory(name="B board")
    MembershipFactory(user=user, board=a, discipline="radiologist", is_chair=True)
    MembershipFactory(user=user, board=b, is_coordinator=True)
    response = client_for(user).get("/api/v1/boards/")
    assert response.json() == [
        {"id": a.pk, "name": "A board", "roles": ["radiologist", "chair"]},
        {"id": b.pk, "name": "B board", "roles": ["coordinator"]},
    ]


def test_service_account_reports_read_only_role(client_for, personas):
    assert client_for(personas.service).get("/api/v1/boards/").json()[0]["roles"] == ["service"]


def test_ended_membership_hides_the_board(client_for, personas):
    personas.surgeon.memberships.update(is_active=False)
    assert client_for(personas.surgeon).get("/api/v1/boards/").json() == []


def test_boards_endpoint_query_count_is_constant(client_for, django_assert_max_num_queries, db):
    user = UserFactory(username="many")
    for i in range(10):
        MembershipFactory(user=user, board=BoardFactory(name=f"Board {i}"), discipline="surgeon")
    client = client_for(user)
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/v1/boards/").json()) == 10


def test_session_login_works_on_the_api(client, personas):
    assert client.login(username="chair", password=TEST_PASSWORD)
    assert client.get("/api/v1/boards/").json()[0]["roles"] == ["chair"]


# --- Browser pages


def test_pages_require_login(client, db):
    response = client.get(reverse("landing"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_is_public(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_login_then_landing_shows_boards_and_roles(client, personas):
    response = client.post(reverse("login"), {"username": "radiologist", "password": TEST_PASSWORD}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Spine MDT" in html
    assert "radiologist" in html
    assert "Regional MDT" not in html


def test_wrong_password_in_browser_shows_an_error(client, personas):
    response = client.post(reverse("login"), {"username": "radiologist", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout(client, personas):
    client.force_login(personas.chair)
    response = client.post(reverse("logout"))
    assert response.status_code in (200, 302)
    assert client.get(reverse("landing")).status_code == 302


def test_admin_is_registered_for_people_and_boards(admin_client):
    for url in ("/admin/accounts/user/", "/admin/accounts/board/", "/admin/accounts/membership/"):
        assert admin_client.get(url).status_code == 200
