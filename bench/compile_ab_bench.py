"""Compile time of two versions of the compiler, measured alternately (a before/after for a change).

Each measurement is a fresh interpreter started in one version's tree (unpacked with ``git archive``),
with the grammar and the Dodo schema loaded first; it then compiles the 11 files of ``mappings/``
with ``compile_paths`` (parse, check, generate, Python's ``compile()``) ``--compiles`` times, and
parses them alone ``--parses`` times (with the cycle collector paused, as ``compile_paths`` does). The two versions' processes alternate, ``--processes`` each,
so a change in the machine's load hits both alike. CPU time of the process (``time.process_time``),
not wall time: the machine may be shared with other jobs.

    mkdir /tmp/before && git archive 4630dd1 | tar -x -C /tmp/before
    .venv/bin/python -m bench compile_ab --before /tmp/before

The figures of the section "Compile time across the structure change (issue 16)" of
``bench/RESULTS.md`` come from this script.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import gc, json, sys, time
t0 = time.process_time()
import dsl.parser
from dsl.compiler import compile_paths, default_schema
from dsl.diagnostics import Diagnostics
from dsl.parser import parse
t1 = time.process_time()
dsl.parser._parser()
default_schema()
t2 = time.process_time()
files = sorted(str(p) for p in __import__("pathlib").Path("mappings").glob("*.map"))
texts = [(f, open(f, encoding="utf-8").read()) for f in files]
compiles, parses = [], []
for _ in range(int(sys.argv[1])):
    t = time.process_time(); result = compile_paths(files); compiles.append(time.process_time() - t)
    assert not result.errors, result.errors
gc.disable()  # as compile_paths parses: with the cycle collector paused
for _ in range(int(sys.argv[2])):
    t = time.process_time()
    for f, text in texts:
        parse(text, f, Diagnostics())
    parses.append(time.process_time() - t)
gc.enable()
print(json.dumps({"module": dsl.parser.__file__, "files": len(files), "import": t1 - t0, "load": t2 - t1,
                  "compile": compiles, "parse": parses}))
"""


def measure(tree: Path, compiles: int, parses: int) -> dict[str, Any]:
    """One fresh interpreter in ``tree`` (its own modules first on the path)."""
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONHASHSEED="0")
    out = subprocess.run([sys.executable, "-c", CHILD, str(compiles), str(parses)], cwd=tree, env=env,
                         capture_output=True, text=True, check=True)
    data: dict[str, Any] = json.loads(out.stdout)
    if not Path(data["module"]).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"{tree}: imported {data['module']} instead of its own dsl/")
    return data


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench compile_ab", description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the tree of the version before the change")
    parser.add_argument("--after", type=Path, default=ROOT, help="the tree after it (default: this checkout)")
    parser.add_argument("--processes", type=int, default=3, help="fresh interpreters per version (default 3)")
    parser.add_argument("--compiles", type=int, default=9, help="compile_paths runs per interpreter (default 9)")
    parser.add_argument("--parses", type=int, default=15, help="parse-only runs per interpreter (default 15)")
    args = parser.parse_args(argv)
    trees = {"before": args.before, "after": args.after}
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    for i in range(args.processes):
        order = ("before", "after") if i % 2 == 0 else ("after", "before")
        for name in order:
            runs[name].append(measure(trees[name], args.compiles, args.parses))
    print("| code | first compile CPU ms | best compile CPU ms | median compile CPU ms "
          "| best parse CPU ms | median parse CPU ms |")
    print("|---|---|---|---|---|---|")
    for name, results in runs.items():
        cells = [" / ".join(ms(f(r[key])) for r in results)
                 for key, f in (("compile", lambda v: v[0]), ("compile", min), ("compile", statistics.median),
                                ("parse", min), ("parse", statistics.median))]
        print(f"| {name} | " + " | ".join(cells) + " |")
    best = {name: min(min(r["compile"]) for r in results) for name, results in runs.items()}
    parse_best = {name: min(min(r["parse"]) for r in results) for name, results in runs.items()}
    med = {name: statistics.median(statistics.median(r["compile"]) for r in results) for name, results in runs.items()}
    parse_med = {name: statistics.median(statistics.median(r["parse"]) for r in results) for name, results in runs.items()}
    print(f"\nafter/before, compile: best of bests {best['after'] / best['before']:.2f}, "
          f"median of medians {med['after'] / med['before']:.2f}; "
          f"parse alone: best of bests {parse_best['after'] / parse_best['before']:.2f}, "
          f"median of medians {parse_med['after'] / parse_med['before']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
