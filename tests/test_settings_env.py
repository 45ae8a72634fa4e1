"""Settings come from the environment and fail loudly, with a reason, when they are wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from tumourboard import env

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "url",
    ["not a url", "mysql://root@127.0.0.1/tb", "postgres://127.0.0.1:5432/", "nosuchscheme://x/y"],
)
def test_bad_database_url_is_a_clear_error(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL") as excinfo:
        env.database_config(url, default_sqlite=Path("unused.sqlite3"))
    assert "Expected for example postgres://" in str(excinfo.value)


def test_postgres_url_gets_health_checked_persistent_connections() -> None:
    config = env.database_config("postgres://tb:secret@db.example:5433/tumourboard", default_sqlite=Path("/x"))
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == ("db.example", 5433, "tumourboard", "tb")
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["CONN_MAX_AGE"] == 60


def test_unset_database_url_is_the_embedded_sqlite_file() -> None:
    config = env.database_config(None, default_sqlite=Path("/srv/tb/db.sqlite3"))
    assert config == {"ENGINE": "django.db.backends.sqlite3", "NAME": "/srv/tb/db.sqlite3"}


def test_redis_url() -> None:
    assert env.redis_url(None) is None
    assert env.redis_url("") is None
    assert env.redis_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        env.redis_url("http://127.0.0.1:6379")


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("true", True), ("On", True), ("0", False), ("no", False)])
def test_env_bool(raw: str, expected: bool) -> None:
    assert env.env_bool("X", default=not expected, environ={"X": raw}) is expected


def test_env_bool_rejects_garbage_instead_of_guessing() -> None:
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG='maybe' is not a boolean"):
        env.env_bool("DJANGO_DEBUG", default=False, environ={"DJANGO_DEBUG": "maybe"})


def test_env_list_and_int() -> None:
    assert env.env_list("H", default=["a"], environ={"H": "tb.example, ,api.example"}) == ["tb.example", "api.example"]
    assert env.env_list("H", default=["a"], environ={}) == ["a"]
    assert env.env_int("N", default=3, environ={"N": "10"}) == 10
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env.env_int("N", default=3, environ={"N": "ten"})


def test_secret_key_dev_key_only_in_debug() -> None:
    assert env.secret_key("s3cret", debug=False) == "s3cret"
    assert env.secret_key(None, debug=True).startswith("dev-only")
    assert env.secret_key(None, debug=False) == ""


def test_production_wsgi_refuses_to_start_without_secret_key() -> None:
    code = "import tumourboard.wsgi"
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_DEBUG", "ALLOWED_HOSTS"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environment, "DJANGO_DEBUG": "0", "ALLOWED_HOSTS": "tb.example"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_migrations_can_be_checked_without_secret_key() -> None:
    # A build step (or a linter) may check migrations in production mode: nothing is signed there.
    result = _manage("makemigrations", "--check", "--dry-run", DJANGO_DEBUG="0", ALLOWED_HOSTS="tb.example")
    assert result.returncode == 0, result.stdout + result.stderr


def test_time_zone() -> None:
    assert env.time_zone(None) == "Europe/Ljubljana"
    assert env.time_zone("UTC") == "UTC"
    with pytest.raises(ImproperlyConfigured, match="IANA"):
        env.time_zone("Mars/Olympus_Mons")


def _manage(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    # A clean production environment: none of the test run's own variables (e.g. browser tests'
    # DJANGO_ALLOW_ASYNC_UNSAFE) may leak into the deploy check.
    dropped = {"SECRET_KEY", "DJANGO_DEBUG", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_production_deploy_check_fails_without_secret_key() -> None:
    result = _manage("check", "--deploy", DJANGO_DEBUG="0", ALLOWED_HOSTS="tumourboard.example")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_pass_check_deploy_with_zero_warnings() -> None:
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        SECRET_KEY="x7!Kq2@vN9#pL4$wR8%tY1^zB6&mC3*hF5(jD0)sG-ae_u+Wd3=Lr7~Qn",
        ALLOWED_HOSTS="tumourboard.example",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
