"""Parsing of settings from environment variables, with errors that say what is wrong.

Kept apart from settings.py so that every rule is a plain function with its own tests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

DATABASE_URL_EXAMPLES = "postgres://user:password@127.0.0.1:5432/tumourboard or sqlite:////absolute/path/db.sqlite3"


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    """A boolean variable: 1/0, true/false, yes/no, on/off. Anything else is an error, not False."""
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1 or 0.")


def env_list(name: str, default: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    raw = environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_int(name: str, default: int, environ: Mapping[str, str] = os.environ) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


def database_config(url: str | None, *, default_sqlite: Path) -> dict[str, Any]:
    """DATABASES['default'] from DATABASE_URL, or the embedded SQLite file when it is unset.

    PostgreSQL connections are persistent with health checks on, so that a database restart costs
    a reconnect rather than one failed request per worker process.
    """
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(default_sqlite)}
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url))
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(
            f"DATABASE_URL is not a database URL this project understands ({exc}). "
            f"Expected for example {DATABASE_URL_EXAMPLES}."
        ) from None
    engine = config.get("ENGINE", "")
    if engine not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL uses {engine or 'an unknown engine'}; tumourboard supports PostgreSQL and SQLite. "
            f"Expected for example {DATABASE_URL_EXAMPLES}."
        )
    if engine == "django.db.backends.postgresql":
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"DATABASE_URL names no database. Expected for example {DATABASE_URL_EXAMPLES}.")
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = True
    return config


def redis_url(raw: str | None) -> str | None:
    """REDIS_URL, checked for its scheme; None means 'no broker: run tasks in-process'."""
    if not raw:
        return None
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"REDIS_URL={raw!r} must start with redis://, rediss:// or unix://.")
    return raw


def time_zone(raw: str | None, default: str = "Europe/Ljubljana") -> str:
    name = raw or default
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"TIME_ZONE={name!r} is not an IANA time zone name (e.g. Europe/Ljubljana)."
        ) from None
    return name


MISSING_SECRET_KEY = (
    "SECRET_KEY is not set. Production (DJANGO_DEBUG=0) refuses to start without one; "  # noqa: S105 - a message
    "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
)


def secret_key(raw: str | None, *, debug: bool) -> str:
    """SECRET_KEY: a fixed development key only when DJANGO_DEBUG=1; in production the value given,
    or empty. An empty key is refused where production starts (`require_secret_key`: the WSGI/ASGI
    application, the Celery worker, and every management command that runs system checks), so
    commands that sign nothing (`makemigrations --check`) still work in a build step."""
    if raw:
        return raw
    if debug:
        return "dev-only-insecure-key-never-use-in-production-8f3b2c1d9e7a6f5b4c3d2e1f0a9b8c7d"
    return ""


def require_secret_key() -> None:
    """Refuse to start a production process without a SECRET_KEY."""
    from django.conf import settings

    if not settings.SECRET_KEY_IS_SET:
        raise ImproperlyConfigured(MISSING_SECRET_KEY)
