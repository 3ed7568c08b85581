"""The networking service (Neutron v2.0): API, IP address management, and a
network agent that builds the Linux data plane (bridges in namespaces,
dnsmasq, routers with NAT, iptables security groups, metadata)."""
