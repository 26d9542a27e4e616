"""The imports pages: a manager uploads a file, reads the dry run, applies or discards it;
a file over the import limit gets a clear message; nobody below a manager gets in."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.imports.models import Import
from portal.workforce.models import Skill
from tests.factories import NOW, create_skill, create_user
from tests.import_kinds import KIND, csv_bytes, skills_kind

MB = 1024 * 1024


@pytest.fixture
def manager(session, frozen_now):
    skills_kind()
    frozen_now(NOW)
    return create_user(session, role="manager", full_name="Morgan Manager")


def multipart(values: dict) -> dict:
    """A multipart body made in memory (the test client's own spools a large one to a
    temporary file it never closes)."""
    boundary, body = encode_multipart(values)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def upload(client, data: bytes, name: str = "skills.csv", **extra):
    token = client.csrf_token(f"/imports/new?kind={KIND}")
    values = {
        "kind": KIND,
        "file": FileStorage(io.BytesIO(data), name),
        "csrf_token": token,
        **extra,
    }
    return client.post(f"/imports/new?kind={KIND}", **multipart(values))


def the_import(session) -> Import:
    session.expire_all()
    return session.scalars(sa.select(Import)).one()


def test_a_manager_uploads_reads_the_dry_run_and_applies_it(client, auth, session, manager):
    create_skill(session, code="gas", name="Gas")
    auth.login(manager.email)

    sent = upload(client, csv_bytes(("gas", "Gas"), ("oil", "Oil"), ("elec", "Electrics")))

    imp = the_import(session)
    assert sent.status_code == 302 and sent.location.endswith(f"/imports/{imp.id}")
    page = client.get(f"/imports/{imp.id}").get_data(as_text=True)
    assert "3 rows: 2 new, 0 changed, 1 unchanged, 0 errors" in page
    assert "new skill Oil" in page and "Apply IMP-" in page
    assert session.scalar(sa.select(sa.func.count()).select_from(Skill)) == 1

    applied = client.post_form(
        f"/imports/{imp.id}/apply", form_url=f"/imports/{imp.id}", follow_redirects=True
    )

    text = applied.get_data(as_text=True)
    assert f"{imp.number} was applied: 3 rows: 2 new" in text
    assert "Apply IMP-" not in text and "Applied" in text
    assert the_import(session).status == "applied"
    assert session.scalar(sa.select(sa.func.count()).select_from(Skill)) == 3


def test_a_file_larger_than_a_megabyte_is_taken(client, auth, session, manager):
    """The app refuses bodies over 1 MiB; the upload's limit is the import's."""
    auth.login(manager.email)
    pairs = [(f"s{n:06d}", "x" * 70) for n in range(30_000)]
    data = csv_bytes(*pairs)
    assert len(data) > 2 * MB

    sent = upload(client, data)

    assert sent.status_code == 302
    assert the_import(session).row_count == 30_000


def test_a_file_over_the_import_limit_gets_a_clear_message(client, auth, session, manager, app):
    app.config["IMPORT_MAX_BYTES"] = 1 * MB
    auth.login(manager.email)

    sent = upload(client, b"code,name\n" + b"x,y\n" * (MB // 2))

    assert sent.status_code == 413
    assert "The file is larger than 1 MB" in sent.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(Import)) == 0


def test_a_rejected_file_shows_each_error_first_with_line_and_column(
    client, auth, session, manager
):
    auth.login(manager.email)
    upload(client, csv_bytes(("oil", "Oil"), ("gas", "!Gas")))

    imp = the_import(session)
    page = client.get(f"/imports/{imp.id}").get_data(as_text=True)

    assert imp.status == "rejected"
    assert "1 row has an error: nothing was applied" in page
    assert page.index("The name &#39;!Gas&#39; is not allowed.") < page.index("new skill Oil")
    assert "Apply IMP-" not in page


def test_a_checked_import_can_be_discarded(client, auth, session, manager):
    auth.login(manager.email)
    upload(client, csv_bytes(("oil", "Oil")))
    imp = the_import(session)

    answer = client.post_form(
        f"/imports/{imp.id}/discard", form_url=f"/imports/{imp.id}", follow_redirects=True
    )

    assert f"{imp.number} was discarded" in answer.get_data(as_text=True)
    assert the_import(session).status == "discarded"


def test_applying_twice_says_it_was_applied_and_does_nothing(client, auth, session, manager):
    auth.login(manager.email)
    upload(client, csv_bytes(("oil", "Oil")))
    imp = the_import(session)
    client.post_form(f"/imports/{imp.id}/apply", form_url=f"/imports/{imp.id}")

    again = client.post_form(
        f"/imports/{imp.id}/apply", form_url=f"/imports/{imp.id}", follow_redirects=True
    )

    assert f"{imp.number} was applied on" in again.get_data(as_text=True)


def test_the_raw_file_downloads_as_it_came(client, auth, session, manager):
    auth.login(manager.email)
    data = csv_bytes(("oil", "Oil"))
    upload(client, data, name="monday.csv")
    imp = the_import(session)

    answer = client.get(f"/imports/{imp.id}/file")
    body = answer.data
    answer.close()

    assert body == data
    assert "monday.csv" in answer.headers["Content-Disposition"]


def test_the_list_shows_imports_newest_first(client, auth, session, manager, frozen_now):
    auth.login(manager.email)
    upload(client, csv_bytes(("oil", "Oil")), name="first.csv")
    frozen_now(NOW.replace(minute=5))
    upload(client, csv_bytes(("gas", "Gas")), name="second.csv")

    page = client.get("/imports/").get_data(as_text=True)

    assert page.index("second.csv") < page.index("first.csv")
    assert "Upload: Skills (test)" in page


def test_the_upload_form_offers_the_kinds_file_types_and_help(client, auth, manager):
    auth.login(manager.email)

    page = client.get(f"/imports/new?kind={KIND}").get_data(as_text=True)

    assert 'accept=".csv,text/csv,.json,application/json"' in page
    assert "A CSV file with the columns code and name" in page


def test_an_upload_without_a_file_says_so(client, auth, session, manager):
    auth.login(manager.email)
    token = client.csrf_token(f"/imports/new?kind={KIND}")

    answer = client.post(f"/imports/new?kind={KIND}", data={"kind": KIND, "csrf_token": token})

    assert answer.status_code == 422
    assert "Choose the file to upload." in answer.get_data(as_text=True)


def test_an_upload_without_its_csrf_token_is_refused(client, auth, session, manager):
    auth.login(manager.email)

    values = {"kind": KIND, "file": FileStorage(io.BytesIO(csv_bytes(("oil", "Oil"))), "s.csv")}
    answer = client.post(f"/imports/new?kind={KIND}", **multipart(values))

    assert answer.status_code == 400
    assert session.scalar(sa.select(sa.func.count()).select_from(Import)) == 0


@pytest.mark.parametrize("role", ["customer", "agent", "scheduler", "backoffice"])
def test_nobody_below_a_manager_may_upload(client, auth, session, manager, role):
    auth.login(create_user(session, role=role).email)

    assert client.get("/imports/").status_code == 403
    token = client.csrf_token("/notifications")
    values = {
        "kind": KIND,
        "file": FileStorage(io.BytesIO(b"code,name\n"), "s.csv"),
        "csrf_token": token,
    }
    answer = client.post(f"/imports/new?kind={KIND}", **multipart(values))
    assert answer.status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(Import)) == 0


def test_an_import_that_does_not_exist_is_404(client, auth, manager):
    auth.login(manager.email)

    assert client.get("/imports/999").status_code == 404
    assert client.get("/imports/999/file").status_code == 404
