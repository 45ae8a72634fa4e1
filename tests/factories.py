"""factory_boy factories shared by the whole suite."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.models import Board, Membership, User

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(TEST_PASSWORD)


class BoardFactory(DjangoModelFactory[Board]):
    class Meta:
        model = Board

    name = factory.Sequence(lambda n: f"Spine MDT {n}")
    institution = "University Medical Centre"


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    board = factory.SubFactory(BoardFactory)
    discipline = ""
    is_chair = False
    is_coordinator = False
    is_read_only = factory.LazyAttribute(lambda m: m.user.is_service_account)
