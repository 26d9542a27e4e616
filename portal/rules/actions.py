"""What a rule's firing does, by kind: open a case, create a task on it, close the
record's open cases, complete their tasks, send an e-mail.

Each kind checks its parameters when a rule is saved (`clean_actions`, Invalid naming
the field) and runs through the services every person's change goes through (the case
services, portal/cases/tasks.py, the outbox), in the firing's transaction. What each did
is written on the firing (`outcome`) and as an effect per record it made or changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact, CustomerAccount, User
from portal.cases.inbound import reply_address
from portal.cases.models import Case, CaseType
from portal.cases.services import open_case, set_status
from portal.cases.tasks import complete_open_tasks, create_case_task
from portal.cases.types import AGING_QUEUE, BUILT_IN, aging_queue
from portal.cases.types import case_type as case_type_row
from portal.errors import Invalid, PortalError
from portal.formatting import fmt_datetime, org_zone
from portal.notifications.services import queue_email
from portal.queues.models import Queue
from portal.rules.checks import (
    clean_close_cases,
    clean_complete_tasks,
    clean_create_task,
    clean_open_case,
    clean_send_email,
)
from portal.rules.choosers import CHOOSERS, NOBODY, chooser
from portal.rules.models import EmailTemplate, Rule, RuleEffect, RuleFiring
from portal.rules.texts import fill
from portal.timeutil import now_utc, to_local
from portal.workorders.models import ACTIVE_TASK_STATES, WorkOrderTask
from portal.workorders.services import record

# --- what a firing carries ---------------------------------------------------------------


@dataclass
class RunCache:
    """Rows a run of the rules looks up once, however many firings it has."""

    session: so.Session
    queues: dict[str, Queue | None] = field(default_factory=dict)
    users: dict[str, User | None] = field(default_factory=dict)
    templates: dict[str, EmailTemplate | None] = field(default_factory=dict)
    # chooser name -> {account id: contact id or None}, filled for all firings at once
    chosen: dict[str, dict[int, int | None]] = field(default_factory=dict)
    # The chosen contacts, loaded at once (and held, so the session keeps them).
    contacts: dict[int, Contact] = field(default_factory=dict)

    # Case types by slug, held so their statuses and origins stay loaded across firings.
    case_types: dict[str, CaseType | None] = field(default_factory=dict)
    # (case type slug) -> {account id: its open cases of that type}, for close_cases
    open_cases: dict[str, dict[int, list[Case]]] = field(default_factory=dict)
    # case id -> ids of its active tasks (before close_cases closes it)
    active_tasks: dict[int, list[int]] = field(default_factory=dict)
    # Timeline entries written after the firings, in one batch: (case, action, note, by)
    timeline: list[tuple[Case, str, str, User | None]] = field(default_factory=list)

    def case_type(self, slug: str) -> CaseType | None:
        if slug not in self.case_types:
            kind = self.session.scalar(sa.select(CaseType).where(CaseType.slug == slug))
            if kind is None and slug in BUILT_IN:
                kind = case_type_row(self.session, slug)
            if kind is not None:
                _ = (kind.statuses, kind.origins)  # loaded once, held
            self.case_types[slug] = kind
        return self.case_types[slug]

    def preload_open_cases(self, slug: str, account_ids: list[int]) -> None:
        """The open cases of type `slug` of these accounts, and their active tasks."""
        kind = self.case_type(slug)
        found: dict[int, list[Case]] = {a: [] for a in account_ids}
        if kind is not None:
            for start in range(0, len(account_ids), 5_000):
                for case in self.session.scalars(
                    sa.select(Case)
                    .where(
                        Case.account_id.in_(account_ids[start : start + 5_000]),
                        Case.case_type_id == kind.id,
                        Case.is_closed.is_(False),
                    )
                    .order_by(Case.id)
                ):
                    found[case.account_id].append(case)
        self.open_cases.setdefault(slug, {}).update(found)
        case_ids = sorted(c.id for cases in found.values() for c in cases)
        for start in range(0, len(case_ids), 5_000):
            for task_id, case_id in self.session.execute(
                sa.select(WorkOrderTask.id, WorkOrderTask.case_id).where(
                    WorkOrderTask.case_id.in_(case_ids[start : start + 5_000]),
                    WorkOrderTask.status.in_(ACTIVE_TASK_STATES),
                )
            ):
                self.active_tasks.setdefault(case_id, []).append(task_id)
        for case_id in case_ids:
            self.active_tasks.setdefault(case_id, [])

    def write_timeline(self) -> None:
        for case, action, note, by in self.timeline:
            record(self.session, case, action, actor=by, note=note)
        self.timeline.clear()

    def contact(self, contact_id: int) -> Contact | None:
        if contact_id not in self.contacts:
            found = self.session.get(Contact, contact_id)
            if found is None:
                return None
            self.contacts[contact_id] = found
        return self.contacts[contact_id]

    def queue(self, slug: str) -> Queue | None:
        if slug not in self.queues:
            if slug == AGING_QUEUE:
                self.queues[slug] = aging_queue(self.session)
            else:
                self.queues[slug] = self.session.scalar(sa.select(Queue).where(Queue.slug == slug))
        return self.queues[slug]

    def user(self, email: str) -> User | None:
        if email not in self.users:
            self.users[email] = self.session.scalar(sa.select(User).where(User.email == email))
        return self.users[email]

    def template(self, slug: str) -> EmailTemplate | None:
        if slug not in self.templates:
            self.templates[slug] = self.session.scalar(
                sa.select(EmailTemplate).where(EmailTemplate.slug == slug)
            )
        return self.templates[slug]


@dataclass
class FiringRun:
    """One firing while its actions run: the record, why, and what the actions did."""

    session: so.Session
    rule: Rule
    firing: RuleFiring
    account: CustomerAccount
    values: dict
    reason: str  # "the rule 'X': oldest aging days 3 → 5 (Feed import IMP-000012)"
    cache: RunCache
    by: User | None = None
    case: Case | None = None  # the case an earlier action opened
    closed: list[Case] = field(default_factory=list)
    closing_tasks: dict[int, list[int]] = field(default_factory=dict)
    outcome: list[dict] = field(default_factory=list)

    def did(self, kind: str, text: str, **extra) -> None:
        self.outcome.append({"kind": kind, "text": text, **extra})

    def effect(self, subject_type: str, subject_id: int, action: str) -> None:
        self.firing.effects.append(
            RuleEffect(subject_type=subject_type, subject_id=subject_id, action=action)
        )

    def placeholders(self, case: Case | None = None) -> dict[str, object]:
        contact = case.contact if case is not None else None
        return {
            "account_name": self.account.name,
            "account_number": self.account.external_number,
            "contact_name": contact.full_name if contact is not None else "there",
            "oldest_aging_days": self.values.get(
                "oldest_aging_days", self.account.oldest_aging_days
            ),
            "case_number": case.number if case is not None else None,
        }


# --- the kinds ---------------------------------------------------------------------------


def _run_open_case(run: FiringRun, params: dict) -> None:
    session = run.session
    queue = run.cache.queue(params["owner_queue"])
    if queue is None:
        run.did("open_case", f"skipped: there is no queue {params['owner_queue']!r}")
        return
    contact = None
    name = params.get("contact_chooser") or ""
    if name:
        chosen = run.cache.chosen.get(name)
        if chosen is None or run.account.id not in chosen:
            pick = chooser(name)
            chosen = run.cache.chosen.setdefault(name, {})
            chosen.update(pick(session, [run.account.id]) if pick else {})
        contact_id = chosen.get(run.account.id)
        contact = run.cache.contact(contact_id) if contact_id else None
    values = run.placeholders()
    if contact is not None:
        values["contact_name"] = contact.full_name
    subject = fill(params["subject"], values)
    case = open_case(
        session,
        account=run.account,
        contact=contact,
        subject=subject,
        description=f"Opened by {run.reason}.",
        origin=params["origin"],
        priority=params.get("priority", "medium"),
        case_type=params["case_type"],
        owner_queue=queue,
        by=run.by,
    )
    run.case = case
    run.cache.timeline.append((case, "rule", f"Opened by {run.reason}", run.by))
    run.effect("case", case.id, "open_case")
    if name and contact is None:
        run.cache.timeline.append((case, "flagged", NOBODY, None))
        run.did(
            "open_case",
            f"opened {case.number} without a contact: {NOBODY}",
            case_id=case.id,
            warning=NOBODY,
        )
    else:
        who = f" for {contact.full_name}" if contact is not None else ""
        run.did("open_case", f"opened {case.number}{who}", case_id=case.id)


def _assignee(run: FiringRun, spec: str) -> tuple[User | None, Queue | None, str]:
    """(user, queue, words) for the task's assignee; an assignee that is gone falls back
    to the case's queue, and the words say so."""
    case = run.case
    fallback = case.owner_queue if case is not None else None
    kind, _, value = spec.partition(":")
    if kind in ("queue_lead", "queue"):
        queue = run.cache.queue(value)
        if queue is None:
            return None, fallback, f"the case's queue (no queue {value!r})"
        lead = queue.lead
        if kind == "queue_lead" and lead is not None and lead.active:
            return lead, None, f"{lead.full_name} (lead of {queue.name})"
        if kind == "queue_lead":
            return None, queue, f"the {queue.name} queue (it has no lead)"
        return None, queue, f"the {queue.name} queue"
    if kind == "user":
        user = run.cache.user(value)
        if user is not None and user.active and user.is_team:
            return user, None, user.full_name
        return None, fallback, f"the case's queue ({value} cannot take tasks)"
    owner = run.account.owner
    if owner is not None and owner.active and owner.is_team:
        return owner, None, f"{owner.full_name} (the account's owner)"
    return None, fallback, "the case's queue (the account has no owner)"


