"""Finding queues; the scheduling queue always exists."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.queues.models import SCHEDULING, Queue


def queue_by_slug(session: so.Session, slug: str) -> Queue | None:
    return session.scalar(sa.select(Queue).where(Queue.slug == slug))


def scheduling_queue(session: so.Session) -> Queue:
    """The Scheduling queue: made by migration 0015, made again here if it is missing (a
    database built without the migration's data, a test that emptied the tables)."""
    queue = queue_by_slug(session, SCHEDULING)
    if queue is not None:
        return queue
    try:
        with session.begin_nested():
            queue = Queue(slug=SCHEDULING, name="Scheduling", description=DESCRIPTION)
            session.add(queue)
    except sa.exc.IntegrityError:  # another transaction made it first
        queue = queue_by_slug(session, SCHEDULING)
        assert queue is not None
    return queue


def scheduling_queue_id(session: so.Session) -> int:
    return scheduling_queue(session).id


DESCRIPTION = "Appointments that need a scheduler: a new time, a declined or missed visit."
