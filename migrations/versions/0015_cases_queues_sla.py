"""Cases, queues, business calendars and SLA milestones (issue #14); the backoffice
role; tasks of a case, held by a user or waiting in a queue (the "scheduling" string
becomes the Scheduling queue); which part of the product owns a work order.

Revision ID: 0015_cases_queues_sla
Revises: 0014_mail_private_links
Create Date: 2026-12-05 13:11:35.149634
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0015_cases_queues_sla"
down_revision: str | None = "0014_mail_private_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = ("customer", "agent", "scheduler", "manager", "admin")
NEW_ROLES = (*OLD_ROLES, "backoffice")
SCHEDULING_DESCRIPTION = (
    "Appointments that need a scheduler: a new time, a declined or missed visit."
)
# Report runs and weekly subscriptions may be of kind "sla" (the SLA report).
OLD_REPORT_KINDS = ("operations", "utilisation", "signoffs")
NEW_REPORT_KINDS = (*OLD_REPORT_KINDS, "sla")
REPORT_TABLES = ("report_runs", "report_subscriptions")
CONTACT_CENTRE_DESCRIPTION = "Customers' cases: the contact centre answers them or hands them on."
CASE_TYPES = (
    (
        "support",
        "Customer support",
        (
            ("New", "open"),
            ("In progress", "open"),
            ("Waiting on customer", "waiting"),
            ("Closed", "closed"),
        ),
        ("Portal", "Phone", "E-mail"),
    ),
    (
        "aging",
        "Aging",
        (
            ("New", "open"),
            ("Waiting on customer", "waiting"),
            ("Auto Closure - Aging Days Under 5", "closed"),
            ("Closed", "closed"),
        ),
        ("Aging Case Import",),
    ),
)
ONE_ASSIGNEE = (
    "(CASE WHEN agent_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN user_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN queue_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade() -> None:
    op.create_table(
        "business_calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_calendars")),
        sa.UniqueConstraint("name", name=op.f("uq_business_calendars_name")),
    )
    op.create_table(
        "case_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("initial_status", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_types")),
        sa.UniqueConstraint("name", name=op.f("uq_case_types_name")),
        sa.UniqueConstraint("slug", name=op.f("uq_case_types_slug")),
    )
    op.create_table(
        "business_holidays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.CheckConstraint(
            "end_minute > start_minute", name=op.f("ck_business_holidays_ends_after_start")
        ),
        sa.CheckConstraint(
            "end_minute BETWEEN 1 AND 1440", name=op.f("ck_business_holidays_end_in_day")
        ),
        sa.CheckConstraint(
            "start_minute BETWEEN 0 AND 1439", name=op.f("ck_business_holidays_start_in_day")
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["business_calendars.id"],
            name=op.f("fk_business_holidays_calendar_id_business_calendars"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_holidays")),
        sa.UniqueConstraint(
            "calendar_id", "day", "start_minute", name=op.f("uq_business_holidays_calendar_id")
        ),
    )
    op.create_index(
        op.f("ix_business_holidays_calendar_id"), "business_holidays", ["calendar_id"], unique=False
    )
    op.create_table(
        "business_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "end_minute BETWEEN 1 AND 1440", name=op.f("ck_business_hours_end_in_day")
        ),
        sa.CheckConstraint(
            "start_minute BETWEEN 0 AND 1439", name=op.f("ck_business_hours_start_in_day")
        ),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_business_hours_weekday_known")),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["business_calendars.id"],
            name=op.f("fk_business_hours_calendar_id_business_calendars"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_hours")),
    )
    op.create_index(
        op.f("ix_business_hours_calendar_id"), "business_hours", ["calendar_id"], unique=False
    )
    op.create_table(
        "case_origins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_type_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_type_id"],
            ["case_types.id"],
            name=op.f("fk_case_origins_case_type_id_case_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_origins")),
        sa.UniqueConstraint("case_type_id", "name", name=op.f("uq_case_origins_case_type_id")),
    )
    op.create_table(
        "case_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_type_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("meaning", sa.String(length=10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "meaning IN ('open', 'waiting', 'closed')", name=op.f("ck_case_statuses_meaning_known")
        ),
        sa.ForeignKeyConstraint(
            ["case_type_id"],
            ["case_types.id"],
            name=op.f("fk_case_statuses_case_type_id_case_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_statuses")),
        sa.UniqueConstraint("case_type_id", "name", name=op.f("uq_case_statuses_case_type_id")),
    )
    op.create_table(
        "queues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("calendar_id", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["business_calendars.id"],
            name=op.f("fk_queues_calendar_id_business_calendars"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["users.id"], name=op.f("fk_queues_lead_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queues")),
        sa.UniqueConstraint("name", name=op.f("uq_queues_name")),
        sa.UniqueConstraint("slug", name=op.f("uq_queues_slug")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_type_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=60), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=60), nullable=False),
        sa.Column("is_closed", sa.Boolean(), nullable=False),
        sa.Column("owner_user_id", sa.Integer(), nullable=True),
        sa.Column("owner_queue_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_response_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "priority IN ('low', 'medium', 'high', 'urgent')", name=op.f("ck_cases_priority_known")
        ),
        sa.CheckConstraint(
            "(owner_user_id IS NULL) <> (owner_queue_id IS NULL)", name=op.f("ck_cases_one_owner")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_accounts.id"],
            name=op.f("fk_cases_account_id_customer_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["case_type_id"], ["case_types.id"], name=op.f("fk_cases_case_type_id_case_types")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_cases_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_cases_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["owner_queue_id"], ["queues.id"], name=op.f("fk_cases_owner_queue_id_queues")
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_cases_owner_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    op.create_index("ix_cases_account_created", "cases", ["account_id", "created_at"], unique=False)
    op.create_index(op.f("ix_cases_contact_id"), "cases", ["contact_id"], unique=False)
    op.create_index(op.f("ix_cases_is_closed"), "cases", ["is_closed"], unique=False)
    op.create_index(op.f("ix_cases_owner_queue_id"), "cases", ["owner_queue_id"], unique=False)
    op.create_index(op.f("ix_cases_owner_user_id"), "cases", ["owner_user_id"], unique=False)
    op.create_index(op.f("ix_cases_status"), "cases", ["status"], unique=False)
    op.create_table(
        "entitlement_processes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("applies_to", sa.String(length=20), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=True),
        sa.Column("case_type_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.String(length=10), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("queue_id", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "applies_to IN ('case', 'work_order')",
            name=op.f("ck_entitlement_processes_applies_known"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_accounts.id"],
            name=op.f("fk_entitlement_processes_account_id_customer_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["business_calendars.id"],
            name=op.f("fk_entitlement_processes_calendar_id_business_calendars"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_type_id"],
            ["case_types.id"],
            name=op.f("fk_entitlement_processes_case_type_id_case_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["queues.id"],
            name=op.f("fk_entitlement_processes_queue_id_queues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entitlement_processes")),
        sa.UniqueConstraint("name", name=op.f("uq_entitlement_processes_name")),
    )
    op.create_table(
        "queue_members",
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["queues.id"],
            name=op.f("fk_queue_members_queue_id_queues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_queue_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("queue_id", "user_id", name=op.f("pk_queue_members")),
    )
    op.create_index(op.f("ix_queue_members_user_id"), "queue_members", ["user_id"], unique=False)
    op.create_table(
        "case_work_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_work_orders_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["queues.id"], name=op.f("fk_case_work_orders_queue_id_queues")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_case_work_orders_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_work_orders")),
        sa.UniqueConstraint("work_order_id", name=op.f("uq_case_work_orders_work_order_id")),
    )
    op.create_index(
        op.f("ix_case_work_orders_case_id"), "case_work_orders", ["case_id"], unique=False
    )
    op.create_table(
        "milestone_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("target_low", sa.Integer(), nullable=False),
        sa.Column("target_medium", sa.Integer(), nullable=False),
        sa.Column("target_high", sa.Integer(), nullable=False),
        sa.Column("target_urgent", sa.Integer(), nullable=False),
        sa.Column("warn_percent", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('first_response', 'resolution')",
            name=op.f("ck_milestone_definitions_kind_known"),
        ),
        sa.CheckConstraint(
            "target_low > 0 AND target_medium > 0 AND target_high > 0 AND target_urgent > 0",
            name=op.f("ck_milestone_definitions_targets_positive"),
        ),
        sa.CheckConstraint(
            "warn_percent BETWEEN 1 AND 99",
            name=op.f("ck_milestone_definitions_warn_percent_range"),
        ),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["entitlement_processes.id"],
            name=op.f("fk_milestone_definitions_process_id_entitlement_processes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_definitions")),
        sa.UniqueConstraint("process_id", "kind", name=op.f("uq_milestone_definitions_process_id")),
    )
    op.create_table(
        "milestone_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=80), nullable=False),
        sa.Column("outside_hours", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "action IN ('notify_owner', 'notify_lead', 'notify_managers', 'set_priority',"
            " 'set_status', 'email_contact')",
            name=op.f("ck_milestone_actions_action_known"),
        ),
        sa.CheckConstraint(
            "trigger IN ('warning', 'violation', 'success')",
            name=op.f("ck_milestone_actions_trigger_known"),
        ),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["milestone_definitions.id"],
            name=op.f("fk_milestone_actions_definition_id_milestone_definitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_actions")),
    )
    op.create_index(
        op.f("ix_milestone_actions_definition_id"),
        "milestone_actions",
        ["definition_id"],
        unique=False,
    )
    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("calendar_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("warn_percent", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("target_minutes", sa.Integer(), nullable=False),
        sa.Column("used_seconds", sa.Integer(), nullable=False),
        sa.Column("started_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("warn_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('first_response', 'resolution')", name=op.f("ck_milestones_kind_known")
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'warning', 'violated', 'completed_on_time', 'completed_late')",
            name=op.f("ck_milestones_state_known"),
        ),
        sa.CheckConstraint(
            "(case_id IS NULL) <> (work_order_id IS NULL)", name=op.f("ck_milestones_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["business_calendars.id"],
            name=op.f("fk_milestones_calendar_id_business_calendars"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_milestones_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["milestone_definitions.id"],
            name=op.f("fk_milestones_definition_id_milestone_definitions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_milestones_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
        sa.UniqueConstraint("case_id", "definition_id", name=op.f("uq_milestones_case_id")),
        sa.UniqueConstraint(
            "work_order_id", "definition_id", name=op.f("uq_milestones_work_order_id")
        ),
    )
    op.create_index("ix_milestones_next_check_at", "milestones", ["next_check_at"], unique=False)
    op.create_index(op.f("ix_milestones_state"), "milestones", ["state"], unique=False)
    op.create_index(
        op.f("ix_milestones_work_order_id"), "milestones", ["work_order_id"], unique=False
    )
    op.create_table(
        "milestone_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "kind IN ('start', 'pause', 'resume', 'complete', 'target')",
            name=op.f("ck_milestone_events_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_milestone_events_milestone_id_milestones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_events")),
    )
    op.create_index(
        op.f("ix_milestone_events_milestone_id"), "milestone_events", ["milestone_id"], unique=False
    )
    op.create_table(
        "sla_action_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=10), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "trigger IN ('warning', 'violation', 'success')",
            name=op.f("ck_sla_action_runs_trigger_known"),
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["milestone_actions.id"],
            name=op.f("fk_sla_action_runs_action_id_milestone_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_sla_action_runs_milestone_id_milestones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_action_runs")),
        sa.UniqueConstraint(
            "milestone_id", "action_id", name=op.f("uq_sla_action_runs_milestone_id")
        ),
    )
    op.create_index(
        "ix_sla_action_runs_pending", "sla_action_runs", ["sent_at", "due_at"], unique=False
    )
    # The booking core's queue was a string on each task ("scheduling"): it becomes the
    # Scheduling queue, whose members are the schedulers.
    queues = sa.table(
        "queues",
        sa.column("id", sa.Integer),
        sa.column("slug", sa.String),
        sa.column("name", sa.String),
        sa.column("description", sa.Text),
        sa.column("created_at", portal.db.UTCDateTime(timezone=True)),
    )
    op.bulk_insert(
        queues,
        [
            {
                "slug": "scheduling",
                "name": "Scheduling",
                "description": SCHEDULING_DESCRIPTION,
                "created_at": datetime.now(UTC),
            }
        ],
    )
    op.execute(
        "INSERT INTO queue_members (queue_id, user_id, added_at) "
        "SELECT q.id, u.id, u.created_at FROM queues q, users u "
        "WHERE q.slug = 'scheduling' AND u.role = 'scheduler'"
    )
    with op.batch_alter_table("work_order_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("queue_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE work_order_tasks SET queue_id = (SELECT id FROM queues WHERE slug = 'scheduling') "
        "WHERE queue IS NOT NULL AND agent_id IS NULL"
    )
    with op.batch_alter_table("work_order_tasks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_work_order_tasks_has_owner"), type_="check")
        batch_op.alter_column("work_order_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.drop_index(batch_op.f("ix_work_order_tasks_queue"))
        batch_op.drop_column("queue")
        batch_op.create_index(batch_op.f("ix_work_order_tasks_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_work_order_tasks_queue_id"), ["queue_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_work_order_tasks_user_id"), ["user_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_work_order_tasks_case_id_cases"),
            "cases",
            ["case_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_work_order_tasks_queue_id_queues"), "queues", ["queue_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_work_order_tasks_user_id_users"), "users", ["user_id"], ["id"]
        )
        batch_op.create_check_constraint(
            "one_work_order_or_case", "(work_order_id IS NULL) <> (case_id IS NULL)"
        )
        batch_op.create_check_constraint("one_assignee", ONE_ASSIGNEE)
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("owner_kind", sa.String(length=20), nullable=False, server_default="booking")
        )
        batch_op.create_check_constraint("owner_kind_known", "owner_kind IN ('booking', 'case')")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.alter_column("owner_kind", server_default=None)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role_known"), type_="check")
        batch_op.create_check_constraint("role_known", f"role IN {NEW_ROLES!r}")
    _report_kinds(NEW_REPORT_KINDS)
    _built_in_case_types()


def _built_in_case_types() -> None:
    """The case types a fresh install offers (portal/cases/types.py makes them again where
    a database was built without this data), and the contact centre's queue."""
    connection = op.get_bind()
    now = datetime.now(UTC)
    connection.execute(
        sa.text(
            "INSERT INTO queues (slug, name, description, created_at) "
            "VALUES ('support', 'Contact centre', :description, :now)"
        ),
        {"description": CONTACT_CENTRE_DESCRIPTION, "now": now},
    )
    for slug, name, statuses, origins in CASE_TYPES:
        connection.execute(
            sa.text(
                "INSERT INTO case_types (slug, name, initial_status) VALUES (:slug, :name, :first)"
            ),
            {"slug": slug, "name": name, "first": statuses[0][0]},
        )
        type_id = connection.execute(
            sa.text("SELECT id FROM case_types WHERE slug = :slug"), {"slug": slug}
        ).scalar_one()
        for position, (status, meaning) in enumerate(statuses):
            connection.execute(
                sa.text(
                    "INSERT INTO case_statuses (case_type_id, name, meaning, position) "
                    "VALUES (:type_id, :name, :meaning, :position)"
                ),
                {"type_id": type_id, "name": status, "meaning": meaning, "position": position},
            )
        for position, origin in enumerate(origins):
            connection.execute(
                sa.text(
                    "INSERT INTO case_origins (case_type_id, name, position) "
                    "VALUES (:type_id, :name, :position)"
                ),
                {"type_id": type_id, "name": origin, "position": position},
            )


