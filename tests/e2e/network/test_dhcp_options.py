"""A port's ``extra_dhcp_opts`` reach its instance through dnsmasq (IPv4), and an
option dnsmasq does not know is left out without stopping the network's DHCP."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.e2e.network.conftest import DataPlane, make_network

REPORT = """#!/bin/sh
[ "$1" = bound ] && echo "GOT ip=$ip bootfile=$bootfile tftp=$tftp"
exit 0
"""


def test_extra_dhcp_opts_reach_the_instance(dataplane: DataPlane, tmp_path: Path) -> None:
    third = uuid.uuid4().int % 200 + 20
    net, _ = make_network(dataplane.admin, f"10.{third}.9.0/24", "e2e-dhcpopts")
    instance = dataplane.boot(dataplane.admin, net.id)
    port = instance.ports[0]
    dataplane.admin.network.update_port(
        port.id,
        extra_dhcp_opts=[
            {"opt_name": "bootfile-name", "opt_value": "pxelinux.0"},
            {"opt_name": "tftp-server", "opt_value": "192.0.2.9"},
            {"opt_name": "no-such-option", "opt_value": "x"},
        ],
    )
    script = tmp_path / "report.sh"
    script.write_text(REPORT)
    script.chmod(0o755)
    line = ""
    for _ in range(30):
        dataplane.settle()
        result = instance.sh(
            f"busybox udhcpc -i eth0 -n -q -t 3 -T 1 -O bootfile -O tftp -s {script}"
        )
        line = next((x for x in result.stdout.splitlines() if x.startswith("GOT ")), "")
        if "bootfile=pxelinux.0" in line:
            break
    assert f"ip={instance.ip}" in line, line
    assert "bootfile=pxelinux.0" in line and "tftp=192.0.2.9" in line, line
    # removing the options takes them away again
    dataplane.admin.network.update_port(
        port.id,
        extra_dhcp_opts=[
            {"opt_name": "bootfile-name", "opt_value": None},
            {"opt_name": "tftp-server", "opt_value": None},
            {"opt_name": "no-such-option", "opt_value": None},
        ],
    )
    for _ in range(30):
        dataplane.settle()
        result = instance.sh(
            f"busybox udhcpc -i eth0 -n -q -t 3 -T 1 -O bootfile -O tftp -s {script}"
        )
        line = next((x for x in result.stdout.splitlines() if x.startswith("GOT ")), "")
        if line and "bootfile=pxelinux.0" not in line:
            break
    assert f"ip={instance.ip}" in line and "bootfile= " in line, (line, result)
