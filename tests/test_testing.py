"""``*.test.yaml`` files and ``paymap test``: format, comparison, reports, --update, --junit, exit codes."""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from runtime import testing, testyaml
from runtime.cli import main

PAYMENT_MAP = """\
# payments
on "payment.succeeded"

name            = "payment.succeeded"
data.payment_id = data.payment_id
data.amount     = money(data.total_amount, data.currency)
data.currency   = data.currency
data.tags       = ["a", "b"]
data.note       = data.customer.name
user.email      = data.customer.email
ts              = epoch_ms(timestamp)


on "payment.failed"

drop if data.status == "failed"
name = "payment.failed"


on "refund.succeeded"

name        = "refund.done"
data.amount = required(data.amount)
"""

ALSO_MAP = """\
also on "payment.succeeded"

name      = "analytics.payment"
data.kind = "payment"
"""


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, "maps/payment.map", PAYMENT_MAP)
    return tmp_path / "maps"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["test", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def results_of(path: Path) -> list[testing.CaseResult]:
    runner = testing.Runner()
    return [runner.run(c) for c in testing.load_file(path).all_cases()]


# --- YAML reading ----------------------------------------------------------------------------


def test_yaml_reads_1_2_core_scalars_and_dates_as_text() -> None:
    doc = testyaml.load("a: yes\nb: on\nc: 2025-08-04T08:13:04Z\nd: 2999\ne: '2999'\nf: 1e3\ng: ~\nh: true\n")
    assert doc.value == {"a": "yes", "b": "on", "c": "2025-08-04T08:13:04Z", "d": 2999, "e": "2999",
                         "f": 1000.0, "g": None, "h": True}


def test_yaml_duplicate_keys_and_syntax_errors_have_lines() -> None:
    with pytest.raises(testyaml.YamlError) as exc:
        testyaml.load("tests:\n  - name: a\n    name: b\n")
    assert exc.value.line == 3 and "duplicate key 'name' (first at line 2)" in exc.value.message
    with pytest.raises(testyaml.YamlError) as exc:
        testyaml.load("tests:\n  - name: [a\n")
    assert exc.value.line >= 2 and "invalid YAML" in exc.value.message


def test_dumped_values_read_back_identically() -> None:
    values = ["on", "1e5", "0x1F", "2999", "", " pad", "a: b", "#x", "~missing", "-", "null", "é ✓", "x\ny"]
    data = {"list": values, "nested": {"n": 1, "f": 29.99, "t": True, "z": None}}
    assert testyaml.load("v: " + testyaml.dump_inline(data)).value == {"v": data}
    assert testyaml.load("v:\n  " + testyaml.dump_block(data, 2)).value == {"v": data}


# --- loading problems --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "line", "message"), [
    ("tests:\n  - name: a\n    sample: payment.succeeded\n    expects: []\n", 4,
     "unknown key 'expects' in a test; did you mean 'expect'?"),
    ("tests:\n  - name: a\n    sample: payment.succeded\n    expect: []\n", 3,
     "no shipped sample 'payment.succeded'; did you mean 'payment.succeeded'?"),
    ("tests:\n  - name: a\n    input_file: nope.json\n    expect: []\n", 3, "cannot read input_file"),
    ("tests:\n  - name: a\n    expect: []\n", 2, "this test has no body"),
    ("tests:\n  - name: a\n    sample: payment.succeeded\n    input: {}\n", 4, "give only one of"),
    ("tests:\n  - name: a\n    sample: payment.succeeded\n    expect: drop\n", 4,
     "did you mean 'dropped'?"),
    ("tests:\n  - name: a\n    sample: payment.succeeded\n    expect: []\n    expect_error: x\n", 5,
     "either `expect` or `expect_error`"),
    ("tests:\n  - name: a\n    sample: payment.succeeded\n    expect: []\n"
     "  - name: a\n    sample: payment.succeeded\n    expect: []\n", 5, "duplicate test name 'a' (first at line 2)"),
    ("test:\n  - name: a\n", 1, "unknown top-level key 'test'; did you mean 'tests'?"),
    ("", 1, "the file is empty"),
    ("tests: [\n", 2, "invalid YAML"),
    ("tests:\n  - name: a\n    sample: payment.succeeded\n    headers: {webhook-id: 1}\n    expect: []\n", 4,
     "header 'webhook-id' must be text"),
    ("tests:\n  - name: a\n    sample: payment.succeeded\n    patch: {data: {disputes: {3: {}}}}\n"
     "    expect: []\n", 4, "index 3 is outside the list (it has 0 elements)"),
    ("tests:\n  - name: a\n    sample: payment.succeeded\n    exact: yes\n    expect: []\n", 4,
     "`exact` must be true or false"),
])
def test_invalid_test_files_are_reported_with_file_and_line(project: Path, text: str, line: int,
                                                            message: str) -> None:
    path = write(project, "payment.test.yaml", text)
    results = results_of(path)
    errors = [r for r in results if r.status == "error"]
    assert errors, [r.report() for r in results]
    report = "\n".join(r.report() for r in errors)
    assert f"{path}:{line}: " in report
    assert message in report


