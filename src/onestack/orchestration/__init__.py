"""Orchestration (Heat v1): HOT templates whose resources are made through the other
services' APIs, with a Keystone trust per stack (see docs/api-coverage/orchestration.md)."""
