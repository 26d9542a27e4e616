"""The shapes of the order pages' input; the rules live in the order services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

NEW = 0  # the choice "a new one (below)" in the location and contact lists
QUANTITY_MAX = 999


class ActionForm(FlaskForm):
    """Place, approve, close, set the point of no return, remove a line: the CSRF token."""


class NewOrderForm(FlaskForm):
    fulfilment_user = SelectField("Fulfilled by", coerce=int, validators=[DataRequired()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=5000)])


class ReasonForm(FlaskForm):
    reason = StringField("Reason", validators=[DataRequired(), Length(max=500)])


class LineForm(FlaskForm):
    """A line: its location (one of the account's or a new one), its site contact (one
    of the account's or a new one); the quantities are read beside it (`qty-<product>`)."""

    location = SelectField("Location", coerce=int, validators=[Optional()])
    location_label = StringField("Name of the place", validators=[Optional(), Length(max=80)])
    street = StringField("Street", validators=[Optional(), Length(max=160)])
    city = StringField("City", validators=[Optional(), Length(max=80)])
    postal_code = StringField("Postal code", validators=[Optional(), Length(max=16)])
    contact = SelectField("Site contact", coerce=int, validators=[Optional()])
    contact_name = StringField("Name", validators=[Optional(), Length(max=120)])
    contact_email = EmailField("E-mail", validators=[Optional(), Length(max=254)])
    contact_phone = StringField("Phone", validators=[Optional(), Length(max=40)])


def quantities(form_data, product_ids) -> tuple[dict[int, int], list[str]]:
    """{product id: quantity} from the `qty-<id>` inputs (blank or 0: not ordered), and
    the problems found (a quantity that is not a whole number from 0 to 999)."""
    found: dict[int, int] = {}
    problems: list[str] = []
    for product_id in product_ids:
        raw = (form_data.get(f"qty-{product_id}") or "").strip()
        if not raw:
            continue
        if not raw.isdigit() or int(raw) > QUANTITY_MAX:
            problems.append(f"A quantity is a whole number from 0 to {QUANTITY_MAX}.")
            continue
        if int(raw) > 0:
            found[product_id] = int(raw)
    return found, problems
