"""The relay's commands as a user runs them: refusals are sentences, send-sample reaches Inngest, SIGHUP reloads."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from runtime.cli.status import render

from .harness import MAPPINGS, REPO, SECRET, Double, RelayProcess, free_port, relay_env, run_cli, wait_until


def _assert_sentence(result_stderr: str, *needles: str) -> None:
    assert "Traceback" not in result_stderr
    for needle in needles:
        assert needle in result_stderr, result_stderr


def test_serve_refuses_without_a_secret(tmp_path: Path) -> None:
    result = run_cli("serve", str(MAPPINGS), "--db", str(tmp_path / "x.sqlite3"))
    assert result.returncode == 2
    _assert_sentence(result.stderr, "no webhook secret configured", "DODO_PAYMENTS_WEBHOOK_KEY", "--insecure-dev")
    assert not (tmp_path / "x.sqlite3").exists()


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"PAYMAP_PORT": "eighty"}, "setting PAYMAP_PORT"),
        ({"DODO_PAYMENTS_WEBHOOK_KEY": "whsec_***"}, "DODO_PAYMENTS_WEBHOOK_KEY: secret #1"),
        ({"INNGEST_BASE_URL": "inn.gs"}, "setting INNGEST_BASE_URL: must be an http(s) URL"),
        ({"PAYMAP_HTTP_TIMEOUT": "90"}, "PAYMAP_LEASE_SECONDS (60) must be at least PAYMAP_HTTP_TIMEOUT"),
        ({"INNGEST_DEV": "0"}, "INNGEST_EVENT_KEY is not set"),
        ({"INNGEST_EVENT_KEY": "sekrit-event-key\n"}, "setting INNGEST_EVENT_KEY: contains '\\n' at the end"),
    ],
)
def test_serve_names_the_wrong_setting(env: dict[str, str], needle: str) -> None:
    result = run_cli("serve", str(MAPPINGS), env={"DODO_PAYMENTS_WEBHOOK_KEY": SECRET, **env})
    assert result.returncode == 2
    _assert_sentence(result.stderr, needle)
    assert "sekrit" not in result.stderr  # a secret is named, never shown


def test_serve_refuses_broken_mappings_with_diagnostics(tmp_path: Path) -> None:
    (tmp_path / "bad.map").write_text('on "payment.succeeded"\nname = "inngest/x"\n')
    result = run_cli("serve", str(tmp_path), "--db", str(tmp_path / "x.sqlite3"),
                     env={"DODO_PAYMENTS_WEBHOOK_KEY": SECRET})
    assert result.returncode == 1
    _assert_sentence(result.stderr, "have errors", "bad.map:2", "reserved")


def test_operator_commands_explain_mistakes(tmp_path: Path) -> None:
    missing = str(tmp_path / "none.sqlite3")
    status = run_cli("status", "--db", missing)
    assert status.returncode == 1
    _assert_sentence(status.stderr, "no store at", "PAYMAP_DB")
    nothing = run_cli("replay", "--db", missing)
    assert nothing.returncode == 2
    _assert_sentence(nothing.stderr, "choose what to replay")
    when = run_cli("replay", "--since", "last tuesday", "--db", missing)
    _assert_sentence(when.stderr, "neither an ISO time")
    unknown = run_cli("send-sample", "payment.teleported")
    assert unknown.returncode == 2
    _assert_sentence(unknown.stderr, "no sample for 'payment.teleported'", "--list")
    nobody = run_cli("send-sample", "payment.succeeded", "--url", f"http://127.0.0.1:{free_port()}/webhooks/dodo",
                     env={"DODO_PAYMENTS_WEBHOOK_KEY": SECRET})
    assert nobody.returncode == 1
    _assert_sentence(nobody.stderr, "cannot reach", "is `paymap serve` running?")
    assert "payment.succeeded" in run_cli("send-sample", "--list").stdout.split()


def test_send_sample_reaches_inngest_and_sighup_reloads(tmp_path: Path, double: Double) -> None:
    mappings = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, mappings)
    port = free_port()
    env = relay_env(tmp_path / "relay.sqlite3", port, double.url, PAYMAP_LOG_LEVEL="INFO")
    relay = RelayProcess(mappings, env, tmp_path / "relay.log", "--no-watch")
    try:
        sent = run_cli("send-sample", "payment.succeeded", env=env)
        assert sent.returncode == 0, sent.stderr
        assert "payment.succeeded sent as webhook-id msg_" in sent.stdout
        [event] = wait_until(double.events, "the sample at the Inngest double")
        assert event["name"] == "payment.succeeded" and event["id"].startswith("dodo:msg_")

        map_file = mappings / "relay.map"
        map_file.write_text(map_file.read_text().replace('"payment.succeeded"\ndata', '"payment.paid"\ndata'))
        relay.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "mappings reloaded" in relay.log_path.read_text(), "the SIGHUP reload")
        assert run_cli("send-sample", "payment.succeeded", env=env).returncode == 0
        wait_until(lambda: [e["name"] for e in double.events()] == ["payment.succeeded", "payment.paid"],
                   "the event mapped by the reloaded set")

        status = run_cli("status", "--json", env=env)
        info = json.loads(status.stdout)
        assert info["events"]["delivered"] == 2 and info["queue_depth"] == 0
        wrong = run_cli("send-sample", "payment.succeeded", "--secret", "whsec_" + "A" * 40, env=env)
        assert wrong.returncode == 1
        _assert_sentence(wrong.stderr, "401", "signature_mismatch")
    finally:
        relay.stop()


def test_status_shows_why_events_wait_when_inngest_is_down(tmp_path: Path) -> None:
    port = free_port()
    env = relay_env(tmp_path / "relay.sqlite3", port, f"http://127.0.0.1:{free_port()}")
    relay = RelayProcess(MAPPINGS, env, tmp_path / "relay.log")
    try:
        assert run_cli("send-sample", "payment.succeeded", env=env).returncode == 0
        text = wait_until(lambda: (out := run_cli("status", env=env).stdout) and "cannot reach" in out and out,
                          "status to show the reason")
        assert "pending 1" in text and "waiting because" in text
        assert "no INNGEST_EVENT_KEY: sending to the dev server" in text and "NO_EVE" not in text
        assert not re.search(r"\b0 due now", text) and "next attempt in 0s" not in text, text
    finally:
        relay.stop()


def test_queue_line_never_contradicts_itself() -> None:
    base = {"insecure_dev": False, "webhooks": dict.fromkeys(("mapped", "skipped", "dropped", "failed", "received"), 0),
            "events": dict.fromkeys(("pending", "delivered", "dead", "superseded"), 0),
            "queue_depth": 2, "oldest_pending_age_seconds": 3.0, "oldest_pending_reason": "HTTP 500",
            "oldest_pending_attempts": 1, "mappings_reload_rejected": None,
            "sender": {"target": None, "paused": None}, "dead_letters": [], "failed_webhooks": []}
    waiting = render({**base, "ready_now": 0, "next_attempt_in_seconds": 0.2}, Path("x"))
    assert "next attempt in 1s" in waiting and "due now" not in waiting
    due = render({**base, "ready_now": 2, "next_attempt_in_seconds": 0.0}, Path("x"))
    assert "2 due now" in due and "next attempt" not in due


def test_text_logs_render_a_rejected_reload_as_paymap_check_does(tmp_path: Path, double: Double) -> None:
    mappings = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, mappings)
    env = relay_env(tmp_path / "relay.sqlite3", free_port(), double.url, PAYMAP_LOG_FORMAT="text")
    relay = RelayProcess(mappings, env, tmp_path / "relay.log", "--no-watch")
    try:
        map_file = mappings / "relay.map"
        map_file.write_text(map_file.read_text() + '\non "payment.succeeded"\nname = nonsense(\n')
        relay.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "reload rejected" in relay.log_path.read_text(), "the rejected reload in the log")
        log = relay.log_path.read_text()
        check = run_cli("check", str(mappings), env={"NO_COLOR": "1"})
        rendered = (check.stdout + check.stderr).strip()
        first = next(line for line in rendered.splitlines() if "relay.map:" in line)
        assert first in log, (first, log)
        assert not log.lstrip().startswith("{")  # text, not JSON
        assert "ERROR   mapping reload rejected" in log
    finally:
        relay.stop()


def test_paymap_alone_prints_help_and_version_works() -> None:
    alone = run_cli()
    assert alone.returncode == 0, alone.stderr
    assert "usage: paymap" in alone.stdout and "serve" in alone.stdout and "error" not in alone.stderr
    version = run_cli("--version")
    assert version.returncode == 0 and re.fullmatch(r"paymap \d+\.\d+\.\d+\S*\n", version.stdout), version.stdout


def test_serve_help_names_every_environment_variable() -> None:
    from runtime.relay.config import RelaySettings

    text = run_cli("serve", "--help").stdout
    names = [str(f.validation_alias) for f in RelaySettings.model_fields.values() if f.validation_alias]
    assert len(names) > 20
    missing = [n for n in names if n not in text]
    assert not missing, f"`paymap serve --help` does not name {missing}"


def test_send_sample_signs_with_the_secret_make_run_created(tmp_path: Path, double: Double) -> None:
    secret_file = tmp_path / "paymap-data" / "dev-webhook-secret"
    secret_file.parent.mkdir()
    secret_file.write_text(SECRET + "\n")  # as `make run` writes it
    env = relay_env(tmp_path / "relay.sqlite3", free_port(), double.url)
    relay = RelayProcess(MAPPINGS, env, tmp_path / "relay.log")
    try:
        without_key = {k: v for k, v in env.items() if k != "DODO_PAYMENTS_WEBHOOK_KEY"}
        sent = run_cli("send-sample", "payment.succeeded", env=without_key, cwd=tmp_path)
        assert sent.returncode == 0, sent.stderr
        assert "signing with the local secret in paymap-data/dev-webhook-secret" in sent.stderr
        wait_until(double.events, "the sample delivered")
    finally:
        relay.stop()


def _make_run(tmp_path: Path, double: Double) -> tuple[subprocess.Popen[str], int]:
    """`make run` as a reader starts it (with a secret set, so nothing is written into the project)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYMAP_", "INNGEST_", "DODO_PAYMENTS_"))}
    env.update(relay_env(tmp_path / "relay.sqlite3", port, double.url))
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "run", f"BIN={Path(sys.executable).parent}"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    wait_until(lambda: _answers(port) or proc.poll() is not None, "the relay started by make run", timeout=60)
    assert proc.poll() is None, proc.communicate()[0]
    return proc, port


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_stopped_cleanly_exits_without_an_error(tmp_path: Path, double: Double) -> None:
    proc, _port = _make_run(tmp_path, double)
    relay_pid = int(Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()[0])
    os.kill(relay_pid, signal.SIGTERM)  # `kill <pid>` of the relay, as a supervisor or a user does
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert "***" not in output and "Error" not in output, output

    proc, port = _make_run(tmp_path, double)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole foreground group
    output, _ = proc.communicate(timeout=30)
    assert "***" not in output and "Interrupt" not in output and "Traceback" not in output, output
    assert not _answers(port)