def test_invalid_file_through_the_cli_is_a_failure_without_traceback(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "payment.test.yaml", "tests:\n  - name: a\n    sample: payment.succeeded\n    expects: []\n")
    code, out, err = run_cli(capsys, str(project))
    assert code == 1
    assert "ERROR" in out and "payment.test.yaml:4: unknown key 'expects'" in out
    assert "Traceback" not in out + err


# --- bodies and patches ------------------------------------------------------------------------


def test_patch_merges_deletes_sets_null_and_patches_list_elements(project: Path) -> None:
    path = write(project, "payment.test.yaml", """\
        tests:
          - name: p
            input:
              type: payment.succeeded
              data: {a: 1, b: {c: 2, d: 3}, items: [{q: 1}, {q: 2}], gone: x}
            patch:
              data:
                b: {c: 20}
                items: {-1: {q: 9}}
                gone: ~delete
                nul: null
                new: {deep: {x: 1, y: ~delete}}
            expect: []
        """)
    (case,) = testing.load_file(path).cases
    assert not case.problems
    assert case.body == {"type": "payment.succeeded",
                         "data": {"a": 1, "b": {"c": 20, "d": 3}, "items": [{"q": 1}, {"q": 9}],
                                  "nul": None, "new": {"deep": {"x": 1}}}}


def test_input_file_is_relative_to_the_test_file(project: Path) -> None:
    write(project, "bodies/b.json", '{"type": "payment.succeeded", "timestamp": "2025-01-01T00:00:00Z", '
                                    '"data": {"total_amount": 100, "currency": "EUR"}}')
    path = write(project, "payment.test.yaml", """\
        tests:
          - name: from a file
            input_file: bodies/b.json
            headers: {webhook-id: msg_1}
            expect:
              - data: {amount: "1.00", currency: EUR}
        """)
    (r,) = results_of(path)
    assert r.status == "passed", r.report()
    assert r.case.headers == {"webhook-id": "msg_1"}


# --- comparison --------------------------------------------------------------------------------


def test_partial_exact_missing_any_and_json_equality(project: Path) -> None:
    path = write(project, "payment.test.yaml", """\
        tests:
          - name: partial
            sample: payment.succeeded
            expect:
              - name: payment.succeeded
                data: {amount: "29.99", tags: [a, b], payment_id: ~any, nothere: ~missing}
          - name: jpy
            sample: payment.succeeded
            patch: {data: {currency: JPY}}
            expect:
              - data: {amount: "2999"}
          - name: number is not a string
            sample: payment.succeeded
            patch: {data: {currency: JPY}}
            expect:
              - data: {amount: 2999}
          - name: ts as float equals int
            sample: payment.succeeded
            expect:
              - ts: 1754295184882.0
          - name: list length
            sample: payment.succeeded
            expect:
              - data: {tags: [a]}
          - name: exact
            sample: payment.succeeded
            exact: true
            expect:
              - name: payment.succeeded
          - name: missing customer leaves fields out
            sample: payment.succeeded
            patch: {data: {customer: null}}
            expect:
              - user: {email: ~missing}
                data: {note: ~missing}
          - name: any on missing fails
            sample: payment.succeeded
            patch: {data: {customer: ~delete}}
            expect:
              - data: {note: ~any}
        """)
    by_name = {r.case.name: r for r in results_of(path)}
    passed = {k for k, r in by_name.items() if r.status == "passed"}
    assert passed == {"partial", "jpy", "ts as float equals int", "missing customer leaves fields out"}
    diff = by_name["number is not a string"].differences[0]
    assert (diff.keys, diff.expected, diff.actual) == (("data", "amount"), 2999, "2999")
    assert by_name["list length"].differences[0].keys == ("data", "tags")
    exact_keys = {d.keys for d in by_name["exact"].differences}
    assert ("data",) in exact_keys and ("ts",) in exact_keys and ("name",) not in exact_keys
    assert by_name["any on missing fails"].differences[0].actual is testing.ABSENT


