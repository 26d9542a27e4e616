"""The upload form and the buttons' forms: the shape of input only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField
from wtforms.validators import InputRequired


class UploadForm(FlaskForm):
    kind = SelectField("Kind of file", validators=[InputRequired("Choose the kind of file.")])
    file = FileField("File", validators=[FileRequired("Choose the file to upload.")])


class ActionForm(FlaskForm):
    """A button's form: its CSRF token only (Apply, Discard)."""
