"""Settings from environment variables, checked once at start-up.

Every setting has a default that suits a developer's machine; production sets the
variables listed in README.md. A bad value stops the app at start with a message that
names the variable, rather than failing on the first request that needs it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A setting from the environment is missing or malformed."""


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be 1 or 0, not {raw!r}")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < 3600:
        raise ConfigError(f"{name} must be a number of seconds above 0, not {raw!r}")
    return value


def _bounded(name: str, default: int, low: int, high: int, unit: str) -> int:
    value = _int(name, default)
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high} {unit}, not {value}")
    return value


def _session_limits() -> dict:
    """How long a log-in lasts: idle minutes and absolute hours (issue #12, point 9)."""
    idle = _bounded("PORTAL_SESSION_IDLE_MINUTES", 30, 1, 24 * 60, "minutes")
    lifetime = _bounded("PORTAL_SESSION_MAX_HOURS", 12, 1, 30 * 24, "hours")
    if idle > lifetime * 60:
        raise ConfigError(
            f"PORTAL_SESSION_IDLE_MINUTES ({idle}) must not be longer than "
            f"PORTAL_SESSION_MAX_HOURS ({lifetime} hours)"
        )
    return {"SESSION_IDLE_MINUTES": idle, "SESSION_MAX_HOURS": lifetime}


def _zone(name: str, default: str) -> str:
    value = os.environ.get(name) or default
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name} must be an IANA time zone such as Europe/London") from None
    return value


def _secret_key(instance: Path) -> str:
    """Use PORTAL_SECRET_KEY, or a random key generated once and kept in instance/."""
    key = os.environ.get("PORTAL_SECRET_KEY")
    if key:
        return key
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _sqlite_folder(database_url: str) -> Path | None:
    """The folder of a SQLite database file; None for another database (or in memory)."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return None  # the engine names what is wrong with it
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:"):  # SQLite URI form: leave it to SQLite
        return None
    return Path(url.database).absolute().parent


def _prepare_database_folder(settings: dict) -> None:
    """Make the instance folder when the SQLite file lives in it.

    SQLite creates a missing file but not a missing folder ("unable to open database
    file"), and the key file is not always there to have made the folder first: with
    PORTAL_SECRET_KEY set, `portal migrate` on a fresh checkout found no instance/. A
    SQLite file elsewhere is the operator's to place: a missing folder there is a
    mistake in the URL, said at start-up.
    """
    folder = _sqlite_folder(settings["DATABASE_URL"])
    if folder is None:
        return
    instance = Path(settings["INSTANCE_PATH"]).absolute()
    if folder == instance or instance in folder.parents:
        folder.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise ConfigError(
            f"PORTAL_DATABASE_URL points at a SQLite file in {folder}, which does not exist"
        )


def _check_clock_offset() -> None:
    """PORTAL_CLOCK_OFFSET (read by portal.timeutil) must be a number of seconds."""
    raw = os.environ.get("PORTAL_CLOCK_OFFSET", "").strip()
    if not raw:
        return
    try:
        seconds = float(raw)
    except ValueError:
        seconds = float("nan")
    if not abs(seconds) < 100 * 366 * 86400:  # also false for nan
        raise ConfigError(f"PORTAL_CLOCK_OFFSET must be a number of seconds, not {raw!r}")


def _imports(instance: Path) -> dict:
    """Where imported files are kept, how large one may be, and the watched folders.

    IMPORT_FOLDERS maps a kind of import to the folder the scheduler process picks its
    files up from (portal/imports/folders.py); each kind that has one adds its variable
    here (the account feed: PORTAL_FEED_DIR)."""
    return {
        "IMPORT_DIR": os.environ.get("PORTAL_IMPORT_DIR") or str(instance / "imports"),
        "IMPORT_MAX_BYTES": _bounded("PORTAL_IMPORT_MAX_MB", 50, 1, 4096, "MB") * 1024 * 1024,
        "IMPORT_FOLDERS": {
            "account_feed": os.environ.get("PORTAL_FEED_DIR") or str(instance / "feed"),
        },
    }


def from_environment(overrides: dict | None = None) -> dict:
    """Build the Flask config from the process environment; `overrides` win (tests)."""
    overrides = overrides or {}
    _check_clock_offset()
    instance = Path(
        overrides.get("INSTANCE_PATH")
        or os.environ.get("PORTAL_INSTANCE_PATH")
        or ROOT / "instance"
    )
    database_url = os.environ.get("PORTAL_DATABASE_URL") or f"sqlite:///{instance / 'portal.db'}"
    settings = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(instance),
        "ORG_TIME_ZONE": _zone("PORTAL_TIME_ZONE", "Europe/London"),
        "SMTP_HOST": os.environ.get("PORTAL_SMTP_HOST", ""),
        "SMTP_PORT": _int("PORTAL_SMTP_PORT", 25),
        "SMTP_USER": os.environ.get("PORTAL_SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("PORTAL_SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool("PORTAL_SMTP_STARTTLS", False),
        "MAIL_FROM": os.environ.get("PORTAL_MAIL_FROM", "Portal <no-reply@portal.test>"),
        # Replies to a case's e-mails go to case+TOKEN@ this domain (the inbound listener).
        "INBOUND_MAIL_DOMAIN": os.environ.get("PORTAL_INBOUND_MAIL_DOMAIN", ""),
        "SESSION_COOKIE_SECURE": _bool("PORTAL_SECURE_COOKIES", True),
        "REMEMBER_COOKIE_SECURE": _bool("PORTAL_SECURE_COOKIES", True),
        "LOGIN_MAX_FAILURES": _int("PORTAL_LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCK_MINUTES": _int("PORTAL_LOGIN_LOCK_MINUTES", 15),
        # A session ends after this long without a page (polling does not count) and
        # this long after log-in whatever happens; "remember me" allows 30 days.
        **_session_limits(),
        "WINDOWS_REFRESH_SECONDS": _int("PORTAL_WINDOWS_REFRESH_SECONDS", 15),
        # Request bodies above 1 MB are refused (413); a drawn signature is ~300 KB at most.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # How many reverse proxies set X-Forwarded-For in front of the app: log-in rate
        # limits count per client address, which behind a proxy only ProxyFix reveals.
        "PROXY_COUNT": _int("PORTAL_PROXY_COUNT", 0),
        # Absolute links in e-mails (sent by the scheduler process, outside any request).
        "BASE_URL": (os.environ.get("PORTAL_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        # Webhooks to private, loopback or link-local addresses are refused unless this is
        # on (a receiver inside the network; the tests' loopback server).
        "WEBHOOKS_ALLOW_PRIVATE": _bool("PORTAL_WEBHOOKS_ALLOW_PRIVATE", False),
        # How long a delivery waits for the receiver's host name to resolve (a failed
        # attempt past it, retried later): the system resolver itself may wait far longer.
        "WEBHOOKS_DNS_TIMEOUT_SECONDS": _seconds("PORTAL_WEBHOOKS_DNS_TIMEOUT", 5.0),
        # Development only: admins (never managers) see the links in /admin/mail, and sent
        # bodies keep them; off, every private link is redacted and removed once sent.
        "MAIL_VIEWER_SHOWS_LINKS": _bool("PORTAL_MAIL_VIEWER_SHOWS_LINKS", False),
        **_imports(instance),
    }
    settings.update(overrides)
    _prepare_database_folder(settings)
    return settings
