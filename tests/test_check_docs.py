"""docs/errors/: one page per diagnostic code, and each page's examples are true.

* every code in dsl/codes.py has a page, and every page is a registered code;
* a page's **Wrong** example makes `paymap check` report its code, and the output quoted under
  "What `paymap check` says:" is exactly what it prints (``PAYMAP_UPDATE_GOLDEN=1`` rewrites it);
* its **Right** example compiles without that code and without errors.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from dsl.codes import CODES
from runtime.cli import main

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "docs" / "errors"
UPDATE = bool(os.environ.get("PAYMAP_UPDATE_GOLDEN"))
# codes whose mistake is not a .map text (bytes, sizes, paths): their pages explain in prose
NO_EXAMPLE = {"M103", "M105", "M106", "M702"}
SAYS = re.compile(r"What `paymap check( --target \w+)?` says:")
_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```$", re.S | re.M)


def page_codes() -> list[str]:
    return sorted(p.stem for p in PAGES.glob("*.md") if p.name != "README.md")


def section(text: str, title: str) -> str:
    m = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    return m.group(1) if m else ""


def blocks(text: str) -> list[tuple[str, str]]:
    return [(m.group(1).strip(), m.group(2)) for m in _FENCE.finditer(text)]


def check_output(tmp: Path, source: str, functions: str | None, capsys: pytest.CaptureFixture[str],
                 target: str | None = None) -> tuple[int, str]:
    (tmp / "m.map").write_text(source, encoding="utf-8")
    argv = ["check", "m.map"] + (["--target", target] if target else [])
    if functions is not None:
        (tmp / "functions.txt").write_text(functions, encoding="utf-8")
        argv += ["--functions", "functions.txt"]
    code = main(argv)
    out, _ = capsys.readouterr()
    return code, out


def test_every_code_has_a_page_and_every_page_a_code() -> None:
    assert page_codes() == sorted(CODES), "missing pages: " + ", ".join(sorted(set(CODES) - set(page_codes()))) \
        + "; pages without a code: " + ", ".join(sorted(set(page_codes()) - set(CODES)))


def test_the_index_lists_every_code() -> None:
    index = (PAGES / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| \[(M\d{3})\]\(\1\.md\) \| (error|warning) \| (.+) \|$", index, re.M)
    assert [(c, s, t) for c, s, t in listed] == [(c, v.severity, v.title) for c, v in CODES.items()]


@pytest.mark.parametrize("code", sorted(CODES))
def test_page_heading_and_sections(code: str) -> None:
    text = (PAGES / f"{code}.md").read_text(encoding="utf-8")
    assert text.startswith(f"# {code}: {CODES[code].title}\n\n**{CODES[code].severity}** · [all codes](README.md)\n")
    assert section(text, "Why").strip(), "every page explains why"
    if code in NO_EXAMPLE:
        return
    assert any(info == "map" for info, _ in blocks(section(text, "Wrong"))), "a wrong example"


@pytest.mark.parametrize("code", sorted(set(CODES) - NO_EXAMPLE))
def test_wrong_example_reports_the_code_as_quoted(code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    path = PAGES / f"{code}.md"
    text = path.read_text(encoding="utf-8")
    wrong = section(text, "Wrong")
    found = blocks(wrong)
    source = next(body for info, body in found if info == "map")
    functions = next((body for info, body in found if info == "text functions.txt"), None)
    says = SAYS.search(wrong)
    assert says is not None, f"{path.name}: no \"What `paymap check` says:\" in Wrong"
    target = says.group(1).split()[-1] if says.group(1) else None
    _, out = check_output(tmp_path, source, functions, capsys, target)
    assert f"[{code}]" in out, out
    said = wrong[says.end():]
    quoted = blocks(said)[0][1]
    if UPDATE and quoted != out:
        start = text.index(wrong) + says.start()
        fence = text.index("```text\n", start) + len("```text\n")
        end = text.index("```", fence)
        path.write_text(text[:fence] + out + text[end:], encoding="utf-8")
        return
    assert quoted == out, f"{path.name} quotes stale output: run with PAYMAP_UPDATE_GOLDEN=1"


@pytest.mark.parametrize("code", sorted(set(CODES) - NO_EXAMPLE))
def test_right_example_is_clean(code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = (PAGES / f"{code}.md").read_text(encoding="utf-8")
    right = [body for info, body in blocks(section(text, "Right")) if info == "map"]
    if not right:
        # an example that needs files next to it (an input schema) is shown as text, not checked
        assert code in {"M120", "M121"}, "a right example"
        return
    wrong = section(text, "Wrong")
    functions = next((body for info, body in blocks(wrong) if info == "text functions.txt"), None)
    says = SAYS.search(wrong)
    target = says.group(1).split()[-1] if says and says.group(1) else None
    status, out = check_output(tmp_path, right[0], functions, capsys, target)
    assert f"[{code}]" not in out and "error[" not in out and status == 0, out
