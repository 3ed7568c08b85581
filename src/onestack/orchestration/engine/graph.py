"""The dependency graph of a stack's resources.

``edge(a, b)`` says ``a`` requires ``b`` (``b`` is created first and deleted
last).  ``check_cycles`` raises Heat's CircularDependencyException naming the
cycle; ``order`` is a creation order; the engine itself starts every resource
as soon as all it requires is done, so independent resources run at once.
"""

from __future__ import annotations

from onestack.orchestration.exceptions import CircularDependencyException


class Graph:
    def __init__(self) -> None:
        self.requires: dict[str, set[str]] = {}

    def add(self, name: str) -> None:
        self.requires.setdefault(name, set())

    def edge(self, name: str, required: str) -> None:
        self.add(name)
        self.add(required)
        self.requires[name].add(required)

    def required_by(self, name: str) -> set[str]:
        return {n for n, reqs in self.requires.items() if name in reqs}

    def reaches(self, start: str, target: str) -> bool:
        """True when ``start`` requires ``target``, directly or not."""
        seen: set[str] = set()
        pending = [start]
        while pending:
            node = pending.pop()
            for required in self.requires.get(node, ()):
                if required == target:
                    return True
                if required not in seen:
                    seen.add(required)
                    pending.append(required)
        return False

    def check_cycles(self) -> None:
        state: dict[str, int] = {}
        stack: list[str] = []

        def visit(node: str) -> None:
            state[node] = 1
            stack.append(node)
            for required in sorted(self.requires.get(node, ())):
                if state.get(required) == 1:
                    cycle = [*stack[stack.index(required) :], required]
                    raise CircularDependencyException(cycle=", ".join(cycle))
                if required not in state:
                    visit(required)
            stack.pop()
            state[node] = 2

        for node in sorted(self.requires):
            if node not in state:
                visit(node)

    def order(self) -> list[str]:
        done: list[str] = []
        seen: set[str] = set()

        def visit(node: str) -> None:
            if node in seen:
                return
            seen.add(node)
            for required in sorted(self.requires.get(node, ())):
                visit(required)
            done.append(node)

        for node in sorted(self.requires):
            visit(node)
        return done
