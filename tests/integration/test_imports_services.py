"""The import lifecycle (portal/imports/services.py) with a small test kind
(tests/import_kinds.py): a dry run stores outcomes and writes nothing, applying is all
or nothing, the same file twice is a duplicate, and a checked import can be discarded."""

from __future__ import annotations

import io
import threading

import pytest
import sqlalchemy as sa

from portal.app import create_app
from portal.db import get_session
from portal.errors import Invalid
from portal.imports import services
from portal.imports.models import Import, ImportRow
from portal.workforce.models import Skill
from tests.conftest import app_config
from tests.factories import NOW, create_skill, create_user
from tests.import_kinds import KIND, csv_bytes, skills_kind


@pytest.fixture
def kind():
    found = skills_kind()
    found.runs.clear()
    return found


@pytest.fixture
def manager(session, frozen_now):
    frozen_now(NOW)
    return create_user(session, role="manager", full_name="Morgan Manager")


def check(session, data: bytes, by, filename="skills.csv"):
    return services.check_file(session, KIND, io.BytesIO(data), filename, source="upload", by=by)


def skill_names(session) -> dict[str, str]:
    return dict(session.execute(sa.select(Skill.code, Skill.name)).all())


def rows(session, imp) -> list[tuple]:
    found = session.execute(
        sa.select(ImportRow.line, ImportRow.key, ImportRow.outcome, ImportRow.column)
        .where(ImportRow.import_id == imp.id)
        .order_by(ImportRow.line)
    )
    return [tuple(row) for row in found]


def test_a_dry_run_stores_each_rows_outcome_and_writes_nothing(session, kind, manager):
    create_skill(session, code="gas", name="Gas")
    create_skill(session, code="elec", name="Electrics")

    imp = check(
        session, csv_bytes(("gas", "Gas"), ("elec", "Electricity"), ("oil", "Oil")), manager
    )

    assert imp.status == "checked"
    assert (imp.row_count, imp.new_count, imp.changed_count, imp.unchanged_count) == (3, 1, 1, 1)
    assert rows(session, imp) == [(3, "elec", "changed", None), (4, "oil", "new", None)]
    assert skill_names(session) == {"gas": "Gas", "elec": "Electrics"}
    assert kind.runs == [False]
    assert imp.checked_at == NOW and imp.created_by_id == manager.id


def test_the_raw_file_is_kept_by_its_hash(session, kind, manager):
    data = csv_bytes(("oil", "Oil"))

    imp = check(session, data, manager)

    path = services.raw_file_path(imp)
    assert path.read_bytes() == data
    assert path.name == imp.sha256 and imp.size_bytes == len(data)
    assert imp.stored_path == f"{imp.sha256[:2]}/{imp.sha256}"


def test_a_bad_row_rejects_the_file_and_is_named_with_line_column_and_reason(
    session, kind, manager
):
    imp = check(session, csv_bytes(("oil", "Oil"), ("", "Nameless"), ("oil", "Again")), manager)

    assert imp.status == "rejected"
    assert imp.error_count == 2
    assert "2 rows have errors: nothing was applied" in imp.message
    errors = services.rows_of(session, imp, "error").items
    assert [(r.line, r.column, r.message) for r in errors] == [
        (3, "code", "The code is missing."),
        (4, "code", "The code oil is in the file twice."),
    ]


def test_a_missing_column_rejects_the_file_naming_line_and_column(session, kind, manager):
    imp = check(session, b"code,title\noil,Oil\n", manager)

    assert imp.status == "rejected"
    assert imp.message == "The column name is missing. (line 1, column name)"
    assert imp.row_count == 0


def test_a_file_that_is_not_utf8_is_rejected_with_its_line(session, kind, manager):
    imp = check(session, b"code,name\noil,Oil\ngas,Gas \xff\xfe\n", manager)

    assert imp.status == "rejected"
    assert imp.message.startswith("The file is not UTF-8 text. (line 3")


def test_applying_writes_every_row_at_once(session, kind, manager):
    create_skill(session, code="elec", name="Electrics")
    imp = check(session, csv_bytes(("elec", "Electricity"), ("oil", "Oil")), manager)

    services.apply_import(session, imp, by=manager)

    assert imp.status == "applied"
    assert imp.applied_at == NOW and imp.applied_by_id == manager.id
    assert skill_names(session) == {"elec": "Electricity", "oil": "Oil"}
    assert kind.runs == [False, True]


