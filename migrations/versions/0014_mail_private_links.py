"""outbox_messages.holds_secret and body_removed_at: an e-mail carrying a private link
(reset, invitation, verification, manage) has its body removed once sent or given up
(issue #12, finding 1).

The data step marks the e-mails already queued whose bodies hold such a link: the
purge job ("purge-mail-bodies") then removes the bodies of those already sent, and the
sender those still to go. The marks use the secret routes' paths, which every link the
portal has e-mailed so far carries in its plain text.

Revision ID: 0014_mail_private_links
Revises: 0013_audit_log
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0014_mail_private_links"
down_revision: str | None = "0013_audit_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SECRET_ROUTES = ("/reset/", "/invite/", "/verify/", "/manage/", "/calendar/")


def upgrade() -> None:
    op.add_column(
        "outbox_messages",
        sa.Column("holds_secret", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "outbox_messages",
        sa.Column("body_removed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
    )
    outbox = sa.table(
        "outbox_messages",
        sa.column("channel", sa.String),
        sa.column("body_text", sa.Text),
        sa.column("body_html", sa.Text),
        sa.column("ics", sa.Text),
        sa.column("holds_secret", sa.Boolean),
    )
    found = sa.or_(
        *(
            column.contains(route, autoescape=True)
            for route in SECRET_ROUTES
            for column in (outbox.c.body_text, outbox.c.body_html, outbox.c.ics)
        )
    )
    op.execute(outbox.update().where(outbox.c.channel == "email", found).values(holds_secret=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), as in 0010.
    op.drop_column("outbox_messages", "body_removed_at")
    op.drop_column("outbox_messages", "holds_secret")
