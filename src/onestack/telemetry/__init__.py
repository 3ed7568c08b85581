"""Telemetry: the Metric API v1 (Gnocchi) and the metering pollers (Ceilometer).

The API stores measures pre-aggregated per archive policy in the cloud's own
database (``storage``); the pollers (``poller``) run on every compute host and
push what really runs there to the API over HTTP, as Ceilometer does to Gnocchi.
"""
