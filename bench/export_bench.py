"""``python -m bench export``: the exported JavaScript's size per shipped family and in all, and its
time per webhook in V8 and QuickJS against ``MappingSet.apply`` (the baseline, measured in the same
run) on the 48 sample bodies. ``--write`` puts the figures in ``bench/RESULTS.md``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

import quickjs
from py_mini_racer import MiniRacer

import runtime
from bench.results import publish
from dsl.compiler import CompileResult, compile_paths
from dsl.jsgen import TARGETS, export_result

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- export:start -->", "<!-- export:end -->"

# Runs `handler` (or `transform`) `n` times over every body inside the engine, each time on a fresh
# copy of the parsed body (made before the clock starts), as the platform would pass it; answers the
# milliseconds taken.
LOOP = """
function __bench(texts, n, target) {
  var copies = [], i, sink = 0;
  for (i = 0; i < n; i++) copies = copies.concat(JSON.parse(texts));
  var t0 = Date.now();
  for (i = 0; i < copies.length; i++) {
    var body = copies[i];
    var out = target === "dodo" ? handler({eventType: body.type, payload: body, cancel: false})
                                : transform(body, {"Webhook-Id": "msg_1"}, {}, "");
    sink += out ? 1 : 0;
  }
  return String(Date.now() - t0);
}
"""


def _timed(run: Callable[..., Any]) -> Callable[[int], float]:
    """A JavaScript engine's loop as a typed callable: its milliseconds for ``k`` passes."""
    return lambda k: float(run(k))


def sizes() -> list[tuple[str, dict[str, int]]]:
    result = compile_paths([str(ROOT / "mappings")])
    rows: list[tuple[str, dict[str, int]]] = []
    for f in result.files:
        alone = CompileResult([f], [])
        rows.append((Path(f.source.path).name, {t: export_result(alone, t, max_size=10**9).size for t in TARGETS}))
    rows.append(("all together", {t: export_result(result, t, max_size=10**9).size for t in TARGETS}))
    return rows


def timings(rounds: int, n: int) -> dict[str, list[float]]:
    """µs per webhook, one list per implementation (one figure per round)."""
    mappings = runtime.load(str(ROOT / "mappings"))
    texts = [(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "samples" / "dodo").glob("*.json"))]
    corpus = json.dumps([json.loads(t) for t in texts])
    out: dict[str, list[float]] = {"python": []}
    engines: dict[str, Callable[[int], float]] = {}
    for target in TARGETS:
        code = export_result(compile_paths([str(ROOT / "mappings")]), target, max_size=10**9).code
        assert code is not None
        v8 = MiniRacer()
        v8.eval(code + LOOP)
        qjs = quickjs.Context()
        qjs.eval(code + LOOP)
        engines[f"v8 {target}"] = _timed(lambda k, c=v8, t=target: c.call("__bench", corpus, k, t))
        engines[f"quickjs {target}"] = _timed(lambda k, c=qjs, t=target: c.get("__bench")(corpus, k, t))
        out[f"v8 {target}"], out[f"quickjs {target}"] = [], []
    for _ in range(rounds):
        copies = [json.loads(t) for _ in range(n) for t in texts]
        t0 = time.perf_counter()
        for body in copies:
            mappings.apply(body)
        out["python"].append((time.perf_counter() - t0) * 1e6 / len(copies))
        for name, run in engines.items():
            k = n if name.startswith("v8") else max(1, n // 4)
            out[name].append(run(k) * 1000 / (k * len(texts)))
    return out


def report(size_rows: list[tuple[str, dict[str, int]]], times: dict[str, list[float]], rounds: int) -> str:
    lines = [
        START,
        "## Export to JavaScript (`bench/export_bench.py`)",
        "",
        f"Measured {date.today().isoformat()} on {platform.machine()}, Python {platform.python_version()}, "
        f"mini-racer {version('mini-racer')}, quickjs {version('quickjs')}, load average (1 min) "
        f"{os.getloadavg()[0]:.1f} at the end on {os.cpu_count()} CPUs: the machine is shared, so absolute "
        "figures vary; ratios within one run are the figure. `python -m bench export --write` regenerates this section.",
        "",
        "### Size of `paymap export` for the shipped mappings (characters)",
        "",
        "| mappings | `--target dodo` (limit 51,200) | `--target inngest` (documented 2,048) |",
        "|---|---|---|",
    ]
    for name, s in size_rows:
        lines.append(f"| {name} | {s['dodo']:,} | {s['inngest']:,} |")
    base = min(times["python"])
    lines += [
        "",
        "### Time per webhook, the 48 sample bodies",
        "",
        f"Best of {rounds} rounds (median in parentheses), each over fresh copies of the bodies made before "
        "the clock starts. JavaScript timed inside the engine with `Date.now()` over many calls.",
        "",
        "| implementation | µs/webhook | × `MappingSet.apply` |",
        "|---|---|---|",
        f"| Python, `MappingSet.apply` | {base:.1f} ({statistics.median(times['python']):.1f}) | 1 (baseline) |",
    ]
    for name, values in times.items():
        if name != "python":
            lines.append(f"| {name} (exported) | {min(values):.1f} ({statistics.median(values):.1f}) | "
                         f"{min(values) / base:.2f}× |")
    lines += [
        "",
        "Every call defines the runtime's helper functions again (the export is one self-contained "
        "function), which is included above. Far below the 20 ms that Inngest's older documentation "
        "allowed a transform.",
        END,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/export_bench.py", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=200, help="passes over the 48 bodies per round (V8; QuickJS a quarter)")
    parser.add_argument("--write", action="store_true", help="write the figures into bench/RESULTS.md")
    args = parser.parse_args(argv)
    section = report(sizes(), timings(args.rounds, args.n), args.rounds)
    publish(section, START, END, write=args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
