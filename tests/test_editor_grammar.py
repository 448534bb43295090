"""The VS Code extension in editors/vscode: its TextMate grammar, checked against the real lexer.

Every ``.map`` file in the repository (and editors/vscode/test/fixture.map, which has every
construct) is tokenized by ``vscode-textmate`` + ``vscode-oniguruma`` — the engine VS Code uses —
and every token the paymap lexer produces must carry the TextMate scope its kind calls for
(keywords, strings, comments, numbers, function names, operators, ...). Node's dependencies are
installed with ``npm ci`` into editors/vscode/test/node_modules (gitignored) on the first run.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dsl.formatter import Lexeme, format_source, lexemes

ROOT = Path(__file__).resolve().parent.parent
EXT = ROOT / "editors" / "vscode"
TEST_DIR = EXT / "test"
GRAMMAR = EXT / "syntaxes" / "paymap.tmLanguage.json"


def repo_maps() -> list[Path]:
    found = [EXT / "test" / "fixture.map"]
    for top in ("mappings", "tests", "docs"):
        for p in sorted((ROOT / top).rglob("*.map")):
            if "node_modules" not in p.parts:
                found.append(p)
    return found


@pytest.fixture(scope="module")
def tokenized() -> dict[str, list[tuple[int, int, int, list[str]]]]:
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm are not installed: the TextMate grammar cannot be run")
    if not (TEST_DIR / "node_modules" / "vscode-textmate").is_dir():
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=TEST_DIR, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, f"npm ci failed in {TEST_DIR}:\n{done.stdout}\n{done.stderr}"
    files = [str(p) for p in repo_maps()]
    done = subprocess.run([node, str(TEST_DIR / "tokenize.js"), *files], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    data: dict[str, list[tuple[int, int, int, list[str]]]] = json.loads(done.stdout)
    return data


def scopes_at(tokens: list[tuple[int, int, int, list[str]]], line: int, col0: int) -> list[str]:
    for ln, start, end, scopes in tokens:
        if ln == line and start <= col0 < end:
            return scopes
    return []


def expected_scope(lx: Lexeme) -> str | None:
    """The TextMate scope (a prefix) a token of this kind must have; None: not checked."""
    t, rule = lx.type, lx.rule
    fixed = {
        "COMMENT": "comment.line.number-sign.paymap",
        "STRING": "string.quoted.",
        "INT": "constant.numeric.integer.paymap",
        "NEG_INT": "constant.numeric.integer.paymap",
        "DECIMAL": "constant.numeric.decimal.paymap",
        "_ON": "keyword.control.rule.on.paymap",
        "ALSO": "keyword.control.rule.also.paymap",
        "_LET": "storage.type.let.paymap",
        "_CONST": "storage.type.const.paymap",
        "_GROUP": "keyword.control.group.paymap",
        "_DEFAULTS": "keyword.control.defaults.paymap",
        "_USE": "keyword.control.use.paymap",
        "_DROP": "keyword.control.drop.paymap",
        "_IF": "keyword.control.conditional.paymap",
        "_THEN": "keyword.control.conditional.paymap",
        "_ELSE": "keyword.control.conditional.paymap",
        "_MATCH": "keyword.control.conditional.paymap",
        "_AND": "keyword.operator.logical.paymap",
        "_OR": "keyword.operator.logical.paymap",
        "_NOT": "keyword.operator.logical.paymap",
        "TRUE": "constant.language.paymap",
        "FALSE": "constant.language.paymap",
        "NULL": "constant.language.paymap",
        "UNDERSCORE": "keyword.other.wildcard.paymap",
        "COMP_OP": "keyword.operator.comparison.paymap",
        "ADD_OP": "keyword.operator.arithmetic.paymap",
        "MUL_OP": "keyword.operator.arithmetic.paymap",
        "MINUS": "keyword.operator.arithmetic.paymap",
        "STAR": "keyword.operator.arithmetic.paymap",
        "AMPERSAND": "keyword.operator.concat.paymap",
        "EQUAL": "keyword.operator.assignment.paymap",
        "COMMA": "punctuation.separator.comma.paymap",
        "COLON": "punctuation.separator.key-value.paymap",
        "DOT": "punctuation.accessor.paymap",
        "LPAR": "punctuation.section.brackets.begin.paymap",
        "LSQB": "punctuation.section.brackets.begin.paymap",
        "LBRACE": "punctuation.section.brackets.begin.paymap",
        "RPAR": "punctuation.section.brackets.end.paymap",
        "RSQB": "punctuation.section.brackets.end.paymap",
        "RBRACE": "punctuation.section.brackets.end.paymap",
    }
    if t in fixed:
        return fixed[t]
    if lx.text == "??":
        return "keyword.operator.coalesce.paymap"
    if lx.text in ("=>", "->"):
        return "keyword.operator.arrow.paymap"
    if t == "NAME":
        return {
            "call": "support.function.paymap",
            "field": "variable.other.property.paymap",
            "target": "variable.other.target.paymap",
            "lambda_": "variable.parameter.paymap",
            "let_stmt": "variable.other.declaration.paymap",
            "const_stmt": "variable.other.constant.declaration.paymap",
            "group_stmt": "entity.name.section.group.paymap",
            "use_stmt": "entity.name.section.group.paymap",
            "name": "variable.other.paymap",
        }.get(rule)
    return None


def mismatches(path: Path, tokens: list[tuple[int, int, int, list[str]]]) -> Iterator[str]:
    text = path.read_text(encoding="utf-8")
    for lx in lexemes(text):
        want = expected_scope(lx)
        if want is None:
            continue
        col0 = lx.column - 1 + (len(lx.text) - 1 if lx.type == "NEG_INT" else 0)  # the digits of `-1`
        have = scopes_at(tokens, lx.line, col0)
        if not any(s.startswith(want) for s in have):
            yield f"{path.relative_to(ROOT)}:{lx.line}:{lx.column}: {lx.type} {lx.text!r} ({lx.rule}): " \
                  f"expected {want}, got {have[1:] or have}"


def test_every_token_of_every_map_file_has_the_right_scope(tokenized: dict[str, Any]) -> None:
    problems: list[str] = []
    checked = 0
    for path in repo_maps():
        if format_source(path.read_text(encoding="utf-8"), str(path)).text is None:
            continue  # a deliberately broken fixture: the lexer oracle needs a valid file
        problems.extend(mismatches(path, tokenized[str(path)]))
        checked += 1
    assert checked >= 2
    assert not problems, "\n".join(problems[:40])


def test_the_fixture_covers_every_kind_of_token(tokenized: dict[str, Any]) -> None:
    fixture = EXT / "test" / "fixture.map"
    kinds = {(lx.type, lx.rule if lx.type == "NAME" else "") for lx in lexemes(fixture.read_text())}
    for kind in ["COMMENT", "STRING", "INT", "NEG_INT", "DECIMAL", "_ON", "ALSO", "_LET", "_DROP", "_IF",
                 "_THEN", "_ELSE", "_MATCH", "_AND", "_OR", "_NOT", "TRUE", "FALSE", "NULL", "UNDERSCORE",
                 "COMP_OP", "ADD_OP", "MUL_OP", "MINUS", "STAR", "AMPERSAND", "EQUAL", "COMMA", "COLON", "DOT",
                 "_CONST", "_GROUP", "_DEFAULTS", "_USE"]:
        assert (kind, "") in kinds, kind
    for rule in ["call", "field", "target", "lambda_", "let_stmt", "name", "const_stmt", "group_stmt", "use_stmt"]:
        assert ("NAME", rule) in kinds, rule


def test_specific_scopes(tokenized: dict[str, Any]) -> None:
    fixture = EXT / "test" / "fixture.map"
    tokens = tokenized[str(fixture)]
    lines = fixture.read_text(encoding="utf-8").split("\n")

    def scope(line_no: int, needle: str, nth: int = 0) -> list[str]:
        line = lines[line_no - 1]
        col = -1
        for _ in range(nth + 1):
            col = line.index(needle, col + 1)
        return scopes_at(tokens, line_no, col)

    on_line = next(i for i, ln in enumerate(lines, 1) if ln.startswith("data.on "))
    assert "variable.other.target.paymap" in scope(on_line, "on")          # `data.on` is a field, not `on`
    assert "variable.other.property.paymap" in scope(on_line, "if")
    assert "variable.other.property.paymap" in scope(on_line, "null")
    weird = next(i for i, ln in enumerate(lines, 1) if ln.startswith('data."weird key"'))
    assert "constant.character.escape.paymap" in scope(weird, "\\'")
    assert "constant.character.escape.paymap" in scope(weird, "\\u{1F600}")
    assert "string.quoted.single.paymap" in scope(weird, '"quoted"')        # a " inside '...'
    long = next(i for i, ln in enumerate(lines, 1) if ln.startswith("data.long"))
    assert "punctuation.separator.continuation.line.paymap" in scope(long, "\\")
    on_first = next(i for i, ln in enumerate(lines, 1) if ln.startswith("on "))
    assert "comment.line.number-sign.paymap" in scope(on_first, "# a trailing")
    group = next(i for i, ln in enumerate(lines, 1) if ln.startswith("group "))
    assert "entity.name.section.group.paymap" in scope(group, "customer")
    use = next(i for i, ln in enumerate(lines, 1) if ln.startswith("use "))
    assert "entity.name.section.group.paymap" in scope(use, "customer", 1)
    assert "variable.other.constant.declaration.paymap" in scope(3, "version")


def test_a_hash_inside_a_string_is_not_a_comment(tokenized: dict[str, Any], tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node is not None
    f = tmp_path / "hash.map"
    f.write_text('on "x"\nname = "a # b"  # real\n')
    done = subprocess.run([node, str(TEST_DIR / "tokenize.js"), str(f)], capture_output=True, text=True,
                          timeout=60, check=True)
    tokens = json.loads(done.stdout)[str(f)]
    assert "string.quoted.double.paymap" in scopes_at(tokens, 2, 10)
    assert "comment.line.number-sign.paymap" in scopes_at(tokens, 2, 17)


def test_extension_manifest_and_language_configuration() -> None:
    pkg = json.loads((EXT / "package.json").read_text(encoding="utf-8"))
    (lang,) = pkg["contributes"]["languages"]
    assert lang["id"] == "paymap"
    assert "**/mappings/**/*.map" in lang["filenamePatterns"]
    assert ".map" not in lang.get("extensions", [])  # would claim every JavaScript source map
    (grammar,) = pkg["contributes"]["grammars"]
    assert grammar["language"] == "paymap" and grammar["scopeName"] == "source.paymap"
    assert (EXT / grammar["path"]).resolve() == GRAMMAR
    assert json.loads(GRAMMAR.read_text(encoding="utf-8"))["scopeName"] == "source.paymap"
    first_line = re.compile(lang["firstLine"])
    for path in repo_maps():
        head = path.read_text(encoding="utf-8").split("\n", 1)[0]
        if head.startswith(("#", "on ", "also on ")):
            assert first_line.match(head), path
    assert not first_line.match('{"version":3,"sources":["a.js"],"mappings":"AAAA"}')
    conf = json.loads((EXT / lang["configuration"]).read_text(encoding="utf-8"))
    assert conf["comments"] == {"lineComment": "#"}
    assert ["(", ")"] in conf["brackets"] and ["{", "}"] in conf["brackets"] and ["[", "]"] in conf["brackets"]
    pairs = {(p["open"], p["close"]) for p in conf["autoClosingPairs"]}
    assert {("(", ")"), ("[", "]"), ("{", "}"), ('"', '"'), ("'", "'")} <= pairs
