"""Mapping benchmark: events/s of the compiled seed mappings against hand-written Python and the
seed's JavaScript in V8, same corpus, same run; compile time; ``paymap check`` as a process.

* Corpus: the sample bodies of every event type the seed's transformations handle
  (``payment.succeeded``, ``subscription.active``, ``subscription.cancelled``, the 7
  ``dispute.*``), one event each, parsed once (the relay parses a body once too).
* paymap: ``MappingSet.apply(body)`` (routing included) of ``mappings/{payment,subscription,
  dispute}.map`` ("shipped") and of ``tests/seed/literal/*.map`` ("literal").
* Hand-written Python (``bench/handwritten.py``): the same two transformations as a careful
  Python developer writes them; checked to give the same JSON before anything is timed.
* The seed's JavaScript (``tests/seed/js/*.js``) in V8 through mini-racer: one call per event
  with the body's JSON text, the payload back as JSON text and parsed (checked equal to the
  literal translation's output); and, for orientation, a loop inside V8 over pre-parsed bodies
  (no Python boundary at all, which no Python relay can use).
* Timing: implementations interleaved in each round (a noisy neighbour hits all alike); per
  implementation the best round is reported, the median in parentheses.

Run: ``.venv/bin/python -m bench`` (``--write`` puts the figures in bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.results import publish

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
START, END = "<!-- mapping:start -->", "<!-- mapping:end -->"
FAMILIES = ("payment", "subscription", "dispute")
SHIPPED_FILES = [ROOT / "mappings" / f"{f}.map" for f in FAMILIES]
LITERAL_FILES = [ROOT / "tests" / "seed" / "literal" / f"{f}.map" for f in FAMILIES]
SEED_JS = ROOT / "tests" / "seed" / "js"
SAMPLES = ROOT / "samples" / "dodo"
TARGET_RATIO, TARGET_COMPILE_MS, TARGET_CHECK_S = 1.3, 50.0, 0.5

Body = dict[str, Any]


def corpus() -> list[Body]:
    types = ["payment.succeeded", "subscription.active", "subscription.cancelled",
             *sorted(p.name.removesuffix(".json") for p in SAMPLES.glob("dispute.*.json"))]
    return [json.loads((SAMPLES / f"{t}.json").read_text(encoding="utf-8")) for t in types]


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


# --- the seed's JavaScript in V8 -------------------------------------------------------------------

JS_DISPATCH = """
function __handler(t) {
  if (t === "payment.succeeded") return payment_handler;
  if (t === "subscription.active" || t === "subscription.cancelled") return subscription_handler;
  if (t.startsWith("dispute.")) return dispute_handler;
  return null;
}
function __run(t, text) {  // as Dodo runs a transformation: handler(webhook), then webhook.payload
  const h = __handler(t);
  if (h === null) return "[]";
  return "[" + JSON.stringify(h({eventType: t, payload: JSON.parse(text)}).payload) + "]";
}
let __bodies = [];
function __load(texts) { __bodies = texts.map((t) => JSON.parse(t)); return __bodies.length; }
function __loop(n) {  // the same work without crossing into Python: pre-parsed bodies, no JSON
  let check = 0;
  for (let i = 0; i < n; i++) {
    for (const body of __bodies) {
      check += __handler(body.type)({eventType: body.type, payload: body}).payload.ts;
    }
  }
  return check;
}
"""


class SeedJs:
    """The three seed transformations in one V8 context, each in its own function scope."""

    def __init__(self) -> None:
        from py_mini_racer import MiniRacer

        self.ctx = MiniRacer()
        for family in FAMILIES:
            source = (SEED_JS / f"{family}.js").read_text(encoding="utf-8")
            self.ctx.eval(f"const {family}_handler = (function () {{\n{source}\nreturn handler;\n}})();")
        self.ctx.eval(JS_DISPATCH)

    def apply_text(self, event_type: str, text: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = json.loads(self.ctx.call("__run", event_type, text))
        return events

    def load(self, texts: list[str]) -> None:
        self.ctx.call("__load", texts)

    def loop(self, n: int) -> None:
        self.ctx.call("__loop", n)

    def v8_version(self) -> str:
        return str(self.ctx.v8_version)

    def close(self) -> None:
        self.ctx.close()  # an open context can keep the interpreter from exiting


# --- throughput ----------------------------------------------------------------------------------


@dataclass
class Impl:
    label: str
    run_pass: Callable[[], None]  # one pass over the corpus
    per_pass: int
    baseline: str | None = None  # label of the implementation it is compared with
    passes: int = 1
    times: list[float] = field(default_factory=list)  # seconds per event, one per round

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def calibrate(impl: Impl, round_seconds: float) -> None:
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            impl.run_pass()
        elapsed = time.perf_counter() - t0
        if elapsed >= round_seconds / 4 or n >= 1 << 20:
            impl.passes = max(1, int(n * round_seconds / max(elapsed, 1e-9)))
            return
        n *= 4


def time_round(impl: Impl) -> None:
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(impl.passes):
        impl.run_pass()
    impl.times.append((time.perf_counter() - t0) / (impl.passes * impl.per_pass))


def throughput(rounds: int, round_seconds: float) -> tuple[list[Impl], dict[str, str]]:
    import runtime
    from bench.handwritten import LITERAL, SHIPPED

    bodies = corpus()
    texts = [json.dumps(b, ensure_ascii=False) for b in bodies]
    shipped = runtime.load([str(p) for p in SHIPPED_FILES])
    literal = runtime.load([str(p) for p in LITERAL_FILES], allow={"M405"})  # ts in seconds, as the seed
    js = SeedJs()
    try:
        # the same results first: otherwise the comparison means nothing
        for body, text in zip(bodies, texts, strict=True):
            assert canonical(shipped.apply(body)) == canonical(SHIPPED.apply(body)), body["type"]
            assert canonical(literal.apply(body)) == canonical(LITERAL.apply(body)), body["type"]
            assert canonical(literal.apply(body)) == canonical(js.apply_text(body["type"], text)), body["type"]
        js.load(texts)

        shipped_fns = [(shipped.route(b["type"])[0].function, b) for b in bodies]
        literal_fns = [(literal.route(b["type"])[0].function, b) for b in bodies]
        pairs = list(zip([b["type"] for b in bodies], texts, strict=True))

        def each(apply: Callable[[Body], Any]) -> Callable[[], None]:
            def run_pass() -> None:
                for body in bodies:
                    apply(body)
            return run_pass

        def each_fn(fns: list[tuple[Callable[[Body], Any], Body]]) -> Callable[[], None]:
            def run_pass() -> None:
                for fn, body in fns:
                    fn(body)
            return run_pass

        def js_calls() -> None:
            for event_type, text in pairs:
                js.apply_text(event_type, text)

        n = len(bodies)
        hand_shipped, hand_literal = "hand-written Python, as shipped", "hand-written Python, as the seed"
        impls = [
            Impl("paymap, shipped mappings (`MappingSet.apply`)", each(shipped.apply), n, hand_shipped),
            Impl("paymap, shipped mappings (rule function only)", each_fn(shipped_fns), n, hand_shipped),
            Impl(hand_shipped, each(SHIPPED.apply), n),
            Impl("paymap, literal translations (`MappingSet.apply`)", each(literal.apply), n, hand_literal),
            Impl("paymap, literal translations (rule function only)", each_fn(literal_fns), n, hand_literal),
            Impl(hand_literal, each(LITERAL.apply), n),
            Impl("seed JS in V8 via mini-racer, one call per event", js_calls, n, hand_literal),
            Impl("seed JS in V8, loop inside V8 (no Python boundary)", lambda: js.loop(200), 200 * n, hand_literal),
        ]
        for impl in impls:
            impl.run_pass()  # warm up (V8 compiles, caches fill)
            calibrate(impl, round_seconds)
        for _ in range(rounds):
            for impl in impls:
                time_round(impl)
        info = {"v8": js.v8_version(), "corpus": ", ".join(b["type"] for b in bodies)}
    finally:
        js.close()
    return impls, info


# --- compile time and `paymap check` ---------------------------------------------------------------

COMPILE_PROBE = """
import json, sys, time
t0 = time.perf_counter()
from dsl.compiler import compile_paths, default_schema
from dsl.diagnostics import Diagnostics
from dsl.parser import parse
t1 = time.perf_counter()
files = json.loads(sys.argv[1])
out = {"import": t1 - t0}
if sys.argv[2] == "cold":
    t = time.perf_counter(); compile_paths(files); out["cold"] = time.perf_counter() - t