def test_a_row_that_turned_bad_since_the_dry_run_applies_nothing(session, kind, manager):
    locked = create_skill(session, code="elec", name="Electrics")
    imp = check(session, csv_bytes(("oil", "Oil"), ("elec", "Electricity")), manager)
    assert imp.status == "checked"
    locked.name = "LOCKED"  # somebody locked it meanwhile
    session.flush()

    services.apply_import(session, imp, by=manager)

    assert imp.status == "rejected"
    assert skill_names(session) == {"elec": "LOCKED"}  # not even the new "oil"
    assert rows(session, imp) == [(2, "oil", "new", None), (3, "elec", "error", "name")]
    assert imp.applied_at is None


def test_the_same_file_again_after_it_was_applied_is_a_duplicate(session, kind, manager):
    data = csv_bytes(("oil", "Oil"))
    first = check(session, data, manager)
    services.apply_import(session, first, by=manager)

    again = check(session, data, manager, filename="copy.csv")

    assert again.status == "duplicate"
    assert again.duplicate_of_id == first.id
    assert again.message == (
        f"This file was applied as {first.number} on Mon 1 Jun 2026, 07:00 BST: nothing to do."
    )
    assert kind.runs == [False, True]  # the copy was not even checked


def test_the_same_rows_in_another_file_change_nothing(session, kind, manager):
    first = check(session, csv_bytes(("oil", "Oil")), manager)
    services.apply_import(session, first, by=manager)

    again = check(session, b"code,name\r\noil,Oil\r\n", manager)
    services.apply_import(session, again, by=manager)

    assert again.status == "applied"
    assert (again.new_count, again.changed_count, again.unchanged_count) == (0, 0, 1)
    assert rows(session, again) == []


def test_applying_an_import_twice_is_refused(session, kind, manager):
    imp = check(session, csv_bytes(("oil", "Oil")), manager)
    services.apply_import(session, imp, by=manager)

    with pytest.raises(Invalid, match=f"{imp.number} was applied on .*: nothing to do"):
        services.apply_import(session, imp, by=manager)
    assert kind.runs == [False, True]


def test_a_checked_copy_of_a_file_applied_since_is_a_duplicate_when_applied(session, kind, manager):
    data = csv_bytes(("oil", "Oil"))
    first, second = check(session, data, manager), check(session, data, manager)
    services.apply_import(session, first, by=manager)

    services.apply_import(session, second, by=manager)

    assert second.status == "duplicate" and second.duplicate_of_id == first.id


def test_the_unique_index_turns_a_racing_apply_into_a_duplicate(
    session, kind, manager, monkeypatch
):
    """Two applies of the same file at once both pass the look for an applied copy; the
    partial unique index refuses the second, which becomes a duplicate, writing nothing."""
    data = csv_bytes(("oil", "Oil"))
    first, second = check(session, data, manager), check(session, data, manager)
    services.apply_import(session, first, by=manager)
    session.execute(sa.delete(Skill))  # so that the second apply would write again
    real, looks = services._mark_if_duplicate, []

    def racing(db_session, imp):  # the look before the apply misses the first (the race)
        looks.append(imp.id)
        return False if len(looks) == 1 else real(db_session, imp)

    monkeypatch.setattr(services, "_mark_if_duplicate", racing)

    services.apply_import(session, second, by=manager)

    assert second.status == "duplicate" and second.duplicate_of_id == first.id
    assert skill_names(session) == {}
    assert kind.runs == [False, False, True, True]


def test_a_rejected_import_cannot_be_applied(session, kind, manager):
    imp = check(session, csv_bytes(("", "Nameless")), manager)

    with pytest.raises(Invalid, match="Only a checked import can be applied"):
        services.apply_import(session, imp, by=manager)


def test_a_checked_import_can_be_discarded_and_then_not_applied(session, kind, manager):
    imp = check(session, csv_bytes(("oil", "Oil")), manager)

    services.discard_import(session, imp, by=manager)

    assert imp.status == "discarded"
    assert imp.message == "Discarded by Morgan Manager."
    with pytest.raises(Invalid, match="is discarded"):
        services.apply_import(session, imp, by=manager)
    assert skill_names(session) == {}


def test_import_now_applies_a_clean_file_in_one_run(session, kind, manager):
    imp = services.import_now(
        session, KIND, io.BytesIO(csv_bytes(("oil", "Oil"))), "f.csv", source="api", by=manager
    )

    assert imp.status == "applied" and imp.source == "api"
    assert skill_names(session) == {"oil": "Oil"}
    assert kind.runs == [True]


