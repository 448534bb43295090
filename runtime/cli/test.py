"""``paymap test [PATH...]``: run the examples in ``*.test.yaml`` files (docs/testing.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from runtime import testing
from runtime.cli.common import use_color

_GREEN, _RED, _YELLOW, _BOLD, _RESET = "\033[32m", "\033[31m", "\033[33m", "\033[1m", "\033[0m"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "test", help="run the mapping examples in *.test.yaml files",
        description="Run the examples in *.test.yaml files next to .map files and compare the events "
                    "with the expected ones. Exit status: 0 all passed, 1 a test failed or is invalid, "
                    "2 usage error. The format is described in docs/testing.md.")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="directories (searched for *.test.yaml), .test.yaml files or .map files "
                        "(their same-stem .test.yaml); default: mappings")
    p.add_argument("--update", action="store_true",
                   help="rewrite the expectations of failing tests from the actual output (snapshot mode)")
    p.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report to FILE")
    p.add_argument("-k", dest="keyword", metavar="TEXT", help="only run tests whose name contains TEXT")
    p.add_argument("--format", choices=("text", "github"), default="text",
                   help="github: also print a GitHub Actions annotation for each failure")
    p.add_argument("-q", "--quiet", action="store_true", help="print only failures and the summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    color = use_color(sys.stdout)

    def c(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    paths = args.paths or ["mappings"]
    try:
        files, untested = testing.discover(paths)
    except testing.UsageError as exc:
        print(f"paymap test: {exc}", file=sys.stderr)
        return 2
    if not files:
        print(f"paymap test: no *{testing.TEST_SUFFIX} files under {', '.join(paths)} "
              "(see docs/testing.md)", file=sys.stderr)
        return 2
    runner = testing.Runner()
    loaded = [testing.load_file(f) for f in files]
    keyword = (args.keyword or "").lower()
    results: list[testing.CaseResult] = []
    per_file: list[tuple[testing.CaseFile, list[testing.CaseResult]]] = []
    for cf in loaded:
        cases = cf.all_cases()
        if keyword:
            cases = [x for x in cases if keyword in x.name.lower() or x.index < 0]
        if not cases:
            continue
        rs = [runner.run(x) for x in cases]
        results.extend(rs)
        per_file.append((cf, rs))
        if not args.quiet:
            marks = "".join({"passed": ".", "failed": "F", "error": "E"}[r.status] for r in rs)
            print(f"{cf.display} {marks}".ljust(68) + " " + _counts(rs, c))
    if not results:
        print(f"paymap test: no test matches -k {args.keyword!r}", file=sys.stderr)
        return 2

    failures = [r for r in results if r.status != "passed"]
    if failures:
        print()
    shown_compile: set[int] = set()
    for r in failures:
        if r.compile_error is not None and id(r.compile_error) in shown_compile:
            print(f"{c(_RED + _BOLD, 'ERROR')} {r.case.where}: {r.case.name}\n"
                  f"  the mappings in {r.case.file.mappings} do not compile (see above)")
            continue
        if r.compile_error is not None:
            shown_compile.add(id(r.compile_error))
        text = r.report()
        head, _, rest = text.partition(" ")
        print(c(_RED + _BOLD, head) + " " + rest)
        if args.format == "github":
            print(testing.github_annotation(r))
        print()

    updated = 0
    if args.update:
        updated, problems = _update(per_file, runner)
        if problems:
            print()
            for line in problems:
                print(line)

    for m in untested:
        print(f"note: no tests for {m} (create {m.with_name(m.stem + testing.TEST_SUFFIX)})", file=sys.stderr)

    if args.junit:
        try:
            with open(args.junit, "w", encoding="utf-8") as fh:
                fh.write(testing.junit_xml(results))
        except OSError as exc:
            print(f"paymap test: cannot write {args.junit}: {exc.strerror or exc}", file=sys.stderr)
            return 2

    remaining = len(failures) - updated
    summary = _counts(results, c, updated=updated)
    nfiles = len(per_file)
    print(f"{summary} in {nfiles} file{'s' if nfiles != 1 else ''}")
    return 1 if remaining else 0


def _counts(rs: list[testing.CaseResult], c: Any, *, updated: int = 0) -> str:
    passed = sum(r.status == "passed" for r in rs)
    failed = sum(r.status == "failed" for r in rs) - updated
    errors = sum(r.status == "error" for r in rs)
    parts = [c(_GREEN, f"{passed} passed")]
    if updated:
        parts.append(c(_YELLOW, f"{updated} updated"))
    if failed:
        parts.append(c(_RED, f"{failed} failed"))
    if errors:
        parts.append(c(_RED, f"{errors} invalid"))
    return ", ".join(parts)


def _update(per_file: list[tuple[testing.CaseFile, list[testing.CaseResult]]],
            runner: testing.Runner) -> tuple[int, list[str]]:
    updated = 0
    problems: list[str] = []
    for cf, rs in per_file:
        if all(r.status == "passed" for r in rs):
            continue
        plan = testing.plan_update(cf, rs, runner)
        for case, why in plan.not_updated:
            problems.append(f"not updated: {case.where}: {case.name}: {why}")
        if not plan.updated:
            continue
        print(plan.diff(), end="")
        try:
            with open(cf.path, "w", encoding="utf-8", newline="") as fh:
                fh.write(plan.new_text)
        except OSError as exc:
            problems.append(f"cannot write {cf.display}: {exc.strerror or exc}")
            continue
        k = len(plan.updated)
        print(f"updated {k} test{'s' if k != 1 else ''} in {cf.display}\n")
        updated += k
    return updated, problems
