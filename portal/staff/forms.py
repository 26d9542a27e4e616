from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class TaskActionForm(FlaskForm):
    """Accept, start, no-show: the CSRF token only."""


class TaskNoteForm(FlaskForm):
    note = TextAreaField("Note", validators=[Optional(), Length(max=1000)])


class DeadlineForm(FlaskForm):
    deadline = DateTimeLocalField(
        "Customer may change it until", format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )


class MoveForm(FlaskForm):
    start = HiddenField(validators=[DataRequired(), Length(max=40)])
    reason = StringField(
        "Reason (recorded on the timeline)", validators=[Optional(), Length(max=300)]
    )


class StaffCancelForm(FlaskForm):
    reason = TextAreaField("Why is it cancelled?", validators=[DataRequired(), Length(max=1000)])


class CloseUnsignedForm(FlaskForm):
    reason = TextAreaField(
        "Why close it without the customer's sign-off?",
        validators=[DataRequired(), Length(max=1000)],
    )


class DetailsForm(FlaskForm):
    note = TextAreaField("Meeting notes", validators=[Optional(), Length(max=2000)])
    contact = SelectField("Contact", coerce=int)
    location = SelectField("Address", coerce=int)


class OnBehalfForm(FlaskForm):
    note = TextAreaField(
        "What does the customer want done?", validators=[Optional(), Length(max=2000)]
    )
    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=64)])
