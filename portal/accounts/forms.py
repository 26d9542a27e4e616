"""The shape of account input. Rules that need the database (a taken e-mail, a served
postcode, a common password) live in the services, which raise Invalid with a field."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from portal.accounts.passwords import MAX_LENGTH, MIN_LENGTH, validate_new_password
from portal.errors import Invalid
from portal.timeutil import common_zones, is_valid_zone

PASSWORD_HINT = (
    f"At least {MIN_LENGTH} characters, and not a common password, a keyboard pattern or "
    "your name. A few uncommon words together are easy to remember and hard to guess."
)
COUNTRIES = [SelectChoice("GB", "United Kingdom"), SelectChoice("US", "United States")]
POSTCODE_PATTERNS = {
    "GB": (re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$"), "like SW1A 1AA"),
    "US": (re.compile(r"^[0-9]{5}(-[0-9]{4})?$"), "a ZIP code like 10118"),
}


def typed(form: FlaskForm, *names: str) -> dict[str, Any]:
    """What was typed in the named fields, by name: the keywords a service takes."""
    return {name: form[name].data for name in names}


def _required(what: str) -> DataRequired:
    return DataRequired(message=f"Enter {what}.")


def _at_most(n: int) -> Length:
    return Length(max=n, message=f"Use at most {n} characters.")


def _email_field(label: str = "E-mail") -> EmailField:
    return EmailField(
        label,
        validators=[
            _required("your e-mail address"),
            Length(max=254, message="Use at most 254 characters."),
            Email(message="Enter an e-mail address like name@example.com."),
        ],
    )


def _new_password_field(label: str = "Password") -> PasswordField:
    return PasswordField(
        label,
        validators=[
            _required("a password"),
            Length(min=MIN_LENGTH, message=f"Use at least {MIN_LENGTH} characters."),
            Length(max=MAX_LENGTH, message=f"Use at most {MAX_LENGTH} characters."),
        ],
    )


def _zone_field() -> SelectField:
    # Choices are set per instance (400-odd zones); membership is checked below with a
    # message a person understands rather than WTForms' "Not a valid choice".
    return SelectField("Time zone", validate_choice=False)


def _check_zone(_form, field) -> None:
    if not is_valid_zone(field.data or ""):
        raise ValidationError("Choose a time zone from the list.")


def _check_new_password(form, field, email: str = "", full_name: str = "") -> None:
    """The service's password rules, run with the form's so every error shows at once."""
    if field.errors:  # too short or too long already said
        return
    try:
        validate_new_password(field.data or "", email=email, full_name=full_name)
    except Invalid as refused:
        raise ValidationError(refused.message) from None


def _phone_field() -> TelField:
    return TelField(
        "Phone (optional)",
        validators=[
            Optional(),
            Length(max=40, message="Use at most 40 characters."),
            Regexp(
                r"^\+?[0-9 ()\-.]{5,39}$",
                message="Enter a phone number with digits, spaces and an optional + in front.",
            ),
        ],
    )


class _ZoneChoices:
    """Mixin: fill the time-zone select with every IANA area/location zone, and check
    that the chosen one is among them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = [SelectChoice(z, z.replace("_", " ")) for z in common_zones()]

    def validate_time_zone(self, field) -> None:
        _check_zone(self, field)


class _AddressFields:
    """Mixin: postcode checked against the chosen country's format, then normalised."""

    def validate_postal_code(self, field) -> None:
        code = " ".join((field.data or "").upper().split())
        pattern, example = POSTCODE_PATTERNS.get(self.country.data, POSTCODE_PATTERNS["GB"])
        if not pattern.match(code):
            raise ValidationError(f"Enter a postcode {example}.")
        field.data = code

    def address(self) -> dict[str, str]:
        """The address as typed, in the words add_service_location takes."""
        return typed(self, "label", "street", "city", "postal_code", "country")


class LoginForm(FlaskForm):
    # No format check at log-in: it would only tell a stranger which addresses we accept.
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me logged in on this device")


class SignUpForm(_ZoneChoices, _AddressFields, FlaskForm):
    full_name = StringField(
        "Full name",
        validators=[_required("your full name"), _at_most(120)],
    )
    email = _email_field()
    password = _new_password_field()
    time_zone = _zone_field()
    phone = _phone_field()
    label = StringField(
        "Name for this address",
        default="Home",
        validators=[_required("a name for the address"), Length(max=80)],
    )
    street = StringField(
        "Street and number", validators=[_required("the street and number"), Length(max=160)]
    )
    city = StringField("Town or city", validators=[_required("the town or city"), Length(max=80)])
    postal_code = StringField("Postcode", validators=[_required("the postcode"), Length(max=16)])
    country = SelectField("Country", choices=COUNTRIES, default="GB")

    def validate_password(self, field) -> None:
        _check_new_password(
            self, field, email=self.email.data or "", full_name=self.full_name.data or ""
        )

    def sign_up_fields(self) -> dict[str, str]:
        """What was typed, in the words registration.sign_up takes."""
        person = typed(self, "full_name", "email", "password", "time_zone")
        return {**person, "phone": self.phone.data or "", **self.address()}


class EmailForm(FlaskForm):
    """One e-mail address: ask for a reset link, or for a new verification link."""

    email = _email_field()


class NewPasswordForm(FlaskForm):
    password = _new_password_field("New password")

    def validate_password(self, field) -> None:
        _check_new_password(self, field)


class AcceptInvitationForm(_ZoneChoices, FlaskForm):
    password = _new_password_field("Choose a password")
    time_zone = _zone_field()

    def validate_password(self, field) -> None:
        _check_new_password(self, field)


class InviteForm(FlaskForm):
    full_name = StringField(
        "Full name",
        validators=[_required("their full name"), _at_most(120)],
    )
    email = EmailField(
        "E-mail",
        validators=[
            _required("their e-mail address"),
            Length(max=254, message="Use at most 254 characters."),
            Email(message="Enter an e-mail address like name@example.com."),
        ],
    )


class ProfileForm(_ZoneChoices, FlaskForm):
    full_name = StringField(
        "Full name",
        validators=[_required("your full name"), _at_most(120)],
    )
    phone = _phone_field()
    time_zone = _zone_field()
    email_notifications = BooleanField("E-mail me about my appointments")

    def details(self) -> dict[str, Any]:
        """What was typed, in the words profile.update_profile takes."""
        person = typed(self, "full_name", "time_zone", "email_notifications")
        return {**person, "phone": self.phone.data or ""}


class LocationForm(_AddressFields, FlaskForm):
    label = StringField(
        "Name for this address", validators=[_required("a name for the address"), Length(max=80)]
    )
    street = StringField(
        "Street and number", validators=[_required("the street and number"), Length(max=160)]
    )
    city = StringField("Town or city", validators=[_required("the town or city"), Length(max=80)])
    postal_code = StringField("Postcode", validators=[_required("the postcode"), Length(max=16)])
    country = SelectField("Country", choices=COUNTRIES, default="GB")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[_required("your current password"), Length(max=200)],
    )
    password = _new_password_field("New password")

    def validate_password(self, field) -> None:
        _check_new_password(self, field)


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (remove an address, resend a link)."""

    next = HiddenField()
