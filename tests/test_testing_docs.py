"""docs/testing.md: its example test file passes against the shipped mappings, and its failure
report is what `paymap test` really prints."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from runtime.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "mappings").mkdir()
    for p in (ROOT / "mappings").glob("*.map"):
        shutil.copy(p, tmp_path / "mappings" / p.name)
    example = re.findall(r"^```yaml\n(.*?)^```", DOC, re.S | re.M)[0]
    (tmp_path / "mappings" / "payment.test.yaml").write_text(example, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def console_block(after: str) -> str:
    return re.findall(r"^```(?:console)?\n(.*?)^```", DOC.split(after, 1)[1], re.S | re.M)[0]


def test_the_example_passes_and_prints_what_the_doc_shows(project: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    shown = re.findall(r"^```console\n(.*?)^```", DOC, re.S | re.M)[0].splitlines()
    assert shown[0] == "$ paymap test mappings/payment.map"
    assert main(shown[0].split()[2:]) == 0  # "$ paymap test ..."
    assert capsys.readouterr().out.splitlines() == shown[1:]


def test_the_failure_report_is_real(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = project / "mappings" / "payment.test.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count('amount: "2999"') == 1
    path.write_text(text.replace('amount: "2999"', 'amount: "29.99"'), encoding="utf-8")
    assert main(["test", "mappings/payment.map"]) == 1
    assert capsys.readouterr().out.strip() == console_block("### Reading a failure").strip()
