"""What approving an order would make: for each line, each product, each unit, the row of
the decision table that matches and the work order it describes. The order page's dry
run shows it; approval creates exactly it (portal/orders/services.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.orders.decision import (
    LocationFacts,
    ProductFacts,
    RowFacts,
    first_match,
    summary_text,
)
from portal.orders.models import (
    DecisionRow,
    DecisionTable,
    Order,
    OrderLine,
    OrderLineItem,
    Product,
)


@dataclass(frozen=True)
class PlannedWorkOrder:
    line_id: int
    line_position: int
    location_label: str
    product_id: int
    product_code: str
    unit: int  # 1..quantity
    row_id: int
    summary: str
    tasks: tuple[str, ...]
    queue_id: int | None
    service_id: int | None
    needs_appointment: bool


@dataclass(frozen=True)
class Unmatched:
    """A product on a line that no row of the table matches: approval is refused."""

    line_id: int
    line_position: int
    location_label: str
    product_code: str
    product_name: str

    def words(self) -> str:
        return (
            f"Line {self.line_position} ({self.location_label}): no row of the decision "
            f"table matches {self.product_name} ({self.product_code})."
        )


@dataclass
class Plan:
    table: DecisionTable | None
    work_orders: list[PlannedWorkOrder] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    # (line id, product code) matched by a row that makes no work order.
    no_work: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.table is not None and not self.unmatched

    def problems(self) -> list[str]:
        if self.table is None:
            return ["There is no published decision table: a manager publishes one in settings."]
        return [u.words() for u in self.unmatched]

    def for_line(self, line_id: int) -> list[PlannedWorkOrder]:
        return [w for w in self.work_orders if w.line_id == line_id]


def published_table(session: so.Session) -> DecisionTable | None:
    return session.scalar(sa.select(DecisionTable).where(DecisionTable.status == "published"))


def product_facts(product: Product) -> ProductFacts:
    attributes = dict(product.attributes or {})
    attributes["needs_site_visit"] = bool(product.needs_site_visit)
    attributes["needs_partner_visit"] = bool(product.needs_partner_visit)
    return ProductFacts(product.id, product.code, product.name, attributes)


def row_facts(row: DecisionRow) -> RowFacts:
    return RowFacts(
        id=row.id,
        position=row.position,
        is_default=row.is_default,
        product_id=row.product_id,
        attributes=dict(row.attributes or {}),
        territory_id=row.territory_id,
        postal_prefix=row.postal_prefix,
    )


def location_facts(line: OrderLine) -> LocationFacts:
    location = line.location
    return LocationFacts(location.territory_id, location.postal_code, location.label)


def plan_lines(lines: list[OrderLine], table: DecisionTable | None) -> Plan:
    """The plan for `lines` with `table` (its rows loaded)."""
    plan = Plan(table)
    if table is None:
        return plan
    rows = {row.id: row for row in table.rows}
    facts = [row_facts(row) for row in table.rows]
    for line in lines:
        where = location_facts(line)
        for item in line.items:
            product = product_facts(item.product)
            found = first_match(facts, product, where)
            if found is None:
                plan.unmatched.append(
                    Unmatched(line.id, line.position, where.label, product.code, product.name)
                )
                continue
            row = rows[found.id]
            if not row.creates_work_order:
                plan.no_work.append((line.id, product.code))
                continue
            for unit in range(1, item.quantity + 1):
                plan.work_orders.append(
                    PlannedWorkOrder(
                        line_id=line.id,
                        line_position=line.position,
                        location_label=where.label,
                        product_id=product.id,
                        product_code=product.code,
                        unit=unit,
                        row_id=row.id,
                        summary=summary_text(row.summary, product, where),
                        tasks=tuple(str(t) for t in (row.tasks or [])),
                        queue_id=row.queue_id,
                        service_id=row.service_id,
                        needs_appointment=row.needs_appointment,
                    )
                )
    return plan


def plan_order(session: so.Session, order: Order, table: DecisionTable | None = None) -> Plan:
    """The plan for every line of `order`: with `table`, or the order's own version once
    approved, or the published one."""
    if table is None and order.decision_table_id is not None:
        table = session.get(DecisionTable, order.decision_table_id)
    if table is None:
        table = published_table(session)
    _load_lines(session, order)
    return plan_lines(list(order.lines), table)


def _load_lines(session: so.Session, order: Order) -> None:
    """Load the order's lines with their locations, items and products in three queries,
    not three per line (an order may have hundreds of lines). Lines already in the
    session keep what it holds; the query only fills what is not loaded yet."""
    if order.id is None:
        return
    session.scalars(
        sa.select(OrderLine)
        .where(OrderLine.order_id == order.id)
        .options(
            so.joinedload(OrderLine.location),
            so.selectinload(OrderLine.items).joinedload(OrderLineItem.product),
        )
    ).unique().all()
