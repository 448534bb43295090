"""One way to walk the tree: every pass dispatches through dsl.visitor.NodeVisitor to visit_<Node>."""

from __future__ import annotations

import inspect

import pytest

from dsl import nodes as n
from dsl.checker import Checker
from dsl.codegen import CodeGen
from dsl.jsgen import JsGen
from dsl.source import Span
from dsl.visitor import NodeVisitor

EXPRESSIONS = [c for _, c in inspect.getmembers(n, inspect.isclass) if issubclass(c, n.Expr) and c is not n.Expr]
STATEMENTS = [c for _, c in inspect.getmembers(n, inspect.isclass) if issubclass(c, n.Stmt) and c is not n.Stmt]


@pytest.mark.parametrize("pass_", [Checker, CodeGen, JsGen])
def test_every_expression_kind_has_its_visit_method(pass_: type) -> None:
    missing = [c.__name__ for c in EXPRESSIONS if not hasattr(pass_, "visit_" + c.__name__)]
    assert missing == []


@pytest.mark.parametrize("pass_", [CodeGen, JsGen])
def test_every_statement_kind_has_its_visit_method_in_the_back_ends(pass_: type) -> None:
    missing = [c.__name__ for c in STATEMENTS if not hasattr(pass_, "visit_" + c.__name__)]
    assert missing == [] or (pass_ is JsGen and missing == ["Use"])  # JsGen refuses `use` (M700): expanded before


class _Depth(NodeVisitor[int]):
    def visit_Literal(self, e: n.Literal) -> int:
        return 0

    def visit_Unary(self, e: n.Unary) -> int:
        return 1 + self.visit(e.operand)


def test_dispatch_by_class_name_and_a_clear_error_for_a_node_the_pass_does_not_know() -> None:
    span = Span("t.map", 1, 1, 1, 2)
    assert _Depth().visit(n.Unary(span, "-", n.Unary(span, "-", n.Literal(span, 1)))) == 2
    with pytest.raises(TypeError, match="_Depth cannot visit a ListExpr node"):
        _Depth().visit(n.ListExpr(span, []))
