"""The dashboard's tests: one onestack (fake compute driver) and one browser for the package.

The cloud says so: ``ONESTACK_COMPUTE__DRIVER=fake`` (servers are records that
become ACTIVE at once and have a console log), which keeps the browser stories
fast and deterministic; what the pages do is the same for every driver.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import browser as chromium
from tests.support.server import RunningCloud, new_cloud


@pytest.fixture(scope="package")
def dash_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    running = new_cloud(tmp_path_factory.mktemp("dashboard"), ONESTACK_COMPUTE__DRIVER="fake")
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="package")
def base_url(dash_cloud: RunningCloud) -> str:
    return dash_cloud.url("dashboard")


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not chromium.CHROMIUM.exists():
        pytest.fail("chromium is missing: run scripts/install --test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = chromium.launch(playwright)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page; JS errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    context.set_default_timeout(20000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield opened
    finally:
        context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture()
def demo_page(page: Any, base_url: str, dash_cloud: RunningCloud) -> Any:
    chromium.login(page, base_url, "demo", dash_cloud.demo_password)
    return page


@pytest.fixture()
def admin_page(page: Any, base_url: str, dash_cloud: RunningCloud) -> Any:
    chromium.login(page, base_url, "admin", dash_cloud.admin_password)
    return page


@pytest.fixture(scope="package")
def demo_sdk(dash_cloud: RunningCloud) -> Any:
    return dash_cloud.connect("demo", "demo")


@pytest.fixture(scope="package")
def admin_sdk(dash_cloud: RunningCloud) -> Any:
    return dash_cloud.connect("admin", "admin")
