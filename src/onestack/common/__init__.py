"""The framework every onestack service is built on (OpenStack's oslo, small)."""
