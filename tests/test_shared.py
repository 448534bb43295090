"""Constants and shared lines (`const`, `group`, `defaults`, `use`): what rules produce, which line
wins, the checks, `--explain`, the formatter, and what back ends see (plain rules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dsl import nodes as n
from dsl.compiler import compile_paths, compile_sources, parse_source
from dsl.formatter import format_source
from runtime import CompileError, load
from runtime.cli import main
from tests.conftest import sample

SETTINGS = '''const prefix  = "dodo/"
const version = "2"
const full    = prefix & "all"

group event
v  = version
ts = epoch_ms(timestamp)
'''

PAYMENTS = '''defaults
use event
id              = "dodo:" & type & ":" & data.payment_id & ":" & timestamp
data.payment_id = required(data.payment_id)

group customer
data.customer_id = data.customer.customer_id
user.email       = data.customer.email

on "payment.succeeded"
use customer
name        = prefix & "payment.succeeded"
user.email  = lower(data.customer.email)

on "payment.*"
name = prefix & type
use customer
v    = "3"
user = {}
'''


def write(tmp: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp / name).write_text(text, encoding="utf-8")
    return tmp


def codes(tmp: Path, *paths: str) -> list[tuple[str, str, int]]:
    result = compile_paths([str(tmp / p) for p in paths] or [str(tmp)])
    return [(d.code, Path(d.span.file).name, d.span.line) for d in result.diagnostics]


@pytest.fixture
def library(tmp_path: Path) -> Path:
    return write(tmp_path, {"_settings.map": SETTINGS, "payment.map": PAYMENTS})


def test_constants_and_shared_lines_across_files(library: Path) -> None:
    ms = load(str(library))
    (event,) = ms.apply(sample("payment.succeeded"))
    body = sample("payment.succeeded")
    assert event == {
        "name": "dodo/payment.succeeded", "v": "2", "ts": 1754295184882,
        "id": f"dodo:payment.succeeded:{body['data']['payment_id']}:{body['timestamp']}",
        "data": {"payment_id": body["data"]["payment_id"], "customer_id": body["data"]["customer"]["customer_id"]},
        "user": {"email": body["data"]["customer"]["email"].lower()},
    }


def test_the_closest_line_wins(library: Path) -> None:
    """The rule's own `v` beats the group `event` used by `defaults`; `user = {}` replaces the
    group's `user.email`; the rule's own lines run in their place, the group's where `use` is."""
    (event,) = load(str(library)).apply(sample("payment.failed"))
    assert event["v"] == "3" and event["user"] == {} and event["name"] == "dodo/payment.failed"
    assert event["data"]["customer_id"] == sample("payment.failed")["data"]["customer"]["customer_id"]


def test_a_later_use_beats_an_earlier_one_and_a_group_beats_the_groups_it_uses(tmp_path: Path) -> None:
    write(tmp_path, {"m.map": '''group a
data.x = "a"
data.y = "a"

group b
use a
data.x = "b"

group c
data.y = "c"

on "payment.succeeded"
use b, c
name = "n"
'''})
    (event,) = load(str(tmp_path)).apply(sample("payment.succeeded"))
    assert event["data"] == {"x": "b", "y": "c"}


def test_one_file_checked_alone_still_reads_its_neighbours_constants_and_groups(library: Path) -> None:
    assert codes(library, "payment.map") == []
    (event,) = load(str(library / "payment.map")).apply(sample("payment.succeeded"))
    assert event["name"] == "dodo/payment.succeeded" and event["v"] == "2"


def test_changing_the_constant_changes_every_name(library: Path) -> None:
    (library / "_settings.map").write_text(SETTINGS.replace('"dodo/"', '""'), encoding="utf-8")
    names = [load(str(library)).apply(sample(t))[0]["name"] for t in ("payment.succeeded", "payment.failed")]
    assert names == ["payment.succeeded", "payment.failed"]


def test_back_ends_see_plain_rules_that_remember_their_origin(library: Path) -> None:
    result = compile_paths([str(library)])
    pay = next(f for f in result.files if f.source.path.endswith("payment.map"))
    body = pay.module.rules[0].body
    assert not any(isinstance(s, n.Use) for s in body)
    assert not any(isinstance(e, n.Name) and e.name == "prefix" for s in body if isinstance(s, n.Assign)
                   for e in [s.value, *getattr(s.value, "__dict__", {}).values()])
    targets = [(s.target_text, s.origin.group if s.origin else "rule") for s in body if isinstance(s, n.Assign)]
    assert targets == [("v", "event"), ("ts", "event"), ("id", None), ("data.payment_id", None),
                       ("data.customer_id", "customer"), ("name", "rule"), ("user.email", "rule")]
    name = next(s for s in body if isinstance(s, n.Assign) and s.target == ("name",))
    assert [c for c, _ in name.consts] == ["prefix"]
    assert pay.rules[0].names == frozenset({"dodo/payment.succeeded"})  # the checker knows the name


