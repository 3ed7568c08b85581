"""The Networking v2.0 HTTP API."""
