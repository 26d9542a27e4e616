"""Queues: finding them, editing them (name, lead, calendar, members), who belongs to
which, and telling a queue's members that work has landed in it.

Moving a task into, out of or between queues lives one floor up, in
portal/workorders/queue_tasks.py: a task is the spine's (portal.workorders), and this
package sits below it (the spine's task model points at a queue).

The Scheduling queue is worked by the schedulers. Its membership rows are kept in step
with the role (`sync_scheduling_membership`: a user invited or made scheduler joins, one
who stops being a scheduler leaves), so notices reach them; and whatever the rows say,
anyone with the scheduler role or above may see and take its tasks (`may_work`), as
before queues were rows.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context

from portal.accounts.models import TEAM_ROLES, User
from portal.calendars.models import BusinessCalendar
from portal.errors import Invalid, NotFound
from portal.notifications.services import notify_user, queue_email
from portal.queues.models import SCHEDULING, Queue, QueueMember

DESCRIPTION = "Appointments that need a scheduler: a new time, a declined or missed visit."
NAME_MAX = 80
DESCRIPTION_MAX = 2000


# --- finding -----------------------------------------------------------------------------------


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
        if queue is None:  # refused for another reason than a queue made first
            raise
    return queue


def scheduling_queue_id(session: so.Session) -> int:
    return scheduling_queue(session).id


def get_queue(session: so.Session, queue_id: int) -> Queue:
    queue = session.get(Queue, queue_id)
    if queue is None:
        raise NotFound("There is no such queue.")
    return queue


def list_queues(session: so.Session) -> list[Queue]:
    """Every queue by name, with its lead, calendar and members loaded (a short list)."""
    return list(
        session.scalars(
            sa.select(Queue)
            .options(
                so.joinedload(Queue.lead),
                so.joinedload(Queue.calendar),
                so.selectinload(Queue.members).joinedload(QueueMember.user),
            )
            .order_by(Queue.name)
        ).unique()
    )


def member_counts(session: so.Session) -> dict[int, int]:
    rows = session.execute(
        sa.select(QueueMember.queue_id, sa.func.count()).group_by(QueueMember.queue_id)
    )
    return {queue_id: count for queue_id, count in rows}


def members_of(session: so.Session, queue: Queue) -> list[User]:
    """The queue's members by name."""
    return list(
        session.scalars(
            sa.select(User)
            .join(QueueMember, QueueMember.user_id == User.id)
            .where(QueueMember.queue_id == queue.id)
            .order_by(User.full_name, User.id)
        )
    )


def queues_of(session: so.Session, user: User) -> list[Queue]:
    """The queues `user` works: those it is a member of, and the Scheduling queue for
    anyone with the scheduler role or above (see the module's docstring)."""
    condition = Queue.id.in_(sa.select(QueueMember.queue_id).where(QueueMember.user_id == user.id))
    if user.has_role("scheduler"):
        condition = condition | (Queue.slug == SCHEDULING)
    return list(session.scalars(sa.select(Queue).where(condition).order_by(Queue.name)))


def queue_ids_of(session: so.Session, user: User) -> list[int]:
    return [queue.id for queue in queues_of(session, user)]


def is_member(session: so.Session, queue: Queue, user: User) -> bool:
    """True when `user` has a membership row in `queue`."""
    found = session.scalar(
        sa.select(QueueMember.user_id).where(
            QueueMember.queue_id == queue.id, QueueMember.user_id == user.id
        )
    )
    return found is not None


def may_work(session: so.Session, queue: Queue, user: User) -> bool:
    """May `user` take the queue's tasks? Its members, managers and admins; and for the
    Scheduling queue anyone with the scheduler role or above."""
    if not user.is_team or not user.active:
        return False
    if user.has_role("manager"):
        return True
    if queue.slug == SCHEDULING and user.has_role("scheduler"):
        return True
    return is_member(session, queue, user)


