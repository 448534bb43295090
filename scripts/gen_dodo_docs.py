#!/usr/bin/env python3
"""Generate ``dsl/schemas/dodo_docs.json``: the description of every field of every Dodo webhook body.

Why: the playground's completion and hover show, next to each input path, what Dodo says the field
is. The descriptions are the attribute docstrings of the ``dodopayments`` SDK's models (the same
models ``scripts/gen_dodo_schema.py`` reads for the types); the SDK is only a test dependency, so
the text is committed as data. ``tests/playground/test_field_docs.py`` regenerates it in memory and
fails when the committed file drifts from the installed SDK.

Format: ``{"source": ..., "texts": [description, ...], "events": {type: {path: index}}}``, paths
as the playground writes them (``data.customer.email``, ``data.product_cart[0].product_id``).

Usage::

    .venv/bin/python scripts/gen_dodo_docs.py          # (re)write dsl/schemas/dodo_docs.json
    .venv/bin/python scripts/gen_dodo_docs.py --check  # exit 1 if it is stale
"""

from __future__ import annotations

import argparse
import ast
import functools
import importlib.util
import inspect
import itertools
import json
import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any

import dodopayments
import pydantic

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "dsl" / "schemas" / "dodo_docs.json"
MAX_DEPTH = 8


def _schema_generator() -> Any:
    spec = importlib.util.spec_from_file_location("gen_dodo_schema", ROOT / "scripts" / "gen_dodo_schema.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """The attribute docstrings of a model and its bases (a subclass's own text wins)."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, pydantic.BaseModel)) or \
                klass.__module__.startswith("pydantic"):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in itertools.pairwise(body):
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and \
                    isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and \
                    isinstance(after.value.value, str):
                out[node.target.id] = " ".join(inspect.cleandoc(after.value.value).split())
    return out


def _models(tp: Any) -> list[tuple[type[pydantic.BaseModel], bool]]:
    """The models inside a field's type, and whether each is reached through a list."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _models(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(tp) for m in _models(a)]
    if origin in (list, tuple, set, frozenset) or (origin is not None and getattr(origin, "__name__", "") in
                                                   ("List", "Sequence")):
        return [(m, True) for a in typing.get_args(tp)[:1] for m, _ in _models(a)]
    if isinstance(tp, type) and issubclass(tp, pydantic.BaseModel):
        return [(tp, False)]
    return []


def walk(cls: type[pydantic.BaseModel], prefix: str, out: dict[str, str], depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        return
    docs = field_docs(cls)
    for name, info in cls.model_fields.items():
        key = info.alias or name
        path = f"{prefix}.{key}" if prefix else key
        if name in docs:
            out.setdefault(path, docs[name])
        for model, listed in _models(info.annotation):
            walk(model, f"{path}[0]" if listed else path, out, depth + 1)


def build() -> dict[str, Any]:
    gen = _schema_generator()
    texts: list[str] = []
    index: dict[str, int] = {}
    events: dict[str, dict[str, int]] = {}
    for event, cls in gen.sdk_event_models().items():
        found: dict[str, str] = {}
        walk(cls, "", found)
        events[event] = {p: index.setdefault(t, len(index)) for p, t in sorted(found.items())}
    texts = sorted(index, key=index.__getitem__)
    return {"source": f"dodopayments {dodopayments.__version__}", "texts": texts, "events": events}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=0, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is stale")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        if not OUTPUT.is_file() or OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run scripts/gen_dodo_docs.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
