"""The shape of the product and decision-table forms. What needs the database (a taken
code, a queue that no longer exists, a row that makes no sense) is the services' to say:
portal/orders/catalogue.py and portal/orders/tables.py raise Invalid naming the field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.ids import coerce_optional_id


class ProductForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(message="Enter a code."), Length(max=40)])
    name = StringField("Name", validators=[DataRequired(message="Enter a name."), Length(max=120)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    needs_site_visit = BooleanField("Needs a site visit")
    service_id = SelectField("Service the visit books", coerce=coerce_optional_id)
    needs_partner_visit = BooleanField("Needs a partner's visit first")
    attributes = TextAreaField("Attributes", validators=[Optional(), Length(max=4000)])


class DecisionRowForm(FlaskForm):
    label = StringField("Label", validators=[Optional(), Length(max=120)])
    is_default = BooleanField("Default row: matches every product no row above matched")
    product_id = SelectField("Product", coerce=coerce_optional_id)
    attributes = TextAreaField("Attribute tests", validators=[Optional(), Length(max=4000)])
    territory_id = SelectField("Territory", coerce=coerce_optional_id)
    postal_prefix = StringField("Postcode starts with", validators=[Optional(), Length(max=20)])
    creates_work_order = BooleanField("Makes a work order")
    summary = StringField("Work order summary", validators=[Optional(), Length(max=200)])
    tasks = TextAreaField("Tasks", validators=[Optional(), Length(max=4000)])
    queue_id = SelectField("Back-office queue", coerce=coerce_optional_id)
    service_id = SelectField("Service for a field visit", coerce=coerce_optional_id)
    needs_appointment = BooleanField("Needs a field appointment")


def choices(records, empty: str, name=lambda r: r.name) -> list[SelectChoice]:
    """A picker of records by id, with a first choice meaning none or any."""
    return [SelectChoice("", empty)] + [SelectChoice(str(r.id), name(r)) for r in records]
