"""Private links in e-mails: found by what they look like, never by which e-mail made them.

A reset, invitation, verification or manage link opens an account or an appointment to
whoever holds it, so only its recipient may ever see it (issue #12, finding 1). Nothing
here relies on an e-mail saying it carries one: the body is searched for

* a URL path under a route that takes a `<token>` (read from the app's URL map, so a
  new secret route is covered the day it is added; `SECRET_ROUTES` is the floor);
* anything shaped like a token signed by portal/tokens.py or a calendar feed's signer
  (dot-separated URL-safe parts ending in an HMAC of 27 or more characters);
* a personal API token (`pt_...`), a long random-looking run of URL-safe characters,
  and the value of a query parameter named like a credential.

A false positive costs a redacted harmless string; a miss costs an account. So the
rules lean wide. The functions taking `prefixes` are pure; `secret_prefixes()` reads the
current app when there is one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import current_app, has_app_context

REDACTED_LINK = "[redacted link]"
REDACTED = "[redacted]"

# Secret routes today: /reset/<token>, /invite/<token>, /verify/<token>, /manage/<token>
# (and its sub-pages), /calendar/<token>.ics, /visit/<token> (and its steps).
SECRET_ROUTES = ("/reset/", "/invite/", "/verify/", "/manage/", "/calendar/", "/visit/")

_TOKEN_ARGUMENT = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?token>")
_URL_SAFE = r"A-Za-z0-9_\-"
# itsdangerous: [.]payload[.timestamp].signature, the signature an HMAC (SHA-1: 27
# characters, SHA-256: 43).
_SIGNED = re.compile(
    rf"(?<![{_URL_SAFE}.])\.?[{_URL_SAFE}]+(?:\.[{_URL_SAFE}]+){{0,2}}"
    rf"\.[{_URL_SAFE}]{{27,}}(?![{_URL_SAFE}])"
)
_API_TOKEN = re.compile(rf"(?<![{_URL_SAFE}])pt_[{_URL_SAFE}]{{6,}}")
# 32 or more URL-safe characters with a digit among them: a key from secrets.token_*,
# a hex digest. Words, even hyphenated ones, are not this long and digit-bearing.
_RANDOM_RUN = re.compile(rf"(?<![{_URL_SAFE}])(?=[{_URL_SAFE}]*\d)[{_URL_SAFE}]{{32,}}")
_CREDENTIAL_PARAMETER = re.compile(
    r"([?&;](?:token|access_token|key|api_key|code|sig|signature|secret|auth|password)=)"
    r"[^&;#\s<>\"'\\]+",
    re.IGNORECASE,
)
# An iCalendar line longer than 75 octets is folded: CRLF then one space or tab.
_FOLD = re.compile(r"\r?\n[ \t]")


def secret_prefixes() -> tuple[str, ...]:
    """Path prefixes of the routes whose URLs carry a token: the app's (every rule with
    a `token` argument, cut before it) and SECRET_ROUTES."""
    if not has_app_context():
        return SECRET_ROUTES
    extensions = current_app.extensions
    if "portal.secret_prefixes" not in extensions:
        found = set(SECRET_ROUTES)
        for rule in current_app.url_map.iter_rules():
            match = _TOKEN_ARGUMENT.search(rule.rule)
            if match and match.start() > 0:
                found.add(rule.rule[: match.start()])
        extensions["portal.secret_prefixes"] = tuple(sorted(found, key=len, reverse=True))
    return extensions["portal.secret_prefixes"]


def _path_pattern(prefixes: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in prefixes)
    # The prefix (after a host, a base path or at the start of an href), then the token
    # and whatever follows it in the URL.
    return re.compile(rf"({alternatives})[^\s<>\"'\\]+")


def unfold(ics: str) -> str:
    """iCalendar text with its folded lines joined, so a link split by folding is whole."""
    return _FOLD.sub("", ics)


def redact(text: str, prefixes: Iterable[str] | None = None) -> str:
    """`text` with every private link and token replaced by a placeholder; the host and
    route stay readable ("https://host/reset/[redacted link]")."""
    if not text:
        return text
    text = _path_pattern(prefixes or secret_prefixes()).sub(rf"\1{REDACTED_LINK}", text)
    text = _CREDENTIAL_PARAMETER.sub(rf"\1{REDACTED}", text)
    for pattern in (_SIGNED, _API_TOKEN, _RANDOM_RUN):
        text = pattern.sub(REDACTED, text)
    return text


def holds_secret(*parts: str | None, prefixes: Iterable[str] | None = None) -> bool:
    """Whether any of the texts carries a private link or a token."""
    prefixes = tuple(prefixes or secret_prefixes())
    return any(part and redact(unfold(part), prefixes) != unfold(part) for part in parts)


def viewer_sees_links(user, config) -> bool:
    """Whether `user` sees private links in /admin/mail: an admin, and only under the
    development setting MAIL_VIEWER_SHOWS_LINKS; a manager never."""
    return bool(config.get("MAIL_VIEWER_SHOWS_LINKS")) and user.role == "admin"


def is_redacted(url: str) -> bool:
    """Whether a URL found in redacted text lost its secret (so it is no link)."""
    return REDACTED_LINK[:9] in url
