"""Identity service (Keystone v3): users, projects, roles, tokens and the catalog."""
