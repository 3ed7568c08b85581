"""The orchestration API: HTTP only (routes, request shapes, rendering)."""
