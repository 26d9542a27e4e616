"""Who works orders: staff from schedulers up, and back-office members of the Orders
queue (PRODUCT.md, "Decisions for the back office"); managers approve and reject. The
pages and the API ask the same questions here."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import ROLE_RANK, User
from portal.queues.models import Queue, QueueMember

ORDERS_QUEUE = "orders"  # the Orders queue's slug
APPROVER_ROLE = "manager"


def works_orders(session: so.Session, user: User) -> bool:
    """May `user` see and work orders: a scheduler or above, or a back-office member of
    the Orders queue."""
    if not user.is_authenticated or not user.active:
        return False
    if user.has_role("scheduler"):
        return True
    if not user.is_backoffice:
        return False
    found = session.scalar(
        sa.select(QueueMember.user_id)
        .join(Queue, Queue.id == QueueMember.queue_id)
        .where(Queue.slug == ORDERS_QUEUE, QueueMember.user_id == user.id)
    )
    return found is not None


def may_approve(user: User) -> bool:
    return user.has_role(APPROVER_ROLE)


def fulfilment_candidates(session: so.Session) -> list[User]:
    """Who may fulfil an order: active schedulers and above, and the Orders queue's
    back-office members; by name."""
    ladder = [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK["scheduler"]]
    members = (
        sa.select(QueueMember.user_id)
        .join(Queue, Queue.id == QueueMember.queue_id)
        .where(Queue.slug == ORDERS_QUEUE)
    )
    return list(
        session.scalars(
            sa.select(User)
            .where(
                User.active.is_(True),
                sa.or_(
                    User.role.in_(ladder),
                    sa.and_(User.role == "backoffice", User.id.in_(members)),
                ),
            )
            .order_by(User.full_name, User.id)
        )
    )
