"""The CI integrations: the pre-commit hooks and the GitHub Actions workflow in docs/ci.md really run."""

from __future__ import annotations

import re
import shlex
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from runtime.cli import main

ROOT = Path(__file__).resolve().parent.parent
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
CI_DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")

PAYMENT_MAP = textwrap.dedent("""\
    # payments
    on "payment.succeeded"

    name        = "payment.succeeded"
    data.amount = money(data.total_amount, data.currency)  # "29.99"
    ts          = epoch_ms(timestamp)
    """)
PAYMENT_TESTS = textwrap.dedent("""\
    tests:
      - name: USD
        sample: payment.succeeded
        expect:
          - {name: payment.succeeded, data: {amount: "29.99"}}
    """)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "payment.map").write_text(PAYMENT_MAP, encoding="utf-8")
    (tmp_path / "mappings" / "payment.test.yaml").write_text(PAYMENT_TESTS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def yaml_blocks(markdown: str) -> list[Any]:
    return [yaml.safe_load(b) for b in re.findall(r"^```yaml\n(.*?)^```", markdown, re.S | re.M)]


def run_hook(hook: dict[str, Any], files: list[str]) -> int:
    argv = shlex.split(hook["entry"]) + list(hook.get("args", []))
    if hook.get("pass_filenames", True):
        argv += files
    assert argv[0] == "paymap"
    return main(argv[1:])


def selected(hook: dict[str, Any], files: list[str]) -> list[str]:
    """The files pre-commit would pass: `files` matches and `exclude` does not (re.search)."""
    return [f for f in files if re.search(hook.get("files", ""), f)
            and not (hook.get("exclude") and re.search(hook["exclude"], f))]


def test_hooks_are_well_formed() -> None:
    assert [h["id"] for h in HOOKS] == ["paymap-check", "paymap-fmt", "paymap-test"]
    for h in HOOKS:
        assert {"id", "name", "entry", "language"} <= set(h)
        assert h["language"] == "python"
    by_id = {h["id"]: h for h in HOOKS}
    files = ["mappings/payment.map", "mappings/payment.test.yaml", "web/node_modules/x/a.map",
             "dist/app.js.map", "README.md"]
    assert selected(by_id["paymap-fmt"], files) == ["mappings/payment.map"]
    assert selected(by_id["paymap-check"], files) == ["mappings/payment.map"]
    assert selected(by_id["paymap-test"], files) == ["mappings/payment.map", "mappings/payment.test.yaml"]


def test_hooks_pass_on_a_good_project_and_fail_on_a_bad_one(project: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    staged = ["mappings/payment.map", "mappings/payment.test.yaml"]
    for hook in HOOKS:
        assert run_hook(hook, selected(hook, staged)) == 0, hook["id"]
    by_id = {h["id"]: h for h in HOOKS}
    (project / "mappings" / "payment.map").write_text(PAYMENT_MAP.replace("data.amount = ", "data.amount="))
    assert run_hook(by_id["paymap-fmt"], ["mappings/payment.map"]) == 1
    assert "+data.amount = money" in capsys.readouterr().out  # --diff shows the fix
    (project / "mappings" / "payment.map").write_text(PAYMENT_MAP.replace('"29.99"', "x"))
    (project / "mappings" / "payment.test.yaml").write_text(PAYMENT_TESTS.replace("29.99", "30"))
    assert run_hook(by_id["paymap-test"], []) == 1
    (project / "mappings" / "payment.map").write_text(PAYMENT_MAP.replace("money(", "mony("))
    assert run_hook(by_id["paymap-check"], []) == 1


def test_the_github_workflow_in_the_docs_runs(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workflow = next(b for b in yaml_blocks(CI_DOC) if isinstance(b, dict) and "jobs" in b)
    steps = workflow["jobs"]["mappings"]["steps"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses == ["actions/checkout", "actions/setup-python", "actions/upload-artifact"]
    commands = [s["run"] for s in steps if "run" in s and s["run"].startswith("paymap ")]
    assert [c.split()[1] for c in commands] == ["check", "fmt", "test"]
    for command in commands:
        assert main(shlex.split(command)[1:]) == 0, command
    report = ET.parse(project / "paymap-tests.xml").getroot()
    assert report.get("tests") == "1" and report.get("failures") == "0"
    artifact = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert artifact["with"]["path"] == "paymap-tests.xml"


def test_the_pre_commit_snippets_in_the_docs_name_real_hooks(project: Path) -> None:
    ids = {h["id"] for h in HOOKS}
    configs = [b for b in yaml_blocks(CI_DOC) if isinstance(b, dict) and "repos" in b]
    assert len(configs) == 2
    remote, local = configs
    assert {h["id"] for h in remote["repos"][0]["hooks"]} == ids
    (hook,) = local["repos"][0]["hooks"]
    assert hook["language"] == "system" and hook["id"] in ids
    assert run_hook(hook, ["mappings/payment.map"]) == 0
