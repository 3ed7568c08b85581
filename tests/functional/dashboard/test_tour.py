"""Every page, in the light and the dark theme: axe finds no violation, and a
screenshot is taken (into ONESTACK_DASHBOARD_SCREENSHOTS, e.g. docs/dashboard,
or a temporary directory)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import axe_violations, login, open_page
from tests.support.server import RunningCloud

PROJECT_PAGES = [
    "overview",
    "compute/instances",
    "compute/keypairs",
    "compute/server-groups",
    "image/images",
    "volume/volumes",
    "volume/snapshots",
    "volume/backups",
    "volume/transfers",
    "network/topology",
    "network/networks",
    "network/subnets",
    "network/routers",
    "network/security-groups",
    "network/floating-ips",
    "network/ports",
    "object/containers",
    "orchestration/stacks",
    "identity/app-credentials",
]
ADMIN_PAGES = [
    "identity/projects",
    "identity/users",
    "identity/groups",
    "identity/roles",
    "admin/hypervisors",
    "admin/services",
    "admin/usage",
    "admin/flavors",
    "admin/quotas",
]


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("ONESTACK_DASHBOARD_SCREENSHOTS")
    directory = Path(chosen) if chosen else tmp_path_factory.mktemp("screens")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture(scope="module")
def scenery(demo_sdk: Any, admin_sdk: Any) -> Iterator[dict[str, Any]]:
    """A few things in the demo project, so that the pages show rows."""
    tag = uuid.uuid4().hex[:4]
    net = demo_sdk.network.create_network(name=f"web-{tag}")
    subnet = demo_sdk.network.create_subnet(
        network_id=net.id, cidr="10.66.0.0/24", ip_version=4, name=f"web-{tag}-subnet"
    )
    public = admin_sdk.network.find_network("public")
    router = demo_sdk.network.create_router(
        name=f"edge-{tag}", external_gateway_info={"network_id": public.id}
    )
    demo_sdk.network.add_interface_to_router(router, subnet_id=subnet.id)
    image = demo_sdk.image.find_image("onestack-busybox")
    flavor = sorted(demo_sdk.compute.flavors(), key=lambda f: f.ram)[0]
    servers = [
        demo_sdk.compute.create_server(
            name=f"app-{tag}-{i}",
            image_id=image.id,
            flavor_id=flavor.id,
            networks=[{"uuid": net.id}],
        )
        for i in range(3)
    ]
    volume = demo_sdk.block_storage.create_volume(name=f"data-{tag}", size=1)
    demo_sdk.object_store.create_container(name=f"assets-{tag}")
    demo_sdk.object_store.upload_object(f"assets-{tag}", "docs/readme.txt", data=b"hello")
    demo_sdk.compute.create_keypair(name=f"laptop-{tag}")
    for server in servers:
        demo_sdk.compute.wait_for_server(server, wait=60)
    stack = None
    catalog = demo_sdk.session.auth.get_access(demo_sdk.session).service_catalog
    if catalog.get_endpoints(service_type="orchestration"):
        template = {
            "heat_template_version": "2018-08-31",
            "parameters": {"length": {"type": "number", "default": 8}},
            "resources": {
                "secret": {"type": "OS::Heat::RandomString",
                           "properties": {"length": {"get_param": "length"}}},
                "copy": {"type": "OS::Heat::RandomString", "depends_on": "secret"},
            },
            "outputs": {"secret": {"value": {"get_attr": ["secret", "value"]}}},
        }  # fmt: skip
        stack = demo_sdk.orchestration.create_stack(name=f"site-{tag}", template=template)
        demo_sdk.orchestration.wait_for_status(stack, "CREATE_COMPLETE", wait=60)
    try:
        yield {"server": servers[0], "container": f"assets-{tag}", "stack": stack}
    finally:
        if stack is not None:
            demo_sdk.orchestration.delete_stack(stack)
        for server in servers:
            demo_sdk.compute.delete_server(server)
        for server in servers:
            demo_sdk.compute.wait_for_delete(server, wait=60)
        demo_sdk.block_storage.delete_volume(volume)
        demo_sdk.object_store.delete_object("docs/readme.txt", container=f"assets-{tag}")
        demo_sdk.object_store.delete_container(f"assets-{tag}")
        demo_sdk.compute.delete_keypair(f"laptop-{tag}")
        demo_sdk.network.remove_interface_from_router(router, subnet_id=subnet.id)
        demo_sdk.network.delete_router(router)
        demo_sdk.network.delete_network(net)


def _check(page: Any, shots: Path, name: str) -> list[str]:
    problems = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.wait_for_timeout(50)
        for violation in axe_violations(page):
            problems.append(f"{name} ({scheme}): {violation}")
        page.screenshot(path=str(shots / f"{name.replace('/', '-')}-{scheme}.png"))
    return problems


def test_every_page_passes_axe_in_both_themes(
    browser: Any, base_url: str, dash_cloud: RunningCloud, scenery: dict[str, Any], shots: Path
):
    # axe is injected as a script: this context alone lets it past the CSP
    context = browser.new_context(viewport={"width": 1280, "height": 760}, bypass_csp=True)
    context.set_default_timeout(20000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    problems: list[str] = []
    try:
        page.goto(f"{base_url}/login")
        problems += _check(page, shots, "login")
        # axe does look: an image without a text alternative is reported
        page.evaluate("() => document.body.append(document.createElement('img'))")
        assert "image-alt" in [v["id"] for v in axe_violations(page)]
        login(page, base_url, "demo", dash_cloud.demo_password)
        routes = [
            *PROJECT_PAGES,
            f"compute/instances/{scenery['server'].id}",
            f"object/containers/{scenery['container']}",
        ]
        if scenery["stack"] is not None:
            routes.append(f"orchestration/stacks/{scenery['stack'].name}/{scenery['stack'].id}")
        for route in routes:
            open_page(page, base_url, route)
            if route.startswith("compute/instances/"):
                name = "compute/instance-detail"
            elif route.startswith("object/containers/"):
                name = "object/container-browser"
            elif route.startswith("orchestration/stacks/"):
                name = "orchestration/stack-detail"
            else:
                name = route
            problems += _check(page, shots, name)
            if name == "orchestration/stack-detail":
                page.get_by_role("tab", name="Graph").click()
                page.locator("svg.graph g[data-name]").first.wait_for()
                problems += _check(page, shots, "orchestration/stack-graph")
        page.click("#logout")
        login(page, base_url, "admin", dash_cloud.admin_password)
        for route in ADMIN_PAGES:
            open_page(page, base_url, route)
            problems += _check(page, shots, route)
    finally:
        context.close()
    assert not errors, errors
    assert not problems, "\n".join(problems)


def test_keyboard_alone_logs_in_and_moves_between_pages(
    page: Any, base_url: str, dash_cloud: RunningCloud
):
    page.goto(f"{base_url}/login")
    assert page.evaluate("() => document.activeElement.id") == "username"  # autofocus
    page.keyboard.type("demo")
    page.keyboard.press("Tab")
    page.keyboard.type(dash_cloud.demo_password)
    page.keyboard.press("Enter")
    page.wait_for_selector("main[data-ready=true]")
    # the first Tab reaches "Skip to content", which moves the focus to the page
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.focus("a[data-route='volume/volumes']")
    page.keyboard.press("Enter")
    page.locator("main[data-ready=true] h1", has_text="Volumes").wait_for()
    page.focus("#create")
    page.keyboard.press("Enter")
    dialog = page.locator("dialog[open]")
    dialog.wait_for()
    assert page.evaluate("() => document.activeElement.closest('dialog') !== null")
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
