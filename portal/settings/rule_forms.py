"""The shape of input for rules and their e-mail templates. Numbers arrive as text and
are read by the rule services (portal/rules/services.py), which raise Invalid naming the
field, so a page and a test see the same message."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class RuleForm(FlaskForm):
    """A rule's parameters; the page shows only those the rule has (the others are
    removed from the form before it is used)."""

    threshold = StringField("Threshold", validators=[Optional(), Length(max=10)])
    owner_queue = SelectField("Queue that owns the case", validators=[Optional()])
    due_days = StringField("Task due after (days)", validators=[Optional(), Length(max=10)])
    assignee = SelectField("Task for", validators=[Optional()])
    template = SelectField("E-mail template", validators=[Optional()])

    def keep_only(self, names) -> None:
        for name in ("threshold", "owner_queue", "due_days", "assignee", "template"):
            if name not in names:
                delattr(self, name)

    def changes(self) -> dict[str, object]:
        fields = ("threshold", "owner_queue", "due_days", "assignee", "template")
        return {name: self._fields[name].data for name in fields if name in self._fields}


class TemplateForm(FlaskForm):
    subject = StringField(
        "Subject", validators=[DataRequired(message="Write a subject."), Length(max=200)]
    )
    body = TextAreaField(
        "Body", validators=[DataRequired(message="Write the body."), Length(max=10_000)]
    )
