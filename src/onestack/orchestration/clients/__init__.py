"""Typed HTTP access to the other services (the catalog, trust-scoped tokens)."""