def candidates(session: so.Session) -> list[User]:
    """Active users with a team role, who may be a queue's members or lead, by name."""
    return list(
        session.scalars(
            sa.select(User)
            .where(User.role.in_(sorted(TEAM_ROLES)), User.active.is_(True))
            .order_by(User.full_name, User.id)
        )
    )


def calendars(session: so.Session) -> list[BusinessCalendar]:
    return list(session.scalars(sa.select(BusinessCalendar).order_by(BusinessCalendar.name)))


# --- editing -----------------------------------------------------------------------------------


def create_queue(
    session: so.Session,
    *,
    name: str,
    description: str = "",
    lead_id: int | None = None,
    calendar_id: int | None = None,
    slug: str | None = None,
) -> Queue:
    """A new queue; the slug (its name in URLs and code) is made from the name unless
    given, and never changes afterwards."""
    name = _clean_name(name)
    slug = _check_slug(slug) if slug else _slug_from(session, name)
    _name_free(session, name, None)
    if queue_by_slug(session, slug) is not None:
        raise Invalid(f"A queue with the short name “{slug}” exists already.", field="slug")
    queue = Queue(slug=slug, name=name, description=_clean_description(description))
    _lead(queue, _user_or_none(session, lead_id))
    _calendar(session, queue, calendar_id)
    session.add(queue)
    _flush_unique(session, name)
    return queue


def update_queue(
    session: so.Session,
    queue: Queue,
    *,
    name: str,
    description: str,
    lead_id: int | None,
    calendar_id: int | None,
) -> Queue:
    """Change what the settings page edits: name, description, lead and calendar."""
    name = _clean_name(name)
    _name_free(session, name, queue.id)
    queue.name = name
    queue.description = _clean_description(description)
    _lead(queue, _user_or_none(session, lead_id))
    _calendar(session, queue, calendar_id)
    _flush_unique(session, name)
    return queue


def rename_queue(session: so.Session, queue: Queue, name: str) -> Queue:
    name = _clean_name(name)
    _name_free(session, name, queue.id)
    queue.name = name
    _flush_unique(session, name)
    return queue


def set_lead(session: so.Session, queue: Queue, user: User | None) -> Queue:
    """The queue's lead (None: no lead). A lead is told of the queue's breaches; it need
    not be a member (a manager may lead a queue it does not work)."""
    _lead(queue, user)
    session.flush()
    return queue


def _lead(queue: Queue, user: User | None) -> None:
    if user is not None:
        _check_team_user(user, field="lead_id", what="lead a queue")
    queue.lead = user


def set_calendar(session: so.Session, queue: Queue, calendar_id: int | None) -> Queue:
    """The business-hours calendar the queue's internal milestones run on (None: none)."""
    _calendar(session, queue, calendar_id)
    session.flush()
    return queue


def _calendar(session: so.Session, queue: Queue, calendar_id: int | None) -> None:
    calendar = None
    if calendar_id is not None:
        calendar = session.get(BusinessCalendar, calendar_id)
        if calendar is None:
            raise Invalid("Choose a business-hours calendar from the list.", field="calendar_id")
    queue.calendar = calendar


def add_member(session: so.Session, queue: Queue, user: User) -> QueueMember:
    """Make `user` (staff or back office) a member of the queue."""
    _check_team_user(user, field="user_id", what="be a queue's member")
    if is_member(session, queue, user):
        raise Invalid(f"{user.full_name} is a member of {queue.name} already.", field="user_id")
    try:
        with session.begin_nested():
            member = QueueMember(queue_id=queue.id, user_id=user.id)
            session.add(member)
    except sa.exc.IntegrityError:  # added by someone else a moment ago
        raise Invalid(
            f"{user.full_name} is a member of {queue.name} already.", field="user_id"
        ) from None
    session.expire(queue, ["members"])
    return member


