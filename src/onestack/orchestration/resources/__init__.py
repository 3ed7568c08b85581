"""Resource plugins, one module per service (registry.py lists them)."""
