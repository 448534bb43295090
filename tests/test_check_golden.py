"""Golden tests: each tests/golden/NAME.map is a broken mapping, next to NAME.expected, the exact
output of `paymap check NAME.map` (run in tests/golden/, so paths are short) and its exit status.

A first line `# flags: ...` adds command-line options (e.g. `--coverage`, `--functions F`).
Run with PAYMAP_UPDATE_GOLDEN=1 to rewrite the .expected files after an intended change, then
read the diff.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from runtime.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("*.map"))
UPDATE = bool(os.environ.get("PAYMAP_UPDATE_GOLDEN"))


def render(name: str, capsys: pytest.CaptureFixture[str]) -> str:
    source = (GOLDEN / f"{name}.map").read_text(encoding="utf-8")
    first = source.split("\n", 1)[0]
    flags = shlex.split(first.removeprefix("# flags:")) if first.startswith("# flags:") else []
    status = main(["check", f"{name}.map", *flags])
    out, err = capsys.readouterr()
    assert err == ""
    return f"{out}exit status {status}\n"


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    got = render(name, capsys)
    expected = GOLDEN / f"{name}.expected"
    if UPDATE:
        expected.write_text(got, encoding="utf-8")
    assert expected.exists(), f"no {expected.name}: run with PAYMAP_UPDATE_GOLDEN=1"
    assert got == expected.read_text(encoding="utf-8")


def test_every_expected_file_has_its_map() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.expected")) == CASES


def test_the_goldens_cover_every_mistake_of_the_issue() -> None:
    """One golden at least for each code the issue asks to catch (and the contract checks)."""
    seen = "".join((GOLDEN / f"{c}.expected").read_text(encoding="utf-8") for c in CASES)
    for code in ["M100", "M101", "M102", "M200", "M201", "M202", "M203", "M206", "M300", "M301", "M305",
                 "M403", "M404", "M405", "M406", "M407", "M408", "M409", "M410", "M411", "M500", "M501",
                 "M502", "M600", "M601", "M602", "M603", "M604"]:
        assert f"[{code}]" in seen, code
    assert "coverage: " in seen