else:
    t = time.perf_counter(); parse('on "payment.succeeded"\\nname = "x"\\n', "warm.map", Diagnostics())
    out["grammar"] = time.perf_counter() - t
    t = time.perf_counter(); default_schema(); out["schema"] = time.perf_counter() - t
    t = time.perf_counter(); result = compile_paths(files, allow=json.loads(sys.argv[3]))
    out["first"] = time.perf_counter() - t
    assert result.ok, [d.code for d in result.errors]
    warm, parsing = [], []
    texts = [(open(f, encoding="utf-8").read(), f) for f in files]
    for _ in range(10):
        t = time.perf_counter(); compile_paths(files, allow=json.loads(sys.argv[3])); warm.append(time.perf_counter() - t)
        t = time.perf_counter()
        for text, f in texts:
            parse(text, f, Diagnostics())
        parsing.append(time.perf_counter() - t)
    out["warm"] = sorted(warm)[len(warm) // 2]
    out["parse"] = sorted(parsing)[len(parsing) // 2]
print(json.dumps(out))
"""


def probe(files: list[Path], mode: str, allow: list[str]) -> dict[str, float]:
    cmd = [sys.executable, "-c", COMPILE_PROBE, json.dumps([str(f) for f in files]), mode, json.dumps(allow)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout)
    return result


def compile_times(repeats: int) -> dict[str, dict[str, float]]:
    """Each figure from fresh interpreters (so nothing is loaded yet): the median of ``repeats``, and
    the best as ``<name>_best``."""
    out: dict[str, dict[str, float]] = {}
    for name, files, allow in (("shipped", SHIPPED_FILES, []), ("literal", LITERAL_FILES, ["M405"])):
        staged = [probe(files, "staged", allow) for _ in range(repeats)]
        cold = [probe(files, "cold", allow)["cold"] for _ in range(repeats)] if name == "shipped" else []
        figures = {k: statistics.median(s[k] for s in staged) for k in staged[0]}
        figures |= {f"{k}_best": min(s[k] for s in staged) for k in staged[0]}
        if cold:
            figures["cold"] = statistics.median(cold)
        out[name] = figures
    return out


CLI_PROBE = """
import contextlib, io, json, time
t0 = time.perf_counter()
import runtime.cli as cli
t1 = time.perf_counter(); parser = cli.build_parser(); t2 = time.perf_counter()
args = parser.parse_args(["check", "mappings/"])
with contextlib.redirect_stdout(io.StringIO()):
    args.func(args)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "build_parser": t2 - t1, "check": t3 - t2}))
