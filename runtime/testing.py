"""Mapping tests: ``*.test.yaml`` files of example bodies and expected events (docs/testing.md).

A pure library used by ``paymap test`` and by pytest::

    from runtime import testing
    for case in testing.collect(["mappings/"]):
        case.check()            # AssertionError with a readable report when it fails

Pieces: :func:`discover` finds test files, :func:`load_file` reads one into :class:`Case` values
(every problem is a :class:`Problem` with ``file:line``, never an exception), :class:`Runner`
compiles each mapping set once and runs cases into :class:`CaseResult` values (differences located
in the ``.map`` source), :func:`plan_update` computes the ``--update`` rewrite and
:func:`junit_xml` the CI report.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from dsl import nodes as n
from dsl.compiler import walk_files
from dsl.diagnostics import Diagnostics, suggest
from dsl.parser import parse
from prelude.errors import PaymapError
from runtime import samples, testyaml
from runtime.errors import CompileError, MappingError
from runtime.mappingset import MappingSet, Rule, load
from runtime.testyaml import Doc, Edit, Path_, YamlError

TEST_SUFFIX = ".test.yaml"
MISSING_MARK = "~missing"
ANY_MARK = "~any"
DELETE_MARK = "~delete"

FILE_KEYS = ("tests", "mappings", "name_prefix")
CASE_KEYS = ("name", "sample", "input", "input_file", "patch", "headers", "expect", "expect_error", "exact")
_INPUT_KEYS = ("sample", "input", "input_file")


class UsageError(PaymapError):
    """A path that does not exist, or no test files: exit status 2 in the CLI."""


class _Absent:
    __slots__ = ()

    def __repr__(self) -> str:
        return "missing"


ABSENT: Any = _Absent()


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with a test file, at a line of it."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


ExpectKind = Literal["events", "dropped", "skipped", "error", "unset"]


@dataclass(slots=True)
class Case:
    """One test: a body, and what mapping it must give."""

    file: CaseFile
    index: int  # position in `tests`, or -1 for a file that could not be read
    name: str
    line: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    kind: ExpectKind = "unset"
    events: list[Any] = field(default_factory=list)
    error: str | None = None
    exact: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.file.display}::{self.name}"

    @property
    def where(self) -> str:
        return f"{self.file.display}:{self.line}"

    def run(self, runner: Runner | None = None) -> CaseResult:
        return (runner or _default_runner()).run(self)

    def check(self, runner: Runner | None = None) -> None:
        """Run the case; raise AssertionError with the report when it does not pass."""
        result = self.run(runner)
        if result.status != "passed":
            raise AssertionError(result.report())


@dataclass(slots=True)
class CaseFile:
    path: Path
    display: str
    text: str = ""
    doc: Doc | None = None
    mappings: Path | None = None
    # a `const` whose value starts every event name: the expected names are written without it
    name_prefix: str | None = None
    cases: list[Case] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def all_cases(self) -> list[Case]:
        """The cases; a file that could not be read is one failing case holding its problems."""
        if self.problems:
            return [Case(self, -1, "(test file)", self.problems[0].line or 1, problems=list(self.problems))]
        return self.cases


@dataclass(slots=True)
class Actual:
    """What the mappings did with a body."""

    kind: Literal["events", "dropped", "skipped", "error"]
    events: list[dict[str, Any]] = field(default_factory=list)
    producers: list[Rule] = field(default_factory=list)  # the rule behind each event
    dropped_by: list[Rule] = field(default_factory=list)
    error: MappingError | None = None
    name_prefix: str = ""  # the test file's `name_prefix` constant's value

    def describe(self) -> str:
        if self.kind == "error":
            return f"the mapping failed: {self.error}"
        if self.kind == "skipped":
            return "no rule receives this event type (skipped)"
        if self.kind == "dropped":
            return "dropped by " + ", ".join(f"the rule at {r.label}" for r in self.dropped_by)
        k = len(self.events)
        return f"{k} event{'s' if k != 1 else ''}"


@dataclass(slots=True)
class Difference:
    event: int  # 0-based event index
    keys: tuple[str | int, ...]
    expected: Any
    actual: Any
    expected_line: int
    origin: str | None = None


@dataclass(slots=True)
class CaseResult:
    case: Case
    status: Literal["passed", "failed", "error"]
    actual: Actual | None = None
    message: str = ""
    differences: list[Difference] = field(default_factory=list)
    seconds: float = 0.0
    compile_error: CompileError | None = None

    def report(self) -> str:
        return render_result(self)


# --- discovery -------------------------------------------------------------------------------


def discover(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[Path]]:
    """The test files under ``paths``, and the ``.map`` files found there that have none.

    Raises :class:`UsageError` for a path that does not exist or cannot hold tests.
    """
    found: list[Path] = []
    untested: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files = sorted(_walk(p))
            found.extend(q for q in files if q.name.endswith(TEST_SUFFIX))
            names = {q.name for q in files}
            untested.extend(q for q in files if q.suffix == ".map" and _test_name(q) not in names and _has_rules(q))
        elif p.is_file() and p.name.endswith(TEST_SUFFIX):
            found.append(p)
        elif p.is_file() and p.suffix == ".map":
            t = p.with_name(_test_name(p))
            if not t.is_file() and not _has_rules(p):
                raise UsageError(f"{p} declares constants and groups only: test the files whose rules use them "
                                 f"(e.g. paymap test {p.parent})")
            if not t.is_file():
                raise UsageError(f"{p} has no tests: create {t} (see docs/testing.md)")
            found.append(t)
        elif p.exists():
            raise UsageError(f"{p}: not a directory, a .map file or a {TEST_SUFFIX} file")
        else:
            raise UsageError(f"{p}: no such file or directory")
    unique: dict[Path, None] = {}
    for f in found:
        unique.setdefault(f, None)
    return list(unique), untested


def _has_rules(map_file: Path) -> bool:
    """Whether a `.map` file has rules to test (a file of `const`s and groups is tested through
    the rules that use them)."""
    try:
        text = map_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return True
    module = parse(text, str(map_file), Diagnostics())
    return bool(module.rules) or not (module.consts or module.groups)


def _walk(root: Path) -> Iterable[Path]:
    return walk_files(root, (TEST_SUFFIX, ".map"))


def _test_name(map_file: Path) -> str:
    return map_file.name.removesuffix(".map") + TEST_SUFFIX


def collect(paths: Sequence[str | os.PathLike[str]]) -> list[Case]:
    """Every case of every test file under ``paths`` (for pytest parametrisation)."""
    files, _ = discover(paths)
    if not files:
        raise UsageError("no " + TEST_SUFFIX + " files under " + ", ".join(str(p) for p in paths))
    return [c for f in files for c in load_file(f).all_cases()]


# --- loading ---------------------------------------------------------------------------------


def _suggest(word: str, candidates: Iterable[str]) -> str:
    guess = suggest(word, candidates)
    return f"; did you mean {guess!r}?" if guess else ""


def load_file(path: str | os.PathLike[str], text: str | None = None) -> CaseFile:
    """Read one test file. Never raises: every problem is recorded with its line."""
    p = Path(path)
    cf = CaseFile(p, str(path))
    if text is None:
        try:
            data = p.read_bytes()
        except OSError as exc:
            cf.problems.append(Problem(cf.display, 0, f"cannot read: {exc.strerror or exc}"))
            return cf
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            cf.problems.append(Problem(cf.display, line, f"byte {exc.start} is not valid UTF-8 text"))
            return cf
    text = text.removeprefix("\ufeff")
    cf.text = text
    try:
        doc = testyaml.load(text)
    except YamlError as exc:
        cf.problems.append(Problem(cf.display, exc.line, exc.message))
        return cf
    cf.doc = doc
    root = doc.value

    def problem(path: Path_, message: str, *, key: bool = False) -> None:
        cf.problems.append(Problem(cf.display, doc.key_line(path) if key else doc.line(path), message))

    if root is None:
        problem((), "the file is empty; it needs a `tests:` list (see docs/testing.md)")
        return cf
    if not isinstance(root, dict):
        problem((), "the file must be a mapping with a `tests:` list (see docs/testing.md)")
        return cf
    for key in root:
        if key not in FILE_KEYS:
            problem((key,), f"unknown top-level key {str(key)!r}{_suggest(str(key), FILE_KEYS)}"
                    " (allowed: tests, mappings, name_prefix)", key=True)
    cf.mappings = p.parent
    if "mappings" in root:
        m = root["mappings"]
        if not isinstance(m, str) or not m:
            problem(("mappings",), "`mappings` must be a path to a directory or a .map file")
        else:
            target = p.parent / m
            if not target.exists():
                problem(("mappings",), f"`mappings`: {target} does not exist")
            cf.mappings = target
    if "name_prefix" in root:
        prefix = root["name_prefix"]
        if not isinstance(prefix, str) or not prefix.isidentifier():
            problem(("name_prefix",), "`name_prefix` must be the name of a `const` of the mappings, e.g. `prefix`")
        else:
            cf.name_prefix = prefix
    if "tests" not in root:
        problem((), "missing `tests:` (a list of tests)")
        return cf
    tests = root["tests"]
    if not isinstance(tests, list) or not tests:
        problem(("tests",), "`tests` must be a non-empty list of tests (`- name: ...`)")
        return cf
    if cf.problems:
        return cf
    seen: dict[str, int] = {}
    for i, item in enumerate(tests):
        case = _load_case(cf, doc, i, item)
        if case.name in seen and case.index >= 0:
            case.problems.append(Problem(cf.display, case.line,
                                         f"duplicate test name {case.name!r} (first at line {seen[case.name]})"))
        seen.setdefault(case.name, case.line)
        cf.cases.append(case)
    return cf


def _load_case(cf: CaseFile, doc: Doc, i: int, item: Any) -> Case:
    base: Path_ = ("tests", i)
    line = doc.line(base)
    case = Case(cf, i, f"#{i + 1}", line)

    def problem(path: Path_, message: str, *, key: bool = False) -> None:
        ln = doc.key_line((*base, *path)) if key else doc.line((*base, *path))
        case.problems.append(Problem(cf.display, ln, message))

    if not isinstance(item, dict):
        problem((), "a test must be a mapping (`- name: ...`, `sample: ...`, `expect: ...`)")
        return case
    for key in item:
        if key not in CASE_KEYS:
            problem((key,), f"unknown key {str(key)!r} in a test{_suggest(str(key), CASE_KEYS)}", key=True)
    name = item.get("name")
    if isinstance(name, str) and name.strip():
        case.name = name.strip()
    elif "name" in item:
        problem(("name",), "`name` must be a non-empty text")
    else:
        problem((), "this test has no `name`")

    # the body
    given = [k for k in _INPUT_KEYS if k in item]
    if not given:
        problem((), "this test has no body: give `sample: TYPE`, `input: {...}` or `input_file: FILE`")
    elif len(given) > 1:
        problem((given[1],), f"give only one of `sample`, `input` and `input_file` (found {', '.join(given)})",
                key=True)
    else:
        case.body = _load_body(cf, item, given[0], problem)
    if "patch" in item and case.body is not None:
        patch = item["patch"]
        if not isinstance(patch, dict):
            problem(("patch",), "`patch` must be a mapping merged into the body, e.g. `data: {currency: JPY}`")
        else:
            try:
                case.body = _apply_patch(case.body, patch, ())
            except _PatchError as exc:
                problem(("patch", *exc.path), exc.message)

    if "headers" in item:
        headers = item["headers"]
        if not isinstance(headers, dict):
            problem(("headers",), "`headers` must be a mapping of header names to text")
        else:
            for k, v in headers.items():
                if not isinstance(v, str):
                    problem(("headers", k), f"header {k!r} must be text; quote it: {json.dumps(str(v))}")
                else:
                    case.headers[str(k)] = v

    if "expect" in item and "expect_error" in item:
        problem(("expect_error",), "give either `expect` or `expect_error`, not both", key=True)
    elif "expect" in item:
        _load_expect(case, item["expect"], problem)
    elif "expect_error" in item:
        err = item["expect_error"]
        if not isinstance(err, str) or not err:
            problem(("expect_error",), "`expect_error` must be a text the error message contains")
        else:
            case.kind, case.error = "error", err
    if "exact" in item:
        if not isinstance(item["exact"], bool):
            problem(("exact",), "`exact` must be true or false")
        else:
            case.exact = item["exact"]
    return case


def _load_body(cf: CaseFile, item: dict[Any, Any], key: str, problem: Any) -> Any:
    value = item[key]
    if key == "sample":
        if not isinstance(value, str):
            problem((key,), "`sample` must be the name of a shipped sample, e.g. `payment.succeeded`")
            return None
        text = samples.read(value)
        if text is None:
            problem((key,), f"no shipped sample {value!r}{_suggest(value, samples.names())} "
                    "(`paymap run --list-samples` lists them)")
            return None
        return json.loads(text)
    if key == "input":
        if not isinstance(value, dict):
            problem((key,), "`input` must be a mapping: the webhook body (`{type: ..., data: {...}}`)")
            return None
        _check_keys_text(value, (key,), problem)
        return copy.deepcopy(value)
    if not isinstance(value, str) or not value:
        problem((key,), "`input_file` must be a path to a JSON file, relative to this test file")
        return None
    path = cf.path.parent / value
    try:
        data = path.read_bytes()
    except OSError as exc:
        problem((key,), f"cannot read input_file {path}: {exc.strerror or exc}")
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        problem((key,), f"input_file {path} is not UTF-8 text")
    except json.JSONDecodeError as exc:
        problem((key,), f"input_file {path} is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}")
    return None


def _check_keys_text(value: Any, path: Path_, problem: Any) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                problem((*path, k), f"key {k!r} must be text; quote it: \"{k}\"", key=True)
            _check_keys_text(v, (*path, k), problem)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_keys_text(v, (*path, i), problem)


def _load_expect(case: Case, value: Any, problem: Any) -> None:
    if value in ("dropped", "skipped"):
        case.kind = value
        return
    if isinstance(value, str):
        problem(("expect",), f"`expect` must be a list of events, `dropped` or `skipped`, not {value!r}"
                f"{_suggest(value, ('dropped', 'skipped'))}")
        return
    if not isinstance(value, list):
        problem(("expect",), "`expect` must be a list of events (`- name: ...`), `dropped` or `skipped`")
        return
    for j, ev in enumerate(value):
        if not isinstance(ev, dict):
            problem(("expect", j), "each expected event must be a mapping, e.g. `- name: payment.succeeded`")
        else:
            _check_keys_text(ev, ("expect", j), problem)
    case.kind = "events"
    case.events = value


class _PatchError(PaymapError):
    def __init__(self, message: str, path: Path_) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def _apply_patch(target: Any, patch: Any, path: Path_) -> Any:
    """Deep-merge ``patch`` into ``target`` (see docs/testing.md). Returns the new value."""
    if not isinstance(patch, dict):
        return _clean(patch, path)
    int_keys = [k for k in patch if isinstance(k, int)]
    if isinstance(target, list):
        if len(int_keys) != len(patch):
            raise _PatchError("this value is a list: patch its elements by index (`0: {...}`) "
                              "or replace it with a list", path)
        out_list = list(target)
        for k, v in patch.items():
            if not -len(out_list) <= k < len(out_list):
                raise _PatchError(f"index {k} is outside the list (it has {len(out_list)} elements)", (*path, k))
            if v == DELETE_MARK:
                raise _PatchError("`~delete` cannot remove a list element; replace the whole list", (*path, k))
            out_list[k] = _apply_patch(out_list[k], v, (*path, k))
        return out_list
    if int_keys:
        what = "missing" if target is ABSENT else json.dumps(target)[:40]
        raise _PatchError(f"index {int_keys[0]} patches a list element, but this value is {what}",
                          (*path, int_keys[0]))
    out: dict[str, Any] = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v == DELETE_MARK:
            out.pop(k, None)
        else:
            out[k] = _apply_patch(out.get(k, ABSENT), v, (*path, k))
    return out


def _clean(value: Any, path: Path_) -> Any:
    if value == DELETE_MARK:
        raise _PatchError("`~delete` removes a key of a mapping; here there is no key to remove", path)
    if isinstance(value, dict):
        for k in value:
            if not isinstance(k, str):
                raise _PatchError(f"key {k!r} must be text (an index only patches an existing list)", (*path, k))
        return {k: _clean(v, (*path, k)) for k, v in value.items() if v != DELETE_MARK}
    if isinstance(value, list):
        return [_clean(v, (*path, i)) for i, v in enumerate(value)]
    return value


# --- running ---------------------------------------------------------------------------------


class Runner:
    """Runs cases; compiles each mapping set (a directory or file) once."""

    def __init__(self) -> None:
        self._sets: dict[Path, MappingSet | CompileError] = {}

    def mappings(self, path: Path) -> MappingSet | CompileError:
        key = path.resolve()
        got = self._sets.get(key)
        if got is None:
            try:
                got = load(str(path))
            except CompileError as exc:
                got = exc
            self._sets[key] = got
        return got

    def run(self, case: Case) -> CaseResult:
        started = time.perf_counter()
        result = self._run(case)
        result.seconds = time.perf_counter() - started
        return result

    def _run(self, case: Case) -> CaseResult:
        if case.problems:
            return CaseResult(case, "error", message="\n".join(str(p) for p in case.problems))
        assert case.file.mappings is not None
        ms = self.mappings(case.file.mappings)
        if isinstance(ms, CompileError):
            return CaseResult(case, "error", message=f"the mappings in {case.file.mappings} do not compile:\n"
                              + ms.rendered.rstrip(), compile_error=ms)
        prefix = ""
        if case.file.name_prefix is not None:
            try:
                value = ms.constant(case.file.name_prefix)
            except (KeyError, ValueError) as exc:
                value = exc
            if not isinstance(value, str):
                why = "no such constant" if isinstance(value, KeyError) else \
                    str(value) if isinstance(value, ValueError) else "its value is not text"
                line = case.file.doc.line(("name_prefix",)) if case.file.doc else 0
                return CaseResult(case, "error", message=f"{case.file.display}:{line}: `name_prefix: "
                                  f"{case.file.name_prefix}`: {why} in {case.file.mappings}")
            prefix = value
        actual = execute(ms, case.body)
        actual.name_prefix = prefix
        return compare(case, actual)


def _with_prefix(event: Any, prefix: str) -> Any:
    """An expected event of a file with ``name_prefix``: its name with the prefix."""
    if prefix and isinstance(event, dict) and isinstance(event.get("name"), str):
        return {**event, "name": prefix + event["name"]}
    return event


def _without_prefix(event: dict[str, Any], prefix: str) -> dict[str, Any]:
    """An actual event as a test file with ``name_prefix`` writes it: its name without the prefix."""
    name = event.get("name")
    if prefix and isinstance(name, str) and name.startswith(prefix):
        return {**event, "name": name[len(prefix):]}
    return event


_RUNNER: Runner | None = None


def _default_runner() -> Runner:
    global _RUNNER
    if _RUNNER is None:
        _RUNNER = Runner()
    return _RUNNER


def execute(ms: MappingSet, body: Any) -> Actual:
    try:
        outcome = ms.run(body)
    except MappingError as exc:
        return Actual("error", error=exc)
    dropped = {id(r) for r in outcome.dropped}
    producers = [r for r in outcome.rules if id(r) not in dropped]
    if outcome.events:
        return Actual("events", outcome.events, producers, outcome.dropped)
    if outcome.matched:
        return Actual("dropped", dropped_by=outcome.dropped)
    return Actual("skipped")


def compare(case: Case, actual: Actual) -> CaseResult:
    def fail(message: str) -> CaseResult:
        return CaseResult(case, "failed", actual, message)

    if case.kind == "unset":
        return fail("no expectation: add `expect:` or `expect_error:` "
                    f"(or run `paymap test --update` to record the actual output); actual: {actual.describe()}")
    if case.kind == "error":
        assert case.error is not None
        if actual.kind != "error":
            return fail(f"expected an error containing {case.error!r}, but got {actual.describe()}")
        if case.error not in str(actual.error):
            return fail(f"expected an error containing {case.error!r}, but the error is: {actual.error}")
        return CaseResult(case, "passed", actual)
    if case.kind in ("dropped", "skipped"):
        if actual.kind != case.kind:
            wanted = "dropped by a rule" if case.kind == "dropped" else "skipped (no rule receives it)"
            return fail(f"expected the body to be {wanted}, but got {actual.describe()}")
        return CaseResult(case, "passed", actual)
    if actual.kind == "error":
        return fail(f"expected {_count(len(case.events))}, but {actual.describe()}")
    if len(case.events) != len(actual.events):
        return fail(f"expected {_count(len(case.events))}, got {actual.describe()}")
    diffs: list[Difference] = []
    doc = case.file.doc
    for i, (exp, got) in enumerate(zip(case.events, actual.events, strict=True)):
        found: list[tuple[tuple[str | int, ...], Any, Any]] = []
        _diff(_with_prefix(exp, actual.name_prefix), got, (), case.exact, found)
        rule = actual.producers[i] if i < len(actual.producers) else None
        for keys, e, a in found:
            line = doc.line(("tests", case.index, "expect", i, *keys)) if doc else case.line
            diffs.append(Difference(i, keys, e, a, line, _origin(rule, keys) if rule else None))
    if diffs:
        k = len(diffs)
        return CaseResult(case, "failed", actual, f"{k} field{'s' if k != 1 else ''} differ{'s' if k == 1 else ''}",
                          diffs)
    return CaseResult(case, "passed", actual)


def _count(k: int) -> str:
    return "no events" if k == 0 else f"{k} event{'s' if k != 1 else ''}"


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: 1 == 1.0, but true != 1 and "1" != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _diff(exp: Any, got: Any, keys: tuple[str | int, ...], exact: bool,
          out: list[tuple[tuple[str | int, ...], Any, Any]]) -> None:
    if exp == MISSING_MARK:
        if got is not ABSENT:
            out.append((keys, exp, got))
        return
    if exp == ANY_MARK:
        if got is ABSENT:
            out.append((keys, exp, got))
        return
    if got is ABSENT:
        out.append((keys, exp, got))
        return
    if isinstance(exp, dict) and isinstance(got, dict):
        for k, v in exp.items():
            _diff(v, got.get(k, ABSENT), (*keys, k), exact, out)
        if exact:
            for k, v in got.items():
                if k not in exp:
                    out.append(((*keys, k), ABSENT, v))
        return
    if isinstance(exp, list) and isinstance(got, list) and len(exp) == len(got):
        for j, (e, g) in enumerate(zip(exp, got, strict=True)):
            _diff(e, g, (*keys, j), exact, out)
        return
    if not json_equal(exp, got):
        out.append((keys, exp, got))


def _origin(rule: Rule, keys: tuple[str | int, ...]) -> str:
    """The `.map` statement that produced the output field at ``keys``."""
    rules = rule.compiled.module.rules
    ast_rule = rules[rule.index] if 0 <= rule.index < len(rules) else None
    strs: list[str] = []
    for k in keys:
        if not isinstance(k, str):
            break
        strs.append(k)
    field_path = tuple(strs)
    assigns = [s for s in (ast_rule.body if ast_rule else []) if isinstance(s, n.Assign)]
    best: n.Assign | None = None
    for s in assigns:
        t = s.target
        if len(t) <= len(field_path) and field_path[: len(t)] == t and (best is None or len(t) > len(best.target)):
            best = s
    if best is None:
        below = [s for s in assigns if s.target[: len(field_path)] == field_path]
        if below:
            best = below[0]
    if best is None:
        return f"no statement assigns `{field_text(keys)}` in the rule at {rule.label}"
    return f"{rule.file}:{best.span.line}  {statement_text(rule, best)}"


def statement_text(rule: Rule, stmt: n.Assign) -> str:
    """``data.amount = money(...)`` as written, without alignment padding or a trailing comment."""
    src = rule.compiled.source
    target = _slice(src.line_text, stmt.target_span)
    value = _slice(src.line_text, stmt.value.span)
    return f"{target} = {value}"


def _slice(line_text: Any, span: Any) -> str:
    if span.line == span.end_line:
        return str(line_text(span.line)[span.column - 1: span.end_column - 1])
    first = str(line_text(span.line)[span.column - 1:]).rstrip()
    return first + " …"


# --- reporting -------------------------------------------------------------------------------


def field_text(keys: Sequence[str | int]) -> str:
    out = ""
    for k in keys:
        if isinstance(k, int):
            out += f"[{k}]"
        elif k.isidentifier():
            out += f".{k}" if out else k
        else:
            out += f'."{k}"' if out else f'"{k}"'
    return out or "(the event)"


def show_value(value: Any, limit: int = 300) -> str:
    if value is ABSENT:
        return "missing"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_result(result: CaseResult) -> str:
    case = result.case
    head = {"passed": "PASS", "failed": "FAIL", "error": "ERROR"}[result.status]
    lines = [f"{head} {case.where}: {case.name}"]
    if result.status == "passed":
        return lines[0]
    if result.status == "error":
        lines.extend("  " + ln for ln in result.message.splitlines())
        return "\n".join(lines)
    actual = result.actual
    if not result.differences:
        lines.append("  " + result.message)
        if actual is not None and actual.kind == "events":
            for i, ev in enumerate(actual.events):
                rule = actual.producers[i] if i < len(actual.producers) else None
                origin = f" (rule at {rule.label})" if rule else ""
                lines.append(f"  actual event {i + 1}{origin}: {show_value(ev, 2000)}")
        return "\n".join(lines)
    assert actual is not None
    shown_event = -1
    width = max(len(show_value(d.expected, 60)) for d in result.differences)
    width = min(max(width, 10), 40)
    for d in result.differences:
        if d.event != shown_event:
            shown_event = d.event
            ev = actual.events[d.event]
            rule = actual.producers[d.event] if d.event < len(actual.producers) else None
            name = f' "{ev.get("name")}"' if isinstance(ev.get("name"), str) else ""
            lines.append(f"  event {d.event + 1}{name}" + (f" (rule at {rule.label})" if rule else ""))
        lines.append(f"    {field_text(d.keys)}")
        if d.expected is ABSENT:
            lines.append(f"      expected  {'(not present: exact: true)':<{width}}")
        else:
            lines.append(f"      expected  {show_value(d.expected):<{width}}  line {d.expected_line}")
        lines.append(f"      actual    {show_value(d.actual)}")
        if d.origin:
            lines.append(f"      from      {d.origin}")
    return "\n".join(lines)


def github_annotation(result: CaseResult) -> str:
    def esc(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def prop(text: str) -> str:
        return esc(text).replace(":", "%3A").replace(",", "%2C")

    case = result.case
    body = render_result(result).split("\n", 1)
    message = body[1] if len(body) > 1 else result.message
    return (f"::error file={prop(case.file.display)},line={case.line},title={prop('paymap test: ' + case.name)}"
            f"::{esc(message)}")


def junit_xml(results: Sequence[CaseResult]) -> str:
    """A JUnit XML report: one testsuite per test file, one testcase per test."""
    suites: dict[str, list[CaseResult]] = {}
    for r in results:
        suites.setdefault(r.case.file.display, []).append(r)
    root = ET.Element("testsuites", name="paymap test", tests=str(len(results)),
                      failures=str(sum(r.status == "failed" for r in results)),
                      errors=str(sum(r.status == "error" for r in results)),
                      time=f"{sum(r.seconds for r in results):.3f}")
    for display, rs in suites.items():
        suite = ET.SubElement(root, "testsuite", name=display, tests=str(len(rs)),
                              failures=str(sum(r.status == "failed" for r in rs)),
                              errors=str(sum(r.status == "error" for r in rs)),
                              time=f"{sum(r.seconds for r in rs):.3f}")
        for r in rs:
            tc = ET.SubElement(suite, "testcase", classname=display, name=r.case.name,
                               file=display, line=str(r.case.line), time=f"{r.seconds:.3f}")
            if r.status != "passed":
                text = render_result(r)
                first = text.split("\n")[1].strip() if "\n" in text else r.message
                el = ET.SubElement(tc, "failure" if r.status == "failed" else "error",
                                   message=_xml_safe(first), type="mismatch" if r.status == "failed" else "invalid")
                el.text = _xml_safe(text)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _xml_safe(text: str) -> str:
    return "".join(ch if ch in "\t\n\r" or (ord(ch) >= 0x20 and ch not in "\ufffe\uffff") else "\ufffd" for ch in text)


# --- --update --------------------------------------------------------------------------------


@dataclass(slots=True)
class Update:
    """The new text of one test file, and which tests it changes."""

    file: CaseFile
    new_text: str
    updated: list[Case]
    not_updated: list[tuple[Case, str]]

    def diff(self) -> str:
        return "".join(difflib.unified_diff(self.file.text.splitlines(keepends=True),
                                            self.new_text.splitlines(keepends=True),
                                            f"{self.file.display}", f"{self.file.display} (updated)"))


def plan_update(cf: CaseFile, results: Sequence[CaseResult], runner: Runner | None = None) -> Update:
    """Rewrite the expectations of the failed tests of one file from their actual outcome.

    The new text is loaded and the updated tests are run again; if any of them would still fail
    the whole file is left alone (reported in ``not_updated``).
    """
    runner = runner or _default_runner()
    edits: list[Edit] = []
    updated: list[Case] = []
    skipped: list[tuple[Case, str]] = []
    doc = cf.doc
    for r in results:
        if r.case.file is not cf or r.status == "passed":
            continue
        if r.status == "error" or r.actual is None or doc is None:
            skipped.append((r.case, "the test itself is invalid; fix it first"))
            continue
        node = doc.nodes.get(("tests", r.case.index))
        if not isinstance(node, yaml.MappingNode):
            skipped.append((r.case, "the test is not a mapping"))
            continue
        edits.extend(_case_edits(r.case, r.actual, node, doc))
        updated.append(r.case)
    if not edits:
        return Update(cf, cf.text, [], skipped)
    new_text = testyaml.apply_edits(cf.text, edits)
    check = load_file(cf.path, new_text)
    by_index = {c.index: c for c in check.all_cases()}
    for case in updated:
        again = by_index.get(case.index)
        outcome = runner.run(again) if again is not None else None
        if outcome is None or outcome.status != "passed":
            why = outcome.report() if outcome is not None else "the rewritten file cannot be read"
            return Update(cf, cf.text, [], [*skipped, (case, "could not rewrite it safely:\n" + why)])
    return Update(cf, new_text, updated, skipped)


def expectation_of(actual: Actual) -> tuple[str, Any]:
    """The `expect`/`expect_error` key and value that describe ``actual``."""
    if actual.kind == "error":
        assert actual.error is not None
        return "expect_error", actual.error.message
    if actual.kind in ("dropped", "skipped"):
        return "expect", actual.kind
    return "expect", [_without_prefix(e, actual.name_prefix) for e in actual.events]


def _case_edits(case: Case, actual: Actual, node: yaml.MappingNode, doc: Doc) -> list[Edit]:
    text = doc.text
    key, value = expectation_of(actual)
    pair = testyaml.mapping_pair(node, "expect") or testyaml.mapping_pair(node, "expect_error")
    keep_shape = (case.kind == "events" and actual.kind == "events" and not case.exact
                  and len(case.events) == len(actual.events) and pair is not None
                  and isinstance(pair[1], yaml.SequenceNode))
    if keep_shape:
        assert pair is not None
        seq = pair[1]
        assert isinstance(seq, yaml.SequenceNode)
        edits: list[Edit] = []
        for ev_node, exp, got in zip(seq.value, case.events, actual.events, strict=True):
            _shape_edits(ev_node, exp, _without_prefix(got, actual.name_prefix), text, edits)
        return edits
    if pair is not None and pair[0].value == key:
        return [testyaml.replace_pair_value(pair[0], pair[1], value, text)]  # same key: only the value
    return [testyaml.set_key(node, key, value, text, pair)]  # a new key (expect <-> expect_error)


def _shape_edits(node: yaml.Node, exp: Any, got: Any, text: str, out: list[Edit],
                 key: yaml.Node | None = None) -> None:
    """Edits that make ``exp`` (written at ``node``, the value of ``key``) match ``got``, keeping its keys."""

    def replace(value: Any) -> None:
        if key is not None:
            out.append(testyaml.replace_pair_value(key, node, value, text))
        else:
            out.append(testyaml.replace_value(node, value, text))

    if exp == MISSING_MARK:
        if got is not ABSENT:
            replace(got)
        return
    if exp == ANY_MARK:
        if got is ABSENT:
            replace(MISSING_MARK)
        return
    if got is ABSENT:
        replace(MISSING_MARK)
        return
    if isinstance(exp, dict) and isinstance(got, dict) and isinstance(node, yaml.MappingNode):
        children = {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
        if any(k not in children for k in exp):  # e.g. an alias: fall back to the whole value
            if not json_equal(exp, got):
                replace(got)
            return
        for k, v in exp.items():
            child_key, child = children[k]
            _shape_edits(child, v, got.get(k, ABSENT), text, out, child_key)
        return
    if (isinstance(exp, list) and isinstance(got, list) and len(exp) == len(got)
            and isinstance(node, yaml.SequenceNode)):
        for child, e, g in zip(node.value, exp, got, strict=True):
            _shape_edits(child, e, g, text, out)
        return
    if not json_equal(exp, got):
        replace(got)
