"""Dashboard benchmarks, in Debian's chromium through Playwright.

    .venv/bin/python bench/dashboard.py [--servers 1000] [--runs 5]

Starts its own onestack (fake compute driver) on free ports and gives the demo
project ``--servers`` servers.  Figures (medians over ``--runs``):

- the login page: navigation start to the load event;
- login to a usable overview: from pressing "Log in" until the overview's quota bars
  are drawn, and until everything on it (the usage table too) is loaded;
- the instance list with every server rendered: opening #/compute/instances in a
  fresh page (shell, modules, API calls, the table) and from the navigation menu;
- the API calls each page makes (counted by the pages themselves);
- for comparison, what the APIs alone take: Keystone's password login and
  ``GET /servers/detail`` of every server, called directly.

Results go to docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import browser as chromium
from tests.support.server import new_cloud

PAGES = [
    "overview",
    "compute/instances",
    "compute/keypairs",
    "image/images",
    "volume/volumes",
    "network/topology",
    "network/networks",
    "network/routers",
    "network/floating-ips",
    "network/ports",
    "object/containers",
    "identity/app-credentials",
]


def _servers(admin: Any, demo: Any, count: int) -> None:
    project = admin.identity.find_project("demo")
    admin.compute.put(
        f"/os-quota-sets/{project.id}",
        json={"quota_set": {"instances": -1, "cores": -1, "ram": -1}},
    )
    image = demo.image.find_image("onestack-busybox")
    made = 0
    while made < count:
        batch = min(100, count - made)
        demo.compute.post(
            "/servers",
            json={
                "server": {
                    "name": f"bench-{made}",
                    "imageRef": image.id,
                    "flavorRef": "42",
                    "networks": "none",
                    "min_count": batch,
                    "max_count": batch,
                }
            },
            microversion="2.37",
        )
        made += batch
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        body = demo.compute.get("/servers/detail?limit=1000&status=ACTIVE").json()
        if len(body["servers"]) >= min(count, 1000):
            return
        time.sleep(1)
    raise TimeoutError("the servers did not become ACTIVE")


def _api_alone(cloud: Any, demo: Any, runs: int) -> tuple[list[float], list[float]]:
    """What the APIs alone take: a password login, and the 1,000-server detail list."""
    import httpx

    auth = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": "demo",
                        "domain": {"name": "Default"},
                        "password": cloud.demo_password,
                    }
                },
            }
        }
    }
    token = demo.session.get_token()
    logins, lists = [], []
    with httpx.Client(timeout=120) as client:
        for _ in range(runs):
            began = time.monotonic()
            client.post(f"{cloud.auth_url}/auth/tokens", json=auth).raise_for_status()
            logins.append((time.monotonic() - began) * 1000)
            began = time.monotonic()
            client.get(
                cloud.url("compute") + "/v2.1/servers/detail",
                headers={"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.79"},
            ).raise_for_status()
            lists.append((time.monotonic() - began) * 1000)
    return logins, lists


def _ready(page: Any, route: str) -> None:
    page.wait_for_function(
        "r => { const m = document.querySelector('main');"
        " return m.dataset.ready === 'true' && m.dataset.page === r; }",
        arg=route,
        timeout=60000,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        cloud = new_cloud(Path(tmp), ONESTACK_COMPUTE__DRIVER="fake").start()
        try:
            admin = cloud.connect("admin", "admin")
            demo = cloud.connect("demo", "demo")
            started = time.monotonic()
            _servers(admin, demo, args.servers)
            print(f"{args.servers} servers ACTIVE in {time.monotonic() - started:.1f}s")
            base = cloud.url("dashboard")
            api_login, api_list = _api_alone(cloud, demo, args.runs)
            with sync_playwright() as playwright:
                browser = chromium.launch(playwright)
                login_page, login_ready, cold_list, warm_list = [], [], [], []
                login_all: list[float] = []
                calls: dict[str, str] = {}
                for _ in range(args.runs):
                    context = browser.new_context(viewport={"width": 1280, "height": 800})
                    page = context.new_page()
                    page.goto(f"{base}/login")
                    login_page.append(
                        page.evaluate(
                            "() => performance.getEntriesByType('navigation')[0].loadEventEnd"
                        )
                    )
                    page.fill("#username", "demo")
                    page.fill("#password", cloud.demo_password)
                    began = time.monotonic()
                    page.click("#password-login button[type=submit]")
                    page.wait_for_selector("#quota-bars .quota")
                    login_ready.append((time.monotonic() - began) * 1000)
                    page.wait_for_selector("main[data-ready=true]")
                    login_all.append((time.monotonic() - began) * 1000)
                    fresh = context.new_page()
                    began = time.monotonic()
                    fresh.goto(f"{base}/#/compute/instances")
                    _ready(fresh, "compute/instances")
                    rows = fresh.locator("table.grid tbody tr").count()
                    cold_list.append((time.monotonic() - began) * 1000)
                    assert rows == args.servers, rows
                    fresh.click("a[data-route='overview']")
                    _ready(fresh, "overview")
                    began = time.monotonic()
                    fresh.click("a[data-route='compute/instances']")
                    _ready(fresh, "compute/instances")
                    warm_list.append((time.monotonic() - began) * 1000)
                    for route in PAGES:
                        fresh.goto(f"{base}/#/{route}")
                        _ready(fresh, route)
                        calls[route] = fresh.evaluate(
                            "() => document.querySelector('main').dataset.calls"
                        )
                    context.close()
                browser.close()
        finally:
            cloud.stop()
    print(f"login page loaded:            median {statistics.median(login_page):.0f} ms")
    print(f"login to usable overview:     median {statistics.median(login_ready):.0f} ms")
    print(f"login to overview all loaded: median {statistics.median(login_all):.0f} ms")
    print(f"{args.servers} servers, fresh page:   median {statistics.median(cold_list):.0f} ms")
    print(f"{args.servers} servers, from menu:    median {statistics.median(warm_list):.0f} ms")
    print(
        f"API alone: Keystone password login median {statistics.median(api_login):.0f} ms, "
        f"GET /servers/detail median {statistics.median(api_list):.0f} ms"
    )
    print("API calls per page: " + ", ".join(f"{k} {v}" for k, v in calls.items()))


if __name__ == "__main__":
    main()