def test_true_is_not_one() -> None:
    assert testing.json_equal(1, 1.0)
    assert not testing.json_equal(True, 1)
    assert not testing.json_equal("1", 1)
    assert not testing.json_equal(None, False)
    assert testing.json_equal({"a": [1, {"b": None}]}, {"a": [1.0, {"b": None}]})


def test_dropped_skipped_empty_and_errors(project: Path) -> None:
    path = write(project, "payment.test.yaml", """\
        tests:
          - name: dropped
            sample: payment.failed
            expect: dropped
          - name: dropped is not skipped
            sample: payment.failed
            expect: skipped
          - name: skipped
            sample: dispute.opened
            expect: skipped
          - name: empty list accepts either
            sample: dispute.opened
            expect: []
          - name: error
            sample: refund.succeeded
            patch: {data: {amount: ~delete}}
            expect_error: required
          - name: error text differs
            sample: refund.succeeded
            patch: {data: {amount: ~delete}}
            expect_error: something else
          - name: events but error
            sample: refund.succeeded
            patch: {data: {amount: ~delete}}
            expect:
              - name: refund.done
        """)
    by_name = {r.case.name: r for r in results_of(path)}
    assert {k for k, r in by_name.items() if r.status == "passed"} == {
        "dropped", "skipped", "empty list accepts either", "error"}
    assert "dropped by the rule at" in by_name["dropped is not skipped"].report()
    assert "the error is:" in by_name["error text differs"].report()
    assert "but the mapping failed" in by_name["events but error"].report()


def test_report_points_at_the_map_line_of_each_differing_field(project: Path) -> None:
    path = write(project, "payment.test.yaml", """\
        tests:
          - name: wrong
            sample: payment.succeeded
            patch: {data: {currency: JPY}}
            expect:
              - data:
                  amount: "29.99"
                  extra: 1
        """)
    (r,) = results_of(path)
    report = r.report()
    assert f"FAIL {path}:2: wrong" in report
    assert f'event 1 "payment.succeeded" (rule at {project / "payment.map"}:2)' in report
    assert 'expected  "29.99"' in report and "line 7" in report
    assert 'actual    "2999"' in report
    assert f"from      {project / 'payment.map'}:6  data.amount = money(data.total_amount, data.currency)" in report
    assert "no statement assigns `data.extra`" in report


def test_the_whole_directory_is_loaded_so_also_rules_count(project: Path) -> None:
    write(project, "analytics.map", ALSO_MAP)
    path = write(project, "payment.test.yaml", """\
        tests:
          - name: two events
            sample: payment.succeeded
            expect:
              - name: payment.succeeded
              - name: analytics.payment
        """)
    (r,) = results_of(path)
    assert r.status == "passed", r.report()


def test_mappings_key_selects_another_set(tmp_path: Path) -> None:
    write(tmp_path, "shared/payment.map", PAYMENT_MAP)
    path = write(tmp_path, "tests/payment.test.yaml", """\
        mappings: ../shared/payment.map
        tests:
          - name: a
            sample: payment.succeeded
            expect:
              - name: payment.succeeded
        """)
    (r,) = results_of(path)
    assert r.status == "passed", r.report()


def test_compile_errors_are_reported_once_per_mapping_set(project: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "broken.map", 'on "x"\nname = nosuch(1)\n')
    write(project, "payment.test.yaml", """\
        tests:
          - {name: a, sample: payment.succeeded, expect: []}
          - {name: b, sample: payment.succeeded, expect: []}
        """)
    code, out, _ = run_cli(capsys, str(project))
    assert code == 1
    assert out.count("do not compile:") == 1 and "do not compile (see above)" in out
    assert "broken.map" in out


# --- the command ---------------------------------------------------------------------------------


