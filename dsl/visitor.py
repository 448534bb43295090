"""One way to walk the AST: ``NodeVisitor.visit(node)`` calls ``visit_<ClassName>(node)``.

As ``jinja2/visitor.py`` and jmespath's ``visitor.py`` do: every pass over the tree (the checker,
the Python and JavaScript code generators, the small analyses) subclasses it, so a new node kind is
one new ``visit_`` method in each pass, and a pass that lacks one says so in ``generic_visit``. The
method of each (visitor class, node class) pair is looked up once and cached (as jmespath does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

R = TypeVar("R")

_methods: dict[tuple[type, type], Callable[..., Any] | None] = {}


class NodeVisitor(Generic[R]):
    """Base of every pass over ``dsl.nodes``; ``R`` is what a visit returns."""

    def visit(self, node: Any) -> R:
        key = (type(self), type(node))
        try:
            method = _methods[key]
        except KeyError:
            method = _methods[key] = getattr(type(self), "visit_" + type(node).__name__, None)
        if method is None:
            return self.generic_visit(node)
        result: R = method(self, node)
        return result

    def generic_visit(self, node: Any) -> R:
        """A node this pass has no ``visit_`` method for: a bug in the pass, unless it overrides this."""
        raise TypeError(f"{type(self).__name__} cannot visit a {type(node).__name__} node")
