"""A decision-table row in words, as managers read it on the settings pages and in the
audit log: its conditions, an arrow, its outcome."""

from __future__ import annotations

from dataclasses import dataclass

from portal.orders.decision import attributes_text
from portal.orders.models import DecisionRow


@dataclass(frozen=True)
class RowWords:
    conditions: str
    outcome: str

    @property
    def sentence(self) -> str:
        return f"{self.conditions} → {self.outcome}"


def describe_row(row: DecisionRow) -> RowWords:
    """A row as a manager reads it: "Fibre broadband installation at postcode SW… → work
    order 'Fibre install at {location}', field visit: Office network installation"."""
    if row.is_default:
        conditions = "Any other product (default row)"
    else:
        parts = [f"{row.product.name} ({row.product.code})" if row.product else "Any product"]
        if row.attributes:
            tests = ", ".join(
                f"{k} = {attributes_text({k: v})[len(k) + 1 :]}" for k, v in row.attributes.items()
            )
            parts.append(f"with {tests}")
        if row.territory is not None:
            parts.append(f"in {row.territory.name}")
        if row.postal_prefix:
            parts.append(f"at postcode {row.postal_prefix}…")
        conditions = " ".join(parts)
    if not row.creates_work_order:
        outcome = "no work order"
    else:
        outcome = f"work order '{row.summary}'"
        if row.queue is not None:
            outcome += f", back office: {row.queue.name}"
            if row.tasks:
                outcome += " (tasks: " + "; ".join(str(t) for t in row.tasks) + ")"
        if row.service is not None:
            kind = "field visit" if row.needs_appointment else "service"
            outcome += f", {kind}: {row.service.name}"
    return RowWords(conditions, outcome)
