"""What the case page shows of the rules: "why did this case open (or close)?".

The case package sits below this one and cannot ask for firings, so the app factory makes
`case_rule_firings(case)` a template global and templates/rules/_why.html calls it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import get_session
from portal.rules.models import RuleEffect, RuleFiring

VERBS = {"open_case": "Opened", "close_cases": "Closed"}


@dataclass(frozen=True)
class FiringView:
    verb: str  # "Opened", "Closed" (or "Changed")
    rule_name: str
    rule_id: int
    at: datetime
    transition: str
    inputs: list[tuple[str, str, str]]  # (field in words, before, after)
    cause: str
    did: list[str]
    warnings: list[str]


def firing_view(firing: RuleFiring, action: str = "") -> FiringView:
    def text(value) -> str:
        return (
            "none"
            if value is None or value == ""
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )

    inputs = [
        (name.replace("_", " "), text(pair[0]), text(pair[1]))
        for name, pair in (firing.inputs or {}).items()
        if isinstance(pair, list) and len(pair) == 2
    ]
    outcome = firing.outcome or []
    return FiringView(
        verb=VERBS.get(action, "Changed"),
        rule_name=firing.rule.name if firing.rule else "a rule since deleted",
        rule_id=firing.rule_id,
        at=firing.at,
        transition=firing.transition,
        inputs=inputs,
        cause=firing.cause,
        did=[str(item.get("text", "")) for item in outcome],
        warnings=[str(item["warning"]) for item in outcome if item.get("warning")],
    )


def case_rule_firings(case) -> list[FiringView]:
    """The firings that opened or closed `case`, oldest first."""
    session = get_session()
    rows = session.execute(
        sa.select(RuleFiring, RuleEffect.action)
        .join(RuleEffect, RuleEffect.firing_id == RuleFiring.id)
        .where(RuleEffect.subject_type == "case", RuleEffect.subject_id == case.id)
        .options(so.joinedload(RuleFiring.rule))
        .order_by(RuleFiring.at, RuleFiring.id)
    ).all()
    return [firing_view(firing, action) for firing, action in rows]
