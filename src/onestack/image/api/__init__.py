"""The image service's HTTP API (Glance v2)."""