def test_import_now_with_one_bad_row_applies_nothing_and_names_it(session, kind, manager):
    data = csv_bytes(("oil", "Oil"), ("gas", "!Gas"))

    imp = services.import_now(session, KIND, io.BytesIO(data), "f.csv", source="folder", by=None)

    assert imp.status == "rejected"
    assert rows(session, imp) == [(2, "oil", "new", None), (3, "gas", "error", "name")]
    assert skill_names(session) == {}


def test_an_unknown_kind_is_refused(session, manager):
    with pytest.raises(Invalid, match="no kind of import called 'nope'"):
        services.check_file(session, "nope", io.BytesIO(b""), "f.csv", source="upload", by=None)
    assert session.scalar(sa.select(sa.func.count()).select_from(Import)) == 0


def test_the_file_name_is_kept_without_its_folders(session, kind, manager):
    imp = check(session, csv_bytes(("oil", "Oil")), manager, filename="C:\\exports\\feed.csv")

    assert imp.filename == "feed.csv"


def test_rows_come_errors_first_then_by_line_a_page_at_a_time(session, kind, manager):
    pairs = [(f"s{n:03d}", f"Skill {n}") for n in range(60)] + [("", "x")]
    imp = check(session, csv_bytes(*pairs), manager)

    first = services.rows_of(session, imp, page=1)
    second = services.rows_of(session, imp, page=2)

    assert first.total == 61 and first.pages == 2
    assert first.items[0].outcome == "error" and first.items[0].line == 62
    assert [r.line for r in first.items[1:4]] == [2, 3, 4]
    assert second.items[-1].line == 61


def test_imports_are_listed_newest_first_and_by_kind(session, kind, manager, frozen_now):
    older = check(session, csv_bytes(("a", "A")), manager)
    frozen_now(NOW.replace(hour=9))
    newer = check(session, csv_bytes(("b", "B")), manager)

    page = services.list_imports(session)

    assert [i.id for i in page.items] == [newer.id, older.id]
    assert services.list_imports(session, kind="other").items == []


def test_the_summary_counts_every_outcome(session, kind, manager):
    create_skill(session, code="gas", name="Gas")
    imp = check(session, csv_bytes(("gas", "Gas"), ("oil", "Oil")), manager)

    assert services.summary(imp) == "2 rows: 1 new, 0 changed, 1 unchanged, 0 errors"


class _Together:
    """Wraps the test kind so that two applies wait for each other inside the kind:
    both have passed the look for an applied copy before either commits."""

    def __init__(self, inner, parties: int):
        self.inner, self.kind, self.label, self.accept = inner, inner.kind, inner.label, ()
        self.barrier = threading.Barrier(parties, timeout=30)

    def run(self, session, path, imp, *, apply, by):
        if apply:
            self.barrier.wait()
        return self.inner.run(session, path, imp, apply=apply, by=by)


def test_two_applies_of_the_same_file_at_once_apply_it_once(pg_url, tmp_path, kind, monkeypatch):
    """Two sessions on PostgreSQL apply two checked copies of one file at the same moment:
    the partial unique index lets one be applied; the other becomes a duplicate and its
    writes are rolled back."""
    app = create_app(app_config(pg_url, tmp_path / "instance"))
    try:
        with app.app_context():
            session = get_session()
            create_skill(session, code="oil", name="Oil")
            data = csv_bytes(("oil", "Heating oil"))
            ids = [check(session, data, None).id for _ in range(2)]
            session.commit()
        together = _Together(kind, 2)
        monkeypatch.setattr(services, "kind_or_invalid", lambda name: together)
        outcomes = {}

        def apply(import_id):
            with app.app_context():
                db_session = get_session()
                imp = services.apply_import(db_session, db_session.get(Import, import_id), by=None)
                db_session.commit()
                outcomes[import_id] = imp.status

        threads = [threading.Thread(target=apply, args=(i,)) for i in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert sorted(outcomes.values()) == ["applied", "duplicate"]
        with app.app_context():
            session = get_session()
            applied = session.scalars(sa.select(Import).where(Import.status == "applied")).one()
            copy = session.scalars(sa.select(Import).where(Import.status == "duplicate")).one()
            assert copy.duplicate_of_id == applied.id
            assert skill_names(session) == {"oil": "Heating oil"}
    finally:
        app.extensions["portal.engine"].dispose()


def test_a_key_with_characters_the_database_refuses_is_kept_readable(session, kind, manager):
    imp = services.import_now(
        session,
        KIND,
        io.BytesIO(b'[{"code": "a\\u0000b\\ud800", "name": "x"}]'),
        "f.json",
        source="api",
        by=manager,
    )

    [row] = services.rows_of(session, imp).items
    assert row.outcome == "error" and row.key == "a\ufffdb?"