def due_after(days: int, *, now: datetime | None = None, zone: str | None = None) -> datetime:
    """`days` later on the organisation's wall clock (the same local time of day, across
    a clock change), in UTC."""
    local = to_local(now or now_utc(), zone or org_zone())
    return (local + timedelta(days=days)).astimezone(UTC)


def _run_create_task(run: FiringRun, params: dict) -> None:
    case = run.case
    if case is None:
        run.did("create_task", "skipped: no case was opened before it")
        return
    user, queue, words = _assignee(run, params["assignee"])
    due = due_after(int(params["due_days"]))
    try:
        task = create_case_task(
            run.session,
            case,
            title=params["title"],
            due_at=due,
            user=user,
            queue=queue,
            # The rule made it, not the person whose change fired the rule: nobody to
            # hand it "back" to.
            by=None,
            # The case was opened by this firing's open_case: it has no task yet.
            fresh=True,
        )
    except PortalError as refused:
        run.did("create_task", f"skipped: {refused}")
        return
    run.effect("task", task.id, "create_task")
    when = fmt_datetime(due, org_zone())
    run.did("create_task", f"task for {words}, due {when}", task_id=task.id, due_at=due.isoformat())


def _run_close_cases(run: FiringRun, params: dict) -> None:
    slug = params["case_type"]
    if run.account.id not in run.cache.open_cases.get(slug, {}):
        run.cache.preload_open_cases(slug, [run.account.id])
    cases = [c for c in run.cache.open_cases[slug].pop(run.account.id, []) if not c.is_closed]
    if not cases:
        run.did("close_cases", "nothing to close: no open case of that type")
        return
    for case in cases:
        run.closing_tasks[case.id] = run.cache.active_tasks.get(case.id, [])
        set_status(run.session, case, params["status"], run.by)
        run.cache.timeline.append((case, "rule", f"Closed by {run.reason}", run.by))
        run.effect("case", case.id, "close_cases")
        run.closed.append(case)
    numbers = ", ".join(c.number for c in cases)
    run.did("close_cases", f"set {numbers} to {params['status']}", case_ids=[c.id for c in cases])