def test_cli_exit_codes_and_paths(project: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    write(project, "payment.test.yaml", """\
        tests:
          - {name: ok, sample: payment.succeeded, expect: [{name: payment.succeeded}]}
        """)
    code, out, _ = run_cli(capsys, str(project))
    assert code == 0 and "1 passed in 1 file" in out
    code, out, _ = run_cli(capsys, str(project / "payment.map"))
    assert code == 0
    code, _, err = run_cli(capsys, str(project / "nope"))
    assert code == 2 and "no such file or directory" in err
    write(project, "other.map", 'on "dispute.won"\nname = "x"\n')
    code, _, err = run_cli(capsys, str(project / "other.map"))
    assert code == 2 and "has no tests: create" in err
    write(project, "_settings.map", 'const prefix = ""\n')
    code, _, err = run_cli(capsys, str(project / "_settings.map"))
    assert code == 2 and "declares constants and groups only" in err
    code, out, err = run_cli(capsys, str(project))
    assert code == 0 and "note: no tests for" in err and "other.map" in err
    code, _, err = run_cli(capsys, str(project), "-k", "zzz")
    assert code == 2 and "no test matches" in err
    empty = project.parent / "empty"
    empty.mkdir()
    code, _, err = run_cli(capsys, str(empty))
    assert code == 2 and "no *.test.yaml files" in err
    # default path: mappings/ in the current directory
    monkeypatch.chdir(project.parent)
    project.rename(project.parent / "mappings")
    code, out, _ = run_cli(capsys)
    assert code == 0 and "mappings/payment.test.yaml" in out


def test_keyword_selects_tests(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "payment.test.yaml", """\
        tests:
          - {name: USD ok, sample: payment.succeeded, expect: [{name: payment.succeeded}]}
          - {name: broken, sample: payment.succeeded, expect: [{name: nope}]}
        """)
    assert run_cli(capsys, str(project), "-k", "usd")[0] == 0
    assert run_cli(capsys, str(project))[0] == 1


def test_junit_report(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "payment.test.yaml", """\
        tests:
          - {name: ok, sample: payment.succeeded, expect: [{name: payment.succeeded}]}
          - {name: bad, sample: payment.succeeded, expect: [{name: nope}]}
          - {name: invalid, sample: nosuch, expect: []}
        """)
    report = tmp_path / "out" / "junit.xml"
    report.parent.mkdir()
    code, _, _ = run_cli(capsys, str(project), "--junit", str(report))
    assert code == 1
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")
    (suite,) = root.findall("testsuite")
    cases = {tc.get("name"): tc for tc in suite.findall("testcase")}
    assert cases["ok"].find("failure") is None
    failure = cases["bad"].find("failure")
    assert failure is not None and "name" in (failure.text or "")
    assert cases["invalid"].find("error") is not None
    code, _, err = run_cli(capsys, str(project), "--junit", str(tmp_path / "no" / "dir" / "x.xml"))
    assert code == 2 and "cannot write" in err


def test_github_format_prints_annotations(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "payment.test.yaml", """\
        tests:
          - {name: bad, sample: payment.succeeded, expect: [{name: nope}]}
        """)
    code, out, _ = run_cli(capsys, str(project), "--format", "github")
    assert code == 1
    assert f"::error file={project / 'payment.test.yaml'},line=2,title=paymap test%3A bad::" in out


# --- --update ----------------------------------------------------------------------------------

UPDATE_BEFORE = """\
# examples for payment.map — this comment stays
tests:
  - name: keeps its shape   # and this one
    sample: payment.succeeded
    patch:
      data: {currency: JPY}
    expect:
      - data:
          amount: "29.99"     # a comment on a changed line stays
          currency: JPY
          gone: 1
        user: {email: old@example.com}

  - name: passing tests are not touched
    sample: payment.succeeded
    expect:
      - {name: payment.succeeded, data: {amount: "29.99"}}

  - name: new test
    sample: payment.failed
    patch: {data: {status: ok}}

  - name: kind changes
    sample: payment.failed
    expect: skipped

  - name: becomes an error
    sample: refund.succeeded
    patch: {data: {amount: ~delete}}
    expect: []

  - name: count changes
    sample: payment.succeeded
    expect:
      - name: payment.succeeded
      - name: extra
"""


def test_update_rewrites_only_failing_expectations_and_keeps_comments(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(project, "payment.test.yaml", UPDATE_BEFORE)
    code, out, _ = run_cli(capsys, str(project), "--update")
    assert code == 0, out
    assert "+++" in out and "updated 5 tests in" in out
    after = path.read_text(encoding="utf-8")
    assert after.startswith("# examples for payment.map — this comment stays\n")
    assert "  - name: keeps its shape   # and this one\n" in after
    assert '          amount: "2999"     # a comment on a changed line stays\n' in after
    assert "          gone: ~missing\n" in after
    assert "        user: {email: sofiarossi+dodo@example.org}\n" in after
    assert "      - {name: payment.succeeded, data: {amount: \"29.99\"}}\n" in after
    assert "    expect: dropped\n" in after
    assert re.search(r'\n    expect_error: "[^"\n]+"\n', after)
    doc = testyaml.load(after).value
    tests = {t["name"]: t for t in doc["tests"]}
    assert tests["new test"]["expect"][0]["name"] == "payment.failed"
    assert "currency" not in tests["keeps its shape"]["expect"][0]["data"] or \
        tests["keeps its shape"]["expect"][0]["data"]["currency"] == "JPY"
    assert [e["name"] for e in tests["count changes"]["expect"]] == ["payment.succeeded"]
    assert "user" in tests["count changes"]["expect"][0]  # rewritten in full
    # everything passes now, and a second --update changes nothing
    code, out, _ = run_cli(capsys, str(project))
    assert code == 0 and "6 passed" in out
    code, out, _ = run_cli(capsys, str(project), "--update")
    assert code == 0 and path.read_text(encoding="utf-8") == after


def test_update_leaves_invalid_tests_alone(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "tests:\n  - {name: a, sample: nosuch, expect: []}\n"
    path = write(project, "payment.test.yaml", text)
    code, out, _ = run_cli(capsys, str(project), "--update")
    assert code == 1 and "not updated:" in out
    assert path.read_text(encoding="utf-8") == text


# --- pytest API ----------------------------------------------------------------------------------


def test_collect_and_check(project: Path) -> None:
    write(project, "payment.test.yaml", """\
        tests:
          - {name: ok, sample: payment.succeeded, expect: [{name: payment.succeeded}]}
          - {name: bad, sample: payment.succeeded, expect: [{name: nope}]}
        """)
    cases = testing.collect([project])
    assert [c.id for c in cases] == [f"{project / 'payment.test.yaml'}::ok", f"{project / 'payment.test.yaml'}::bad"]
    cases[0].check()
    with pytest.raises(AssertionError, match="expected  \"nope\""):
        cases[1].check()
    with pytest.raises(testing.UsageError):
        testing.collect([project / "missing"])


# --- robustness: any file gives problems or results, never an exception ------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(
    ["payment.succeeded", "nosuch", "dropped", "skipped", "~delete", "~missing", "~any", "", "x"]))
_keys = st.sampled_from([*testing.CASE_KEYS, "tests", "mappings", "data", "type", "expects", "0"])
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.one_of(_keys, st.integers(-2, 2)), inner, max_size=4)),
    max_leaves=12)


