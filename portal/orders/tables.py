"""The decision table's versions: managers edit one draft and publish it.

At most one version is a draft and at most one is published (two partial unique indexes
say so); publishing retires the published one and publishes the draft in one
transaction. Published and retired versions never change: an approved order keeps the
version it was decomposed with, so what it did stays explainable. Rows of the draft are
added, edited, moved and deleted here; every row is checked when it is saved and again,
with the table's own rules (one default row, and last), when the draft is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.audit.services import record_change, register_entity
from portal.booking.models import Service
from portal.errors import Conflict, Invalid, NotFound
from portal.orders.decision import attributes_text, parse_attributes, postal_key, template_problem
from portal.orders.models import DecisionRow, DecisionTable, Product
from portal.orders.planning import published_table
from portal.orders.table_words import describe_row
from portal.queues.models import Queue
from portal.timeutil import now_utc
from portal.workforce.models import Territory

MAX_LABEL = 120
MAX_SUMMARY = 200
MAX_TASKS = 20
MAX_TASK_TITLE = 200
DEFAULT_SUMMARY = "{product} at {location}"

register_entity(
    "decision_tables", "decision_table", label=lambda t: f"Decision table version {t.version}"
)


class PublishRefused(Invalid):
    """The draft cannot be published; `problems` lists every reason, in words."""

    def __init__(self, problems: list[str]):
        super().__init__("The draft cannot be published yet: " + " ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class RowData:
    """What a manager sets on a row; `attributes` as `key=value` lines, `tasks` one
    title a line."""

    label: str = ""
    is_default: bool = False
    product_id: int | None = None
    attributes: str = ""
    territory_id: int | None = None
    postal_prefix: str = ""
    creates_work_order: bool = True
    summary: str = DEFAULT_SUMMARY
    tasks: str = ""
    queue_id: int | None = None
    service_id: int | None = None
    needs_appointment: bool = False


def row_data(row: DecisionRow) -> RowData:
    """A row's values as the form shows them."""
    return RowData(
        label=row.label,
        is_default=row.is_default,
        product_id=row.product_id,
        attributes=attributes_text(row.attributes or {}),
        territory_id=row.territory_id,
        postal_prefix=row.postal_prefix or "",
        creates_work_order=row.creates_work_order,
        summary=row.summary,
        tasks="\n".join(str(t) for t in row.tasks or []),
        queue_id=row.queue_id,
        service_id=row.service_id,
        needs_appointment=row.needs_appointment,
    )


# --- reading -----------------------------------------------------------------------------------


def current_draft(session: so.Session) -> DecisionTable | None:
    """The draft being edited, if any."""
    return session.scalar(sa.select(DecisionTable).where(DecisionTable.status == "draft"))


def versions(session: so.Session) -> list[DecisionTable]:
    """Every published and retired version, newest first."""
    return list(
        session.scalars(
            sa.select(DecisionTable)
            .where(DecisionTable.status != "draft")
            .order_by(DecisionTable.version.desc())
        )
    )


def table_by_version(session: so.Session, version: int) -> DecisionTable | None:
    return session.scalar(sa.select(DecisionTable).where(DecisionTable.version == version))


def draft_row(session: so.Session, row_id: int) -> DecisionRow:
    """A row of the current draft; NotFound for any other row (a published one too)."""
    row = session.get(DecisionRow, row_id)
    if row is None or row.table.status != "draft":
        raise NotFound("That row is not in the draft.")
    return row


# --- the draft's life --------------------------------------------------------------------------


def start_draft(session: so.Session, by: Any = None) -> DecisionTable:
    """A new draft holding a copy of the published version's rows (empty when nothing is
    published yet). There is at most one draft: a second is refused."""
    existing = current_draft(session)
    if existing is not None:
        raise Conflict(f"A draft (version {existing.version}) is open already: edit that one.")
    highest = session.scalar(sa.select(sa.func.max(DecisionTable.version))) or 0
    draft = DecisionTable(
        version=highest + 1, status="draft", created_by_id=getattr(by, "id", None)
    )
    published = published_table(session)
    if published is not None:
        draft.note = f"Started from version {published.version}."
        for row in published.rows:
            draft.rows.append(_copy(row))
    session.add(draft)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:  # another manager started one a moment ago
        raise Conflict("Another draft was started a moment ago: open the table again.") from None
    record_change(session, by, "start draft", draft, None, {"version": draft.version})
    return draft


def discard_draft(session: so.Session, draft: DecisionTable, by: Any = None) -> None:
    """Throw the draft away; the published version stays as it is."""
    _check_draft(draft)
    record_change(session, by, "discard draft", draft, {"version": draft.version}, None)
    session.delete(draft)
    session.flush()


