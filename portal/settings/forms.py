"""The shape of settings input. Rules that need the database (a taken name, a prefix
another territory has) live in the services, which raise Invalid naming the field."""

from __future__ import annotations

from datetime import time

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.ids import coerce_optional_id
from portal.timeutil import common_zones

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
STAFF_ROLE_CHOICES = [
    SelectChoice("agent", "Agent (technician)"),
    SelectChoice("scheduler", "Scheduler"),
    SelectChoice("manager", "Manager"),
    SelectChoice("admin", "Admin"),
    # Outside the ladder: works its queues and its own tasks, never bookable.
    SelectChoice("backoffice", "Back office"),
]
STAFF_ROLES = tuple(choice.value for choice in STAFF_ROLE_CHOICES)


def _required(what: str) -> DataRequired:
    return DataRequired(message=f"Enter {what}.")


def _number(what: str, lo: int, hi: int | None = None) -> list:
    """A whole number (0 counts as an answer) within [lo, hi]."""
    if hi is None:
        message = f"Enter a whole number of at least {lo}."
    else:
        message = f"Enter a whole number from {lo} to {hi}."
    return [
        InputRequired(message=f"Enter {what}."),
        NumberRange(min=lo, max=hi, message=message),
    ]


def zone_choices() -> list[SelectChoice]:
    return [SelectChoice(z, z.replace("_", " ")) for z in common_zones()]


def id_choices(rows, empty: str) -> list[SelectChoice]:
    """A picker of records by id, with a first choice meaning none or any."""
    return [SelectChoice("", empty)] + [SelectChoice(str(r.id), r.name) for r in rows]


class ActionForm(FlaskForm):
    """A button that changes something: the CSRF token only."""


