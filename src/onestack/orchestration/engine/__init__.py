"""The engine: stack definitions, the dependency graph, actions, persistence, restarts."""
