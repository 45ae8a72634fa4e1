"""seed_demo: the contract's demo boards and people, idempotent."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import Board, Membership, User

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int]:
    return User.objects.count(), Board.objects.count(), Membership.objects.count()


def test_seed_demo_creates_the_contract_people(capsys):
    call_command("seed_demo")
    roles = {m.user.username: (m.board.name, m.roles) for m in Membership.objects.select_related("user", "board")}
    assert roles == {
        "oncologist": ("Spine MDT", ["oncologist"]),
        "surgeon": ("Spine MDT", ["surgeon"]),
        "radiologist": ("Spine MDT", ["radiologist"]),
        "pain": ("Spine MDT", ["pain_specialist"]),
        "chair": ("Spine MDT", ["chair"]),
        "coordinator": ("Spine MDT", ["coordinator"]),
        "service": ("Spine MDT", ["service"]),
        "outsider": ("Regional MDT", ["oncologist"]),
    }
    assert all(u.check_password("tumourboard-demo") for u in User.objects.all())
    assert User.objects.get(username="service").is_service_account
    assert "Password for every demo account: tumourboard-demo" in capsys.readouterr().out


def test_seed_demo_twice_creates_nothing_twice():
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first == (8, 2, 8)


def test_demo_password_from_environment(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "another-demo-secret")
    call_command("seed_demo")
    assert User.objects.get(username="chair").check_password("another-demo-secret")
