"""The staff-user invitation form (shape of input only; the rules live in
portal.accounts.invitations.invite_staff_user)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from portal.settings.forms import STAFF_ROLE_CHOICES, zone_choices


class StaffInviteForm(FlaskForm):
    full_name = StringField(
        "Full name", validators=[DataRequired(message="Enter a name."), Length(max=120)]
    )
    email = EmailField(
        "E-mail",
        validators=[
            DataRequired(message="Enter an e-mail address."),
            Length(max=254),
            Email(message="Enter an e-mail address like name@example.com."),
        ],
    )
    role = SelectField("Role", choices=STAFF_ROLE_CHOICES)
    time_zone = SelectField("Time zone", validators=[DataRequired(message="Choose a time zone.")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = zone_choices()
