"""dnsmasq lines for ports' ``extra_dhcp_opts``."""

from __future__ import annotations

import shutil

import pytest

from onestack.network.drivers.linux.dhcp import port_options


@pytest.mark.skipif(shutil.which("dnsmasq") is None, reason="dnsmasq is not installed")
def test_known_ipv4_options_become_tagged_lines() -> None:
    lines = port_options(
        (
            ("bootfile-name", "pxelinux.0", 4),
            ("66", "192.0.2.9", 4),
            ("no-such-option", "x", 4),
            ("dns-server", "2001:db8::53", 6),
            ("router", "", 4),
            ("domain-name", "a\nb", 4),
        ),
        "pabc",
    )
    assert lines == [
        "tag:pabc,option:bootfile-name,pxelinux.0",
        "tag:pabc,66,192.0.2.9",
        "tag:pabc,option:router",
    ]
