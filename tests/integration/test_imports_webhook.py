"""An applied import sends `import.applied` to the endpoints subscribed to it (what came
in and what it did, no row's content); a dry run or a rejected file sends nothing."""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa

from portal.imports import services
from portal.notifications.models import OutboxMessage
from portal.webhooks import services as webhooks
from portal.webhooks import urls
from tests.factories import NOW, create_user
from tests.import_kinds import KIND, csv_bytes, skills_kind


@pytest.fixture(autouse=True)
def _public_dns(monkeypatch):
    monkeypatch.setattr(urls, "resolve", lambda host, port: ["93.184.215.14"])


@pytest.fixture
def subscribed(session, frozen_now):
    frozen_now(NOW)
    skills_kind().runs.clear()
    webhooks.create_endpoint(
        session, url="https://hooks.example.com/in", events=[services.WEBHOOK_EVENT]
    )
    return create_user(session, role="manager")


def _sent(session) -> list[OutboxMessage]:
    return list(
        session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.channel == "webhook",
                OutboxMessage.subject == services.WEBHOOK_EVENT,
            )
        )
    )


def _check(session, data: bytes, by):
    return services.check_file(
        session, KIND, io.BytesIO(data), "skills.csv", source="upload", by=by
    )


def test_an_applied_import_sends_import_applied_with_its_counts(session, subscribed):
    imp = _check(session, csv_bytes(("hook-a", "Hook A"), ("hook-b", "Hook B")), subscribed)

    services.apply_import(session, imp, by=subscribed)

    (message,) = _sent(session)
    data = json.loads(message.body_text)["data"]["import"]
    assert data["number"] == imp.number and data["kind"] == KIND
    assert (data["rows"], data["new"]) == (2, 2)
    assert "Hook A" not in message.body_text


def test_a_dry_run_or_a_rejected_file_sends_nothing(session, subscribed):
    _check(session, csv_bytes(("hook-c", "Hook C")), subscribed)
    services.import_now(
        session, KIND, io.BytesIO(b"code\n"), "bad.csv", source="upload", by=subscribed
    )

    assert _sent(session) == []
