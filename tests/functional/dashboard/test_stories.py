"""What a user does in the dashboard, in Debian's chromium (issue 16's "done means")."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.browser import login, open_page
from tests.support.names import unique
from tests.support.server import RunningCloud


def wait_for(predicate: Any, timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def demo_net(demo_sdk: Any, admin_sdk: Any) -> Iterator[dict[str, Any]]:
    """A demo network with a subnet behind a router on `public` (floating IPs need it)."""
    net = demo_sdk.network.create_network(name=unique("dash-net"))
    subnet = demo_sdk.network.create_subnet(
        network_id=net.id, cidr="10.77.0.0/24", ip_version=4, name=unique("dash-sub")
    )
    public = admin_sdk.network.find_network("public")
    router = demo_sdk.network.create_router(
        name=unique("dash-router"), external_gateway_info={"network_id": public.id}
    )
    demo_sdk.network.add_interface_to_router(router, subnet_id=subnet.id)
    try:
        yield {"network": net, "subnet": subnet, "router": router}
    finally:
        for server in demo_sdk.compute.servers():
            demo_sdk.compute.delete_server(server)
        for server in list(demo_sdk.compute.servers()):
            demo_sdk.compute.wait_for_delete(server, wait=60)
        for fip in demo_sdk.network.ips():
            demo_sdk.network.delete_ip(fip)
        demo_sdk.network.remove_interface_from_router(router, subnet_id=subnet.id)
        demo_sdk.network.delete_router(router)
        demo_sdk.network.delete_network(net)


@pytest.fixture(scope="module")
def server(demo_sdk: Any, demo_net: dict[str, Any]) -> Any:
    """A demo server made through the API, for the stories that act on one."""
    image = demo_sdk.image.find_image("onestack-busybox")
    flavor = sorted(demo_sdk.compute.flavors(), key=lambda f: f.ram)[0]
    made = demo_sdk.compute.create_server(
        name=unique("dash-vm"),
        image_id=image.id,
        flavor_id=flavor.id,
        networks=[{"uuid": demo_net["network"].id}],
    )
    return demo_sdk.compute.wait_for_server(made, wait=60)


def test_login_as_demo_shows_the_overview(page: Any, base_url: str, dash_cloud: RunningCloud):
    login(page, base_url, "demo", dash_cloud.demo_password)
    assert page.locator("h1").inner_text() == "Overview of demo"
    assert page.locator("#quota-bars .quota").count() >= 8
    assert "Instances" in page.locator("#quota-bars").inner_text()
    cookie = next(c for c in page.context.cookies() if c["name"] == "onestack_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"


def test_launch_from_the_form_turns_active_without_reload(
    demo_page: Any, base_url: str, demo_net: dict[str, Any], demo_sdk: Any
):
    name = unique("launched")
    open_page(demo_page, base_url, "compute/instances")
    demo_page.evaluate("() => { window.__noReload = true; }")
    demo_page.click("#launch")
    dialog = demo_page.locator("dialog")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label(demo_net["network"].name).check()
    assert "Quota after launch" in dialog.locator("#launch-quota").inner_text()
    dialog.locator("details.cli summary").click()
    assert "openstack server create" in dialog.locator(".cli-text").inner_text()
    assert f"--network {demo_net['network'].id}" in dialog.locator(".cli-text").inner_text()
    dialog.get_by_role("button", name="Launch").click()
    row = demo_page.locator("tr", has_text=name)
    row.locator(".status", has_text="ACTIVE").wait_for(timeout=60000)
    assert demo_page.evaluate("() => window.__noReload") is True
    assert demo_sdk.compute.find_server(name).status == "ACTIVE"


def test_console_log_and_console(demo_page: Any, base_url: str, server: Any, demo_sdk: Any):
    open_page(demo_page, base_url, f"compute/instances/{server.id}")
    demo_page.get_by_role("tab", name="Console log").click()
    log = demo_page.locator("#console-log")
    expected = demo_sdk.compute.get_server_console_output(server)["output"].strip().splitlines()[0]
    wait_for(lambda: expected in log.inner_text(), what="the console log")
    demo_page.get_by_role("tab", name="Console", exact=True).click()
    demo_page.click("#open-serial")
    area = demo_page.locator("#console-area")
    # The serial console needs Nova's remote consoles: where the compute API refuses
    # them, the page says why instead of hanging; where it has them, a command runs.
    wait_for(lambda: "Connecting" not in area.inner_text(), what="the console to open")
    if area.locator(".alert").count():
        assert "not available" in area.inner_text()
        return
    demo_page.wait_for_function("() => !!window.__serialTerminal")
    demo_page.keyboard.type("echo dash-$((6*7))\n")
    wait_for(
        lambda: (
            "dash-42"
            in demo_page.evaluate(
                "() => { const b = window.__serialTerminal.buffer.active; let t = '';"
                " for (let i = 0; i < b.length; i++) t += b.getLine(i).translateToString() + '\\n';"
                " return t; }"
            )
        ),
        what="the command's output in the serial console",
    )


def test_network_subnet_router_linked_in_the_topology(demo_page: Any, base_url: str, demo_sdk: Any):
    net, router = unique("topo-net"), unique("topo-router")
    open_page(demo_page, base_url, "network/networks")
    demo_page.click("#create")
    dialog = demo_page.locator("dialog")
    dialog.get_by_label("Name", exact=True).fill(net)
    dialog.get_by_label("Subnet name").fill(f"{net}-sub")
    dialog.get_by_label("Subnet CIDR").fill("10.88.0.0/24")
    dialog.get_by_role("button", name="Create").click()
    demo_page.locator("tr", has_text=net).wait_for()
    open_page(demo_page, base_url, "network/routers")
    demo_page.click("#create")
    dialog = demo_page.locator("dialog")
    dialog.get_by_label("Name", exact=True).fill(router)
    dialog.get_by_label("External network (gateway)").select_option(label="public")
    dialog.get_by_role("button", name="Create").click()
    row = demo_page.locator("tr", has_text=router)
    row.wait_for()
    row.get_by_role("button", name=f"Add interface {router}").click()
    dialog = demo_page.locator("dialog")
    dialog.get_by_label("Subnet").select_option(label=f"{net}-sub (10.88.0.0/24)")
    dialog.get_by_role("button", name="Add").click()
    row.filter(has_text="10.88.0.1").wait_for()
    open_page(demo_page, base_url, "network/topology")
    graph = demo_page.locator("#topology")
    graph.locator(f'line[data-from="{router}"][data-to="{net}"]').wait_for(state="attached")
    graph.locator(f'line[data-from="{router}"][data-to="public"]').wait_for(state="attached")
    found = demo_sdk.network.find_router(router)
    demo_sdk.network.remove_interface_from_router(
        found, subnet_id=demo_sdk.network.find_subnet(f"{net}-sub").id
    )
    demo_sdk.network.delete_router(found)
    demo_sdk.network.delete_network(demo_sdk.network.find_network(net))


def test_attach_a_volume(demo_page: Any, base_url: str, server: Any, demo_sdk: Any):
    name = unique("dash-vol")
    open_page(demo_page, base_url, "volume/volumes")
    demo_page.click("#create")
    dialog = demo_page.locator("dialog")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_role("button", name="Create").click()
    demo_page.locator("tr", has_text=name).locator(".status", has_text="available").wait_for()
    volume = demo_sdk.block_storage.find_volume(name)
    open_page(demo_page, base_url, f"compute/instances/{server.id}")
    demo_page.click("#attach-volume")
    dialog = demo_page.locator("dialog")
    dialog.get_by_label("Volume").select_option(volume.id)
    dialog.get_by_role("button", name="Attach").click()
    open_page(demo_page, base_url, "volume/volumes")
    row = demo_page.locator("tr", has_text=name)
    row.locator(".status", has_text="in-use").wait_for(timeout=30000)
    assert server.name in row.inner_text()
    attached = demo_sdk.block_storage.get_volume(volume.id).attachments
    assert [a["server_id"] for a in attached] == [server.id]


def test_associate_a_floating_ip(demo_page: Any, base_url: str, server: Any, demo_sdk: Any):
    open_page(demo_page, base_url, f"compute/instances/{server.id}")
    demo_page.click("#associate-fip")
    dialog = demo_page.locator("dialog")
    dialog.get_by_role("button", name="Associate").click()
    port = next(demo_sdk.network.ports(device_id=server.id))
    fip = wait_for(
        lambda: next(iter(demo_sdk.network.ips(port_id=port.id)), None), what="a floating IP"
    )
    open_page(demo_page, base_url, "network/floating-ips")
    demo_page.locator("tr", has_text=fip.floating_ip_address).filter(has_text=port.id).wait_for()


def test_upload_50_mib_and_download_byte_exact(
    demo_page: Any, base_url: str, demo_sdk: Any, tmp_path: Path
):
    container = unique("dash-box")
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(50 * 1024 * 1024))
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    open_page(demo_page, base_url, "object/containers")
    demo_page.click("#create")
    dialog = demo_page.locator("dialog")
    dialog.get_by_label("Name", exact=True).fill(container)
    dialog.get_by_role("button", name="Create").click()
    demo_page.get_by_role("link", name=container).click()
    demo_page.wait_for_selector("#upload-file")
    demo_page.set_input_files("#upload-file", str(source))
    demo_page.click("#upload")
    demo_page.locator("tr", has_text="big.bin").wait_for(timeout=120000)
    assert demo_page.locator("#upload-progress").get_attribute("value") == "100"
    head = demo_sdk.object_store.get_object_metadata("big.bin", container)
    assert head.is_static_large_object in (True, "True")
    with demo_page.expect_download(timeout=120000) as info:
        demo_page.locator("tr", has_text="big.bin").get_by_role(
            "button", name="Download big.bin"
        ).click()
    saved = tmp_path / "downloaded.bin"
    info.value.save_as(saved)
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == digest
    assert saved.stat().st_size == 50 * 1024 * 1024


STACK_TEMPLATE = """heat_template_version: 2018-08-31
parameters:
  greeting:
    type: string
    default: hello
  count:
    type: number
    default: 2
