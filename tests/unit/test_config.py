"""Settings come from PORTAL_* variables, are checked at start-up, and name what is wrong."""

from __future__ import annotations

import os

import pytest

from portal import config
from portal.config import ConfigError


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment: no PORTAL_* variables but an instance folder in tmp_path."""
    for name in [n for n in os.environ if n.startswith("PORTAL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance"))
    return monkeypatch


def test_the_database_url_is_read_from_portal_database_url(env):
    env.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://portal@db.internal/portal")

    settings = config.from_environment()

    assert settings["DATABASE_URL"] == "postgresql+psycopg://portal@db.internal/portal"


def test_without_a_database_url_sqlite_in_the_instance_folder_is_used(env, tmp_path):
    settings = config.from_environment()

    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'instance' / 'portal.db'}"


def test_the_time_zone_is_read_from_portal_time_zone(env):
    env.setenv("PORTAL_TIME_ZONE", "America/New_York")

    assert config.from_environment()["ORG_TIME_ZONE"] == "America/New_York"


def test_a_bad_time_zone_raises_a_config_error_naming_the_variable(env):
    env.setenv("PORTAL_TIME_ZONE", "Mars/Olympus_Mons")

    with pytest.raises(ConfigError, match="PORTAL_TIME_ZONE"):
        config.from_environment()


def test_a_bad_number_raises_a_config_error_naming_the_variable(env):
    env.setenv("PORTAL_LOGIN_MAX_FAILURES", "five")

    with pytest.raises(ConfigError, match="PORTAL_LOGIN_MAX_FAILURES"):
        config.from_environment()


def test_the_secret_key_is_generated_once_into_the_instance_folder_and_reused(env, tmp_path):
    first = config.from_environment()["SECRET_KEY"]
    second = config.from_environment()["SECRET_KEY"]

    key_file = tmp_path / "instance" / "secret_key"
    assert first == second
    assert len(first) >= 64
    assert key_file.read_text().strip() == first
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only


def test_portal_secret_key_wins_over_the_generated_one(env, tmp_path):
    env.setenv("PORTAL_SECRET_KEY", "from-the-environment")

    assert config.from_environment()["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_overrides_win_over_the_environment(env):
    env.setenv("PORTAL_TIME_ZONE", "America/New_York")

    settings = config.from_environment({"ORG_TIME_ZONE": "Europe/Paris", "SECRET_KEY": "x"})

    assert settings["ORG_TIME_ZONE"] == "Europe/Paris"
    assert settings["SECRET_KEY"] == "x"


def test_with_a_secret_key_set_the_instance_folder_is_still_made_for_the_sqlite_file(env, tmp_path):
    env.setenv("PORTAL_SECRET_KEY", "from-the-environment")

    settings = config.from_environment()

    assert (tmp_path / "instance").is_dir()
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'instance' / 'portal.db'}"


def test_a_postgresql_database_and_a_set_key_need_no_instance_folder(env, tmp_path):
    env.setenv("PORTAL_SECRET_KEY", "from-the-environment")
    env.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://portal@db.internal/portal")

    config.from_environment()

    assert not (tmp_path / "instance").exists()


def test_a_sqlite_file_in_a_missing_folder_outside_the_instance_names_the_variable(env, tmp_path):
    env.setenv("PORTAL_DATABASE_URL", f"sqlite:///{tmp_path / 'nowhere' / 'portal.db'}")

    with pytest.raises(ConfigError, match="PORTAL_DATABASE_URL"):
        config.from_environment()


def test_the_webhook_dns_timeout_is_five_seconds_unless_set(env):
    assert config.from_environment()["WEBHOOKS_DNS_TIMEOUT_SECONDS"] == 5.0
    env.setenv("PORTAL_WEBHOOKS_DNS_TIMEOUT", "2.5")

    assert config.from_environment()["WEBHOOKS_DNS_TIMEOUT_SECONDS"] == 2.5


@pytest.mark.parametrize("raw", ["soon", "0", "-1"])
def test_a_bad_webhook_dns_timeout_names_the_variable(env, raw):
    env.setenv("PORTAL_WEBHOOKS_DNS_TIMEOUT", raw)

    with pytest.raises(ConfigError, match="PORTAL_WEBHOOKS_DNS_TIMEOUT"):
        config.from_environment()


@pytest.mark.parametrize("raw", ["tomorrow", "nan", "1e12"])
def test_a_clock_offset_that_is_not_seconds_stops_the_app_naming_it(env, raw):
    env.setenv("PORTAL_CLOCK_OFFSET", raw)

    with pytest.raises(ConfigError, match="PORTAL_CLOCK_OFFSET"):
        config.from_environment()


def test_a_clock_offset_in_seconds_is_accepted(env):
    env.setenv("PORTAL_CLOCK_OFFSET", "-86400.5")

    config.from_environment()
