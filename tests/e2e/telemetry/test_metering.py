"""Metering what really runs: a server burning CPU, an idle one, bytes sent between them.

Done means (issue 15): a server running a CPU-burning loop shows a ``cpu`` rate near
one vCPU per second of wall time in ``openstack metric measures show`` and
``metric aggregates``, an idle one near zero; network bytes grow by the bytes sent
with a known payload; volume and object meters follow creates and deletes.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.e2e.compute.helpers import cgroup_dir, runc_state
from tests.e2e.telemetry.conftest import POLL, Metering, as_json, boot
from tests.functional.telemetry.stories import eventually, service_meters_story

PINGS = 20
PAYLOAD = 1000
#: what one echo request is on the wire: payload + ICMP (8) + IPv4 (20) + Ethernet (14)
FRAME = PAYLOAD + 8 + 20 + 14


def _cpu_rate(
    plane: Metering, server_id: str, since: float, until: float
) -> tuple[float, float] | None:
    """vCPU seconds per second between the first and last poll in [since, until], and the
    seconds that span covers (None while it is under 10 s)."""
    measures = plane.gnocchi.metric.get_measures("cpu", resource_id=server_id, granularity=1)
    points = [(m[0].timestamp(), m[2]) for m in measures if since <= m[0].timestamp() <= until]
    if len(points) < 2 or points[-1][0] - points[0][0] < 10:
        return None
    (t0, v0), (t1, v1) = points[0], points[-1]
    return (v1 - v0) / 1e9 / (t1 - t0), t1 - t0


def _cpuacct(plane: Metering, server_id: str) -> tuple[float, int]:
    """(now, the container's own cpuacct.usage), read by the test, not the poller."""
    state = runc_state(plane.cloud.state_dir, server_id)
    assert state is not None
    usage = cgroup_dir(state["pid"], "cpuacct") / "cpuacct.usage"
    return time.time(), int(usage.read_text())


def _latest(plane: Metering, metric: str, resource_id: str) -> float:
    measures = plane.gnocchi.metric.get_measures(metric, resource_id=resource_id, granularity=1)
    return float(measures[-1][2]) if measures else -1.0


def _interface(plane: Metering, server_id: str) -> Any:
    found = plane.gnocchi.resource.search(
        resource_type="instance_network_interface", query={"=": {"instance_id": server_id}}
    )
    return found[0] if found and "network.incoming.bytes" in found[0]["metrics"] else None


def test_cpu_and_network_of_real_containers(metering: Metering) -> None:
    plane = metering
    name = f"meter-{uuid.uuid4().hex[:6]}"
    net = plane.admin.network.create_network(name=name)
    plane.admin.network.create_subnet(network_id=net.id, cidr="10.97.0.0/24", ip_version=4)
    busy = boot(plane, f"{name}-busy", net.id)
    idle = boot(plane, f"{name}-idle", net.id)
    ip_idle = next(iter(plane.admin.network.ports(device_id=idle.id))).fixed_ips[0]["ip_address"]
    assert eventually(lambda: ip_idle in plane.inside(idle.id, "ip -4 -o addr show eth0").stdout)

    assert plane.start_in(busy.id, "while :; do :; done") == 0
    time.sleep(1)
    t0, u0 = _cpuacct(plane, busy.id)
    time.sleep(14 + 2 * POLL)
    t1, u1 = _cpuacct(plane, busy.id)
    truth = (u1 - u0) / 1e9 / (t1 - t0)
    rate_busy, span = eventually(lambda: _cpu_rate(plane, busy.id, t0, t1), timeout=30)
    rate_idle, _ = eventually(lambda: _cpu_rate(plane, idle.id, t0, t1), timeout=30)
    # the loop gets up to one vCPU (the flavor's quota); on a machine shared with other
    # work it may get less, so the meter is held to what the container's own counter says
    print(f"cpu: metered {rate_busy:.3f} vCPU over {span:.0f}s, cgroup {truth:.3f}, "
          f"idle {rate_idle:.4f}")  # fmt: skip
    # burning: an idle server uses under 0.01; a loop alone on its host gets ~1.0, under a
    # load average of 18 on two cores it was seen getting 0.17
    assert 0.05 < truth < 1.05, truth
    assert abs(rate_busy - truth) < 0.1 + 0.15 * truth, (rate_busy, truth, span)
    assert rate_busy < 1.15
    assert rate_idle < 0.05, rate_idle

    # the same through the CLI, as users read it: rate:mean is CPU ns per poll
    shown = as_json(
        plane.cli(
            "metric",
            "measures",
            "show",
            "cpu",
            "--resource-id",
            busy.id,
            "--aggregation",
            "rate:mean",
            "--granularity",
            "1",
            "-f",
            "json",
        )
    )
    recent = [m["value"] for m in shown[-4:]]
    # each poll adds the CPU time of its interval: more than a tenth of what the loop
    # really got, never more than one vCPU for the longest interval the polls left
    assert all(0.1e9 * truth * POLL < v < 1.1e9 * 3 * POLL for v in recent), recent
    aggregated = as_json(plane.cli(
        "metric", "aggregates", "(aggregate mean (metric cpu rate:mean))",
        f"server_group='{name}'", "--resource-type", "instance", "--granularity", "1",
        "--needed-overlap", "0", "-f", "json",
    ))  # fmt: skip
    assert aggregated and max(m["value"] for m in aggregated[-4:]) > 0.1e9 * truth * POLL

    # network: the idle server receives exactly what the busy one sends it
    interface = eventually(lambda: _interface(plane, idle.id))
    assert interface["name"].startswith("ostap-")
    before = eventually(lambda: _latest(plane, "network.incoming.bytes", interface["id"]) >= 0)
    base = _latest(plane, "network.incoming.bytes", interface["id"])
    assert before
    ping = plane.inside(busy.id, f"ping -c {PINGS} -i 0.2 -s {PAYLOAD} -W 2 {ip_idle}")
    assert ping.returncode == 0, ping.stdout + ping.stderr
    grown = eventually(
        lambda: (
            _latest(plane, "network.incoming.bytes", interface["id"]) - base >= PINGS * FRAME
            and _latest(plane, "network.incoming.bytes", interface["id"]) - base
        )
    )
    # besides the echo requests the idle server may receive a few frames of its own
    # (ARP, IPv6 neighbour discovery), never more than a kilobyte in these seconds
    assert PINGS * FRAME <= grown <= PINGS * FRAME + 1024, grown

    for server in (busy, idle):
        plane.admin.compute.delete_server(server)
    for server in (busy, idle):
        plane.admin.compute.wait_for_delete(server, interval=0.2, wait=120)
    ended = eventually(lambda: plane.gnocchi.resource.get("instance", busy.id)["ended_at"])
    assert ended
    assert eventually(
        lambda: plane.gnocchi.resource.get("instance_network_interface", interface["id"])[
            "ended_at"
        ]
    )
    plane.admin.network.delete_network(net)


def test_volume_object_and_floating_ip_meters_follow_creates_and_deletes(
    metering: Metering,
) -> None:
    """On real volumes (a reflink pool on a loop device) and the object store's rings."""
    service_meters_story(metering.cloud.connect("demo", "demo"), metering.gnocchi)