def remove_member(session: so.Session, queue: Queue, user: User) -> None:
    """Take `user` out of the queue (tasks it took stay its own)."""
    removed = session.execute(
        sa.delete(QueueMember).where(
            QueueMember.queue_id == queue.id, QueueMember.user_id == user.id
        )
    )
    if removed.rowcount == 0:
        raise Invalid(f"{user.full_name} is not a member of {queue.name}.", field="user_id")
    session.expire(queue, ["members"])


def sync_scheduling_membership(session: so.Session, user: User) -> None:
    """Keep the Scheduling queue's rows in step with the role: a scheduler is a member,
    anyone else (a manager, a back-office user) is not, unless added by hand later."""
    queue = scheduling_queue(session)
    member = is_member(session, queue, user)
    if user.role == "scheduler" and not member:
        session.add(QueueMember(queue_id=queue.id, user_id=user.id))
        session.flush()
        session.expire(queue, ["members"])
    elif user.role != "scheduler" and member:
        remove_member(session, queue, user)


# --- telling the members -----------------------------------------------------------------------


def notify_queue(
    session: so.Session,
    queue: Queue,
    message: str,
    link: str = "",
    *,
    dedupe_key: str | None = None,
    skip_user_id: int | None = None,
) -> int:
    """Tell every active member of the queue: an in-portal notice and an e-mail each
    (the e-mail deduplicated per member by `dedupe_key`, when given, so telling of the
    same task twice sends once). `skip_user_id`: the member who caused it. Returns how
    many members were told."""
    told = 0
    for user in members_of(session, queue):
        if not user.active or user.id == skip_user_id:
            continue
        notify_user(session, user.id, message, link)
        queue_email(
            session,
            to=user.email,
            subject=f"[{queue.name}] {message}"[:200],
            text=_email_text(user, queue, message, link),
            dedupe_key=f"{dedupe_key}:user:{user.id}" if dedupe_key else None,
            subject_type="queue",
            subject_id=queue.id,
        )
        told += 1
    return told


def _email_text(user: User, queue: Queue, message: str, link: str) -> str:
    lines = [f"Hello {user.full_name},", "", f"New work in the {queue.name} queue:", message]
    if link:
        if link.startswith("/") and has_app_context():  # an e-mail needs the whole address
            link = current_app.config.get("BASE_URL", "").rstrip("/") + link
        lines += ["", f"Open it in the portal: {link}"]
    lines += ["", "You receive this because you are a member of the queue."]
    return "\n".join(lines)


# --- checks ------------------------------------------------------------------------------------


def _user_or_none(session: so.Session, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None:
        raise Invalid("Choose a person from the list.", field="lead_id")
    return user


def _check_team_user(user: User, *, field: str, what: str) -> None:
    if user.role not in TEAM_ROLES:
        raise Invalid(
            f"{user.full_name} is a customer and cannot {what}: choose a staff or "
            "back-office user.",
            field=field,
        )
    if not user.active:
        raise Invalid(
            f"{user.full_name} cannot log in (deactivated), so cannot {what}.", field=field
        )


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("Give the queue a name.", field="name")
    if len(name) > NAME_MAX:
        raise Invalid(f"Keep the name under {NAME_MAX} characters.", field="name")
    return name


def _clean_description(description: str | None) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(
            f"Keep the description under {DESCRIPTION_MAX} characters.", field="description"
        )
    return description


def _name_free(session: so.Session, name: str, queue_id: int | None) -> None:
    taken = session.scalar(
        sa.select(Queue.id).where(
            sa.func.lower(Queue.name) == name.lower(), Queue.id != (queue_id or 0)
        )
    )
    if taken is not None:
        raise Invalid(f"There is a queue called {name} already.", field="name")


def _flush_unique(session: so.Session, name: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:  # a queue of that name was saved a moment ago
        raise Invalid(f"There is a queue called {name} already.", field="name") from None


SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def _check_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise Invalid(
            "A short name has lower-case letters, digits and dashes (up to 40).", field="slug"
        )
    return slug


def _slug_from(session: so.Session, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:34] or "queue"
    slug, n = base, 1
    while queue_by_slug(session, slug) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug
