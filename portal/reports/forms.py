"""The report request form; rules that need the database live in the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectChoice, SelectField
from wtforms.validators import InputRequired, Optional

from portal.ids import coerce_optional_id

# Each report: its name, and what it holds in a few words.
KINDS = {
    "operations": ("Operations", "appointments by status, booked and completed, rates"),
    "utilisation": ("Agent utilisation", "booked hours over working hours"),
    "signoffs": ("Completion sign-offs", "who signed, when, for which work order"),
    "sla": ("SLA", "milestones met, cases and back office side by side, the worst breaches"),
}
KIND_CHOICES = [SelectChoice(k, f"{name}: {what}") for k, (name, what) in KINDS.items()]
FORMAT_CHOICES = [
    SelectChoice("pdf", "PDF (summary, charts, top lists)"),
    SelectChoice("csv", "CSV (the figures and every row)"),
]


class ReportForm(FlaskForm):
    kind = RadioField(
        "Report", choices=KIND_CHOICES, validators=[InputRequired("Choose a report.")]
    )
    date_from = DateField("First day", validators=[InputRequired("Enter the first day.")])
    date_to = DateField("Last day", validators=[InputRequired("Enter the last day.")])
    service_id = SelectField("Service", coerce=coerce_optional_id, validators=[Optional()])
    agent_id = SelectField("Agent", coerce=coerce_optional_id, validators=[Optional()])
    fmt = RadioField(
        "Format",
        choices=FORMAT_CHOICES,
        default="pdf",
        validators=[InputRequired("Choose a format.")],
    )


class SubscriptionForm(FlaskForm):
    kind = SelectField("Report", choices=KIND_CHOICES)