def _run_complete_tasks(run: FiringRun, params: dict) -> None:
    cases = run.closed or ([run.case] if run.case is not None else [])
    done: list[int] = []
    for case in cases:
        before = run.closing_tasks.get(case.id)
        if before is None:
            before = list(
                run.session.scalars(
                    sa.select(WorkOrderTask.id).where(
                        WorkOrderTask.case_id == case.id,
                        WorkOrderTask.status.in_(ACTIVE_TASK_STATES),
                    )
                )
            )
        if case not in run.closed:  # closing one (set_status) completed its tasks already
            complete_open_tasks(run.session, case, by=run.by)
        done.extend(before)
    for task_id in done:
        run.effect("task", task_id, "complete_tasks")
    count = len(done)
    run.did("complete_tasks", f"completed {count} task{'' if count == 1 else 's'}", task_ids=done)


def _run_send_email(run: FiringRun, params: dict) -> None:
    case = run.case
    if case is None:
        run.did("send_email", "skipped: no case was opened before it")
        return
    contact = case.contact
    if contact is None or not contact.email:
        run.did("send_email", "skipped: the case has no contact to e-mail")
        return
    template = run.cache.template(params["template"])
    if template is None:
        run.did("send_email", f"skipped: there is no e-mail template {params['template']!r}")
        return
    values = run.placeholders(case)
    message = queue_email(
        run.session,
        to=contact.email,
        subject=fill(template.subject, values),
        text=fill(template.body, values),
        # One e-mail per firing: the case it opened is its own.
        dedupe_key=f"rule:{run.rule.id}:case:{case.id}:{params['template']}"[:120],
        subject_type="case",
        subject_id=case.id,
        reply_to=reply_address(run.session, case),
    )
    if message is None:
        run.did("send_email", "skipped: sent already for this firing")
        return
    run.effect("email", message.id, "send_email")
    run.did("send_email", f"e-mailed {contact.email}", message_id=message.id)