"""


def cli_breakdown(repeats: int) -> dict[str, float]:
    """Where `paymap check mappings/` spends its time after the interpreter has started."""
    runs = [json.loads(subprocess.run([sys.executable, "-c", CLI_PROBE], cwd=ROOT, capture_output=True,
                                      text=True, check=True).stdout) for _ in range(repeats)]
    return {k: min(r[k] for r in runs) for k in runs[0]}  # the best: the parts of one quiet run


def process_times(repeats: int) -> dict[str, Any]:
    paymap = Path(sys.executable).parent / "paymap"
    check = [str(paymap)] if paymap.exists() else [sys.executable, "-m", "runtime.cli"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import runtime.cli'": [sys.executable, "-c", "import runtime.cli"],
        "paymap check mappings/": [*check, "check", "mappings/"],
        "paymap check (the 3 seed files)": [*check, "check", *(str(p.relative_to(ROOT)) for p in SHIPPED_FILES)],
    }
    out: dict[str, Any] = {}
    for label, cmd in commands.items():
        subprocess.run(cmd, cwd=ROOT, capture_output=True)  # warm the OS file cache
        times, codes = [], set()
        for _ in range(repeats):
            t0 = time.perf_counter()
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True)
            times.append(time.perf_counter() - t0)
            codes.add(done.returncode)
        out[label] = {"best": min(times), "median": statistics.median(times), "exit": sorted(codes)}
    out["files"] = len(list((ROOT / "mappings").rglob("*.map")))
    out["breakdown"] = cli_breakdown(repeats)
    return out


# --- report ----------------------------------------------------------------------------------------


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.2f}" if seconds < 1e-4 else f"{seconds * 1e6:,.0f}"


def mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


HISTORY = [
    "What cost, and what changed: before commit 09fad3f the compiled mappings took 2.0× (shipped) and 1.67× "
    "(literal) the time of the hand-written Python (measured 2026-11-27 on this corpus, the same way). Profiled, "
    "per call: `money()` ≈1.9 µs — an `iso4217.Currency(code)` Enum lookup (0.34 µs) and its `.exponent` "
    "property re-reading the ISO table (0.26 µs) every time, and the general `Decimal` reader for Dodo's "
    "dispute amount text `\"1900\"`; the `id` chain of four `_concat` calls 0.44 µs (an f-string: 0.06 µs); "
    "each `match` arm through `_eq` 0.2 µs (0.8 µs for each `||` of the literal translations); "
    "`MappingSet.apply` building an `Outcome` ≈0.45 µs an event. Now exponents come from a dict, digit text "
    "is read with `int`, `==`/`match` against a literal and `&` on two strings are inline in the generated code "
    "(each property-tested against the general function in `tests/test_fast_paths.py`), and `apply` skips the "
    "`Outcome` on a cached route. These rules need no `_json` conversion (every value is JSON already), and "
    "the absent checks are `is` comparisons, as cheap as the hand-written `in` tests.",
]


def report(impls: list[Impl], info: dict[str, str], compiled: dict[str, dict[str, float]],
           procs: dict[str, Any], rounds: int) -> str:
    by_label = {i.label: i for i in impls}
    lines = [
        START,
        "## Mapping (`bench/mapping_bench.py`)",
        "",
        f"Measured {datetime.now(tz=UTC):%Y-%m-%d} on {platform.machine()}, nproc {os.cpu_count()}, "
        f"Python {platform.python_version()}, mini-racer {version('mini-racer')} (V8 {info['v8']}). "
        f"`python -m bench --write` regenerates this section. The machine is shared with other work: "
        "absolute figures vary between runs, up to 2× when it is busy; ratios within one run are the figure.",
        "",
        "### Throughput",
        "",
        f"Corpus: the {impls[0].per_pass} sample bodies the seed's transformations handle ({info['corpus']}), "
        f"parsed once. {rounds} rounds, implementations interleaved in each; best round (median in parentheses). "
        "Hand-written Python: `bench/handwritten.py`, checked to give the same JSON as the mappings before "
        "timing; so is the JavaScript against the literal translations.",
        "",
        "| implementation | µs/event | events/s | × hand-written Python |",
        "|---|---|---|---|",
    ]
    for impl in impls:
        ratio = ""
        if impl.baseline:
            base = by_label[impl.baseline]
            ratio = f"{impl.best / base.best:,.2f}× ({impl.median / base.median:,.2f}×)"
        else:
            ratio = "1 (baseline)"
        lines.append(f"| {impl.label} | {us(impl.best)} ({us(impl.median)}) | {1 / impl.best:,.0f} | {ratio} |")
    shipped_ratio = by_label["paymap, shipped mappings (`MappingSet.apply`)"].best / \
        by_label["hand-written Python, as shipped"].best
    literal_ratio = by_label["paymap, literal translations (`MappingSet.apply`)"].best / \
        by_label["hand-written Python, as the seed"].best
    js_ratio = by_label["seed JS in V8 via mini-racer, one call per event"].best / \
        by_label["paymap, literal translations (`MappingSet.apply`)"].best
    lines += [
        "",
        f"Target (issue 2): compiled within {TARGET_RATIO}× of hand-written Python — shipped "
        f"{shipped_ratio:.2f}× ({mark(shipped_ratio <= TARGET_RATIO)}), literal {literal_ratio:.2f}× "
        f"({mark(literal_ratio <= TARGET_RATIO)}). The seed's JavaScript called through mini-racer is "
        f"{js_ratio:,.0f}× slower than the literal translation: nearly all of it is the Python↔V8 crossing "
        "(the loop inside V8 does the same work in a fraction of a microsecond).",
        "",
        *HISTORY,
        "",
        "### Compiling",
        "",
        "Fresh interpreter per measurement, median of the runs (best in parentheses). *Grammar* is the Lark LALR parser loaded from "
        "Lark's cache file (`cache=True`; the first run on a machine builds it); *schema* the bundled Dodo "
        "schema; *first/again* compile the files with both loaded; *cold* compiles straight after import.",
        "",
        "| files | import | grammar | schema | first compile | compile again | cold (import excluded) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, fig in compiled.items():
        label = "`mappings/{payment,subscription,dispute}.map`" if name == "shipped" else \
            "`tests/seed/literal/*.map`"
        cold = f"{fig['cold'] * 1000:.1f} ms" if "cold" in fig else "—"
        lines.append(f"| {label} | {fig['import'] * 1000:.1f} ms | {fig['grammar'] * 1000:.1f} ms | "
                     f"{fig['schema'] * 1000:.1f} ms | {fig['first'] * 1000:.1f} ms ({fig['first_best'] * 1000:.1f}) "
                     f"| {fig['warm'] * 1000:.1f} ms ({fig['warm_best'] * 1000:.1f}) "
                     f"| {cold} |")
    first = compiled["shipped"]["first"] * 1000
    warm, parsing = compiled["shipped"]["warm"] * 1000, compiled["shipped"]["parse"] * 1000
    lines += [
        "",
        f"Target: the three files in under {TARGET_COMPILE_MS:.0f} ms after the grammar is loaded — "
        f"{first:.1f} ms the first time ({mark(first < TARGET_COMPILE_MS)}), {warm:.1f} ms again "
        f"({mark(warm < TARGET_COMPILE_MS)}). Of a compile, Lark's parse of the three files (tokens to "
        f"AST in one pass) takes {parsing:.1f} ms; the rest is checking, code generation and Python's `compile()`.",
        "",
        "### `paymap check` as a process",
        "",
        "Interpreter start included: wall time of the whole command, best and median of the runs "
        f"(`mappings/` holds {procs['files']} `.map` files, the whole library).",
        "",
        "| command | best | median | exit code |",
        "|---|---|---|---|",
    ]
    for label, fig in procs.items():
        if label in ("files", "breakdown"):
            continue
        lines.append(f"| `{label}` | {fig['best']:.3f} s | {fig['median']:.3f} s | {', '.join(map(str, fig['exit']))} |")
    check = procs["paymap check mappings/"]["median"]
    parts = procs["breakdown"]
    lines += [
        "",
        f"Target: `paymap check mappings/` under {TARGET_CHECK_S} s — {check:.3f} s ({mark(check < TARGET_CHECK_S)}). "
        f"After the interpreter starts (best of the runs): importing `runtime.cli` {parts['import'] * 1000:.0f} ms, "
        f"`build_parser()` {parts['build_parser'] * 1000:.0f} ms (it imports every subcommand's module, "
        f"the relay's heavy imports deferred to `serve` and friends, to register its options), the check itself "
        f"{parts['check'] * 1000:.0f} ms.",
        END,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench mapping", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved throughput rounds (default 7)")
    parser.add_argument("--round-seconds", type=float, default=0.3, help="time per implementation per round")
    parser.add_argument("--repeats", type=int, default=7, help="fresh processes per compile/check figure")
    parser.add_argument("--quick", action="store_true", help="3 short rounds, 3 repeats (a smoke run)")
    parser.add_argument("--write", action="store_true", help="write the figures into bench/RESULTS.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.round_seconds, args.repeats = 3, 0.05, 3
    impls, info = throughput(args.rounds, args.round_seconds)
    compiled = compile_times(args.repeats)
    procs = process_times(args.repeats)
    section = report(impls, info, compiled, procs, args.rounds)
    publish(section, START, END, write=args.write, path=RESULTS)
    return 0
