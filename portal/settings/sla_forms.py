"""The shape of input for business-hours calendars and entitlement processes. Times and
targets arrive as text ("09:00-12:30, 13:30-17:00", "8 h") and are read by the services,
which raise Invalid naming the field, so a page and a test see the same message."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.calendars.editing import DAY_KEYS, WEEKDAYS
from portal.cases.models import PRIORITIES
from portal.ids import MAX_ID, coerce_optional_id
from portal.settings.forms import id_choices, zone_choices
from portal.sla.settings import ACTION_LABELS, APPLIES_LABELS, KIND_LABELS, TRIGGER_LABELS


def _required(what: str) -> DataRequired:
    return DataRequired(message=f"Enter {what}.")


def _coerce_optional_text(value):
    return value or None


# --- calendars ---------------------------------------------------------------------------


class CalendarForm(FlaskForm):
    name = StringField("Name", validators=[_required("a name"), Length(max=80)])
    time_zone = SelectField("Time zone", validators=[_required("a time zone")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = zone_choices()


class WeekForm(FlaskForm):
    """Seven text fields, one per weekday: "09:00-12:30, 13:30-17:00", blank = closed."""

    mon = StringField(WEEKDAYS[0], validators=[Optional(), Length(max=300)])
    tue = StringField(WEEKDAYS[1], validators=[Optional(), Length(max=300)])
    wed = StringField(WEEKDAYS[2], validators=[Optional(), Length(max=300)])
    thu = StringField(WEEKDAYS[3], validators=[Optional(), Length(max=300)])
    fri = StringField(WEEKDAYS[4], validators=[Optional(), Length(max=300)])
    sat = StringField(WEEKDAYS[5], validators=[Optional(), Length(max=300)])
    sun = StringField(WEEKDAYS[6], validators=[Optional(), Length(max=300)])

    def days(self):
        return [getattr(self, key) for key in DAY_KEYS]

    def texts(self) -> dict[int, str]:
        return {weekday: field.data or "" for weekday, field in enumerate(self.days())}

    def fill(self, summary) -> None:
        for day, field in zip(summary.days, self.days(), strict=True):
            field.data = day.text


class CalendarHolidayForm(FlaskForm):
    day = DateField("Date", validators=[InputRequired(message="Enter the date.")])
    name = StringField("Name of the holiday", validators=[_required("a name"), Length(max=80)])
    whole_day = BooleanField("The whole day", default=True)
    start = TimeField("Closed from", validators=[Optional()])
    end = TimeField("Closed until", validators=[Optional()])

    def minutes(self) -> tuple[int, int] | None:
        """(start, end) minutes of the day, or None with an error on the missing time."""
        if self.whole_day.data:
            return 0, 24 * 60
        missing = [f for f in (self.start, self.end) if f.data is None]
        for field in missing:
            field.errors = [*field.errors, "Give a time, or tick “The whole day”."]
        if missing:
            return None
        end = self.end.data.hour * 60 + self.end.data.minute
        return self.start.data.hour * 60 + self.start.data.minute, end or 24 * 60


# --- entitlement processes ---------------------------------------------------------------


def process_form(calendars, case_types, queues, **kwargs):
    form = ProcessForm(**kwargs)
    form.calendar_id.choices = id_choices(calendars, "The queue's calendar (work orders only)")
    form.case_type_id.choices = id_choices(case_types, "Any case type")
    form.queue_id.choices = id_choices(queues, "Any queue")
    return form


class ProcessForm(FlaskForm):
    name = StringField("Name", validators=[_required("a name"), Length(max=80)])
    applies_to = SelectField(
        "Applies to", choices=[SelectChoice(k, v) for k, v in APPLIES_LABELS.items()]
    )
    rank = IntegerField(
        "Rank",
        default=100,
        validators=[
            InputRequired(message="Enter the rank."),
            NumberRange(min=0, max=10_000, message="Enter a whole number from 0 to 10000."),
        ],
    )
    active = BooleanField("Active: new cases and work orders can get it", default=True)
    calendar_id = SelectField("Business hours", coerce=coerce_optional_id)
    case_type_id = SelectField("Case type", coerce=coerce_optional_id)
    priority = SelectField(
        "Priority",
        coerce=_coerce_optional_text,
        choices=[SelectChoice("", "Any priority")]
        + [SelectChoice(p, p.capitalize()) for p in PRIORITIES],
    )
    account_id = IntegerField(
        "Account number",
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_ID, message="Enter an account number, like 1234."),
        ],
    )
    queue_id = SelectField("Queue", coerce=coerce_optional_id)


class MilestoneForm(FlaskForm):
    kind = SelectField("Milestone", choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()])
    name = StringField("Name", validators=[Optional(), Length(max=80)])
    target_low = StringField("Low", validators=[_required("the low target")])
    target_medium = StringField("Medium", validators=[_required("the medium target")])
    target_high = StringField("High", validators=[_required("the high target")])
    target_urgent = StringField("Urgent", validators=[_required("the urgent target")])
    warn_percent = IntegerField(
        "Warn at (per cent of the target)",
        default=75,
        validators=[
            InputRequired(message="Enter the warning share."),
            NumberRange(min=1, max=99, message="Enter a whole number from 1 to 99."),
        ],
    )

    def target_fields(self):
        return [self.target_low, self.target_medium, self.target_high, self.target_urgent]


def action_form(priorities, statuses, **kwargs):
    form = ActionRuleForm(**kwargs)
    form.value.choices = [
        SelectChoice("", "(none)"),
        *[SelectChoice(p, p.capitalize(), optgroup="Priority") for p in priorities],
        *[SelectChoice(s, s, optgroup="Status") for s in statuses],
    ]
    return form


class ActionRuleForm(FlaskForm):
    trigger = SelectField("When", choices=[SelectChoice(k, v) for k, v in TRIGGER_LABELS.items()])
    action = SelectField("Action", choices=[SelectChoice(k, v) for k, v in ACTION_LABELS.items()])
    value = SelectField("Value to set", validate_choice=False)
    outside_hours = BooleanField("Also outside business hours")


class PreviewForm(FlaskForm):
    """Which process would a case (or work order) get: a GET form, no CSRF token."""

    class Meta:
        csrf = False

    applies_to = SelectField(
        "A new", choices=[SelectChoice("case", "Case"), SelectChoice("work_order", "Work order")]
    )
    case_type_id = SelectField("Case type", coerce=coerce_optional_id)
    priority = SelectField(
        "Priority", choices=[SelectChoice(p, p.capitalize()) for p in PRIORITIES], default="medium"
    )
    account_id = IntegerField(
        "Account number",
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_ID, message="Enter an account number, like 1234."),
        ],
    )
    queue_id = SelectField("Queue", coerce=coerce_optional_id)


def preview_form(case_types, queues, formdata):
    form = PreviewForm(formdata=formdata)
    # A case always has a type: no "none" choice unless there are no types at all.
    form.case_type_id.choices = [SelectChoice(str(t.id), t.name) for t in case_types] or [
        SelectChoice("", "No case types yet")
    ]
    form.queue_id.choices = id_choices(queues, "No queue")
    return form
