"""docs/relay.md's runbook works as written: every command runs, in order, against a real relay, and
prints what the page shows.

The page's conventions, which this test defines (the tutorial's, plus two):

* a ```` ```console ```` block holds commands, each after `$ `, followed by their output (standard
  output, then standard error); a line `...` stands for any number of lines, and `...` inside a line
  for any text within it (tests/console_docs.py);
* a comment `<!-- runbook: NAME -->` is something that happens to the world at that point (Inngest
  stops answering, refuses the key, a mapping starts failing); :data:`SCENARIOS` makes it happen.

The commands run in a fresh folder as after `make run` with the local secret: `.venv` (a link to the
environment running this test), `mappings/` (the relay tests' mappings), `paymap-data/` with the
secret and the store, a relay serving from there. Ports are shown as a reader has them (8000, 8288).
`paymap status` is re-run until it prints what the page shows (the relay works in the background);
every other command runs once.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from console_docs import matches

from .harness import (
    MAPPINGS,
    REPO,
    SECRET,
    Double,
    RelayProcess,
    free_port,
    relay_env,
    sample_body,
    signed_headers,
)

RUNBOOK = REPO / "docs" / "relay.md"
FENCE = re.compile(r"^```(\S*)")
SCENARIO = re.compile(r"^<!-- runbook: (\S+) -->$")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class Scenario:
    name: str
    line: int


@dataclass
class Command:
    command: str
    line: int
    expected: list[str] = field(default_factory=list)


def runbook_steps(markdown: str) -> list[Scenario | Command]:
    """The runbook section's scenarios and commands, in the order a reader meets them."""
    lines = markdown.splitlines()
    start = lines.index("## Runbook")
    out: list[Scenario | Command] = []
    i = start + 1
    while i < len(lines) and not lines[i].startswith("## "):
        if m := SCENARIO.match(lines[i]):
            out.append(Scenario(m.group(1), i + 1))
        elif (fence := FENCE.match(lines[i])) and fence.group(1) == "console":
            i += 1
            while not lines[i].startswith("```"):
                if lines[i].startswith("$ "):
                    out.append(Command(lines[i][2:], i + 1))
                else:
                    current = out[-1]
                    assert isinstance(current, Command), f"relay.md:{i + 1}: output before any `$ ` command"
                    current.expected.append(lines[i])
                i += 1
        elif FENCE.match(lines[i]):  # another language's block: skip it whole
            i += 1
            while not lines[i].startswith("```"):
                i += 1
        i += 1
    return out


class World:
    """The reader's project folder, its relay, and Inngest (the test double) on a port of its own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        (folder / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
        shutil.copytree(MAPPINGS, folder / "mappings")
        (folder / "paymap-data").mkdir(mode=0o700)
        (folder / "paymap-data" / "dev-webhook-secret").write_text(SECRET + "\n")
        self.inngest_port = free_port()
        self.double: Double | None = None  # Inngest is down until a scenario starts it
        env = relay_env(Path("paymap-data/relay.sqlite3"), free_port(), f"http://127.0.0.1:{self.inngest_port}")
        env.pop("PAYMAP_DB")
        self.relay = RelayProcess(Path("mappings"), env, folder / "relay.log", cwd=folder)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYMAP_", "INNGEST_", "DODO_PAYMENTS_"))}
        self.env.update({"PAYMAP_PORT": str(self.relay.port), "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "100"})

    def inngest(self) -> Double:
        assert self.double is not None, "Inngest is not running at this point of the runbook"
        return self.double

    def send(self, event_type: str) -> None:
        body = sample_body(event_type)
        wid = f"msg_runbook_{event_type.replace('.', '_')}"
        answer = httpx.post(self.relay.url + "/webhooks/dodo", content=body, headers=signed_headers(body, wid))
        assert answer.status_code == 200, answer.text

    def run(self, command: str) -> tuple[int, list[str]]:
        proc = subprocess.run(["bash", "-c", command], cwd=self.folder, env=self.env, capture_output=True,
                              text=True, timeout=60, check=False)
        text = ANSI.sub("", proc.stdout + proc.stderr).replace(str(self.folder) + os.sep, "")
        text = text.replace(f"127.0.0.1:{self.relay.port}", "127.0.0.1:8000")
        text = text.replace(f"127.0.0.1:{self.inngest_port}", "127.0.0.1:8288")
        lines = [line.rstrip() for line in text.splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        return proc.returncode, lines

    def stop(self) -> None:
        self.relay.stop()
        if self.double is not None:
            self.double.stop()


def _inngest_back(world: World) -> None:
    world.double = Double(port=world.inngest_port)


def _mapping_fails(world: World) -> None:
    world.send("refund.failed")  # `required` fails on the sample in the relay tests' mappings


def _mapping_fixed(world: World) -> None:
    path = world.folder / "mappings" / "relay.map"
    fixed = path.read_text().replace(
        'required(data.network_reference, "refund.failed needs a network reference")', "data.refund_id")
    path.write_text(fixed)


def _inngest_rejects(world: World) -> None:
    world.inngest().config(reject_names=["payment.failed"])
    world.send("payment.failed")


SCENARIOS: dict[str, Callable[[World], None]] = {
    "inngest-down": lambda world: None,  # the relay starts with Inngest down
    "inngest-back": _inngest_back,
    "key-refused": lambda world: world.inngest().config(keys=["the-real-key"]),
    "key-accepted": lambda world: world.inngest().config(keys=None),
    "mapping-fails": _mapping_fails,
    "mapping-fixed": _mapping_fixed,
    "inngest-rejects": _inngest_rejects,
    "inngest-accepts": lambda world: world.inngest().config(reject_names=[]),
}

STEPS = runbook_steps(RUNBOOK.read_text(encoding="utf-8"))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.stop()


def test_the_runbook_covers_the_situations() -> None:
    names = [s.name for s in STEPS if isinstance(s, Scenario)]
    assert set(names) == set(SCENARIOS), "every scenario is used once, and only those"
    commands = " ".join(c.command for c in STEPS if isinstance(c, Command))
    for needed in ("paymap status", "replay --failed", "replay --dead", "--include-delivered", "--new-ids",
                   "send-sample", "paymap check"):
        assert needed in commands, needed
    for c in STEPS:
        if isinstance(c, Command):
            assert c.command.startswith(".venv/bin/paymap "), f"relay.md:{c.line}: write commands as after make run"


def test_every_runbook_command_prints_what_the_page_shows(world: World) -> None:
    for step in STEPS:
        if isinstance(step, Scenario):
            SCENARIOS[step.name](world)
            continue
        again = " status" in step.command
        deadline = time.monotonic() + (30 if again else 0)
        while True:
            code, actual = world.run(step.command)
            if matches(step.expected, actual) or time.monotonic() >= deadline:
                break
            time.sleep(0.3)
        if not matches(step.expected, actual):
            pytest.fail(f"relay.md:{step.line}: `$ {step.command}` printed (exit {code}):\n" + "\n".join(actual)
                        + "\n\nbut the runbook shows:\n" + "\n".join(step.expected)
                        + f"\n\nrelay log:\n{world.relay.log_path.read_text()[-3000:]}")

