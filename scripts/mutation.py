"""Mutation testing of the delivery, routing and money core with mutmut (``make mutation``).

Each target is one module, the functions in it where a silent bug costs money or events, and the
tests that cover them. A target runs in its own snapshot under ``build/mutation/<target>/`` (a copy
of the sources and tests with a ``[tool.mutmut]`` table for that module only), so a run never sees
files being edited meanwhile and never leaves mutants in the work tree; mutmut then runs, for each
mutant, only the selected tests that reach the mutated function. Results are summarised in
``build/mutation/<target>/summary.json`` and on stdout; ``docs/mutation.md`` reports them.

    python scripts/mutation.py [TARGET ...]     # default: every target, one after the other
    python scripts/mutation.py --list
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "build" / "mutation"
COPY = ["prelude", "dsl", "runtime", "grammar", "samples", "mappings", "tests", "docs", "pyproject.toml"]


@dataclass(frozen=True)
class Target:
    file: str  # the module mutated
    functions: tuple[str, ...]  # mutmut mutant-name globs (its names: module.x_func / module.xǁClassǁmethod)
    tests: tuple[str, ...]  # pytest arguments selecting the tests that cover it


def _m(module: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{module}.{n}__mutmut_*" for n in names)


RELAY_FAST = ("tests/relay/test_units.py", "tests/relay/test_store.py", "tests/relay/test_sender.py")
# tests written for the survivors of a run (docs/mutation.md), so the next run counts them too
INNGEST_MUTANTS = "tests/relay/test_inngest_mutants.py"
STORE_MUTANTS = "tests/relay/test_store_mutants.py"
SENDER_MUTANTS = "tests/relay/test_sender_mutants.py"
ACCEPT_MUTANTS = "tests/relay/test_accept_mutants.py"

TARGETS: dict[str, Target] = {
    "contract": Target("runtime/relay/contract.py", _m("runtime.relay.contract", "x_*"),
                       ("tests/relay/test_units.py", "tests/relay/test_sender.py")),
    "sender": Target(
        "runtime/relay/worker.py",
        _m("runtime.relay.worker", *(f"xǁSenderǁ{m}" for m in
                                     ("_deliver", "_answered", "_delivered", "_pause", "_retry", "_dead", "_backoff"))),
        ("tests/relay/test_sender.py", SENDER_MUTANTS),
    ),
    "inngest": Target("runtime/relay/inngest.py",
                      _m("runtime.relay.inngest", "x_*", "xǁSendResultǁ*", "xǁInngestSenderǁ*"),
                      (*RELAY_FAST, INNGEST_MUTANTS)),
    "store": Target(
        "runtime/relay/store_sqlite.py",
        _m("runtime.relay.store_sqlite", *(f"xǁSQLiteStoreǁ{m}" for m in
                                           ("claim", "renew", "_owned_update", "mark_delivered", "mark_retry",
                                            "release", "mark_dead", "reap_leases", "_insert_webhooks",
                                            "_insert_one_by_one")), "x__finish", "x__insert_sql"),
        ("tests/relay/test_sender.py", "tests/relay/test_store.py", STORE_MUTANTS),
    ),
    "accept": Target(
        "runtime/relay/store_accept.py",
        _m("runtime.relay.store_accept", "xǁAcceptPathǁaccept", "xǁAcceptPathǁ_hand_over", "x_settle_accepts"),
        ("tests/relay/test_sender.py", "tests/relay/test_store.py", STORE_MUTANTS, ACCEPT_MUTANTS),
    ),
    "routing": Target("dsl/routing.py", _m("dsl.routing", "x_*"),
                      ("tests/test_routing.py", "tests/test_check_schema.py", "tests/test_language.py")),
    "seconds": Target("dsl/checker.py",
                      _m("dsl.checker", "x__seconds_expr", "xǁCheckerǁ_check_ts"),
                      ("tests/test_ts_units.py", "tests/test_compile_errors.py", "tests/test_fixes.py")),
    "functions": Target("prelude/functions.py",
                        _m("prelude.functions", *(f"x_{f}" for f in
                                                   ("cents", "money", "decimals", "currency_exponent", "epoch",
                                                    "epoch_ms", "iso", "parse_time", "_parse_time_slow",
                                                    "to_decimal", "_integral"))),
                        ("tests/test_money.py", "tests/test_language.py")),
    "values": Target("prelude/values.py", _m("prelude.values", "x_*", "xǁ*"),
                     ("tests/test_language.py", "tests/test_money.py")),
}


def _snapshot(name: str, target: Target) -> Path:
    work = OUT / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.sqlite3*", ".hypothesis", "node_modules")
    for item in COPY:
        src = REPO / item
        if src.is_dir():
            shutil.copytree(src, work / item, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, work / item)
    # the packages mapped elsewhere by pyproject's package-dir, where the import system looks first
    shutil.copytree(REPO / "samples", work / "runtime" / "samples", ignore=ignore)
    shutil.copytree(REPO / "grammar", work / "dsl" / "grammar", ignore=ignore)
    with open(REPO / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)
    pytest_opts = project["tool"]["pytest"]["ini_options"]
    (work / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        f"testpaths = {json.dumps(pytest_opts['testpaths'])}\n"
        f"timeout = {pytest_opts['timeout']}\n\n"
        "[tool.mutmut]\n"
        'source_paths = ["prelude", "dsl", "runtime"]\n'
        'also_copy = ["samples", "grammar", "mappings", "docs"]\n'
        f"only_mutate = {json.dumps([target.file])}\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(list(target.tests))}\n"
        'pytest_add_cli_args = ["-q", "-p", "no:cacheprovider", "-x"]\n',
        encoding="utf-8",
    )
    return work


def _statuses(work: Path, target: Target) -> dict[str, str]:
    """Mutant name -> mutmut's status, for the mutants of ``target``'s functions."""
    from fnmatch import fnmatchcase

    from mutmut.stats import status_by_exit_code

    meta = json.loads((work / "mutants" / (target.file + ".meta")).read_text(encoding="utf-8"))
    return {name: status_by_exit_code[code] for name, code in sorted(meta["exit_code_by_key"].items())
            if any(fnmatchcase(name, g) for g in target.functions)}


def run(name: str, target: Target, max_children: int, *, summarise_only: bool = False) -> dict[str, object]:
    work = OUT / name
    if not summarise_only:
        work = _snapshot(name, target)
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        cmd = [str(Path(sys.executable).parent / "mutmut"), "run", "--max-children", str(max_children),
               *target.functions]
        print(f"== {name}: {target.file} ({' '.join(target.tests)})", flush=True)
        subprocess.run(cmd, cwd=work, env=env, check=False)
    every = _statuses(work, target)
    statuses = {m: s for m, s in every.items() if s != "not checked"}  # a run stopped early: the rest
    counts = Counter(statuses.values())
    survived = [m for m, s in statuses.items() if s not in ("killed", "timeout", "caught by type check")]
    summary = {"target": name, "file": target.file, "mutants": len(statuses), "counts": dict(counts),
               "not_tested": len(every) - len(statuses), "survived": survived}
    (work / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    killed = counts["killed"] + counts["timeout"]
    print(f"== {name}: {len(statuses)} mutants, {killed} killed, {len(statuses) - killed} not killed"
          + (f" ({summary['not_tested']} not tested yet)" if summary["not_tested"] else ""), flush=True)
    for m in survived:
        print(f"   {statuses[m]:>10}  {m}", flush=True)
    return summary


def report() -> str:
    """A Markdown table of the last run of every target (for docs/mutation.md)."""
    lines = ["| target | module | mutants | killed | survived | score |", "|---|---|---:|---:|---:|---:|"]
    for name in TARGETS:
        path = OUT / name / "summary.json"
        if not path.exists():
            continue
        summary = json.loads(path.read_text(encoding="utf-8"))
        total, survived = summary["mutants"], len(summary["survived"])
        score = f"{100 * (total - survived) / total:.1f} %" if total else "-"
        partial = f" (+{summary['not_tested']} not tested)" if summary.get("not_tested") else ""
        lines.append(f"| {name} | `{summary['file']}` | {total}{partial} | {total - survived} | {survived} | {score} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET", help=f"one of: {', '.join(TARGETS)}")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--report", action="store_true", help="print the last results as a Markdown table")
    parser.add_argument("--summarise", action="store_true",
                        help="only summarise the mutants already tested in build/mutation/TARGET (no run)")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    args = parser.parse_args()
    if args.report:
        print(report())
        return 0
    if args.list:
        for name, t in TARGETS.items():
            print(f"{name:10} {t.file}")
        return 0
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target {unknown[0]!r}; the targets are: {', '.join(TARGETS)}")
    for name in args.targets or TARGETS:
        run(name, TARGETS[name], args.max_children, summarise_only=args.summarise)
    return 0


if __name__ == "__main__":
    sys.exit(main())
