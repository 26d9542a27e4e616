"""Whatever happens to an order and its work, in whatever order: an order never closes
while one of its work orders is open, and a line past its point of no return never
changes (its products, address, contact and work orders stay as they were).

A hypothesis state machine over the services (SQLite: the rules are the services',
not the database's). Each example approves a fresh order of two lines, then runs steps:
work orders scheduled, started, completed, reopened, closed or cancelled through the
status service, lines edited or locked by hand, the order closed or cancelled. A step the
rules refuse raises one of our errors and changes nothing (each runs in a savepoint).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from portal.app import create_app
from portal.db import get_session
from portal.errors import PortalError
from portal.orders import inflight, lifecycle
from portal.orders.queries import FINAL_WORK, IN_FLIGHT, live_links, open_work_orders
from portal.workorders.status import set_work_order_status
from tests.conftest import app_config
from tests.factories import NOW
from tests.order_factories import (
    advance,
    build_order_world,
    create_approved,
    line_of,
    work_orders_of,
)

SETTINGS = settings(
    max_examples=20,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
WORK_ORDER_MOVES = ["scheduled", "in_progress", "completed", "closed", "cancelled", "new"]


@pytest.fixture
def sqlite_app(sqlite_url, tmp_path, frozen_now):
    frozen_now(NOW)
    application = create_app(app_config(sqlite_url, tmp_path / "instance"))
    yield application
    application.extensions["portal.engine"].dispose()


def snapshot(session, order, line) -> tuple:
    """What must not change once the line is past its point of no return."""
    session.refresh(line)
    return (
        line.location_id,
        line.contact_id,
        tuple(sorted((i.product_id, i.quantity) for i in line.items)),
        tuple(link.id for link in live_links(session, order, line=line)),
    )


def test_orders_never_close_with_open_work_and_locked_lines_never_change(sqlite_app):
    with sqlite_app.app_context():
        session = get_session()

        class OrderMachine(RuleBasedStateMachine):
            def __init__(self):
                super().__init__()
                self.world = build_order_world(session, locations=3)
                w = self.world
                self.order = create_approved(
                    session, w, [{w.fibre: 2}, {w.fibre: 1, w.static_ip: 1}]
                )
                self.locked: dict[int, tuple] = {}

            def attempt(self, step: str, action) -> None:
                try:
                    with session.begin_nested():
                        action()
                    event(f"{self.order.status} after {step}")
                except PortalError:
                    session.expire_all()
                    event(f"{step} refused")

            def work_order(self, pick: int):
                work = work_orders_of(session, self.order, live=False)
                return work[pick % len(work)]

            @rule(pick=st.integers(0, 20), to=st.sampled_from(WORK_ORDER_MOVES))
            def move_work_order(self, pick, to):
                work_order = self.work_order(pick)
                who = self.world.scheduler
                self.attempt(
                    f"work order to {to}",
                    lambda: set_work_order_status(session, work_order, to, by=who),
                )

            @rule(pick=st.integers(0, 20), to=st.sampled_from(["in_progress", "closed"]))
            def carry_work_order(self, pick, to):
                work_order = self.work_order(pick)
                who = self.world.scheduler
                self.attempt(
                    f"work order carried to {to}",
                    lambda: advance(session, work_order, to, by=who),
                )

            @rule()
            def finish_all_work(self):
                def finish():
                    for link in live_links(session, self.order):
                        if link.work_order.status not in FINAL_WORK:
                            advance(session, link.work_order, "closed", by=self.world.scheduler)

                self.attempt("finish all work", finish)

            @rule(position=st.integers(1, 2), quantity=st.integers(1, 3), static=st.booleans())
            def edit_items(self, position, quantity, static):
                w = self.world
                items = {w.fibre.id: quantity} | ({w.static_ip.id: 1} if static else {})
                line = line_of(self.order, position)
                self.attempt(
                    "edit items",
                    lambda: inflight.edit_line(session, line, items=items, by=w.scheduler),
                )

            @rule(position=st.integers(1, 2))
            def move_line(self, position):
                w = self.world
                line = line_of(self.order, position)
                free = [
                    p for p in w.locations if p.id not in {x.location_id for x in self.order.lines}
                ]
                self.attempt(
                    "move line",
                    lambda: inflight.edit_line(session, line, location=free[0], by=w.scheduler),
                )

            @rule(position=st.integers(1, 2))
            def set_ponr(self, position):
                line = line_of(self.order, position)
                self.attempt(
                    "set PONR", lambda: inflight.set_ponr(session, line, by=self.world.scheduler)
                )

            @rule()
            def close_order(self):
                self.attempt(
                    "close", lambda: lifecycle.close(session, self.order, by=self.world.scheduler)
                )

            @rule()
            def cancel_order(self):
                self.attempt(
                    "cancel",
                    lambda: inflight.cancel(
                        session, self.order, by=self.world.scheduler, reason="Changed plans"
                    ),
                )

            @invariant()
            def a_closed_order_has_no_open_work(self):
                if self.order.status == "closed":
                    assert open_work_orders(session, self.order) == []

            @invariant()
            def ready_to_close_means_all_work_is_final(self):
                if self.order.status in IN_FLIGHT:
                    final = all(
                        link.work_order.status in FINAL_WORK
                        for link in live_links(session, self.order)
                    )
                    assert (self.order.status == "ready_to_close") == final

            @invariant()
            def a_line_past_its_point_of_no_return_never_changes(self):
                for line in self.order.lines:
                    session.refresh(line)
                    if line.ponr_at is None:
                        continue
                    now = snapshot(session, self.order, line)
                    assert self.locked.setdefault(line.id, now) == now

            @invariant()
            def a_cancelled_order_had_no_line_past_its_point_of_no_return(self):
                if self.order.status == "cancelled":
                    assert not self.locked

            def teardown(self):
                session.rollback()

        run_state_machine_as_test(OrderMachine, settings=SETTINGS)
