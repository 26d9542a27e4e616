"""The `portal` commands an operator runs by hand: migrate on a fresh checkout,
create-user (staff, and customers of an account), and the local webhook sink."""

from __future__ import annotations

import os

from portal import create_app


def test_migrate_on_a_fresh_checkout_with_a_secret_key_makes_the_instance_folder(
    monkeypatch, tmp_path
):
    for name in [n for n in os.environ if n.startswith("PORTAL_")]:
        monkeypatch.delenv(name)
    instance = tmp_path / "checkout" / "instance"
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("PORTAL_SECRET_KEY", "set-by-the-operator")
    app = create_app()
    try:
        result = app.test_cli_runner().invoke(args=["migrate"])
    finally:
        app.extensions["portal.engine"].dispose()

    assert result.exit_code == 0, result.output
    assert "newest schema" in result.output
    assert (instance / "portal.db").is_file()
    assert not (instance / "secret_key").exists()  # the operator's key is the one used
