"""Debian's chromium driven by Playwright, for the dashboard's browser tests.

A browser cannot be downloaded here, so Playwright launches ``/usr/bin/chromium``
(installed by ``scripts/install --test``).  ``axe_violations`` runs axe-core (from
npm, installed into the venv by the same command) in a page.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(sys.prefix) / "npm" / "node_modules" / "axe-core" / "axe.min.js"


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def login(page: Any, base_url: str, user: str, password: str, project: str = "") -> None:
    page.goto(f"{base_url}/login")
    page.fill("#username", user)
    page.fill("#password", password)
    if project:
        page.fill("#project", project)
    page.click("#password-login button[type=submit]")
    page.wait_for_selector("main[data-ready=true]")


def open_page(page: Any, base_url: str, route: str, timeout: float = 15000) -> None:
    """Go to a dashboard route and wait until its first data is rendered."""
    page.goto(f"{base_url}/#/{route}")
    page.wait_for_function(
        "r => { const m = document.querySelector('main');"
        " return m && m.dataset.ready === 'true' && location.hash === '#/' + r; }",
        arg=route,
        timeout=timeout,
    )


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is (WCAG 2 A and AA rules)."""
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(content=AXE.read_text())
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        {
            "id": v["id"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]