_leaf = st.one_of(_scalars, st.sampled_from(["29.99", "2999", "USD", "a", "b", "payment.succeeded"]))
_event = st.fixed_dictionaries({}, optional={
    "name": _leaf,
    "data": st.one_of(_leaf, st.fixed_dictionaries({}, optional={
        "amount": _leaf, "currency": _leaf, "tags": st.one_of(_leaf, st.lists(_leaf, max_size=3)),
        "note": _leaf, "extra": _leaf})),
    "user": st.one_of(_leaf, st.fixed_dictionaries({}, optional={"email": _leaf})),
    "ts": st.one_of(_leaf, st.just(1754295184882)),
})
_case = st.fixed_dictionaries({
    "sample": st.sampled_from(["payment.succeeded", "payment.failed", "refund.succeeded", "dispute.opened"]),
}, optional={
    "patch": st.sampled_from([{"data": {"currency": "JPY"}}, {"data": {"customer": "~delete"}},
                              {"data": {"amount": "~delete"}}, {"type": "payment.succeeded"}]),
    "expect": st.one_of(st.lists(_event, max_size=2), st.sampled_from(["dropped", "skipped"])),
    "expect_error": st.sampled_from(["required", "nope"]),
    "exact": st.booleans(),
})
_files = st.lists(_case, min_size=1, max_size=4).map(
    lambda cases: {"tests": [{"name": f"t{i}", **c} for i, c in enumerate(cases)]})


