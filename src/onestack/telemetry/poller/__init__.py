"""The metering poller: Ceilometer's compute and central agents, small.

Every ``telemetry.poll_interval`` seconds the poller of a compute host measures
the instances that run there (``compute.py``: CPU, memory and disk I/O from the
host's compute agent, the counters of the instances' ports from its network
agent, both over the bus through their services' typed clients), and
the poller of the controller the services' resources (``services.py``: volumes,
images, floating IPs, object storage accounts).  Samples go to the Metric API
over HTTP as Ceilometer's Gnocchi publisher sends them (``publisher.py``), with
Ceilometer's meter names, units, resource types and resource ids.
"""
