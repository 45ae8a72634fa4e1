"""System checks of the project's own configuration rules."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from tumourboard.env import MISSING_SECRET_KEY


@register(deploy=True)
def secret_key_is_set(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """`check --deploy` fails without a SECRET_KEY; the servers themselves refuse to start
    (tumourboard.env.require_secret_key), while build steps that sign nothing still run."""
    if settings.SECRET_KEY_IS_SET:
        return []
    return [Error(MISSING_SECRET_KEY, id="tumourboard.E001")]
