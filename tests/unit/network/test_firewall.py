"""The security-group rule set generated for a network's bridge namespace."""

from __future__ import annotations

from onestack.network.drivers.linux import firewall, names
from onestack.network.topology import Desired, NetworkState, PortState, RuleState

PORT_A = "aaaaaaaa-0000-4000-8000-000000000001"
PORT_B = "bbbbbbbb-0000-4000-8000-000000000002"
DHCP = "dddddddd-0000-4000-8000-000000000003"
GROUP = "99999999-0000-4000-8000-000000000009"


def _port(port_id: str, ip: str, owner: str = "compute:nova", groups: tuple[str, ...] = (GROUP,),
          pairs: tuple[tuple[str, str], ...] = ()) -> PortState:  # fmt: skip
    return PortState(port_id, "net", f"fa:16:3e:00:00:{ip[-1]}0", ((ip, "sub"),), owner, "dev",
                     True, groups, pairs)  # fmt: skip


def _desired(rules: tuple[RuleState, ...]) -> tuple[NetworkState, Desired]:
    ports = (
        _port(PORT_A, "10.0.0.3"),
        _port(PORT_B, "10.0.0.4", pairs=(("10.0.0.50", "fa:16:3e:00:00:55"),)),
        _port(DHCP, "10.0.0.2", owner="network:dhcp", groups=()),
    )
    net = NetworkState("net", 1500, False, False, (), ports)
    desired = Desired(rules={GROUP: rules}, members={GROUP: ("10.0.0.3", "10.0.0.4", "10.0.0.50")})
    return net, desired


def test_every_filtered_port_has_chains_and_the_dhcp_port_none() -> None:
    net, desired = _desired(())
    text = firewall.ruleset(net, desired, 4)
    assert text.startswith("*filter\n") and text.rstrip().endswith("COMMIT")
    for port in (PORT_A, PORT_B):
        tap = names.tap(port)
        assert f"--physdev-in {tap} --physdev-is-bridged -j {names.chain('o', port)}" in text
        assert f"--physdev-out {tap} --physdev-is-bridged -j {names.chain('i', port)}" in text
    assert names.tap(DHCP) not in text
    # egress jumps come before ingress jumps: a packet between two ports meets both
    lines = text.splitlines()
    first_in = min(i for i, line in enumerate(lines) if "--physdev-out" in line)
    last_out = max(i for i, line in enumerate(lines) if "--physdev-in" in line)
    assert last_out < first_in


def test_anti_spoofing_allows_own_addresses_and_pairs_only() -> None:
    net, desired = _desired(())
    text = firewall.ruleset(net, desired, 4)
    spoof_b = names.chain("o", PORT_B)
    assert f"-A {spoof_b} -s 10.0.0.4 -m mac --mac-source fa:16:3e:00:00:40" in text
    assert f"-A {spoof_b} -s 10.0.0.50 -m mac --mac-source fa:16:3e:00:00:55" in text
    assert f"-A {spoof_b} -j DROP" in text


def test_rules_become_matches() -> None:
    rules = (
        RuleState("ingress", "IPv4", "tcp", 22, 22, "192.0.2.0/24", None),
        RuleState("ingress", "IPv4", "icmp", 8, None, None, None),
        RuleState("ingress", "IPv4", None, None, None, None, GROUP),
        RuleState("egress", "IPv4", None, None, None, None, None),
        RuleState("ingress", "IPv6", "tcp", 80, 81, None, None),
    )
    net, desired = _desired(rules)
    text = firewall.ruleset(net, desired, 4)
    chain = names.chain("i", PORT_A)
    assert f"-A {chain} -s 192.0.2.0/24 -p tcp -m tcp --dport 22 -j RETURN" in text
    assert f"-A {chain} -p icmp -m icmp --icmp-type 8 -j RETURN" in text
    for member in ("10.0.0.3", "10.0.0.4", "10.0.0.50"):
        assert f"-A {chain} -s {member} -j RETURN" in text
    assert "--dport 80:81" not in text
    assert "--dport 80:81" in firewall.ruleset(net, desired, 6)
    assert f"-A {names.chain('s', PORT_A)} -j RETURN" in text


def test_chain_names_fit_iptables() -> None:
    assert max(len(names.chain(k, PORT_A)) for k in "ios") <= 28
    assert len(names.tap(PORT_A)) <= 15 and len(names.bridge(PORT_A)) <= 15
    assert len(names.host_leg(PORT_A)) <= 15 and len(names.host_leg_peer(PORT_A)) <= 15
    assert len(names.router_port(PORT_A, True)) <= 15 and len(names.peer(PORT_A)) <= 15


def test_l2_anti_spoofing() -> None:
    net, _ = _desired(())
    text = firewall.l2_ruleset(net)
    macs, arps = names.chain("m", PORT_B), names.chain("a", PORT_B)
    assert f"-A FORWARD -i {names.tap(PORT_B)} -j {macs}" in text
    assert f"-A {macs} -s fa:16:3e:00:00:40 -j RETURN" in text
    assert f"-A {macs} -s fa:16:3e:00:00:55 -j RETURN" in text
    assert f"-A {arps} -p ARP --arp-ip-src 10.0.0.4 -j RETURN" in text
    assert f"-A {arps} -p ARP --arp-ip-src 10.0.0.50 -j RETURN" in text
    assert f"-A {arps} -j DROP" in text
    assert names.tap(DHCP) not in text
