"""The checks on what a person types about themselves, shared by sign-up, invitations and
the profile: a full name, a phone number and a time zone. (The forms run the same
rules first, so a message shows beside its field; these guard the services.)"""

from __future__ import annotations

import re

from portal.errors import Invalid
from portal.timeutil import is_valid_zone

PHONE_PATTERN = re.compile(r"^\+?[0-9 ()\-.]{5,39}$")


def clean_name(full_name: str, *, whose: str = "your") -> str:
    """The name with its spaces tidied; Invalid when empty or too long."""
    name = " ".join(full_name.split())
    if not name:
        raise Invalid(f"Enter {whose} full name.", field="full_name")
    if len(name) > 120:
        raise Invalid("Use at most 120 characters.", field="full_name")
    return name


def clean_phone(phone: str) -> str:
    """The phone number with its spaces tidied (empty is fine); Invalid when malformed."""
    phone = " ".join(phone.split())
    if phone and not PHONE_PATTERN.match(phone):
        raise Invalid(
            "Enter a phone number with digits, spaces and an optional + in front.",
            field="phone",
        )
    return phone


def check_email(email: str) -> None:
    """Invalid unless `email` (already normalised) looks like an address."""
    if "@" not in email or len(email) > 254:
        raise Invalid("Enter an e-mail address like name@example.com.", field="email")


def check_zone(time_zone: str) -> None:
    """Invalid unless `time_zone` is one of the IANA zones we offer."""
    if not is_valid_zone(time_zone):
        raise Invalid("Choose a time zone from the list.", field="time_zone")
