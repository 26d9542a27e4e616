"""Steps every browser test takes: log in through the real form, save screenshots."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def log_in(page: Page, email: str, password: str = "demo", *, succeed: bool = True) -> None:
    """Log in on /login; with `succeed`, wait until the page shows the logged-in header."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    if succeed:
        expect(page.get_by_role("button", name="Log out", exact=True)).to_be_visible()


def screenshots(page: Page, folder: Path, name: str) -> None:
    """Desktop and phone screenshots of the current page, for people to look at; on a
    phone the page must fit the screen's width (wide tables scroll in their own box)."""
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=folder / f"{name}-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: the page is {width}px wide on a phone"
    page.screenshot(path=folder / f"{name}-phone.png", full_page=True)
    page.set_viewport_size(DESKTOP)
