"""One error family: every exception class paymap defines derives from PaymapError, and the tree
drawn in prelude/errors.py's docstring names each public one."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import prelude.errors
from dsl.schema import EnvelopeSchema
from dsl.source import Span
from runtime import MappingError, PaymapError, load_text


def _modules() -> list[str]:
    names: list[str] = []
    for package in ("prelude", "dsl", "runtime"):
        root = importlib.import_module(package)
        names.append(package)
        names += [m.name for m in pkgutil.walk_packages(root.__path__, f"{package}.")]
    return [name for name in names if not name.endswith("__main__")]


def _exception_classes() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for name in _modules():
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == name:
                found.append(obj)
    return found


def test_every_exception_derives_from_paymap_error() -> None:
    classes = _exception_classes()
    assert len(classes) >= 15
    strays = [f"{c.__module__}.{c.__qualname__}" for c in classes if not issubclass(c, PaymapError)]
    assert strays == []


def test_the_docstring_draws_every_public_exception() -> None:
    tree = prelude.errors.__doc__ or ""
    missing = [c.__qualname__ for c in _exception_classes() if not c.__name__.startswith("_") and c.__name__ not in tree]
    assert missing == []


def test_a_mapping_error_carries_the_span_of_the_failing_expression() -> None:
    mappings = load_text('on "payment.succeeded"\nname = "app/paid"\ndata.cents = cents(data.note)\n', "paid.map", schema=EnvelopeSchema())
    try:
        mappings.apply({"type": "payment.succeeded", "data": {"note": "abc"}})
    except MappingError as exc:
        assert isinstance(exc.span, Span)
        assert (exc.span.file, exc.span.line) == ("paid.map", 3)
        assert (exc.file, exc.line, exc.column) == ("paid.map", 3, exc.span.column) and exc.column > 1
        assert str(exc).startswith(f"paid.map:3:{exc.span.column}:")
    else:
        raise AssertionError("cents(\"abc\") must fail")


def test_a_body_that_is_not_an_object_has_no_span() -> None:
    mappings = load_text('on "payment.succeeded"\nname = "app/paid"\n', "paid.map")
    try:
        mappings.apply([1, 2])
    except MappingError as exc:
        assert exc.span is None
        assert exc.to_dict()["file"] == "<unknown>"
    else:
        raise AssertionError("a list body must fail")
