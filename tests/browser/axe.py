"""Accessibility checks with axe-core, injected into the page under test.

The page's Content-Security-Policy refuses `add_script_tag` (an inline or foreign
script), but `page.evaluate` runs in the page through the DevTools protocol, which CSP
does not govern: so the axe source is evaluated there.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})

_RUN_AXE = """
async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')),
  }));
}
"""


@cache
def _axe_source() -> str:
    if not AXE_JS.exists():
        raise FileNotFoundError(f"{AXE_JS} is missing: run `npm ci` (make test-deps does)")
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict]:
    """Every WCAG 2.1 A/AA violation axe finds on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    return page.evaluate(_RUN_AXE, WCAG_TAGS)


def check_accessibility(page: Page, context_name: str) -> list[dict]:
    """Fail on any serious or critical WCAG 2.1 A/AA violation; return the lesser ones."""
    violations = axe_violations(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        lines = [f"axe found serious problems on {context_name} ({page.url}):"]
        for v in blocking:
            lines.append(f"  {v['id']} [{v['impact']}] {v['help']}")
            lines.extend(f"      at {target}" for target in v["targets"])
        raise AssertionError("\n".join(lines))
    return [v for v in violations if v["impact"] not in BLOCKING_IMPACTS]
