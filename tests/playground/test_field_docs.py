"""dsl/schemas/dodo_docs.json (field descriptions for completion and hover) matches the installed SDK."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_field_docs_match_the_sdk() -> None:
    spec = importlib.util.spec_from_file_location("gen_dodo_docs", ROOT / "scripts" / "gen_dodo_docs.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    fresh = gen.render(gen.build())
    committed = (ROOT / "dsl" / "schemas" / "dodo_docs.json").read_text(encoding="utf-8")
    assert committed == fresh, "dsl/schemas/dodo_docs.json is stale: run scripts/gen_dodo_docs.py"
    assert '"Email address of the customer"' in fresh
