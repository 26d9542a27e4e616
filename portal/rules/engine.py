"""The rule engine: for the changes of a record type, each enabled rule's condition is
evaluated on the new values against the state stored per (rule, record), and only a
transition fires. States and firings are written in bulk, in the caller's transaction
(the feed's, or a hand edit's), after the derived fields.

`simulate` evaluates every record of the type as it stands against the stored states
without writing anything; `enable_rule` applies exactly those transitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact, CustomerAccount, User
from portal.audit.services import record_change
from portal.db import insert_many
from portal.errors import Conflict
from portal.feed.records import RECORD_TYPES, field_info
from portal.feed.watchers import Cause, RecordChange
from portal.rules.actions import FiringRun, RunCache, run_action
from portal.rules.builtin import ensure_builtin
from portal.rules.choosers import chooser
from portal.rules.conditions import (
    as_json,
    as_text,
    condition,
    fires,
    needs_write,
    transition_words,
)
from portal.rules.models import Rule, RuleFiring, RuleState
from portal.timeutil import now_utc

CHUNK = 5_000
SHOWN = 50  # records a simulation lists
MODELS = {"account": CustomerAccount, "contact": Contact}
NAMES = {"account": CustomerAccount.name, "contact": Contact.full_name}


@dataclass(frozen=True)
class Step:
    """One record's move of one rule's condition."""

    change: RecordChange
    stored: str | None
    new: str
    fires: bool
    write: bool

    @property
    def record_id(self) -> int:
        return self.change.record_id


# --- running -----------------------------------------------------------------------------


def enabled_rules(session: so.Session, record_type: str) -> list[Rule]:
    return list(
        session.scalars(
            sa.select(Rule)
            .where(Rule.record_type == record_type, Rule.enabled.is_(True))
            .order_by(Rule.position, Rule.id)
        )
    )


def run_rules(
    session: so.Session, changes: Sequence[RecordChange], cause: Cause
) -> list[RuleFiring]:
    """Evaluate the enabled rules on `changes` and fire the transitions (the watcher)."""
    if not changes:
        return []
    ensure_builtin(session)
    by_type: dict[str, list[RecordChange]] = {}
    for change in changes:
        by_type.setdefault(change.record_type, []).append(change)
    firings: list[RuleFiring] = []
    for record_type, group in by_type.items():
        for rule in enabled_rules(session, record_type):
            steps = evaluate(session, rule, group)
            write_states(session, rule, steps)
            firings += fire(session, rule, [s for s in steps if s.fires], cause)
    return firings


def evaluate(session: so.Session, rule: Rule, changes: Iterable[RecordChange]) -> list[Step]:
    """Each record's step for `rule` (records whose values do not hold the rule's field
    are left out: the change did not touch it)."""
    seen = []
    for change in changes:
        new = condition(rule.trigger, rule.field, rule.params or {}, change.after)
        if new is not None:
            seen.append((change, new))
    stored = load_states(session, rule.id, [change.record_id for change, _ in seen])
    steps = []
    for change, new in seen:
        old = stored.get(change.record_id)
        before = change.before.get(rule.field) if rule.field else None
        steps.append(
            Step(
                change,
                old,
                new,
                fires(rule.trigger, old, new, created=change.created, before=before),
                needs_write(rule.trigger, old, new),
            )
        )
    return steps


def load_states(session: so.Session, rule_id: int, record_ids: list[int]) -> dict[int, str | None]:
    """{record id: stored state} for those that have one, a chunk per query."""
    ids = sorted(set(record_ids))
    states: dict[int, str | None] = {}
    for start in range(0, len(ids), CHUNK):
        states.update(
            session.execute(
                sa.select(RuleState.record_id, RuleState.value).where(
                    RuleState.rule_id == rule_id,
                    RuleState.record_id.in_(ids[start : start + CHUNK]),
                )
            ).all()
        )
    return states


def write_states(session: so.Session, rule: Rule, steps: Iterable[Step]) -> None:
    """Store the new state of each step that changes it: the old rows of a chunk are
    deleted and the new ones inserted (two statements a chunk, on both databases; a
    concurrent writer of the same (rule, record) is refused by the primary key)."""
    rows = [s for s in steps if s.write]
    at = now_utc()
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        replaced = [s.record_id for s in chunk if s.stored is not None]
        if replaced:
            session.execute(
                sa.delete(RuleState).where(
                    RuleState.rule_id == rule.id, RuleState.record_id.in_(replaced)
                )
            )
        insert_many(
            session,
            RuleState.__table__,
            [
                {"rule_id": rule.id, "record_id": s.record_id, "value": s.new, "updated_at": at}
                for s in chunk
            ],
        )


def fire(session: so.Session, rule: Rule, steps: Sequence[Step], cause: Cause) -> list[RuleFiring]:
    """Log a firing for each step and run the rule's actions on its record. What the
    actions do goes through the case services one case at a time; everything else (the
    firings and their effects, the rule's timeline entries) is written in one batch."""
    if not steps:
        return []
    cache = RunCache(session)
    accounts = _accounts_of(session, rule.record_type, [s.record_id for s in steps])
    account_ids = sorted({a.id for a in accounts.values()})
    _choose_contacts(session, rule, cache, account_ids)
    for action in rule.actions or []:
        if action.get("kind") == "close_cases":
            cache.preload_open_cases(action["case_type"], account_ids)
        if action.get("kind") == "open_case":
            cache.case_type(action["case_type"])
    by = session.get(User, cause.actor_id) if cause.actor_id else None
    at = now_utc()
    firings = []
    for step in steps:
        account = accounts.get(step.record_id)
        firing = RuleFiring(
            rule_id=rule.id,
            record_type=rule.record_type,
            record_id=step.record_id,
            at=at,
            transition=transition_words(rule.trigger, step.stored, step.new)[:120],
            inputs=inputs_of(step.change),
            outcome=[],
            cause=cause.label[:200],
            import_id=cause.import_id,
            actor_id=cause.actor_id,
            effects=[],
        )
        firings.append(firing)
        if account is None:
            firing.outcome = [{"kind": "none", "text": "skipped: the record has no account"}]
            continue
        run = FiringRun(
            session,
            rule,
            firing,
            account,
            dict(step.change.after),
            reason_of(rule, step.change, cause),
            cache,
            by=by,
        )
        for action in rule.actions or []:
            run_action(run, action)
        firing.outcome = run.outcome
    # Added only now: an autoflush inside the actions would insert them one by one.
    session.add_all(firings)
    cache.write_timeline()
    session.flush()
    return firings


def _accounts_of(
    session: so.Session, record_type: str, ids: list[int]
) -> dict[int, CustomerAccount]:
    """{record id: the account the actions work on}, loaded a chunk at a time and held."""
    found: dict[int, CustomerAccount] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if record_type == "account":
            for account in session.scalars(
                sa.select(CustomerAccount).where(CustomerAccount.id.in_(chunk))
            ):
                found[account.id] = account
        else:
            for contact in session.scalars(
                sa.select(Contact)
                .options(so.joinedload(Contact.account))
                .where(Contact.id.in_(chunk))
            ):
                found[contact.id] = contact.account
    return found


def _choose_contacts(
    session: so.Session, rule: Rule, cache: RunCache, account_ids: list[int]
) -> None:
    """Run each chooser the rule names once for all its firings, and load the chosen."""
    for action in rule.actions or []:
        name = action.get("contact_chooser") if action.get("kind") == "open_case" else None
        pick = chooser(name) if name else None
        if pick is None:
            continue
        chosen = pick(session, account_ids)
        cache.chosen[name] = chosen
        ids = sorted({c for c in chosen.values() if c is not None})
        for start in range(0, len(ids), CHUNK):
            for contact in session.scalars(
                sa.select(Contact).where(Contact.id.in_(ids[start : start + CHUNK]))
            ):
                cache.contacts[contact.id] = contact


# --- words -------------------------------------------------------------------------------


def inputs_of(change: RecordChange) -> dict:
    """The values the rule saw: {field: [before, after]}."""
    names = list(dict.fromkeys([*change.before, *change.after]))
    return {
        name: [as_json(change.before.get(name)), as_json(change.after.get(name))] for name in names
    }


def values_words(record_type: str, before: Mapping, after: Mapping) -> str:
    """ "oldest aging days 3 → 5" for the fed fields that changed (their values when
    none did: a rule enabled over records as they stand)."""
    fed = [
        name
        for name in after
        if (info := field_info(record_type, name)) is None or not info.derived
    ]
    moved = [name for name in fed if before.get(name) != after.get(name)]

    def text(value) -> str:
        return as_text(value) or "none"

    if moved:
        return ", ".join(
            f"{name.replace('_', ' ')} {text(before.get(name))} → {text(after.get(name))}"
            for name in moved
        )
    return ", ".join(f"{name.replace('_', ' ')} {text(after.get(name))}" for name in fed)


def reason_of(rule: Rule, change: RecordChange, cause: Cause) -> str:
    """ "the rule 'Aging confirmations: open': oldest aging days 3 → 5 (Feed import
    IMP-000012)", for the case's timeline."""
    words = values_words(rule.record_type, change.before, change.after)
    return f"the rule '{rule.name}'" + (f": {words}" if words else "") + f" ({cause.label})"


# --- simulation and enabling ---------------------------------------------------------------


@dataclass(frozen=True)
class SimulatedRecord:
    record_id: int
    name: str
    values: dict
    transition: str


@dataclass(frozen=True)
class Simulation:
    evaluated: int  # records of the type
    firing: int  # transitions that would fire
    updated: int  # stored states that would change (firing or not)
    records: list[SimulatedRecord]  # the first SHOWN that would fire


def records_now(session: so.Session, record_type: str) -> list[RecordChange]:
    """Every record of the type with its values as they stand (before = after)."""
    model = MODELS[record_type]
    names = [info.name for info in RECORD_TYPES[record_type]]
    columns = [getattr(model, name) for name in names]
    rows = session.execute(sa.select(model.id, *columns).order_by(model.id))
    changes = []
    for row in rows:
        values = dict(zip(names, row[1:], strict=True))
        changes.append(RecordChange(record_type, row[0], values, values))
    return changes


def _steps_now(session: so.Session, rule: Rule) -> tuple[list[Step], int]:
    records = records_now(session, rule.record_type)
    return evaluate(session, rule, records), len(records)


def _simulation(session: so.Session, rule: Rule, steps: list[Step], evaluated: int) -> Simulation:
    firing = [s for s in steps if s.fires]
    shown = firing[:SHOWN]
    names = dict(
        session.execute(
            sa.select(MODELS[rule.record_type].id, NAMES[rule.record_type]).where(
                MODELS[rule.record_type].id.in_([s.record_id for s in shown])
            )
        ).all()
    )
    return Simulation(
        evaluated=evaluated,
        firing=len(firing),
        updated=sum(1 for s in steps if s.write),
        records=[
            SimulatedRecord(
                s.record_id,
                names.get(s.record_id, f"#{s.record_id}"),
                {k: as_text(v) or "none" for k, v in s.change.after.items()},
                transition_words(rule.trigger, s.stored, s.new),
            )
            for s in shown
        ],
    )


def simulate(session: so.Session, rule: Rule) -> Simulation:
    """What enabling `rule` now would fire, every record of its type evaluated against
    the stored states; writes nothing."""
    steps, evaluated = _steps_now(session, rule)
    return _simulation(session, rule, steps, evaluated)


def enable_rule(session: so.Session, rule: Rule, by: User) -> Simulation:
    """Enable `rule` and apply exactly the transitions `simulate` shows (cause
    "rule_enabled"); returns what was applied."""
    if rule.enabled:
        raise Conflict(f"The rule '{rule.name}' is enabled already.")
    steps, evaluated = _steps_now(session, rule)
    rule.enabled = True
    rule.updated_by_id = by.id
    record_change(session, by, "rule.enabled", rule, {"enabled": False}, {"enabled": True})
    write_states(session, rule, steps)
    cause = Cause("rule_enabled", f"Rule enabled by {by.full_name}", actor_id=by.id)
    fire(session, rule, [s for s in steps if s.fires], cause)
    return _simulation(session, rule, steps, evaluated)


def disable_rule(session: so.Session, rule: Rule, by: User) -> None:
    """Disable `rule`: it fires nothing until enabled again (its states stay as they were)."""
    if not rule.enabled:
        raise Conflict(f"The rule '{rule.name}' is disabled already.")
    rule.enabled = False
    rule.updated_by_id = by.id
    session.flush()
    record_change(session, by, "rule.disabled", rule, {"enabled": True}, {"enabled": False})