def _report_kinds(kinds: tuple[str, ...]) -> None:
    for table in REPORT_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_kind_known"), type_="check")
            batch_op.create_check_constraint("kind_known", f"kind IN {kinds!r}")


def downgrade() -> None:
    for table in REPORT_TABLES:
        op.execute(f"DELETE FROM {table} WHERE kind = 'sla'")
    _report_kinds(OLD_REPORT_KINDS)
    op.execute("DELETE FROM users WHERE role = 'backoffice'")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role_known"), type_="check")
        batch_op.create_check_constraint("role_known", f"role IN {OLD_ROLES!r}")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_work_orders_owner_kind_known"), type_="check")
        batch_op.drop_column("owner_kind")
    # Tasks of cases, and tasks held by a user, have no place in the old schema.
    op.execute("DELETE FROM work_order_tasks WHERE case_id IS NOT NULL OR user_id IS NOT NULL")
    with op.batch_alter_table("work_order_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue", sa.VARCHAR(length=40), nullable=True))
    op.execute(
        "UPDATE work_order_tasks SET queue = (SELECT slug FROM queues WHERE queues.id = queue_id) "
        "WHERE queue_id IS NOT NULL"
    )
    with op.batch_alter_table("work_order_tasks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_work_order_tasks_one_assignee"), type_="check")
        batch_op.drop_constraint(op.f("ck_work_order_tasks_one_work_order_or_case"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_work_order_tasks_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_work_order_tasks_queue_id_queues"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_work_order_tasks_case_id_cases"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_work_order_tasks_user_id"))
        batch_op.drop_index(batch_op.f("ix_work_order_tasks_queue_id"))
        batch_op.drop_index(batch_op.f("ix_work_order_tasks_case_id"))
        batch_op.create_index(batch_op.f("ix_work_order_tasks_queue"), ["queue"], unique=False)
        batch_op.alter_column("work_order_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("queue_id")
        batch_op.drop_column("user_id")
        batch_op.drop_column("case_id")
        batch_op.create_check_constraint("has_owner", "agent_id IS NOT NULL OR queue IS NOT NULL")
    op.drop_index("ix_sla_action_runs_pending", table_name="sla_action_runs")
    op.drop_table("sla_action_runs")
    op.drop_index(op.f("ix_milestone_events_milestone_id"), table_name="milestone_events")
    op.drop_table("milestone_events")
    op.drop_index(op.f("ix_milestones_work_order_id"), table_name="milestones")
    op.drop_index(op.f("ix_milestones_state"), table_name="milestones")
    op.drop_index("ix_milestones_next_check_at", table_name="milestones")
    op.drop_table("milestones")
    op.drop_index(op.f("ix_milestone_actions_definition_id"), table_name="milestone_actions")
    op.drop_table("milestone_actions")
    op.drop_table("milestone_definitions")
    op.drop_index(op.f("ix_case_work_orders_case_id"), table_name="case_work_orders")
    op.drop_table("case_work_orders")
    op.drop_index(op.f("ix_queue_members_user_id"), table_name="queue_members")
    op.drop_table("queue_members")
    op.drop_table("entitlement_processes")
    op.drop_index(op.f("ix_cases_status"), table_name="cases")
    op.drop_index(op.f("ix_cases_owner_user_id"), table_name="cases")
    op.drop_index(op.f("ix_cases_owner_queue_id"), table_name="cases")
    op.drop_index(op.f("ix_cases_is_closed"), table_name="cases")
    op.drop_index(op.f("ix_cases_contact_id"), table_name="cases")
    op.drop_index("ix_cases_account_created", table_name="cases")
    op.drop_table("cases")
    op.drop_table("queues")
    op.drop_table("case_statuses")
    op.drop_table("case_origins")
    op.drop_index(op.f("ix_business_hours_calendar_id"), table_name="business_hours")
    op.drop_table("business_hours")
    op.drop_index(op.f("ix_business_holidays_calendar_id"), table_name="business_holidays")
    op.drop_table("business_holidays")
    op.drop_table("case_types")
    op.drop_table("business_calendars")
