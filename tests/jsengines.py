"""The exported JavaScript run as the platforms run it, in V8 (mini-racer) and QuickJS, against the
Python runtime: the oracle of tests/test_export_*.py.

Dodo's dashboard (Svix) calls ``handler(webhook)`` with ``{eventType, payload, cancel: false}`` and
sends ``webhook.payload`` unless ``webhook.cancel``; Inngest calls ``transform(evt, headers,
queryParams, raw)`` with canonical header names and sends the object returned. The wrappers below
do the same inside the engine and answer JSON text, so a value never crosses the bridge as a
JavaScript object (each engine would convert numbers its own way).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import quickjs
from py_mini_racer import MiniRacer

from dsl.jsgen import SKIPPED_EVENT
from runtime import MappingError, MappingSet

WRAPPERS = """
function __dodo(text) {
  var body = JSON.parse(text);
  var webhook = {eventType: body && body.type, payload: body, cancel: false};
  var out;
  try { out = handler(webhook); } catch (e) { return JSON.stringify({error: String(e && e.message)}); }
  if (out !== webhook) return JSON.stringify({error: "handler did not return the webhook object"});
  return JSON.stringify(out.cancel ? {cancel: true} : {event: out.payload});
}
function __inngest(text, wid) {
  var evt = JSON.parse(text), headers = wid ? {"Webhook-Id": wid} : {};
  var out;
  try { out = transform(evt, headers, {}, text); } catch (e) { return JSON.stringify({error: String(e && e.message)}); }
  return JSON.stringify({event: out});
}
"""

WEBHOOK_ID = "msg_2vTfjSm9mYQhT3LqE1"
UNSAFE = "is beyond 2^53"


class Engine:
    """One engine with one exported function loaded (a context per export, reused for every call)."""

    name = ""

    def call(self, fn: str, *args: str) -> str:
        raise NotImplementedError

    def close(self) -> None:
        pass


class V8(Engine):
    name = "v8"

    def __init__(self, code: str) -> None:
        self.ctx = MiniRacer()
        self.ctx.eval(code)
        self.ctx.eval(WRAPPERS)

    def call(self, fn: str, *args: str) -> str:
        out = self.ctx.call(fn, *args)
        assert isinstance(out, str)
        return out

    def close(self) -> None:
        self.ctx.close()


class QuickJS(Engine):
    name = "quickjs"

    def __init__(self, code: str) -> None:
        self.ctx = quickjs.Context()
        self.ctx.set_time_limit(5)
        self.ctx.eval(code)
        self.ctx.eval(WRAPPERS)
        self.fns = {"__dodo": self.ctx.get("__dodo"), "__inngest": self.ctx.get("__inngest")}

    def call(self, fn: str, *args: str) -> str:
        out = self.fns[fn](*args)
        assert isinstance(out, str)
        return out


ENGINES: dict[str, type[Engine]] = {"v8": V8, "quickjs": QuickJS}


@dataclass
class Result:
    """What a platform would send: an event, nothing (cancelled / skipped), or an error."""

    event: Any = None
    cancel: bool = False
    error: str | None = None


def run_js(engine: Engine, target: str, body_text: str) -> Result:
    if target == "dodo":
        out = json.loads(engine.call("__dodo", body_text))
    else:
        out = json.loads(engine.call("__inngest", body_text, WEBHOOK_ID))
    if "error" in out:
        return Result(error=out["error"])
    if out.get("cancel"):
        return Result(cancel=True)
    event = out["event"]
    if target == "inngest" and isinstance(event, dict) and event.get("name") == SKIPPED_EVENT:
        return Result(cancel=True, event=event)
    return Result(event=event)


@dataclass
class Expected:
    event: Any = None
    cancel: bool = False
    error: MappingError | None = None


def run_python(mappings: MappingSet, target: str, body: Any) -> Expected:
    """What the relay sends for this body: ``MappingSet.run`` plus the relay's defaults
    (``data`` = {} and, where the webhook id is known, ``id`` = ``dodo:<webhook-id>``)."""
    try:
        outcome = mappings.run(body)
    except MappingError as exc:
        return Expected(error=exc)
    if not outcome.events:
        return Expected(cancel=True)
    assert len(outcome.events) == 1, "an export sends one event per webhook"
    event = json.loads(json.dumps(outcome.events[0]))
    if event.get("data") is None:
        event["data"] = {}
    if target == "inngest" and event.get("id") is None:
        event["id"] = f"dodo:{WEBHOOK_ID}"
    return Expected(event=event)


def canonical(value: Any) -> str:
    """JSON text that is equal for equal JSON values (keys sorted: JavaScript puts integer-like keys
    first, whatever the insertion order; `true` is not `1`)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)


def has_unsafe_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) > 2**53 - 1
    if isinstance(value, list):
        return any(has_unsafe_int(v) for v in value)
    if isinstance(value, dict):
        return any(has_unsafe_int(v) for v in value.values())
    return False


def assert_same(engine: Engine, mappings: MappingSet, target: str, body: Any) -> Result:
    """The exported code in ``engine`` gives what the Python runtime gives, as JSON, or fails at the
    same place. One documented exception: an integer beyond 2^53, in the body (JavaScript's JSON
    parser has already rounded it) or in the event, fails in JavaScript: never a silently different
    number."""
    text = json.dumps(body, ensure_ascii=False)
    js = run_js(engine, target, text)
    py = run_python(mappings, target, json.loads(text))
    where = f"[{engine.name}, {target}] body {text[:300]}"
    if js.error is not None and UNSAFE in js.error and (
            has_unsafe_int(body) or (py.event is not None and has_unsafe_int(py.event))):
        return js
    if py.error is not None:
        err = py.error
        assert js.error is not None, f"{where}: Python failed ({err}) but JavaScript gave {js}"
        assert js.error.startswith(f"{err.file}:"), f"{where}: {js.error!r} vs {err}"
        js_line = int(js.error.split(":")[1])
        assert js_line <= err.line, f"{where}: {js.error!r} vs {err}"
        if err.field:
            assert f"in `{err.field}`" in js.error, f"{where}: {js.error!r} vs {err}"
        return js
    assert js.error is None, f"{where}: JavaScript failed: {js.error}; Python gave {py}"
    assert js.cancel == py.cancel, f"{where}: {js} vs {py}"
    if not py.cancel:
        assert canonical(js.event) == canonical(py.event), f"{where}:\n js {canonical(js.event)}\n py {canonical(py.event)}"
    return js
