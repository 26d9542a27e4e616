"""The shape of webhook input; whether a URL may be used is the services' call."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.webhooks.models import WEBHOOK_EVENTS
from portal.webhooks.services import MAX_DESCRIPTION
from portal.webhooks.urls import MAX_URL_LENGTH


class EndpointForm(FlaskForm):
    # A text input (styled like the others), with a URL keyboard on phones.
    url = StringField(
        "URL",
        render_kw={"inputmode": "url", "spellcheck": "false", "autocapitalize": "off"},
        validators=[
            DataRequired(message="Enter the URL to send events to."),
            Length(max=MAX_URL_LENGTH, message=f"Use at most {MAX_URL_LENGTH} characters."),
        ],
    )
    description = StringField(
        "Description (optional)",
        validators=[
            Optional(),
            Length(max=MAX_DESCRIPTION, message=f"Use at most {MAX_DESCRIPTION} characters."),
        ],
    )
    events = SelectMultipleField(
        "Events to send",
        choices=[SelectChoice(name, words) for name, words in WEBHOOK_EVENTS.items()],
        validators=[DataRequired(message="Choose at least one event to send.")],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
