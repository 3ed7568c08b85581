"""HTTP layer of the identity service: routes, request schemas and views."""
