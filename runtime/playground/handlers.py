"""The methods the worker process answers: plain data in, plain (JSON-able) data out."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from dsl.schema import dodo_schema
from runtime import samples
from runtime.playground.workspace import (
    MAX_BODY_BYTES,
    MAX_TEXT_CHARS,
    TARGETS,
    Compiled,
    PlaygroundError,
    Workspace,
    builtins_json,
    schema_paths,
)

__all__ = ["PlaygroundError", "State", "dispatch"]


class State:
    def __init__(self, root: str) -> None:
        self.workspace = Workspace(root)
        self.key: tuple[str, str] | None = None  # (path, text) of workspace.last

    def compiled(self, path: str, text: str) -> Compiled:
        ws = self.workspace
        if self.key != (path, text) or ws.last is None:
            ws.compile(path, text)
            self.key = (path, text)
        assert ws.last is not None
        return ws.last


def _str(params: dict[str, Any], key: str, default: str | None = None) -> str:
    value = params.get(key, default)
    if not isinstance(value, str):
        raise PlaygroundError(f"`{key}` must be text")
    return value


def meta(state: State, params: dict[str, Any]) -> dict[str, Any]:
    ws = state.workspace
    return {"root": str(ws.display_root), "files": ws.files(), "samples": samples.names(),
            "known_types": list(dodo_schema().known_types), "builtins": builtins_json(),
            "targets": [{"name": t, "doc": d} for t, d in TARGETS],
            "max_text": MAX_TEXT_CHARS, "max_body": MAX_BODY_BYTES}


def open_(state: State, params: dict[str, Any]) -> dict[str, Any]:
    path = _str(params, "path")
    return {"path": path, "text": state.workspace.read(path), **state.workspace.examples(path)}


def compile_(state: State, params: dict[str, Any]) -> dict[str, Any]:
    path, text = _str(params, "path"), _str(params, "text")
    started = time.perf_counter()
    state.key = None
    compiled = state.compiled(path, text)
    out = state.workspace.diagnostics_json(compiled)
    out["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return out


def apply(state: State, params: dict[str, Any]) -> dict[str, Any]:
    path, text, body = _str(params, "path"), _str(params, "text"), _str(params, "body")
    state.compiled(path, text)
    return state.workspace.apply(body, explain=params.get("explain") is not False)


def save(state: State, params: dict[str, Any]) -> dict[str, Any]:
    state.key = None
    return state.workspace.save(_str(params, "path"), _str(params, "text"))


def new(state: State, params: dict[str, Any]) -> dict[str, Any]:
    event_type = _str(params, "event_type")
    path = _str(params, "path")
    target = state.workspace.path(path, must_exist=False)
    if target.exists():
        raise PlaygroundError(f"{path} already exists; open it instead, or choose another name", 409)
    return {"path": path, "text": state.workspace.template(event_type)}


def save_test(state: State, params: dict[str, Any]) -> dict[str, Any]:
    state.key = None
    sample = params.get("sample")
    return state.workspace.save_test(_str(params, "path"), _str(params, "text"), _str(params, "name"),
                                     _str(params, "body"), sample if isinstance(sample, str) else None)


def coverage(state: State, params: dict[str, Any]) -> dict[str, Any]:
    state.key = None
    return state.workspace.coverage()


def paths(state: State, params: dict[str, Any]) -> dict[str, Any]:
    event_type = _str(params, "event_type")
    return {"event_type": event_type, "paths": schema_paths(event_type)}


def sample(state: State, params: dict[str, Any]) -> dict[str, Any]:
    event_type = _str(params, "event_type")
    body = samples.read(event_type)
    if body is None:
        raise PlaygroundError(f"no sample for event type {event_type!r}", 404)
    return {"event_type": event_type, "body": body.decode("utf-8")}


def ping(state: State, params: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True}


METHODS: dict[str, Callable[[State, dict[str, Any]], dict[str, Any]]] = {
    "meta": meta, "open": open_, "compile": compile_, "apply": apply, "save": save, "new": new,
    "save_test": save_test, "coverage": coverage, "paths": paths, "sample": sample, "ping": ping,
}


def dispatch(state: State, method: str, params: Any) -> dict[str, Any]:
    handler = METHODS.get(method)
    if handler is None:
        raise PlaygroundError(f"unknown method {method!r}", 404)
    if not isinstance(params, dict):
        raise PlaygroundError("the request must be a JSON object")
    return handler(state, params)
