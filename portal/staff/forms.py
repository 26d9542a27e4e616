from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, TextAreaField
from wtforms.validators import Length, Optional


class TaskActionForm(FlaskForm):
    """Accept, start, no-show: the CSRF token only."""


class TaskNoteForm(FlaskForm):
    note = TextAreaField("Note", validators=[Optional(), Length(max=1000)])


class DeadlineForm(FlaskForm):
    deadline = DateTimeLocalField(
        "Customer may change it until", format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
