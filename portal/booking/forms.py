from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

WEEKDAY_CHOICES = [
    SelectChoice(i, name)
    for i, name in enumerate(
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    )
]
PART_CHOICES = [
    SelectChoice("any", "Any time"),
    SelectChoice("morning", "Mornings (before 12:00)"),
    SelectChoice("afternoon", "Afternoons (12:00 to 17:00)"),
    SelectChoice("evening", "Evenings (after 17:00)"),
]


class ConfirmBookingForm(FlaskForm):
    note = TextAreaField("What would you like us to do?", validators=[Optional(), Length(max=2000)])
    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=64)])
    # Preferences, used to suggest a new time if the appointment ever has to move.
    pref_days = SelectMultipleField(
        "Days that suit you",
        choices=WEEKDAY_CHOICES,
        coerce=int,
        validators=[Optional()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    pref_part = SelectField("Time of day that suits you", choices=PART_CHOICES, default="any")
    pref_earliest = DateField("Not before", validators=[Optional()])
    pref_agent = SelectField("Preferred technician", coerce=int, default=0)


class VisitConfirmForm(FlaskForm):
    """Booking an order's visit through its link: a note, and the key that books once."""

    note = TextAreaField(
        "Anything the technician should know?", validators=[Optional(), Length(max=2000)]
    )
    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=64)])


class NewLocationForm(FlaskForm):
    label = StringField("Name for this address", validators=[DataRequired(), Length(max=80)])
    street = StringField("Street and number", validators=[DataRequired(), Length(max=160)])
    city = StringField("Town or city", validators=[DataRequired(), Length(max=80)])
    postal_code = StringField("Postcode", validators=[DataRequired(), Length(max=16)])
    country = SelectField(
        "Country",
        choices=[SelectChoice("GB", "United Kingdom"), SelectChoice("US", "United States")],
        default="GB",
    )


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token travels."""


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=1000)])


class CancelForm(FlaskForm):
    reason = TextAreaField("Why are you cancelling?", validators=[DataRequired(), Length(max=1000)])


class ChangeRequestForm(FlaskForm):
    message = TextAreaField(
        "What would you like to change?", validators=[DataRequired(), Length(max=1000)]
    )


class SignOffForm(FlaskForm):
    full_name = StringField("Your full name", validators=[DataRequired(), Length(max=120)])
    consent = BooleanField(
        "I confirm the work described above was completed", validators=[DataRequired()]
    )
    # A drawn signature, as a PNG data URL written by static/js/signature.js.
    signature = HiddenField(validators=[Optional(), Length(max=300_000)])


class NotDoneForm(FlaskForm):
    note = TextAreaField("What was not done?", validators=[DataRequired(), Length(max=1000)])


class RescheduleForm(FlaskForm):
    start = HiddenField(validators=[DataRequired(), Length(max=40)])
