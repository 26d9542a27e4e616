"""notifications is a floor below the domains: it queues, expands and sends what they
give it, and knows none of them (issue #11). A domain registers its expander with it
(portal.notifications.events.register_expander), never the other way round."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

NOTIFICATIONS = Path(__file__).resolve().parents[2] / "portal" / "notifications"
PORTAL = NOTIFICATIONS.parent
# Every package of the portal but notifications itself. accounts is allowed to the web
# layer alone: routes.py needs the log-in and role checks every page has.
DOMAINS = sorted(p.name for p in PORTAL.iterdir() if (p / "__init__.py").exists())
ALLOWED = {"routes.py": {"accounts"}}


def imported_packages(path: Path) -> set[str]:
    """The portal packages a module imports, deferred imports inside functions included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if len(parts) > 1 and parts[0] == "portal":
                found.add(parts[1])
    return found


@pytest.mark.parametrize("module", sorted(NOTIFICATIONS.glob("*.py")), ids=lambda p: p.name)
def test_notifications_imports_no_domain_package(module):
    domains = set(DOMAINS) - {"notifications"} - ALLOWED.get(module.name, set())

    assert imported_packages(module) & domains == set()
