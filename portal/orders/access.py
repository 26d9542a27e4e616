"""Who may fulfil an order, for the new-order form's list: the same people the order
services accept (portal/orders/queries.py `may_handle_orders`)."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import ROLE_RANK, User
from portal.orders.queries import ORDERS_QUEUE
from portal.queues.models import Queue, QueueMember


def fulfilment_candidates(session: so.Session) -> list[User]:
    """Active schedulers and above, and the Orders queue's back-office members; by name."""
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
