"""The shapes of the case pages' input; the rules live in the case services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.cases.models import PRIORITIES

# What a customer may ask for; "urgent" is the team's to set.
CUSTOMER_PRIORITIES = ("low", "medium", "high")


def _choices(values):
    return [SelectChoice(v, v.capitalize()) for v in values]


class ActionForm(FlaskForm):
    """Take the work: the CSRF token only."""


class StatusForm(FlaskForm):
    status = SelectField("Status", validators=[DataRequired()])
    note = TextAreaField("Note (the customer sees it)", validators=[Optional(), Length(max=5000)])


class PriorityForm(FlaskForm):
    priority = SelectField("Priority", choices=_choices(PRIORITIES), validators=[DataRequired()])


class OwnerForm(FlaskForm):
    owner = SelectField("Owner", validators=[DataRequired()])
    note = StringField("Note", validators=[Optional(), Length(max=300)])


class CommentForm(FlaskForm):
    text = TextAreaField("Comment", validators=[DataRequired(), Length(max=5000)])
    visibility = RadioField(
        "Who sees it",
        choices=[
            SelectChoice("internal", "The team only"),
            SelectChoice("customer", "The customer too"),
        ],
        default="internal",
        validators=[DataRequired()],
    )


class HandoffForm(FlaskForm):
    queue = SelectField("Queue", coerce=int, validators=[DataRequired()])
    summary = StringField("What should they do?", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Details", validators=[Optional(), Length(max=10000)])


class CancelWorkForm(FlaskForm):
    work_order = SelectField("Work order", coerce=int, validators=[DataRequired()])
    note = StringField("Why is it no longer needed?", validators=[DataRequired(), Length(max=300)])


class NewCaseForm(FlaskForm):
    contact = SelectField("Contact", coerce=int)
    subject = StringField("Subject", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10000)])
    origin = SelectField("Came in by", validators=[DataRequired()])
    priority = SelectField(
        "Priority", choices=_choices(PRIORITIES), default="medium", validators=[DataRequired()]
    )
    owner = SelectField("Owner", validators=[DataRequired()])


class CustomerCaseForm(FlaskForm):
    subject = StringField(
        "What do you need help with?", validators=[DataRequired(), Length(max=200)]
    )
    description = TextAreaField("Tell us more", validators=[Optional(), Length(max=10000)])
    priority = SelectField(
        "How urgent is it?",
        choices=[
            SelectChoice("low", "Low: when you can"),
            SelectChoice("medium", "Medium"),
            SelectChoice("high", "High: it stops us working"),
        ],
        default="medium",
        validators=[DataRequired()],
    )


class CustomerCommentForm(FlaskForm):
    text = TextAreaField("Your message", validators=[DataRequired(), Length(max=5000)])


class WorkNoteForm(FlaskForm):
    text = TextAreaField("Work note", validators=[DataRequired(), Length(max=5000)])


class CompleteForm(FlaskForm):
    note = TextAreaField("What was done", validators=[Optional(), Length(max=5000)])
