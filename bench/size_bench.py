"""Check time against file size: one `.map` file of 1,000, 10,000 and 50,000 lines, a `match` of
10,000 arms and an `else if` chain of 10,000 branches, each checked as `paymap check` does (parse,
check against the Dodo schema, generate and compile the Python code).

The figure is the time per line (per arm) and its ratio to the 1,000-line file's, measured in the
same run: a ratio near 1 is linear growth. Each file is checked in a fresh interpreter whose
grammar and Dodo schema are already loaded (a first check of a tiny file), best of ``--repeats``.

Run: ``.venv/bin/python -m bench size`` (``--write`` puts the figures in bench/RESULTS.md between
the size markers).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bench.results import publish

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
START, END = "<!-- size:start -->", "<!-- size:end -->"

_ONE = """
import json, sys, time
from dsl.compiler import compile_paths
case, base, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
compile_paths([base], generate=True)  # grammar, schema and caches loaded
times, base_times = [], []
for _ in range(rounds):  # the baseline in each round, next to the case: the machine is shared
    s = time.perf_counter()
    compile_paths([base], generate=True)
    base_times.append(time.perf_counter() - s)
    s = time.perf_counter()
    result = compile_paths([case], generate=True)
    times.append(time.perf_counter() - s)
errors = sum(d.is_error for d in result.diagnostics)
print(json.dumps({"times": times, "base": base_times, "errors": errors,
                  "warnings": len(result.diagnostics) - errors}))
