"""Which URLs a webhook may be sent to: http(s) only, and never, unless the setting
WEBHOOKS_ALLOW_PRIVATE allows it, to an address inside our own network.

A webhook makes our server send a request to an address a manager typed. Without these
checks that is a way to reach what only the server can reach (the cloud metadata service
at 169.254.169.254, a database on 10.x, the app itself on 127.0.0.1). The host is
resolved and every address it resolves to must be public; delivery checks again and
connects to the very address it checked, since a name can resolve elsewhere later.

The lookup has a deadline of its own (`resolve_timeout`): getaddrinfo takes none, and a
DNS server that does not answer would hold a delivery (or a settings page) for as long
as the system resolver keeps retrying.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from portal.errors import Invalid

MAX_URL_LENGTH = 500
DNS_TIMEOUT_SECONDS = 5.0
SCHEMES = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# What may stay as typed in a path or query (RFC 3986's unreserved and sub-delims, ":"
# and "@", and "%" so that escapes already there are kept); the rest is percent-encoded
# as UTF-8, since a request line is ASCII only.
PATH_SAFE = "/%:@!$&'()*+,;=-._~"
QUERY_SAFE = PATH_SAFE + "?"


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, at least "/"
    address: str


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (tests may replace this function)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


class LookupTimeout(Invalid):
    """The host name did not resolve within the deadline (a slow or silent DNS server)."""


def resolve_within(host: str, port: int, seconds: float) -> list[str]:
    """`resolve`, given up after `seconds` (TimeoutError); its errors are raised here.

    getaddrinfo cannot be interrupted, so it runs in a daemon thread that is left to end
    on its own (the system resolver gives up eventually) while the caller moves on."""
    outcome: dict[str, object] = {}

    def lookup() -> None:
        try:
            outcome["addresses"] = resolve(host, port)
        except Exception as exc:  # handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"{host} did not resolve within {seconds:g} seconds")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["addresses"]


def refusal(address: IPAddress) -> str | None:
    """Why the address is not a public one, or None when it is."""
    # 6to4 (2002::/16) and Teredo (2001::/32) tunnel to an IPv4 address, maybe a private
    # one; site-local (fec0::/10) is the old private range: none is a public address.
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            address = address.ipv4_mapped
        elif address.sixtofour is not None:
            return "a 6to4 tunnel address"
        elif address.teredo is not None:
            return "a Teredo tunnel address"
        elif address.is_site_local:
            return "a site-local address"
    checks = (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private network address"),
        ("is_reserved", "a reserved address"),
    )
    for attribute, words in checks:
        if getattr(address, attribute):
            return words
    if not address.is_global:  # shared (100.64/10), documentation and the like
        return "an address that is not public"
    return None


def check_url(
    url: str,
    *,
    allow_private: bool,
    field: str = "url",
    resolve_timeout: float = DNS_TIMEOUT_SECONDS,
) -> Target:
    """The URL taken apart and resolved, or Invalid naming `field` and what is wrong
    (LookupTimeout when the name did not resolve within `resolve_timeout` seconds)."""
    url = (url or "").strip()
    if not url:
        raise Invalid("Enter the URL to send events to.", field=field)
    if len(url) > MAX_URL_LENGTH:
        raise Invalid(f"Use a URL of at most {MAX_URL_LENGTH} characters.", field=field)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Invalid("That URL cannot be read; check the host and port.", field=field) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise Invalid("Use an http:// or https:// URL.", field=field)
    if not parts.hostname:
        raise Invalid("The URL needs a host name, like https://example.com/hooks.", field=field)
    if parts.username is not None or parts.password is not None:
        raise Invalid(
            "Leave the user name and password out of the URL; the signature proves "
            "the request is ours.",
            field=field,
        )
    if parts.fragment:
        raise Invalid("Leave the #fragment out of the URL.", field=field)
    host = parts.hostname
    if not host.isascii():
        # An internationalised name goes on the wire (DNS, Host header, TLS) in its
        # ASCII form: bücher.example -> xn--bcher-kva.example.
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise Invalid(f"The host name {host} cannot be used.", field=field) from None
    port = port or SCHEMES[scheme]
    try:
        addresses = resolve_within(host, port, resolve_timeout)
    except TimeoutError:  # an OSError too: first
        raise LookupTimeout(
            f"The host {host} did not resolve within {resolve_timeout:g} seconds.", field=field
        ) from None
    except (OSError, UnicodeError):
        raise Invalid(f"The host {host} could not be found.", field=field) from None
    if not addresses:
        raise Invalid(f"The host {host} could not be found.", field=field)
    if not allow_private:
        for raw in addresses:
            why = refusal(ipaddress.ip_address(raw.split("%", 1)[0]))
            if why:
                raise Invalid(
                    f"The URL's host {host} is {why} ({raw}); webhooks go only to public "
                    "addresses.",
                    field=field,
                )
    path = quote(parts.path or "/", safe=PATH_SAFE)
    if parts.query:
        path = f"{path}?{quote(parts.query, safe=QUERY_SAFE)}"
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
