from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.selectors import board_list_for_user


def landing(request: HttpRequest) -> HttpResponse:
    """The first page after login: the person's boards and roles."""
    boards = board_list_for_user(user=request.user)
    return render(request, "accounts/landing.html", {"boards": boards})
