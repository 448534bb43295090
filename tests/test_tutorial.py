"""docs/tutorial.md works as written: every `$ ` command runs, in order, and prints what the page
shows.

The page's conventions, which this test defines:

* a fenced block whose info string has `title="PATH"` (```` ```map title="my-mappings/welcome.map" ````)
  is a file the reader creates (or replaces) at that point, relative to the project folder;
* a ```` ```console ```` block holds commands, each after `$ `, followed by the output they print
  (standard output, then standard error). A line `...` stands for any number of lines, `...` inside
  a line for any text within it (tests/console_docs.py).

The commands run in a fresh temporary folder holding `.venv` (a link to the Python environment
running this test) and a copy of the shipped `mappings/`, as a reader's copy of the project would.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from console_docs import matches

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
FENCE = re.compile(r"^```(\S*)(.*)$")


@dataclass
class FileStep:
    path: str
    text: str
    line: int


@dataclass
class CommandStep:
    command: str
    expected: list[str]
    line: int


def steps(markdown: str) -> list[FileStep | CommandStep]:
    """The tutorial's files and commands, in the order a reader meets them."""
    out: list[FileStep | CommandStep] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        info, rest = m.group(1), m.group(2)
        start = i
        i += 1
        body: list[str] = []
        while not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        title = re.search(r'title="([^"]+)"', rest)
        if title:
            out.append(FileStep(title.group(1), "\n".join(body) + "\n", start + 1))
        elif info == "console":
            current: CommandStep | None = None
            for offset, line in enumerate(body):
                if line.startswith("$ "):
                    current = CommandStep(line[2:], [], start + 2 + offset)
                    out.append(current)
                else:
                    assert current is not None, f"tutorial.md:{start + 2 + offset}: output before any `$ ` command"
                    current.expected.append(line)
    return out


def normalise(text: str, folder: Path) -> list[str]:
    text = ANSI.sub("", text).replace(str(folder) + os.sep, "").replace(str(folder), ".")
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


STEPS = steps(TUTORIAL.read_text(encoding="utf-8"))


def test_the_tutorial_has_the_promised_steps() -> None:
    commands = [s.command for s in STEPS if isinstance(s, CommandStep)]
    for needed in ("paymap check", "paymap run", "--explain", "paymap test", "mappings/ --sample refund.succeeded"):
        assert any(needed in c for c in commands), needed
    assert any(isinstance(s, FileStep) and s.path.endswith(".map") for s in STEPS)
    assert any(isinstance(s, FileStep) and s.path.endswith(".test.yaml") for s in STEPS)
    # adding to the shipped library: a second event with `also on`, and the warning when two rules collide
    assert any(isinstance(s, FileStep) and s.path.startswith("mappings/") and "also on" in s.text for s in STEPS)
    assert any(isinstance(s, CommandStep) and any("M502" in line for line in s.expected) for s in STEPS)
    for command in commands:
        assert shlex.split(command)[0] in {".venv/bin/paymap", "mkdir", "rm"}, command


def test_every_command_prints_what_the_tutorial_shows(tmp_path: Path) -> None:
    venv = Path(sys.prefix)
    assert (venv / "bin" / "paymap").exists(), f"run the tests from the project's environment ({venv} has no paymap)"
    (tmp_path / ".venv").symlink_to(venv, target_is_directory=True)
    shutil.copytree(ROOT / "mappings", tmp_path / "mappings")
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "100"}
    for step in STEPS:
        if isinstance(step, FileStep):
            target = tmp_path / step.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(step.text, encoding="utf-8")
            continue
        proc = subprocess.run(["bash", "-c", step.command], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=60, check=False)
        actual = normalise(proc.stdout + proc.stderr, tmp_path)
        if not matches(step.expected, actual):
            pytest.fail(f"tutorial.md:{step.line}: `$ {step.command}` printed (exit {proc.returncode}):\n"
                        + "\n".join(actual) + "\n\nbut the tutorial shows:\n" + "\n".join(step.expected))


@pytest.mark.parametrize(("expected", "actual", "ok"), [
    (["a", "...", "z"], ["a", "b", "c", "z"], True),
    (["a", "...", "z"], ["a", "z"], True),
    (["a", "...", "z"], ["a", "b"], False),
    (["a"], ["a", "b"], False),
    (["x ... z"], ["x y z"], True),
    (["x ... z"], ["x y"], False),
])
def test_the_wildcard(expected: list[str], actual: list[str], ok: bool) -> None:
    assert matches(expected, actual) is ok
