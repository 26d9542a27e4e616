from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.dispatch.board import VIEWS
from portal.dispatch.filters import STATUS_CHOICES, FilterChoices
from portal.formatting import status_label
from portal.ids import MAX_ID, coerce_id


class BoardForm(FlaskForm):
    """The board's GET form: which day or week, and the filters. Read from the query
    string; a value it cannot read is dropped with a message, never a 500."""

    class Meta:
        csrf = False  # a GET that changes nothing

    view = SelectField(
        "Show", choices=[SelectChoice("day", "Day"), SelectChoice("week", "Week")], default="day"
    )
    date = DateField("Date", validators=[Optional()])
    skill = SelectField("Skill", default="")
    service = SelectField("Service", default="")
    status = SelectField("Status", default="")
    territory = SelectField("Territory", default="")

    def set_choices(self, choices: FilterChoices) -> None:
        def options(rows, anything):
            return [SelectChoice("", anything)] + [SelectChoice(str(i), name) for i, name in rows]

        self.skill.choices = options(choices.skills, "Any skill")
        self.service.choices = options(choices.services, "Any service")
        self.territory.choices = options(choices.territories, "Any territory")
        self.status.choices = [SelectChoice("", "Any status")] + [
            SelectChoice(s, status_label(s)) for s in STATUS_CHOICES
        ]

    def clean(self) -> list[str]:
        """Validate; put each unreadable field back to its default and say so."""
        problems = []
        if not self.validate():
            for name, errors in self.errors.items():
                field = self[name]
                field.data = field.default
                problems.append(f"{field.label.text}: {' '.join(errors)} It was ignored.")
        if self.view.data not in VIEWS:
            self.view.data = "day"
        return problems


class ReassignForm(FlaskForm):
    # The agent list is drawn by hand in the panel (each choice says whether the agent
    # is free), so this field only reads the submitted id.
    agent_id = IntegerField(
        "New agent",
        validators=[
            InputRequired("Choose an agent."),
            NumberRange(min=1, max=MAX_ID, message="Choose an agent from the list."),
        ],
    )
    note = StringField("Note for the timeline (optional)", validators=[Optional(), Length(max=200)])


class AssignForm(FlaskForm):
    # As in ReassignForm, the agents are drawn by hand in the panel (free or busy, and
    # why); a job for several agents sends agent_id once per agent. The service decides
    # whether the choice is right, so the field only reads whole numbers.
    agent_id = SelectMultipleField("Agents", coerce=coerce_id, validate_choice=False)
    note = StringField("Note for the timeline (optional)", validators=[Optional(), Length(max=200)])