"""


def rules_file(lines: int) -> str:
    """Rules of 22 lines over every Dodo event type (the first per type `on`, then `also on`)."""
    from dsl.schema import dodo_schema

    types = dodo_schema().known_types
    out: list[str] = []
    i = 0
    while len(out) < lines:
        t = types[i % len(types)]
        out += [f'{"also on" if i >= len(types) else "on"} "{t}"', f'name = "dodo/{t}.{i}"',
                'id = "dodo:" & type & ":" & business_id & ":" & timestamp', "ts = epoch_ms(timestamp)",
                "let kind = data.payload_type"]
        out += [f'data.f{j} = kind & "-{j}"' for j in range(15)]
        out += ["data.when = iso(timestamp)", ""]
        i += 1
    return "\n".join(out[:lines]) + "\n"


def one_rule_file(lines: int) -> str:
    """One rule of many assignments: the shape issue 10 reported (quadratic before)."""
    body = "".join(f"data.f{i} = money(data.total_amount, data.currency)\n" for i in range(lines - 2))
    return 'on "payment.succeeded"\nname = "dodo/payment.succeeded"\n' + body


def match_file(arms: int) -> str:
    body = "\n".join(f'    "pdt_{i:05d}" => "plan {i}"' for i in range(arms))
    return ('on "payment.succeeded"\nname = "dodo/payment.succeeded"\n'
            f"data.plan = match data.product_cart[0].product_id {{\n{body}\n    _ => \"other\"\n}}\n")


def else_if_file(branches: int) -> str:
    chain = " else ".join(f'if data.customer.email == "e{i}@example.com" then "v{i}"' for i in range(branches))
    return f'on "payment.succeeded"\nname = "dodo/payment.succeeded"\ndata.v = {chain} else "none"\n'


CASES: tuple[tuple[str, int, Callable[[], str]], ...] = (
    ("1,000 lines", 1_000, lambda: rules_file(1_000)),
    ("10,000 lines", 10_000, lambda: rules_file(10_000)),
    ("50,000 lines", 50_000, lambda: rules_file(50_000)),
    ("one rule of 10,000 lines", 10_000, lambda: one_rule_file(10_000)),
    ("`match` of 10,000 arms", 10_000, lambda: match_file(10_000)),
    ("`else if` chain of 10,000 branches", 10_000, lambda: else_if_file(10_000)),
)


def measure(repeats: int) -> list[dict[str, object]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        base = d / "base.map"
        base.write_text(rules_file(1_000), encoding="utf-8")
        for label, units, build in CASES:
            path = d / "case.map"
            path.write_text(build(), encoding="utf-8")
            n = repeats if units <= 10_000 else max(1, min(repeats, 2))
            out = subprocess.run([sys.executable, "-c", _ONE, str(path), str(base), str(n)], cwd=ROOT,
                                 capture_output=True, text=True, check=True)
            got = json.loads(out.stdout)
            rows.append({"case": label, "units": units, "bytes": path.stat().st_size, **got})
            print(f"{label}: best {min(got['times']):.2f} s (1,000 lines: {min(got['base']):.2f} s)", file=sys.stderr)
    return rows


def report(rows: list[dict[str, object]], repeats: int) -> str:
    def best(r: dict[str, object]) -> float:
        times = r["times"]
        assert isinstance(times, list)
        return float(min(times))

    def per_unit(r: dict[str, object]) -> float:
        units = r["units"]
        assert isinstance(units, int)
        return best(r) / units

    def ratio(r: dict[str, object]) -> float:
        """Per line (arm), against the 1,000-line file's per line, both measured in the same rounds."""
        base = r["base"]
        assert isinstance(base, list)
        return per_unit(r) / (float(min(base)) / 1_000)

    lines = [
        START,
        "## Check time against file size (`bench/size_bench.py`)",
        "",
        f"Measured {date.today().isoformat()} on {platform.machine()}, nproc {os.cpu_count()}, Python "
        f"{platform.python_version()}. One file checked as `paymap check` does (parse, check against the Dodo "
        "schema, generate and compile the Python code) in a fresh interpreter with the grammar and schema "
        f"loaded; best of {repeats} rounds (2 for 50,000 lines). Each round also checks the 1,000-line file "
        "just before, in the same process: the ratio is the time per line (per arm) over that file's time per "
        "line, so a ratio near 1 means the time grows in proportion to the size. The machine is shared (other "
        "work ran during the measurement): absolute figures vary between runs, ratios much less.",
        "",
        "| file | size | check | per line (arm) | ratio to 1,000 lines | result |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        size = r["bytes"]
        assert isinstance(size, int)
        lines.append(f"| {r['case']} | {size / 1024:,.0f} KiB | {best(r):.2f} s | {per_unit(r) * 1e6:,.0f} µs "
                     f"| {ratio(r):.2f}× | {r['errors']} errors, {r['warnings']} warnings |")
    lines += [
        "",
        ("Reading the ratios: the 1,000-line row's own ratio (the same file measured twice in a round) shows t"
         'he noise of this shared machine, about ±25%. From 1,000 to 50,000 lines the time per line rises by a'
         "bout half (more memory touched per line: Python's `compile()` of one generated module of ~125,000 li"
         'nes, larger dictionaries of facts), where a quadratic pass would have multiplied it by 50; the one-rule file, the shape that was quadratic, stays within 2x.'),
        "",
        "Files of rules: 22-line rules over every Dodo event type (`name`, `id`, `ts`, a `let` and 16 `data` "
        "fields); *one rule*: 9,998 assignments `data.fK = money(data.total_amount, data.currency)` in a single "
        "rule. The `match` maps product ids to plan names; the `else if` chain compares an email with 10,000 "
        "texts: each branch is one long line of 11 tokens (`if data.customer.email == \"e1@example.com\" then "
        "\"v1\" else`), about twice a rules-file line, and parsing it is most of its time.",
        "",
        "Before issue 10 (commit da66920, measured back to back with this code on the same machine, the *one "
        "rule* shape): 1,000 lines 2.1 s, 5,000 lines 13.9 s, 10,000 lines 62.8 s -- quadratic, the checker "
        "compared each assignment with every earlier one. A `match` of about 100 arms or more, or an `else if` "
        "chain of about 100 branches, failed with M105 at 1:1 (Python's limit of 100 indentation levels, then its "
        "recursion limit). Now assignments are indexed by target and prefix, each event type's owning rule is "
        "worked out once, `match` patterns are kept in a set, `else if` chains are walked in loops, chains "
        "compile to `if/elif` (up to 32 short tests) or one `while True:` block that each branch leaves with "
        "`break`, and the compiler runs with Python's cycle collector paused (it re-walked the growing trees: "
        "the 10,000-branch chain took 16.5 s with it, 5.7 s without, measured back to back).",
        END,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/size_bench.py", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="checks per figure (default 3)")
    parser.add_argument("--write", action="store_true", help="write the figures into bench/RESULTS.md")
    args = parser.parse_args(argv)
    section = report(measure(args.repeats), args.repeats)
    publish(section, START, END, write=args.write, path=RESULTS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