def test_shared_lines_are_checked_against_each_rule_s_event_types(tmp_path: Path) -> None:
    write(tmp_path, {"m.map": '''group customer
user.email = data.customer.email

on "payment.succeeded"
use customer
name = "p"

on "dunning.started"
use customer
name = "d"
'''})
    result = compile_paths([str(tmp_path)])
    (d,) = result.errors
    assert (d.code, d.span.line) == ("M201", 2)
    assert d.label == f"not a field of `data` for dunning.started (in the rule at {tmp_path}/m.map:8, from group customer)"


def test_a_mistake_in_a_shared_line_is_reported_once(tmp_path: Path) -> None:
    write(tmp_path, {"m.map": '''group customer
user.email = data.customer.emial

on "payment.succeeded"
use customer
name = "a"

on "payment.failed"
use customer
name = "b"
'''})
    result = compile_paths([str(tmp_path)])
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("M201", 2)]


def test_explain_names_the_group_and_the_constant(library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(library), "--sample", "payment.failed", "--explain"]) == 0
    out = capsys.readouterr().out
    assert f"{library}/_settings.map:7 | ts = epoch_ms(timestamp)\n       from group event ({library}/_settings.map:5)" in out
    assert f"from defaults ({library}/payment.map:1)" in out
    assert f'const prefix  = "dodo/" ({library}/_settings.map:1)' in out
    assert "    18 | v    = \"3\"\n       = \"3\"" in out


@pytest.mark.parametrize(("files", "expected"), [
    ({"m.map": 'const c = data.x\n\non "payment.succeeded"\nname = c\n'}, [("M130", "m.map", 1)]),
    ({"m.map": 'const a = b\nconst b = a\n\non "payment.succeeded"\nname = a\n'}, [("M130", "m.map", 2)]),
    ({"a.map": 'const p = "x"\n', "b.map": 'const p = "y"\n\non "payment.succeeded"\nname = p\n'},
     [("M130", "b.map", 1)]),
    ({"m.map": 'const type = "x"\n\non "payment.succeeded"\nname = "n"\n'}, [("M130", "m.map", 1)]),
    # inside a rule `const` is the JavaScript habit: `let` is what works there
    ({"m.map": 'on "payment.succeeded"\nname = "n"\nconst late = 1\ndata.x = late\n'}, [("M107", "m.map", 3)]),
    ({"m.map": 'const p = "x"\n\non "payment.succeeded"\nlet p = 1\nname = "n"\ndata.p = p\n'},
     [("M204", "m.map", 4), ("M600", "m.map", 4)]),
    ({"m.map": 'group g\nv = "1"\n\non "payment.succeeded"\nuse gg\nname = "n"\n'},
     [("M605", "m.map", 1), ("M131", "m.map", 5)]),
    ({"m.map": 'group a\nuse b\n\ngroup b\nuse a\n\non "payment.succeeded"\nuse a\nname = "n"\n'},
     [("M131", "m.map", 5)]),
    ({"m.map": 'defaults\nv = "1"\n\ndefaults\nv = "2"\n\non "payment.succeeded"\nname = "n"\n'},
     [("M131", "m.map", 4)]),
    ({"a.map": 'group g\nv = "1"\n', "b.map": 'group g\nv = "2"\n\non "payment.succeeded"\nuse g\nname = "n"\n'},
     [("M131", "b.map", 1)]),
    ({"m.map": 'group g\nv = "1"\n\non "payment.succeeded"\nname = "n"\n'}, [("M605", "m.map", 1)]),
    ({"m.map": 'group g\nv = "1"\nv = "2"\n\non "payment.succeeded"\nuse g\nname = "n"\n'},
     [("M400", "m.map", 3)]),
])
def test_mistakes_are_located(tmp_path: Path, files: dict[str, str], expected: list[Any]) -> None:
    write(tmp_path, files)
    assert sorted(codes(tmp_path)) == sorted(expected)


def test_a_bad_constant_stops_loading_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, {"m.map": 'const c = data.x\n\non "payment.succeeded"\nname = "n" & c\n'})
    with pytest.raises(CompileError) as err:
        load(str(tmp_path))
    assert "m.map:1:11" in str(err.value.rendered) and "not a constant" in str(err.value.rendered)


def test_a_lambda_parameter_may_reuse_a_constant_s_name(tmp_path: Path) -> None:
    write(tmp_path, {"m.map": 'const p = "x"\n\non "payment.succeeded"\nname = p\n'
                              'data.ids = map(data.product_cart, p -> p.product_id)\n'})
    (event,) = load(str(tmp_path)).apply(sample("payment.succeeded"))
    assert event["name"] == "x" and event["data"]["ids"] == [sample("payment.succeeded")["data"]["product_cart"][0]["product_id"]]


def test_a_rule_that_only_drops_gets_no_defaults(tmp_path: Path) -> None:
    write(tmp_path, {"m.map": 'defaults\nid = data.payment_id\n\non "payment.succeeded"\nname = "n"\n\n'
                              'on "dunning.*"\ndrop\n'})
    assert codes(tmp_path) == []
    assert load(str(tmp_path)).apply(sample("dunning.started")) == []


