"""Who hears of what: announce() queues e-mails and writes notices for each event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.notifications.events import EVENTS, announce
from portal.notifications.models import Notification, OutboxMessage
from tests.factories import create_agent, create_appointment, create_customer, create_user

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def appt(session):
    user, _account, contact = create_customer(session, full_name="Ada Customer")
    agent = create_agent(session, full_name="Bob Agent")
    create_user(session, role="scheduler", full_name="Sam Scheduler")
    return create_appointment(session, start=START, contact=contact, agents=[agent])


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_every_event_can_be_announced(session, appt, event):
    announce(session, event, appt, note="A note", old_window=(START - timedelta(days=1), START))
    messages = session.scalars(sa.select(OutboxMessage)).all()
    notices = session.scalars(sa.select(Notification)).all()
    assert messages or notices
    for m in messages:
        print(m.recipient, "|", m.subject)
        print(m.body_text)
