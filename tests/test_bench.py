"""The mapping benchmark compares like with like: its hand-written Python gives the same JSON as
the compiled mappings on the benchmark corpus (and on variations of it), and its V8 setup gives the
seed's output. No timing here: figures live in bench/RESULTS.md."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import runtime

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `bench` is a top-level directory of the repository, not installed
    sys.path.insert(0, str(ROOT))

from bench import __main__ as bench_main  # noqa: E402
from bench import handwritten, mapping_bench  # noqa: E402
from bench.results import publish  # noqa: E402

HINT = "the mappings changed: update bench/handwritten.py so that the benchmark compares like with like"


def variations(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The body, and copies with JPY/KWD amounts, no customer, a null remark and an offset timestamp."""
    out = [body]
    for change in ({"currency": "JPY"}, {"currency": "KWD"}, {"customer": None}, {"remarks": None},
                   {"payment_method": None}):
        b = copy.deepcopy(body)
        b["data"].update(change)
        out.append(b)
    b = copy.deepcopy(body)
    b["timestamp"] = "2025-08-04T10:13:04.5+02:00"
    out.append(b)
    return out


@pytest.fixture(scope="module")
def compiled() -> dict[str, runtime.MappingSet]:
    return {
        "shipped": runtime.load([str(p) for p in mapping_bench.SHIPPED_FILES]),
        "literal": runtime.load([str(p) for p in mapping_bench.LITERAL_FILES], allow={"M405"}),
    }


@pytest.mark.parametrize("which", ["shipped", "literal"])
def test_handwritten_python_gives_what_the_mappings_give(compiled: dict[str, runtime.MappingSet], which: str) -> None:
    hand = handwritten.SHIPPED if which == "shipped" else handwritten.LITERAL
    for body in mapping_bench.corpus():
        for b in variations(body):
            expected = mapping_bench.canonical(compiled[which].apply(copy.deepcopy(b)))
            assert mapping_bench.canonical(hand.apply(copy.deepcopy(b))) == expected, (HINT, b["type"], b["data"])
    assert hand.apply({"type": "refund.succeeded", "data": {}}) == []


def test_the_corpus_is_what_the_seed_handles() -> None:
    types = [b["type"] for b in mapping_bench.corpus()]
    assert types[:3] == ["payment.succeeded", "subscription.active", "subscription.cancelled"]
    assert len(types) == 10 and all(t.startswith("dispute.") for t in types[3:])


def test_v8_setup_gives_the_seeds_output(compiled: dict[str, runtime.MappingSet]) -> None:
    js = mapping_bench.SeedJs()
    try:
        for body in mapping_bench.corpus():
            got = js.apply_text(body["type"], json.dumps(body))
            assert mapping_bench.canonical(got) == mapping_bench.canonical(compiled["literal"].apply(body))
        assert js.apply_text("refund.succeeded", json.dumps({"type": "refund.succeeded"})) == []
    finally:
        js.close()


def test_results_section_is_replaced_in_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n<!-- relay:start -->\nrelay figures\n<!-- relay:end -->\n\n"
                       f"{mapping_bench.START}\nold\n{mapping_bench.END}\ntrailer\n", encoding="utf-8")
    section = f"{mapping_bench.START}\nnew\n{mapping_bench.END}"
    publish(section, mapping_bench.START, mapping_bench.END, write=False, path=results)
    assert "old" in results.read_text(encoding="utf-8")  # without --write the figures are only printed
    assert capsys.readouterr().out == section + "\n"
    publish(section, mapping_bench.START, mapping_bench.END, write=True, path=results)
    text = results.read_text(encoding="utf-8")
    assert "relay figures" in text and "new" in text and "old" not in text and text.endswith("trailer\n")
    assert capsys.readouterr().out == f"{section}\nwritten to {results}\n"


def test_unknown_benchmark_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main.main(["nonsense"]) == 2
    assert "unknown benchmark" in capsys.readouterr().err


def test_the_relay_bench_runs_as_a_script(tmp_path: Path) -> None:
    """It starts its bare endpoint as ``python bench/relay_bench.py --serve-bare PORT``: without the
    ``bench`` package on the path (a top-level ``from bench... import`` broke every relay run once)."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "relay_bench.py"), "--help"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: relay_bench.py")