def test_a_file_of_declarations_only_is_not_a_file_without_rules(library: Path) -> None:
    assert codes(library, "_settings.map") == []


def test_formatter_lays_out_headers_and_constants() -> None:
    source = 'const a = 1\nconst long_name = 2\ngroup g\nv = "1"\non "x"\nuse g,h\nname = "n"\n'
    assert format_source(source).text == (
        'const a         = 1\nconst long_name = 2\ngroup g\n\nv = "1"\n\n\non "x"\n\nuse g, h\nname = "n"\n')


def test_the_explain_excerpt_in_the_language_reference_is_real(capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(__file__).resolve().parent.parent
    doc = (root / "docs" / "language.md").read_text(encoding="utf-8")
    block = doc.split("$ paymap run mappings/ --sample payment.failed --explain\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(root)
    assert main(["run", "mappings/", "--sample", "payment.failed", "--explain"]) == 0
    assert capsys.readouterr().out.startswith(block)


def test_compile_sources_shares_declarations_and_keeps_a_check_until_it_depends_on_a_change(tmp_path: Path) -> None:
    """In-memory files compile as a directory does (the playground's way in): a file's constants
    and groups serve the others, the same diagnostics as `compile_paths`, and a file kept between
    calls is checked again only when the event types its rules receive change."""
    lib_text = 'const prefix = "dodo/"\ngroup event\nname = prefix & type\n\non "payment.*"\nuse event\n'
    edited = 'on "refund.succeeded"\nuse event\ndata.a = data.missing\n'
    lib = parse_source(lib_text, str(tmp_path / "lib.map"))
    first = compile_sources([lib, parse_source(edited, str(tmp_path / "p.map"))])
    (tmp_path / "lib.map").write_text(lib_text)
    (tmp_path / "p.map").write_text(edited)
    on_disk = compile_paths([tmp_path])
    assert [(d.code, d.span) for d in first.diagnostics] == [(d.code, d.span) for d in on_disk.diagnostics]
    assert [d.code for d in first.diagnostics] == ["M201"] and first.constants.keys() == {"prefix"}
    kept = lib.checked
    assert kept is not None and kept.generated is not None
    compile_sources([lib, parse_source(edited + 'data.b = 1\n', str(tmp_path / "p.map"))])
    assert lib.checked is kept  # nothing the library's check depends on changed
    compile_sources([lib, parse_source('on "payment.succeeded"\nuse event\n', str(tmp_path / "p.map"))])
    assert lib.checked is not kept  # its `payment.*` no longer receives payment.succeeded


@pytest.mark.parametrize("folder", ["mappings", "tests/golden"])
def test_compile_sources_and_compile_paths_agree_on_a_whole_folder(folder: str) -> None:
    """`paymap check` and the playground compile through one function: for a folder of files (the
    shipped mappings, the goldens' mistakes) the same diagnostics, code and constants, also on a
    second call in which every file keeps its earlier check."""
    root = Path(__file__).resolve().parent.parent / folder
    on_disk = compile_paths([root])
    parsed = [parse_source(p.read_text(encoding="utf-8"), str(p)) for p in sorted(root.glob("*.map"))]
    first = compile_sources(parsed)
    kept = [p.checked for p in parsed]
    for in_memory in (first, compile_sources(parsed)):
        assert in_memory.diagnostics == on_disk.diagnostics
        assert [(f.source.path, f.generated.source if f.generated else None) for f in in_memory.files] == \
            [(f.source.path, f.generated.source if f.generated else None) for f in on_disk.files]
        assert in_memory.constants.keys() == on_disk.constants.keys()
    assert all(p.checked is k for p, k in zip(parsed, kept, strict=True))


def test_a_check_kept_without_code_is_done_again_when_code_is_wanted(tmp_path: Path) -> None:
    """What a kept check depends on includes whether code was generated (and the allowed codes)."""
    kept = parse_source('on "payment.succeeded"\nname = "p"\n', str(tmp_path / "p.map"))
    assert compile_sources([kept], generate=False).files[0].generated is None
    assert compile_sources([kept]).files[0].generated is not None


def test_a_kept_check_follows_the_use_lines_of_the_other_files(tmp_path: Path) -> None:
    """Whether a group is used (M605) depends on the `use` lines of every file: a kept file that
    declares the group is checked again when another file starts or stops using it, as
    `paymap check` of the saved files would show."""
    lib = parse_source('group extra\ndata.x = 1\n\non "payment.*"\nname = "p"\n', str(tmp_path / "lib.map"))
    (tmp_path / "lib.map").write_text(lib.source.text)
    for edit in ('on "refund.*"\nname = "r"\n', 'on "refund.*"\nuse extra\nname = "r"\n', 'on "refund.*"\n'):
        (tmp_path / "p.map").write_text(edit)
        in_memory = compile_sources([lib, parse_source(edit, str(tmp_path / "p.map"))])
        assert in_memory.diagnostics == compile_paths([tmp_path]).diagnostics, edit
    assert [d.code for d in in_memory.diagnostics] == ["M605", "M503"]  # unused again; the rule is empty