class ServiceForm(FlaskForm):
    name = StringField("Name", validators=[_required("a name"), Length(max=120)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    duration_minutes = IntegerField(
        "Duration (minutes)", validators=_number("the duration", 1, 1440)
    )
    buffer_minutes = IntegerField(
        "Travel buffer (minutes)", validators=_number("the travel buffer", 0, 1440)
    )
    agents_needed = IntegerField("Agents needed", validators=_number("how many agents", 1, 10))
    required_skill_id = SelectField("Required skill", coerce=coerce_optional_id)
    active = BooleanField("Customers can book it")


class PolicyForm(FlaskForm):
    window_minutes = IntegerField(
        "Arrival window (minutes)", validators=_number("the window length", 0, 1440)
    )
    step_minutes = IntegerField(
        "Step between window starts (minutes)", validators=_number("the step", 0, 1440)
    )
    min_notice_minutes = IntegerField(
        "Minimum notice (minutes)", validators=_number("the minimum notice", 0)
    )
    horizon_days = IntegerField("Horizon (days)", validators=_number("the horizon", 1, 366))
    reschedule_cutoff_hours = IntegerField(
        "Self-service cut-off (hours before the window)",
        validators=_number("the cut-off", 0, 8760),
    )
    max_self_reschedules = IntegerField(
        "Moves a customer may make online", validators=_number("the limit", 0, 100)
    )


class SkillForm(FlaskForm):
    name = StringField("Name", validators=[_required("a name"), Length(max=80)])


class TerritoryForm(FlaskForm):
    name = StringField("Name", validators=[_required("a name"), Length(max=80)])
    time_zone = SelectField("Time zone", validators=[_required("a time zone")])
    prefixes = StringField("Postal-code prefixes", validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = zone_choices()


class HolidayForm(FlaskForm):
    day = DateField("Date", validators=[InputRequired(message="Enter the date.")])
    name = StringField("Name", validators=[_required("a name"), Length(max=80)])


class AgentFilterForm(FlaskForm):
    """The agents list's filters: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    territory = SelectField("Territory", coerce=coerce_optional_id)
    skill = SelectField("Skill", coerce=coerce_optional_id)


class DayHoursForm(Form):
    """One weekday: up to two periods, in the agent's own zone."""

    start1 = TimeField("Start", validators=[Optional()])
    end1 = TimeField("End", validators=[Optional()])
    start2 = TimeField("Second start", validators=[Optional()])
    end2 = TimeField("Second end", validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        ok = self._pair(self.start1, self.end1) & self._pair(self.start2, self.end2)
        if ok and self.start2.data and not self.start1.data:
            self.start2.errors.append("Fill in the first period before the second.")
            return False
        if ok and self.start2.data and self.start2.data < self.end1.data:
            self.start2.errors.append("The second period must start after the first ends.")
            return False
        return ok

    @staticmethod
    def _pair(start, end) -> bool:
        if bool(start.data) != bool(end.data):
            (end if start.data else start).errors.append("Give both a start and an end.")
            return False
        if start.data and end.data <= start.data:
            end.errors.append("The end must come after the start.")
            return False
        return True

    def periods(self) -> list[tuple[time, time]]:
        pairs = [(self.start1.data, self.end1.data), (self.start2.data, self.end2.data)]
        return [(s, e) for s, e in pairs if s and e]


class HoursForm(FlaskForm):
    time_zone = SelectField("The agent's time zone", validators=[_required("a time zone")])
    mon = FormField(DayHoursForm, label="Monday")
    tue = FormField(DayHoursForm, label="Tuesday")
    wed = FormField(DayHoursForm, label="Wednesday")
    thu = FormField(DayHoursForm, label="Thursday")
    fri = FormField(DayHoursForm, label="Friday")
    sat = FormField(DayHoursForm, label="Saturday")
    sun = FormField(DayHoursForm, label="Sunday")

    DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = zone_choices()

    def days(self):
        return [getattr(self, name) for name in self.DAYS]

    def rules(self) -> list[tuple[int, time, time]]:
        return [
            (weekday, start, end)
            for weekday, day in enumerate(self.days())
            for start, end in day.form.periods()
        ]

    def fill(self, agent) -> None:
        """Show the agent's current hours (at most two periods a day are editable here)."""
        self.time_zone.data = agent.time_zone
        for weekday, day in enumerate(self.days()):
            rules = [r for r in agent.hours if r.weekday == weekday][:2]
            for n, rule in enumerate(rules, start=1):
                getattr(day.form, f"start{n}").data = rule.start_time
                getattr(day.form, f"end{n}").data = rule.end_time


class TimeOffForm(FlaskForm):
    starts_at = DateTimeLocalField(
        "From", format="%Y-%m-%dT%H:%M", validators=[InputRequired(message="Enter the start.")]
    )
    ends_at = DateTimeLocalField(
        "Until", format="%Y-%m-%dT%H:%M", validators=[InputRequired(message="Enter the end.")]
    )
    reason = StringField("Reason", validators=[Optional(), Length(max=120)])

    def validate_ends_at(self, field) -> None:
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError("The end must come after the start.")


def agent_profile_form(skills, territories, agent=None, **kwargs):
    """A form with one checkbox per skill and per territory (the lists are short)."""

    class AgentProfileForm(FlaskForm):
        def skill_fields(self):
            return [getattr(self, f"skill_{s.id}") for s in skills]

        def territory_fields(self):
            return [getattr(self, f"territory_{t.id}") for t in territories]

        def chosen_skills(self):
            return [s for s in skills if getattr(self, f"skill_{s.id}").data]

        def chosen_territories(self):
            return [t for t in territories if getattr(self, f"territory_{t.id}").data]

    for skill in skills:
        setattr(AgentProfileForm, f"skill_{skill.id}", BooleanField(skill.name))
    for territory in territories:
        setattr(
            AgentProfileForm,
            f"territory_{territory.id}",
            BooleanField(f"{territory.name} ({territory.time_zone})"),
        )
    data = {}
    if agent is not None:
        data.update({f"skill_{s.id}": True for s in agent.skills})
        data.update({f"territory_{t.id}": True for t in agent.territories})
    return AgentProfileForm(data=data, **kwargs)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=STAFF_ROLE_CHOICES)


def bulk_move_form(appointments, **kwargs):
    """One checkbox per parked appointment on the page."""

    class BulkMoveForm(FlaskForm):
        def chosen_ids(self) -> list[int]:
            return [a.id for a in appointments if getattr(self, f"pick_{a.id}").data]

        def pick(self, appointment):
            return getattr(self, f"pick_{appointment.id}")

    for appointment in appointments:
        setattr(
            BulkMoveForm, f"pick_{appointment.id}", BooleanField(f"Select {appointment.number}")
        )
    return BulkMoveForm(**kwargs)


class MoveOneForm(FlaskForm):
    start = StringField("Window start", validators=[_required("a window")])


class QueueForm(FlaskForm):
    """A queue's name, description, lead and business-hours calendar; the pickers' choices
    are set by the view (the team's users, the calendars)."""

    name = StringField("Name", validators=[_required("a name"), Length(max=80)])
    description = TextAreaField("What lands here", validators=[Optional(), Length(max=2000)])
    lead_id = SelectField("Lead", coerce=coerce_optional_id, validate_choice=True)
    calendar_id = SelectField(
        "Business-hours calendar", coerce=coerce_optional_id, validate_choice=True
    )


class MemberForm(FlaskForm):
    user_id = SelectField("Person", coerce=coerce_optional_id, validate_choice=True)