resources:
  word:
    type: OS::Heat::RandomString
    properties:
      length: {get_param: count}
outputs:
  message:
    value: {list_join: ['-', [{get_param: greeting}, {get_param: count}]]}
"""


def test_stack_from_a_template_with_parameters(demo_page: Any, base_url: str, demo_sdk: Any):
    services = demo_page.evaluate(
        "() => JSON.parse(document.getElementById('session').textContent).services"
    )
    nav = demo_page.locator("#nav").inner_text()
    if "orchestration" not in services:
        # Without Heat in the catalog the pages are hidden, not broken.
        assert "Stacks" not in nav
        open_page(demo_page, base_url, "orchestration/stacks")
        assert demo_page.locator("h1").inner_text() == "Not available"
        return
    name = unique("dash-stack")
    open_page(demo_page, base_url, "orchestration/stacks")
    demo_page.click("#create")
    dialog = demo_page.locator("dialog")
    dialog.get_by_label("Template text").fill(STACK_TEMPLATE)
    dialog.get_by_role("button", name="Next").click()
    dialog = demo_page.locator("dialog", has_text="parameters")
    dialog.get_by_label("Stack name").fill(name)
    dialog.get_by_label("greeting").fill("bonjour")
    dialog.get_by_label("count").fill("5")
    dialog.get_by_role("button", name="Launch").click()
    demo_page.locator("#stack-status", has_text="CREATE_COMPLETE").wait_for(timeout=60000)
    demo_page.get_by_role("tab", name="Outputs").click()
    demo_page.locator("td", has_text="bonjour-5").wait_for()


def test_a_member_cannot_see_the_admin_pages(demo_page: Any, base_url: str):
    nav = demo_page.locator("#nav").inner_text()
    for label in ("Hypervisors", "Services and agents", "Flavors", "Quotas", "Users"):
        assert label not in nav
    open_page(demo_page, base_url, "admin/hypervisors")
    assert demo_page.locator("h1").inner_text() == "Not available"
    status = demo_page.evaluate(
        "() => fetch('/api/compute/os-hypervisors/detail').then(r => r.status)"
    )
    assert status == 403


def test_an_expired_token_sends_the_user_to_the_login_page(
    demo_page: Any, base_url: str, admin_sdk: Any
):
    open_page(demo_page, base_url, "compute/instances")
    token = next(c for c in demo_page.context.cookies() if c["name"] == "onestack_session")
    admin_sdk.identity.delete("/auth/tokens", headers={"X-Subject-Token": token["value"]})
    demo_page.click("a[data-route='volume/volumes']")
    # polls the address: a navigation the page starts twice (link and API answer) is
    # still one arrival at the login page
    expect(demo_page).to_have_url(f"{base_url}/login?expired=1", timeout=15000)
    assert "expired" in demo_page.locator(".alert").inner_text()
    demo_page.goto(f"{base_url}/")
    assert demo_page.url.startswith(f"{base_url}/login")


def test_the_project_switcher_rescopes_the_session(
    page: Any, base_url: str, dash_cloud: RunningCloud, admin_sdk: Any
):
    demo_project = admin_sdk.identity.find_project("demo")
    admin_user = admin_sdk.identity.find_user("admin")
    member = admin_sdk.identity.find_role("member")
    admin_sdk.identity.assign_project_role_to_user(demo_project, admin_user, member)
    try:
        login(page, base_url, "admin", dash_cloud.admin_password, project="admin")
        assert page.locator("h1").inner_text() == "Overview of admin"
        before = page.locator('meta[name="csrf-token"]').get_attribute("content")
        page.select_option("#project-switch", label="demo")
        page.locator("h1", has_text="Overview of demo").wait_for()
        assert page.locator('meta[name="csrf-token"]').get_attribute("content") != before
        session = page.evaluate("() => fetch('/session').then(r => r.json())")
        assert session["project"]["name"] == "demo"
    finally:
        admin_sdk.identity.unassign_project_role_from_user(demo_project, admin_user, member)


def test_login_with_an_application_credential(page: Any, base_url: str, demo_sdk: Any):
    user = demo_sdk.current_user_id
    made = demo_sdk.identity.create_application_credential(user=user, name=unique("dash-ac"))
    try:
        page.goto(f"{base_url}/login")
        page.locator("summary", has_text="application credential").click()
        page.fill("#credential_id", made.id)
        page.fill("#secret", made.secret)
        page.click("#appcred-login button[type=submit]")
        page.wait_for_selector("main[data-ready=true]")
        assert page.locator("h1").inner_text() == "Overview of demo"
    finally:
        demo_sdk.identity.delete_application_credential(user, made.id)


def test_the_overview_charts_telemetry(
    demo_page: Any, base_url: str, dash_cloud: RunningCloud, admin_sdk: Any, demo_sdk: Any
):
    import datetime

    import httpx

    services = demo_page.evaluate(
        "() => JSON.parse(document.getElementById('session').textContent).services"
    )
    if "metric" not in services:
        # Without telemetry in the catalog the charts are left out, not broken.
        assert "Servers' metrics" not in demo_page.locator("main").inner_text()
        return
    gnocchi = admin_sdk.session.get_endpoint(service_type="metric", interface="public")
    headers = {"X-Auth-Token": admin_sdk.session.get_token()}
    resource = str(uuid.uuid4())
    made = httpx.post(
        f"{gnocchi}/v1/resource/instance",
        headers=headers,
        json={
            "id": resource, "project_id": demo_sdk.current_project_id,
            "user_id": demo_sdk.current_user_id, "flavor_id": "42", "flavor_name": "m1.nano",
            "image_ref": "none", "host": "probe", "display_name": "chart-probe",
            "metrics": {"cpu": {"archive_policy_name": "high"}},
        },
    )  # fmt: skip
    assert made.status_code == 201, made.text
    now = datetime.datetime.now(datetime.UTC)
    measures = [
        {"timestamp": (now - datetime.timedelta(minutes=30 - i)).isoformat(), "value": i * 30e9}
        for i in range(30)
    ]
    metric = made.json()["metrics"]["cpu"]
    sent = httpx.post(f"{gnocchi}/v1/metric/{metric}/measures", headers=headers, json=measures)
    assert sent.status_code == 202, sent.text
    try:
        open_page(demo_page, base_url, "overview")
        demo_page.locator("#chart-cpu canvas").wait_for()
        # 30e9 ns of CPU per 60 s is half a core: the chart's points say 50 %
        values = demo_page.evaluate(
            "async () => { const { Chart } = await import('/vendor/js/chart.js/chart.esm.js');"
            " const c = Chart.getChart(document.querySelector('#chart-cpu canvas'));"
            " return c.data.datasets[0].data.map(p => p.y); }"
        )
        assert values and all(abs(v - 50) < 0.01 for v in values if v is not None)
    finally:
        httpx.delete(f"{gnocchi}/v1/resource/instance/{resource}", headers=headers)


def test_a_reader_sees_no_buttons_that_change_things(page: Any, base_url: str, admin_sdk: Any):
    name, password = unique("reader"), uuid.uuid4().hex
    project = admin_sdk.identity.find_project("demo")
    user = admin_sdk.identity.create_user(
        name=name, password=password, domain_id="default", default_project_id=project.id
    )
    admin_sdk.identity.assign_project_role_to_user(
        project, user, admin_sdk.identity.find_role("reader")
    )
    try:
        login(page, base_url, name, password)
        for route, button in (("compute/instances", "#launch"), ("volume/volumes", "#create"),
                              ("network/networks", "#create")):  # fmt: skip
            open_page(page, base_url, route)
            assert page.locator(button).count() == 0, route
        status = page.evaluate(
            "() => fetch('/api/network/v2.0/networks', {method: 'POST', headers: {"
            "'Content-Type': 'application/json', 'X-CSRF-Token':"
            " document.querySelector('meta[name=csrf-token]').content},"
            " body: JSON.stringify({network: {name: 'refused'}})}).then(r => r.status)"
        )
        assert status == 403  # and the API refuses anyway
    finally:
        admin_sdk.identity.delete_user(user)


def test_public_containers_and_temporary_urls(demo_page: Any, base_url: str, demo_sdk: Any):
    import httpx

    container = unique("dash-pub")
    demo_sdk.object_store.create_container(name=container)
    demo_sdk.object_store.upload_object(container, "notes/hello.txt", data=b"hello, world")
    endpoint = demo_sdk.session.get_endpoint(service_type="object-store", interface="public")
    try:
        open_page(demo_page, base_url, f"object/containers/{container}")
        assert demo_page.locator("#container-access").inner_text() == "private"
        assert httpx.get(f"{endpoint}/{container}/notes/hello.txt").status_code == 401
        demo_page.click("#toggle-public")
        demo_page.locator("#container-access", has_text="public").wait_for()
        assert httpx.get(f"{endpoint}/{container}/notes/hello.txt").text == "hello, world"
        demo_page.click("#toggle-public")
        demo_page.locator("#container-access", has_text="private").wait_for()
        demo_page.get_by_role("link", name="notes/").click()
        row = demo_page.locator("tr", has_text="hello.txt")
        row.get_by_role("button", name="Temp URL notes/hello.txt").click()
        dialog = demo_page.locator("dialog")
        dialog.get_by_role("button", name="Make URL").click()
        link = demo_page.locator("#temp-url").inner_text()
        assert "temp_url_sig=" in link
        assert httpx.get(link).text == "hello, world"
        assert httpx.get(link.replace("temp_url_sig=", "temp_url_sig=0")).status_code == 401
    finally:
        demo_sdk.object_store.delete_object("notes/hello.txt", container=container)
        demo_sdk.object_store.delete_container(container)


def test_upload_an_image_with_progress_and_share_it(
    demo_page: Any, base_url: str, demo_sdk: Any, admin_sdk: Any, tmp_path: Path
):
    name = unique("dash-img")
    source = tmp_path / "disk.raw"
    source.write_bytes(os.urandom(3 * 1024 * 1024))
    open_page(demo_page, base_url, "image/images")
    demo_page.click("#create")
    dialog = demo_page.locator("dialog")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("Image file").set_input_files(str(source))
    assert "--file disk.raw" in (dialog.locator(".cli-text").text_content() or "")
    dialog.get_by_role("button", name="Upload").click()
    row = demo_page.locator("tr", has_text=name)
    row.locator(".status", has_text="active").wait_for(timeout=30000)
    image = demo_sdk.image.find_image(name)
    assert image.checksum == hashlib.md5(source.read_bytes()).hexdigest()
    admin_project = admin_sdk.identity.find_project("admin")
    try:
        row.get_by_role("button", name=f"Share {name}").click()
        dialog = demo_page.locator("dialog")
        dialog.get_by_label("Project ID").fill(admin_project.id)
        dialog.get_by_role("button", name="Share").click()
        dialog.wait_for(state="detached")  # the form closes once both calls answered
        assert [m.member_id for m in demo_sdk.image.members(image)] == [admin_project.id]
    finally:
        demo_sdk.image.delete_image(image)


def test_create_a_key_pair_and_download_its_private_key(
    demo_page: Any, base_url: str, demo_sdk: Any, tmp_path: Path
):
    name = unique("dash-key")
    open_page(demo_page, base_url, "compute/keypairs")
    demo_page.click("#create")
    dialog = demo_page.locator("dialog")
    dialog.get_by_label("Name", exact=True).fill(name)
    with demo_page.expect_download() as info:
        dialog.get_by_role("button", name="Create").click()
    saved = tmp_path / "key.pem"
    info.value.save_as(saved)
    assert info.value.suggested_filename == f"{name}.pem"
    assert "PRIVATE KEY" in saved.read_text()
    demo_page.locator("tr", has_text=name).wait_for()
    demo_sdk.compute.delete_keypair(name)
