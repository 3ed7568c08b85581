"""The network agent: the Linux data plane built from the database.

Every device and namespace carries an onestack prefix (``names``) so that
``onestack doctor`` can find leftovers.  Nothing here enables forwarding or
NAT in the host's root namespace or touches the host's firewall.
"""
