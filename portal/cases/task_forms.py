"""The case page's task panel: complete the task, or complete it and create the next."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class CompleteTaskForm(FlaskForm):
    # The task the page showed: a task completed and replaced meanwhile is not completed
    # by a click on a page that showed the old one.
    task = HiddenField()
    note = TextAreaField("What was done (optional)", validators=[Optional(), Length(max=1000)])


class NextTaskForm(FlaskForm):
    task = HiddenField()
    note = TextAreaField("What was done (optional)", validators=[Optional(), Length(max=1000)])
    title = StringField("Next task", validators=[DataRequired(), Length(max=200)])
    due = DateField("Due on", validators=[DataRequired(message="Choose the day it is due.")])
    assignee = RadioField("For", validators=[DataRequired(message="Choose who it is for.")])


class TakeTaskForm(FlaskForm):
    task = HiddenField()