@settings(max_examples=100, deadline=None)
@given(st.one_of(
    _files,
    _files,
    st.builds(lambda tests: {"tests": tests}, st.lists(st.dictionaries(_keys, _values, max_size=6), max_size=3)),
    _values,
), st.sampled_from(["", "", "", "\n  - [", "\n\t- x", "\n: :"]))
def test_any_file_gives_problems_or_results_never_an_exception(tmp_path_factory: pytest.TempPathFactory,
                                                                value: object, garbage: str) -> None:
    import yaml

    root = tmp_path_factory.mktemp("fuzz")
    (root / "payment.map").write_text(PAYMENT_MAP)
    text = yaml.safe_dump(value) + garbage
    path = root / "payment.test.yaml"
    path.write_text(text)
    cf = testing.load_file(path)
    runner = testing.Runner()
    results = [runner.run(c) for c in cf.all_cases()]
    for r in results:
        assert r.report()
        if r.status == "error":
            assert re.search(r"payment\.test\.yaml:\d+: ", r.message), r.message
    testing.junit_xml(results)
    update = testing.plan_update(cf, results, runner)
    if update.updated:
        again = testing.load_file(path, update.new_text)
        assert all(runner.run(c).status == "passed" for c in again.all_cases()
                   if c.index in {u.index for u in update.updated})


# --- name_prefix -----------------------------------------------------------------------------

PREFIXED_MAP = """\
const prefix = "shop/"

on "payment.succeeded"
name        = prefix & type
data.amount = money(data.total_amount, data.currency)

on "payment.failed"
name = "payment.failed"
"""


def test_name_prefix_checks_names_with_the_constant_s_value(tmp_path: Path) -> None:
    write(tmp_path, "m/payment.map", PREFIXED_MAP)
    path = write(tmp_path, "m/payment.test.yaml", """\
        name_prefix: prefix
        tests:
          - name: prefixed
            sample: payment.succeeded
            expect:
              - {name: payment.succeeded, data: {amount: "29.99"}}
          - name: a rule that forgot the prefix fails
            sample: payment.failed
            expect:
              - {name: payment.failed}
          - name: written with the prefix fails too
            sample: payment.succeeded
            expect:
              - {name: shop/payment.succeeded}
        """)
    results = results_of(path)
    assert [r.status for r in results] == ["passed", "failed", "failed"]
    assert '"shop/payment.failed"' in results[1].report() and '"payment.failed"' in results[1].report()


@pytest.mark.parametrize(("const", "message"), [
    ("", "`name_prefix: prefix`: no such constant"),
    ('const prefix = lower("X")\n', "`name_prefix: prefix`: the constant `prefix` is computed, not a literal value"),
    ("const prefix = 1\n", "`name_prefix: prefix`: its value is not text"),
])
def test_name_prefix_problems_are_reported_with_the_line(tmp_path: Path, const: str, message: str) -> None:
    write(tmp_path, "m/payment.map", const + '\non "payment.succeeded"\nname = "x"\n')
    path = write(tmp_path, "m/payment.test.yaml", """\
        # a comment
        name_prefix: prefix
        tests:
          - name: t
            sample: payment.succeeded
            expect: [{name: x}]
        """)
    (result,) = results_of(path)
    assert result.status == "error"
    assert f"payment.test.yaml:2: {message}" in result.report()


def test_name_prefix_must_name_a_constant(tmp_path: Path) -> None:
    write(tmp_path, "m/payment.map", PREFIXED_MAP)
    path = write(tmp_path, "m/payment.test.yaml", "name_prefix: [1]\ntests:\n  - {name: t, sample: payment.succeeded}\n")
    (case,) = testing.load_file(path).all_cases()
    assert "`name_prefix` must be the name of a `const` of the mappings" in str(case.problems[0])


def test_update_writes_names_without_the_prefix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "m/payment.map", PREFIXED_MAP)
    path = write(tmp_path, "m/payment.test.yaml", """\
        name_prefix: prefix
        tests:
          - name: record me
            sample: payment.succeeded
        """)
    code, out, _ = run_cli(capsys, str(tmp_path / "m"), "--update")
    assert code == 0, out
    doc = testyaml.load(path.read_text(encoding="utf-8")).value
    assert doc["tests"][0]["expect"][0]["name"] == "payment.succeeded"
    code, out, _ = run_cli(capsys, str(tmp_path / "m"))
    assert code == 0 and "1 passed" in out
