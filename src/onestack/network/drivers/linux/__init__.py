"""The Linux data plane (``driver.LinuxDataPlane``): bridges, namespaces, DHCP,
routers, security groups and the metadata service, built from the database.

Every device and namespace carries an onestack prefix (``names``) and is
listed in the state directory's registry (``registry``) so that ``onestack
doctor`` can find leftovers.  Nothing here enables forwarding or NAT in the
host's root namespace or touches the host's firewall.
"""
