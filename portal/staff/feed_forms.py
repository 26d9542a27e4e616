"""The forms of the customer page's "Confirmation feed" panel (shape only: the rules that
span records, a unique number, a team owner, live in portal/feed/accounts.py)."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional


class AgingDaysForm(FlaskForm):
    days = StringField("Oldest aging (days)", validators=[Optional(), Length(max=12)])


class FeedDetailsForm(FlaskForm):
    external_number = StringField(
        "External account number", validators=[Optional(), Length(max=40)]
    )
    # Choices are the active team users, set by the view; "" is nobody.
    owner = SelectField("Owner (sales)", choices=[])
