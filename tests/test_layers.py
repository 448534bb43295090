"""The layer contracts in pyproject.toml hold, and they really fail when a lower layer imports a higher one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


def _copy(tmp_path: Path) -> Path:
    for package in ("prelude", "dsl", "runtime"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_contracts_are_kept() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_compiler_importing_the_runtime_breaks_the_contracts(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    nodes = root / "dsl" / "nodes.py"
    nodes.write_text(nodes.read_text() + "\nfrom runtime.errors import MappingError  # a deliberate upward import\n")
    result = _lint(root)
    assert result.returncode != 0
    assert "the compiler never imports the runtime BROKEN" in result.stdout
    assert "dsl.nodes -> runtime.errors" in result.stdout


def test_an_import_inside_a_function_counts_too(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    values = root / "prelude" / "values.py"
    values.write_text(values.read_text() + "\n\ndef _sneaky() -> None:\n    import dsl.nodes  # noqa: F401\n")
    result = _lint(root)
    assert result.returncode != 0
    assert "prelude.values -> dsl.nodes" in result.stdout
