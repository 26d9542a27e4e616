"""What managers do with rules: see them in words, edit their parameters, read their
firings, edit the e-mail templates. Enabling, disabling and simulating are in
portal/rules/engine.py (they evaluate records). Services flush, never commit."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact, CustomerAccount, User
from portal.audit.services import record_change, snapshot
from portal.errors import Invalid
from portal.feed.records import RECORD_LABELS, field_info
from portal.pagination import Page, paginate
from portal.queues.models import Queue
from portal.rules.actions import clean_actions, describe_action
from portal.rules.checks import clean_due_days
from portal.rules.conditions import OP_WORDS, OPS
from portal.rules.models import EmailTemplate, Rule, RuleFiring
from portal.rules.texts import PLACEHOLDERS, check_text
from portal.rules.views import FiringView, firing_view
from portal.timeutil import now_utc

RECENT = timedelta(days=7)
BODY_MAX = 10_000


@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    trigger: str
    recent_firings: int
    last_firing_at: datetime | None


def trigger_words(rule: Rule) -> str:
    """ "When an account's has aging confirmation(s) turns true", in words."""
    record = RECORD_LABELS.get(rule.record_type, rule.record_type).lower()
    article = "an" if record[:1] in "aeiou" else "a"
    if rule.trigger == "created":
        return f"When {article} {record} is created"
    info = field_info(rule.record_type, rule.field or "")
    name = (info.label if info else (rule.field or "")).lower()
    if rule.trigger == "changed":
        return f"When {article} {record}'s {name} changes"
    params = rule.params or {}
    if params.get("threshold") is not None:
        words = OP_WORDS.get(str(params.get("op", ">")), "is more than")
        condition = f"{name} {words} {params['threshold']}"
        if rule.trigger == "turns_true":
            return f"When {article} {record}'s {condition} (it was not)"
        return f"When {article} {record}'s {condition} no longer"
    state = "true" if rule.trigger == "turns_true" else "false"
    return f"When {article} {record}'s {name} turns {state}"


def action_words(rule: Rule) -> list[str]:
    return [describe_action(action) for action in rule.actions or []]


def list_rules(session: so.Session) -> list[RuleRow]:
    """Every rule, with its firings of the last 7 days and its last firing."""
    since = now_utc() - RECENT
    recent = dict(
        session.execute(
            sa.select(RuleFiring.rule_id, sa.func.count())
            .where(RuleFiring.at >= since)
            .group_by(RuleFiring.rule_id)
        ).all()
    )
    last = dict(
        session.execute(
            sa.select(RuleFiring.rule_id, sa.func.max(RuleFiring.at)).group_by(RuleFiring.rule_id)
        ).all()
    )
    rules = session.scalars(sa.select(Rule).order_by(Rule.record_type, Rule.position, Rule.id))
    return [RuleRow(r, trigger_words(r), recent.get(r.id, 0), last.get(r.id)) for r in rules]


# --- parameters ----------------------------------------------------------------------------


def editable(rule: Rule) -> dict[str, object]:
    """The parameters a manager may edit on this rule, with their current values:
    threshold (when it has one), due_days and assignee (its task), template (its e-mail),
    owner_queue (the case it opens)."""
    values: dict[str, object] = {}
    if (rule.params or {}).get("threshold") is not None:
        values["threshold"] = rule.params["threshold"]
    for action in rule.actions or []:
        kind = action.get("kind")
        if kind == "open_case":
            values["owner_queue"] = action.get("owner_queue")
        elif kind == "create_task":
            values["due_days"] = action.get("due_days")
            values["assignee"] = action.get("assignee")
        elif kind == "send_email":
            values["template"] = action.get("template")
    return values


def update_rule(session: so.Session, rule: Rule, changes: dict[str, object], by: User) -> Rule:
    """Save new parameters (only those `editable` offers); Invalid naming the field."""
    allowed = editable(rule)
    before = snapshot(rule, "params", "actions")
    params = dict(rule.params or {})
    actions = copy.deepcopy(list(rule.actions or []))
    for name, value in changes.items():
        if name not in allowed or value is None:
            continue
        if name == "threshold":
            params["threshold"] = _threshold(rule, value)
            continue
        for action in actions:
            kind = action.get("kind")
            if name == "owner_queue" and kind == "open_case":
                action["owner_queue"] = value
            elif name in ("due_days", "assignee") and kind == "create_task":
                action[name] = clean_due_days(value) if name == "due_days" else value
            elif name == "template" and kind == "send_email":
                action["template"] = value
    rule.actions = clean_actions(session, actions)  # a new list: the JSON column is saved
    rule.params = params
    rule.updated_by_id = by.id
    session.flush()
    record_change(session, by, "rule.updated", rule, before, snapshot(rule, "params", "actions"))
    return rule


def _threshold(rule: Rule, value: object) -> int:
    if str((rule.params or {}).get("op", ">")) not in OPS:
        raise Invalid("The rule's comparison is unknown.", field="threshold")
    try:
        number = int(str(value))
    except ValueError:
        raise Invalid("Write the threshold as a whole number.", field="threshold") from None
    if not 0 <= number <= 100_000:
        raise Invalid("The threshold is 0 to 100,000.", field="threshold")
    return number


def queue_choices(session: so.Session) -> list[tuple[str, str]]:
    return [(q.slug, q.name) for q in session.scalars(sa.select(Queue).order_by(Queue.name))]


def template_choices(session: so.Session) -> list[tuple[str, str]]:
    return [
        (t.slug, t.name)
        for t in session.scalars(sa.select(EmailTemplate).order_by(EmailTemplate.name))
    ]


def assignee_choices(session: so.Session) -> list[tuple[str, str]]:
    """Who a rule's task may be for: each queue's lead or the queue, a person, the owner."""
    choices = [("account_owner", "The account's owner (sales)")]
    for queue in session.scalars(sa.select(Queue).order_by(Queue.name)):
        choices.append((f"queue_lead:{queue.slug}", f"The lead of {queue.name} (or the queue)"))
        choices.append((f"queue:{queue.slug}", f"The {queue.name} queue"))
    team = session.scalars(
        sa.select(User)
        .where(User.role != "customer", User.active.is_(True))
        .order_by(User.full_name)
    )
    choices += [(f"user:{u.email}", f"{u.full_name} ({u.email})") for u in team if u.is_team]
    return choices


# --- firings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FiringRow:
    firing: RuleFiring
    record_name: str
    view: FiringView


def firings_page(session: so.Session, rule: Rule, number: int, per_page: int = 25) -> Page:
    """A page of the rule's firings, newest first, each with its record's name."""
    page = paginate(
        session,
        sa.select(RuleFiring)
        .where(RuleFiring.rule_id == rule.id)
        .order_by(RuleFiring.at.desc(), RuleFiring.id.desc()),
        number,
        per_page,
    )
    ids = [f.record_id for f in page.items]
    model, name = (
        (CustomerAccount, CustomerAccount.name)
        if rule.record_type == "account"
        else (Contact, Contact.full_name)
    )
    names = dict(session.execute(sa.select(model.id, name).where(model.id.in_(ids))).all())
    page.items = [
        FiringRow(f, names.get(f.record_id, f"#{f.record_id} (gone)"), firing_view(f))
        for f in page.items
    ]
    return page


# --- e-mail templates ----------------------------------------------------------------------


def template_by_slug(session: so.Session, slug: str) -> EmailTemplate | None:
    return session.scalar(sa.select(EmailTemplate).where(EmailTemplate.slug == slug))


def update_template(
    session: so.Session,
    template: EmailTemplate,
    *,
    subject: str,
    body: str,
    by: User | None = None,
) -> EmailTemplate:
    """Save the template's subject and body; Invalid naming an unknown placeholder."""
    subject = " ".join((subject or "").split())
    body = (body or "").strip()
    if not subject or len(subject) > 200:
        raise Invalid("Write a subject (200 characters at most).", field="subject")
    if not body or len(body) > BODY_MAX:
        raise Invalid(f"Write the body ({BODY_MAX:,} characters at most).", field="body")
    before = snapshot(template, "subject", "body")
    template.subject = check_text(subject, "subject")
    template.body = check_text(body, "body")
    session.flush()
    after = snapshot(template, "subject", "body")
    record_change(session, by, "email_template.updated", template, before, after)
    return template


def placeholders() -> dict[str, str]:
    return dict(PLACEHOLDERS)