def publish(session: so.Session, draft: DecisionTable, by: Any = None) -> DecisionTable:
    """Publish the draft: it becomes the version approval uses, and the published one is
    retired, in this transaction. Refused (PublishRefused) with every problem named;
    Conflict when another manager published or discarded it a moment ago."""
    _check_draft(draft)
    problems = publish_problems(draft)
    if problems:
        raise PublishRefused(problems)
    old = published_table(session)
    now = now_utc()
    try:
        with session.begin_nested():
            if old is not None:
                _conditional_status(session, old, "published", "retired")
            done = session.execute(
                sa.update(DecisionTable)
                .where(DecisionTable.id == draft.id, DecisionTable.status == "draft")
                .values(
                    status="published", published_at=now, published_by_id=getattr(by, "id", None)
                )
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:
                raise Conflict("This draft was published or discarded a moment ago.")
    except sa.exc.IntegrityError:  # the partial unique indexes: another publish won
        raise Conflict(
            "Another version was published a moment ago: open the table again."
        ) from None
    for table in (old, draft):
        if table is not None:
            session.refresh(table)
    record_change(
        session,
        by,
        "publish",
        draft,
        {"status": "draft"},
        {
            "status": "published",
            "version": draft.version,
            "rows": [describe_row(row).sentence for row in draft.rows],
            "retired": old.version if old is not None else None,
        },
    )
    return draft


def _conditional_status(session: so.Session, table: DecisionTable, old: str, new: str) -> None:
    done = session.execute(
        sa.update(DecisionTable)
        .where(DecisionTable.id == table.id, DecisionTable.status == old)
        .values(status=new)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict("Another version was published a moment ago: open the table again.")


def publish_problems(table: DecisionTable) -> list[str]:
    """Why `table` cannot be published, in words: an empty list when it can."""
    rows = sorted(table.rows, key=lambda r: r.position)
    if not rows:
        return ["It has no rows: add the rows, ending with a default row."]
    problems = []
    defaults = [n for n, row in enumerate(rows, start=1) if row.is_default]
    if len(defaults) > 1:
        listed = ", ".join(str(n) for n in defaults)
        problems.append(f"Rows {listed} are all default rows: keep one.")
    elif defaults and defaults[0] != len(rows):
        problems.append(
            f"Row {defaults[0]} is the default row: move it to the end, or the rows below "
            "it never match."
        )
    for number, row in enumerate(rows, start=1):
        for problem in row_problems(row):
            problems.append(f"Row {number}: {problem}")
    return problems


def row_problems(row: DecisionRow) -> list[str]:
    """What does not make sense in a saved row (the same checks as saving it)."""
    found = []
    for _field, message in _outcome_problems(
        creates=row.creates_work_order,
        summary=row.summary,
        tasks=list(row.tasks or []),
        queue=row.queue,
        service=row.service,
        needs_appointment=row.needs_appointment,
    ):
        found.append(message)
    if row.is_default and _has_conditions(
        row.product_id, row.attributes, row.territory_id, row.postal_prefix
    ):
        found.append(_DEFAULT_HAS_CONDITIONS)
    return found


# --- rows of the draft -------------------------------------------------------------------------


def add_row(session: so.Session, draft: DecisionTable, data: RowData) -> DecisionRow:
    """A new row of the draft: a default row goes last; any other row goes just above a
    default row that ends the table (the place where it can match), else last."""
    _check_draft(draft)
    rows = _ordered(draft)
    row = DecisionRow(position=len(rows) + 1)
    _apply(session, draft, row, data)
    if rows and rows[-1].is_default and not row.is_default:
        rows.insert(len(rows) - 1, row)
    else:
        rows.append(row)
    draft.rows.append(row)
    _renumber(session, rows)
    return row


def update_row(session: so.Session, row: DecisionRow, data: RowData) -> DecisionRow:
    """Change a row of the draft."""
    _check_draft(row.table)
    _apply(session, row.table, row, data)
    session.flush()
    return row


def delete_row(session: so.Session, row: DecisionRow) -> None:
    """Take a row out of the draft; the rows below move up."""
    table = row.table
    _check_draft(table)
    rows = [r for r in _ordered(table) if r is not row]
    table.rows.remove(row)
    session.flush()
    _renumber(session, rows)


def move_row(session: so.Session, row: DecisionRow, direction: str) -> DecisionRow:
    """Move a row of the draft one place "up" or "down" (at the top or bottom nothing
    moves)."""
    table = row.table
    _check_draft(table)
    if direction not in ("up", "down"):
        raise Invalid("Move a row up or down.")
    rows = _ordered(table)
    at = rows.index(row)
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(rows):
        rows[at], rows[to] = rows[to], rows[at]
        _renumber(session, rows)
    return row


def _ordered(table: DecisionTable) -> list[DecisionRow]:
    return sorted(table.rows, key=lambda r: r.position)


def _renumber(session: so.Session, rows: list[DecisionRow]) -> None:
    """Positions 1..n in the given order. (table, position) is unique, so the rows step
    aside to negative positions first: a swap never holds two rows on one place."""
    session.flush()
    for n, row in enumerate(rows, start=1):
        row.position = -n
    session.flush()
    for n, row in enumerate(rows, start=1):
        row.position = n
    session.flush()
    if rows:
        session.expire(rows[0].table, ["rows"])


def _check_draft(table: DecisionTable) -> None:
    if table.status != "draft":
        raise Conflict(
            f"Version {table.version} is {table.status} and never changes: start a draft "
            "to change the table."
        )


def _copy(row: DecisionRow) -> DecisionRow:
    return DecisionRow(
        position=row.position,
        label=row.label,
        is_default=row.is_default,
        product_id=row.product_id,
        attributes=dict(row.attributes or {}),
        territory_id=row.territory_id,
        postal_prefix=row.postal_prefix,
        creates_work_order=row.creates_work_order,
        summary=row.summary,
        tasks=list(row.tasks or []),
        queue_id=row.queue_id,
        service_id=row.service_id,
        needs_appointment=row.needs_appointment,
    )


# --- checking a row ----------------------------------------------------------------------------

_DEFAULT_HAS_CONDITIONS = (
    "a default row matches every product: leave its product, attributes, territory and "
    "postcode empty."
)


def _has_conditions(product_id, attributes, territory_id, postal_prefix) -> bool:
    return bool(product_id or attributes or territory_id or postal_prefix)


def _apply(session: so.Session, table: DecisionTable, row: DecisionRow, data: RowData) -> None:
    """Check `data` and set it on `row`; Invalid names the first field that is wrong."""
    label = " ".join((data.label or "").split())
    if len(label) > MAX_LABEL:
        raise Invalid(f"Use at most {MAX_LABEL} characters.", field="label")
    product = _get(session, Product, data.product_id, "product_id", "That product")
    try:
        attributes = parse_attributes(data.attributes)
    except ValueError as err:
        raise Invalid(str(err), field="attributes") from None
    territory = _get(session, Territory, data.territory_id, "territory_id", "That territory")
    prefix = postal_key(data.postal_prefix)
    if prefix and (len(prefix) > 16 or not prefix.isalnum() or not prefix.isascii()):
        raise Invalid(
            "A postcode start has letters and digits only (at most 16), such as SW1A.",
            field="postal_prefix",
        )
    if data.is_default:
        if _has_conditions(data.product_id, attributes, data.territory_id, prefix):
            raise Invalid(
                _DEFAULT_HAS_CONDITIONS[0].upper() + _DEFAULT_HAS_CONDITIONS[1:],
                field="is_default",
            )
        other = next((r for r in table.rows if r.is_default and r is not row), None)
        if other is not None:
            raise Invalid(
                f"Row {other.position} is the default row already: a table has one.",
                field="is_default",
            )
    creates = bool(data.creates_work_order)
    summary = " ".join((data.summary or "").split()) or DEFAULT_SUMMARY
    tasks = [" ".join(t.split()) for t in (data.tasks or "").splitlines() if t.strip()]
    queue = _get(session, Queue, data.queue_id, "queue_id", "That queue") if creates else None
    service = (
        _get(session, Service, data.service_id, "service_id", "That service") if creates else None
    )
    needs_appointment = bool(data.needs_appointment) and creates
    if not creates:
        tasks = []
    for field, message in _outcome_problems(
        creates=creates,
        summary=summary,
        tasks=tasks,
        queue=queue,
        service=service,
        needs_appointment=needs_appointment,
    ):
        raise Invalid(message[0].upper() + message[1:], field=field)
    row.label = label
    row.is_default = bool(data.is_default)
    row.product = product
    row.attributes = attributes
    row.territory = territory
    row.postal_prefix = prefix or None
    row.creates_work_order = creates
    row.summary = summary
    row.tasks = tasks
    row.queue = queue
    row.service = service
    row.needs_appointment = needs_appointment


def _outcome_problems(*, creates, summary, tasks, queue, service, needs_appointment):
    """(field, message) for each thing wrong with a row's outcome; one rule for saving a
    row and for publishing the table."""
    if not creates:
        return
    if len(summary) > MAX_SUMMARY:
        yield "summary", f"the summary has at most {MAX_SUMMARY} characters."
    problem = template_problem(summary)
    if problem:
        yield "summary", problem[0].lower() + problem[1:]
    if queue is not None and service is not None:
        yield "service_id", "choose a back-office queue or a service for a field visit, not both."
    if queue is None and service is None:
        yield (
            "queue_id",
            "choose where the work goes: a back-office queue (with its tasks), or a service "
            "for a field visit.",
        )
    if queue is not None and not tasks:
        yield "tasks", f"name at least one task for the {queue.name} queue, one a line."
    if service is not None and tasks:
        yield (
            "tasks",
            "tasks go with a back-office queue; a field visit's work is its booking.",
        )
    if len(tasks) > MAX_TASKS:
        yield "tasks", f"use at most {MAX_TASKS} tasks."
    if any(len(t) > MAX_TASK_TITLE for t in tasks):
        yield "tasks", f"a task's title has at most {MAX_TASK_TITLE} characters."
    if needs_appointment and service is None:
        yield "needs_appointment", "a field appointment needs a service to book."
    if service is not None and not service.active:
        yield "service_id", f"{service.name} cannot be booked: choose an active service."


def _get(session: so.Session, model, record_id: int | None, field: str, what: str):
    if not record_id:
        return None
    found = session.get(model, record_id)
    if found is None:
        raise Invalid(f"{what} does not exist any more: choose again.", field=field)
    return found