# --- the registry ------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionKind:
    label: str
    clean: Callable[[so.Session, dict], dict]
    run: Callable[[FiringRun, dict], None]
    words: Callable[[dict], str]
    # The kinds one of which must come earlier in the rule (the case it works on).
    needs: tuple[str, ...] = ()


def _a(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _assignee_words(spec: str) -> str:
    kind, _, value = spec.partition(":")
    return {
        "queue_lead": f"the lead of the {value} queue (the queue when it has none)",
        "queue": f"the {value} queue",
        "user": value,
    }.get(kind, "the account's owner")


ACTIONS: dict[str, ActionKind] = {
    "open_case": ActionKind(
        "Open a case",
        clean_open_case,
        _run_open_case,
        lambda p: (
            f"open {_a(p['case_type'])} {p['case_type']} case (came in by {p['origin']}), "
            "owned by the "
            f"{p['owner_queue']} queue"
            + (
                f", for {CHOOSERS[p['contact_chooser']][0].lower()}"
                if p.get("contact_chooser")
                else ""
            )
        ),
    ),
    "create_task": ActionKind(
        "Create a task",
        clean_create_task,
        _run_create_task,
        lambda p: (
            f"give {_assignee_words(p['assignee'])} the task \u201c{p['title']}\u201d, due "
            f"{p['due_days']} day{'' if p['due_days'] == 1 else 's'} later"
        ),
        needs=("open_case",),
    ),
    "close_cases": ActionKind(
        "Close the record's open cases",
        clean_close_cases,
        _run_close_cases,
        lambda p: f"set the account's open {p['case_type']} cases to \u201c{p['status']}\u201d",
    ),
    "complete_tasks": ActionKind(
        "Complete their open tasks",
        clean_complete_tasks,
        _run_complete_tasks,
        lambda p: "complete their open tasks",
        needs=("open_case", "close_cases"),
    ),
    "send_email": ActionKind(
        "Send an e-mail",
        clean_send_email,
        _run_send_email,
        lambda p: f"e-mail the case's contact (template \u201c{p['template']}\u201d)",
        needs=("open_case",),
    ),
}


def clean_actions(session: so.Session, actions: list[dict]) -> list[dict]:
    """The actions with their parameters checked; Invalid naming the first bad one."""
    cleaned: list[dict] = []
    for action in actions:
        kind = ACTIONS.get(str(action.get("kind")))
        if kind is None:
            raise Invalid(f"There is no action {action.get('kind')!r}.", field="actions")
        if kind.needs and not any(a["kind"] in kind.needs for a in cleaned):
            raise Invalid(
                f"“{kind.label}” needs an earlier action that opens or closes a case.",
                field="actions",
            )
        cleaned.append(kind.clean(session, action))
    return cleaned


def run_action(run: FiringRun, params: dict) -> None:
    """Run one action of the firing; a refusal of the services is written on the firing
    (the feed that fired it is not rolled back for a case that could not be opened)."""
    kind = ACTIONS.get(params.get("kind"))
    if kind is None:
        run.did(str(params.get("kind")), "skipped: unknown action")
        return
    try:
        kind.run(run, params)
    except PortalError as refused:
        run.did(params["kind"], f"skipped: {refused}")


def describe_action(params: dict) -> str:
    kind = ACTIONS.get(params.get("kind"))
    return kind.words(params) if kind else f"unknown action {params.get('kind')!r}"
