"""The operator console at ``/console``: see every stored webhook, why it failed, and replay it.

Mounted by :func:`runtime.relay.app.create_app` only when ``PAYMAP_CONSOLE_TOKEN`` is set. It
shows payloads, so nothing of it answers without that token: pages redirect to the login page,
the JSON API (``/console/api/...``) answers 401. The login page trades the token for a session
cookie (HttpOnly, SameSite=Strict, signed with a key derived from the token, 12 h); scripts may send
``Authorization: Bearer <token>`` instead. Every action (POST) needs the session's CSRF token in
``X-CSRF-Token`` (cookie sessions) and a same-origin ``Origin`` when the browser sends one. A wrong
token is answered after a second, and an address with too many wrong tokens gets 429 for a while.

It reads the store through the same code as ``paymap status`` (:mod:`runtime.relay.overview`) and
replays through the same code as ``paymap replay`` (:mod:`runtime.relay.replay`). Secrets never
leave: signature headers (and any header naming a secret, token, key or credential) are shown
hidden, and the signing secret and the Inngest event key are not in any answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import logging
import math
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from prelude.errors import PaymapError
from runtime.errors import CompileError, mapping_error_location, mapping_error_message
from runtime.relay.mapping import MappingSetLike
from runtime.relay.overview import collect
from runtime.relay.replay import replay
from runtime.relay.service import Relay
from runtime.relay.store import (
    EVENT_STATES,
    SUPERSEDED,
    WEBHOOK_STATES,
    StoredWebhook,
    StoreError,
    WebhookFilter,
    WebhookSummary,
)

log = logging.getLogger("paymap.relay.console")

PREFIX = "/console"
COOKIE = "paymap_console"
SESSION_SECONDS = 12 * 3600
BAD_TOKEN_DELAY_SECONDS = 1.0  # every wrong token waits this long for its answer
BAD_TOKENS_PER_ADDRESS = 5  # wrong tokens per address per window before 429
BAD_TOKENS_OVERALL = 30  # ... and from all addresses together (a spread-out guess)
BAD_TOKEN_WINDOW_SECONDS = 300.0
PAGE_MAX = 200
REPLAY_MAX = 10_000  # webhooks one console action replays; more: narrow the filter or use `paymap replay`
THROUGHPUT_BUCKET_SECONDS = 60
STATES = (*WEBHOOK_STATES, *(s for s in EVENT_STATES if s != SUPERSEDED))
_HIDDEN_HEADER = re.compile(r"signature|secret|token|key|auth|cookie|credential|password", re.IGNORECASE)
HIDDEN = "(hidden)"


class ConsoleError(PaymapError):
    """A request the console refuses: ``str()`` is the sentence shown, ``status`` the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------------------- auth
class Guard:
    """Token check, sessions and CSRF tokens; all derived from the token (no server-side session table).

    Changing the token ends every session. Comparisons are constant-time (``hmac.compare_digest`` on
    digests, so not even the token's length shows).
    """

    def __init__(self, token: str) -> None:
        self._digest = hashlib.sha256(token.encode()).digest()
        self._key = hashlib.sha256(b"paymap console session\0" + token.encode()).digest()
        self._bad: dict[str, deque[float]] = {}
        self._bad_all: deque[float] = deque()

    def token_ok(self, given: str) -> bool:
        return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), self._digest)

    def _sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def new_session(self, now: float | None = None) -> str:
        expires = int((now or time.time()) + SESSION_SECONDS)
        value = f"{expires}.{secrets.token_urlsafe(18)}"
        return f"{value}.{self._sign(value)}"

    def session_ok(self, cookie: str | None, now: float | None = None) -> bool:
        if not cookie or cookie.count(".") != 2:
            return False
        value, _, mac = cookie.rpartition(".")
        if not hmac.compare_digest(mac, self._sign(value)):
            return False
        expires = value.split(".", 1)[0]
        return expires.isdigit() and int(expires) > (now or time.time())

    def csrf(self, session: str) -> str:
        return self._sign("csrf\0" + session)

    # --- slowing guesses down
    def _window(self, entries: deque[float], now: float) -> deque[float]:
        while entries and entries[0] < now - BAD_TOKEN_WINDOW_SECONDS:
            entries.popleft()
        return entries

    def blocked_for(self, address: str) -> float:
        """Seconds until ``address`` may try a token again (0: now)."""
        now = time.monotonic()
        mine = self._window(self._bad.get(address, deque()), now)
        overall = self._window(self._bad_all, now)
        waits = [0.0]
        if len(mine) >= BAD_TOKENS_PER_ADDRESS:
            waits.append(mine[0] + BAD_TOKEN_WINDOW_SECONDS - now)
        if len(overall) >= BAD_TOKENS_OVERALL:
            waits.append(overall[0] + BAD_TOKEN_WINDOW_SECONDS - now)
        return max(waits)

    def record_bad(self, address: str) -> None:
        now = time.monotonic()
        self._bad.setdefault(address, deque()).append(now)
        self._bad_all.append(now)
        if len(self._bad) > 10_000:  # keep the table bounded whatever the traffic
            for addr in [a for a, d in self._bad.items() if not self._window(d, now)]:
                del self._bad[addr]


# ---------------------------------------------------------------------------------------- pages
_SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def _csp(nonce: str | None = None) -> str:
    style = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    return (
        f"default-src 'none'; script-src 'self'; style-src {style}; img-src 'self' data:; connect-src 'self'; "
        "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


_LOGIN_STYLE = (
    "body{font:15px system-ui,sans-serif;background:#f6f7f9;color:#1d2330;display:grid;place-items:center;"
    "min-height:90vh}form{background:#fff;padding:2rem 2.2rem;border-radius:10px;box-shadow:0 2px 12px #0002;"
    "width:22rem}h1{font-size:1.2rem;margin:0 0 1rem}label{display:block;margin:.6rem 0 .3rem}"
    "input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit}button{margin-top:1rem;padding:.5rem 1.2rem;"
    "font:inherit}.error{color:#b00020;margin:.6rem 0}.hint{color:#5b6372;font-size:.85rem}"
)


def _login_page(next_url: str, error: str | None = None) -> tuple[str, str]:
    """(style nonce, HTML): self-contained, so nothing else of the console is served before login."""
    nonce = secrets.token_urlsafe(12)
    problem = f'<p class="error" role="alert" id="login-error">{html.escape(error)}</p>' if error else ""
    return nonce, (
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content='width=device-width'>"
        f"<title>paymap console — log in</title><style nonce='{nonce}'>{_LOGIN_STYLE}</style></head><body>"
        f"<form method=post action='{PREFIX}/login'><h1>paymap console</h1>{problem}"
        "<label for=token>Console token</label>"
        "<input id=token name=token type=password autocomplete=current-password required autofocus>"
        f"<input type=hidden name=next value='{html.escape(next_url, quote=True)}'>"
        "<button type=submit>Log in</button>"
        "<p class=hint>The value of PAYMAP_CONSOLE_TOKEN the relay was started with.</p></form></body></html>"
    )


def _safe_next(value: str | None) -> str:
    """Only a path inside the console (never another site: ``//host`` or a scheme)."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX + "/"


def static_dir() -> Path | None:
    """The built web bundle (``make web`` writes it; shipped in the package)."""
    try:
        root = resources.files("runtime") / "web" / "static"
    except ModuleNotFoundError:
        return None
    path = Path(str(root))
    return path if path.is_dir() else None


_SHELL = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content='width=device-width'>"
    "<title>paymap console</title><link rel=stylesheet href='{prefix}/static/console.css'>"
    "<script type=module src='{prefix}/static/console.js'></script></head>"
    "<body><div id=app data-prefix='{prefix}'><noscript>The console needs JavaScript.</noscript></div></body></html>"
)


# ---------------------------------------------------------------------------------------- data
def _headers_shown(headers: dict[str, str]) -> dict[str, str]:
    return {k: (HIDDEN if _HIDDEN_HEADER.search(k) else v) for k, v in sorted(headers.items())}


def _number(value: str | None, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ConsoleError(400, f"`{name}` must be a time in seconds since the epoch, got {value!r}")
    return number


def parse_filter(params: dict[str, Any]) -> WebhookFilter:
    """The list's filter from query parameters (or a replay request's ``filter`` object)."""
    state = params.get("state") or None
    if state is not None and state not in STATES:
        raise ConsoleError(400, f"unknown state {state!r}: use one of {', '.join(STATES)}")
    since = _number(_text(params.get("since")), "since")
    until = _number(_text(params.get("until")), "until")
    if since is not None and until is not None and since >= until:
        raise ConsoleError(400, "`since` must be before `until`")
    q = (_text(params.get("q")) or "").strip() or None
    if q is not None and len(q) > 200:
        raise ConsoleError(400, "the id search is longer than any id (200 characters at most)")
    return WebhookFilter(state=state, event_type=_text(params.get("type")) or None, since=since, until=until,
                         id_prefix=q)


def _console_words(line: str) -> str:
    """A replay note written for the CLI, with the console's names for the flags it mentions."""
    return (line.replace("add --include-delivered", "tick \"include delivered events\"")
            .replace("add --new-ids", "tick \"new event ids\""))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise ConsoleError(400, f"expected text, got {type(value).__name__}")


def _cursor(text: str | None) -> tuple[float, int] | None:
    if not text:
        return None
    at, _, seq = text.partition("_")
    try:
        cursor = float(at), int(seq)
    except ValueError:
        cursor = math.nan, 0
    if not math.isfinite(cursor[0]):
        raise ConsoleError(400, f"`before` is not a cursor from this list: {text!r}")
    return cursor


def _map_source(relay: Relay, location: tuple[str, int, int] | None) -> dict[str, Any] | None:
    """The failing ``.map`` line with two lines around it, if the file is among the relay's mappings."""
    if location is None:
        return None
    file, line, column = location
    root = Path(relay.holder.path).resolve()
    path = Path(file)
    candidates = [path] if path.is_absolute() else [path, root / path, root.parent / path]
    info: dict[str, Any] = {"file": file, "line": line, "column": column, "excerpt": None}
    for candidate in candidates:
        resolved = candidate.resolve()
        inside = resolved == root or root in resolved.parents
        if inside and resolved.suffix == ".map" and resolved.is_file():
            try:
                lines = resolved.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                break
            first = max(1, line - 2)
            info["excerpt"] = [{"line": n, "text": lines[n - 1]} for n in range(first, min(len(lines), line + 2) + 1)]
            break
    return info


def _summary_json(w: WebhookSummary) -> dict[str, Any]:
    return {
        "webhook_id": w.webhook_id,
        "received_at": w.received_at,
        "type": w.event_type,
        "state": w.state,
        "events": w.events,
        "error": w.error or w.event_error,
        "message": mapping_error_message(w.error) if w.error else w.event_error,
        "location": _location_json(mapping_error_location(w.error) if w.error else None),
        "cursor": f"{w.received_at!r}_{w.seq}",
    }


def _location_json(location: tuple[str, int, int] | None) -> dict[str, Any] | None:
    return None if location is None else {"file": location[0], "line": location[1], "column": location[2]}


def _body_json(body: bytes) -> tuple[str, Any]:
    text = body.decode("utf-8", errors="replace")
    try:
        return text, json.loads(body)
    except (ValueError, RecursionError):
        return text, None


# ---------------------------------------------------------------------------------------- routes
Handler = Callable[[Request], Awaitable[Response]]


def console_routes(relay: Relay, token: str) -> list[BaseRoute]:
    """The console's routes, to mount at :data:`PREFIX`."""
    guard = Guard(token)

    def session_of(request: Request) -> str | None:
        cookie = request.cookies.get(COOKIE)
        return cookie if guard.session_ok(cookie) else None

    def bearer_ok(request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        return scheme.lower() == "bearer" and bool(value) and guard.token_ok(value.strip())

    # the sender's target and its errors name the event key's first characters (as `paymap status`
    # does on the relay's own machine); the console, reachable over the network, shows none of it
    key = relay.settings.inngest_event_key or ""
    key_shown = [k for k in (key, key[:6] + "…") if len(k) > 1]

    def json_answer(data: Any, status: int = 200) -> Response:
        text = json.dumps(data, ensure_ascii=False)
        for shown in key_shown:
            text = text.replace(shown, "(key hidden)")
        return Response(text, status_code=status, media_type="application/json", headers=_SECURITY_HEADERS)

    def api(handler: Handler, *, action: bool = False) -> Handler:
        """401 without a session or bearer token; actions also need the CSRF token and our own origin."""

        async def guarded(request: Request) -> Response:
            session = session_of(request)
            if session is None and not bearer_ok(request):
                if request.headers.get("authorization"):
                    await _slow_down(request)
                return json_answer({"error": "login required", "login": PREFIX + "/login"}, 401)
            if action and session is not None:
                origin = request.headers.get("origin")
                if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
                    return json_answer({"error": "cross-site request refused"}, 403)
                sent = request.headers.get("x-csrf-token", "")
                if not hmac.compare_digest(sent, guard.csrf(session)):
                    return json_answer({"error": "missing or wrong CSRF token: reload the page"}, 403)
            try:
                return await handler(request)
            except ConsoleError as exc:
                return json_answer({"error": str(exc)}, exc.status)
            except StoreError as exc:
                return json_answer({"error": f"the store is unavailable: {exc}"}, 503)

        return guarded

    def page(handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            if session_of(request) is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"{PREFIX}/login?next={quote(target, safe='/')}", status_code=303)
            return await handler(request)

        return guarded

    async def _slow_down(request: Request) -> None:
        guard.record_bad(request.client.host if request.client else "?")
        await asyncio.sleep(BAD_TOKEN_DELAY_SECONDS)

    # --- login
    def login_html(next_url: str, error: str | None = None, status: int = 200) -> Response:
        nonce, text = _login_page(next_url, error)
        return Response(text, status_code=status, media_type="text/html",
                        headers={**_SECURITY_HEADERS, "content-security-policy": _csp(nonce)})

    async def login_form(request: Request) -> Response:
        if session_of(request) is not None:
            return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
        return login_html(_safe_next(request.query_params.get("next")))

    async def login(request: Request) -> Response:
        address = request.client.host if request.client else "?"
        form = await _login_form_fields(request)
        next_url = _safe_next(form.get("next"))
        wait = guard.blocked_for(address)
        if wait > 0:
            response = login_html(next_url, f"Too many wrong tokens: try again in {int(wait) + 1} s.", 429)
            response.headers["retry-after"] = str(int(wait) + 1)
            return response
        origin = request.headers.get("origin")
        if origin is not None and origin not in ("null", f"{request.url.scheme}://{request.url.netloc}"):
            return login_html(next_url, "Cross-site login refused.", 403)
        if not guard.token_ok(form.get("token", "")):
            await _slow_down(request)
            log.warning("console login refused: wrong token", extra={"client": address})
            return login_html(next_url, "Wrong token.", 401)
        log.info("console login", extra={"client": address})
        response = RedirectResponse(next_url, status_code=303, headers=_SECURITY_HEADERS)
        response.set_cookie(COOKIE, guard.new_session(), max_age=SESSION_SECONDS, path=PREFIX, httponly=True,
                            samesite="strict", secure=request.url.scheme == "https")
        return response

    async def logout(_request: Request) -> Response:
        response = json_answer({"status": "logged out", "login": PREFIX + "/login"})
        response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")
        return response

    # --- pages and the bundle
    async def shell(_request: Request) -> Response:
        root = static_dir()
        if root is None or not (root / "console.js").is_file():
            return Response(
                "The console's web bundle is missing from this installation (runtime/web/static/console.js): "
                "build it with `make web`.", status_code=500, media_type="text/plain", headers=_SECURITY_HEADERS)
        return Response(_SHELL.format(prefix=PREFIX), media_type="text/html",
                        headers={**_SECURITY_HEADERS, "content-security-policy": _csp()})

    async def static(request: Request) -> Response:
        root = static_dir()
        name = request.path_params["name"]
        if root is None or not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name.startswith("."):
            return Response("not found", status_code=404, media_type="text/plain")
        path = root / name
        if not path.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        kinds = {".js": "text/javascript", ".css": "text/css", ".map": "application/json", ".svg": "image/svg+xml"}
        return Response(path.read_bytes(), media_type=kinds.get(path.suffix, "application/octet-stream"),
                        headers={"x-content-type-options": "nosniff", "cache-control": "no-cache"})

    # --- the JSON API
    async def session_info(request: Request) -> Response:
        session = session_of(request)
        return json_answer({"csrf_token": guard.csrf(session) if session else None,
                            "playground_url": relay.settings.console_playground_url})

    def overview_data() -> dict[str, Any]:
        info = collect(relay.store, 10)
        now = time.time()
        bucket = THROUGHPUT_BUCKET_SECONDS
        start = (int(now) // bucket - 59) * bucket
        received, delivered = relay.store.throughput(start, bucket)
        holder = relay.holder
        last = holder.last_reload
        info["mappings"] = {
            "path": str(holder.path),
            "generation": holder.generation,
            "loaded_at": holder.loaded_at,
            "last_reload": None if last is None else
            {"at": last.at, "trigger": last.trigger, "ok": last.ok, "diagnostics": last.diagnostics},
        }
        info["throughput"] = {
            "bucket_seconds": bucket,
            "start": start,
            "received": [received.get(start + i * bucket, 0) for i in range(60)],  # webhooks per bucket
            "delivered": [delivered.get(start + i * bucket, 0) for i in range(60)],  # events per bucket
        }
        info["now"] = now
        return info

    async def overview(_request: Request) -> Response:
        return json_answer(await run_in_threadpool(overview_data))

    async def webhooks(request: Request) -> Response:
        params = dict(request.query_params)
        flt = parse_filter(params)
        try:
            limit = int(params.get("limit") or 50)
        except ValueError:
            raise ConsoleError(400, "`limit` must be a whole number") from None
        limit = max(1, min(PAGE_MAX, limit))
        before = _cursor(params.get("before"))
        rows = await run_in_threadpool(relay.store.browse, flt, limit=limit + 1, before=before)
        items = [_summary_json(w) for w in rows[:limit]]
        return json_answer({"items": items, "next": items[-1]["cursor"] if len(rows) > limit else None})

    async def types(_request: Request) -> Response:
        return json_answer({"types": await run_in_threadpool(relay.store.event_types), "states": list(STATES)})

    def detail_data(webhook_id: str) -> dict[str, Any]:
        found = relay.store.webhook(webhook_id)
        if found is None:
            raise ConsoleError(404, f"no stored webhook with id {webhook_id!r}")
        w, events = found
        text, parsed = _body_json(w.body)
        location = mapping_error_location(w.error) if w.error else None
        return {
            "webhook_id": w.webhook_id,
            "received_at": w.received_at,
            "type": w.event_type,
            "state": w.state,
            "generation": w.generation,
            "error": w.error,
            "message": mapping_error_message(w.error) if w.error else None,
            "location": _map_source(relay, location),
            "headers": _headers_shown(w.headers),
            "body": text,
            "body_json": parsed,
            "events": [
                {
                    "event_id": e.event_id,
                    "name": e.name,
                    "generation": e.generation,
                    "current": e.generation == w.generation,
                    "state": e.state,
                    "attempts": e.attempts,
                    "last_error": e.last_error,
                    "created_at": e.created_at,
                    "delivered_at": e.delivered_at,
                    "next_attempt_at": e.next_attempt_at if e.state == "pending" else None,
                    "payload": _body_json(e.payload.encode())[1],
                    "history": [
                        {"at": a.at, "status": a.status, "outcome": a.outcome, "error": a.error} for a in e.history
                    ],
                }
                for e in events
            ],
        }

    async def detail(request: Request) -> Response:
        return json_answer(await run_in_threadpool(detail_data, request.path_params["webhook_id"]))

    async def body(request: Request) -> Response:
        found = await run_in_threadpool(relay.store.webhook, request.path_params["webhook_id"])
        if found is None:
            raise ConsoleError(404, f"no stored webhook with id {request.path_params['webhook_id']!r}")
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", found[0].webhook_id)[:100] + ".json"
        return Response(found[0].body, media_type="application/json", headers={
            **_SECURITY_HEADERS, "content-disposition": f'attachment; filename="{name}"'})

    def replay_run(request_data: dict[str, Any]) -> dict[str, Any]:
        dry_run = request_data.get("dry_run") is True
        new_ids = request_data.get("new_ids") is True
        include_delivered = request_data.get("include_delivered") is True
        selected: list[StoredWebhook]
        if "webhook_id" in request_data:
            wid = _text(request_data["webhook_id"]) or ""
            found = relay.store.webhook(wid)
            if found is None:
                raise ConsoleError(404, f"no stored webhook with id {wid!r}")
            selected = [found[0]]
            matched = 1
        elif isinstance(request_data.get("filter"), dict):
            spec = dict(request_data["filter"])
            as_of = _number(_text(request_data.get("as_of")), "as_of")
            if as_of is not None:  # the dry run's moment: the replay acts on the set that was counted
                spec["until"] = min(as_of, float(spec["until"])) if spec.get("until") else as_of
            flt = parse_filter(spec)
            matched = relay.store.count_matching(flt, REPLAY_MAX + 1)
            if matched > REPLAY_MAX:
                raise ConsoleError(
                    400, f"the filter selects more than {REPLAY_MAX} webhooks: narrow it (a time range, a type) "
                    "or use `paymap replay` on the relay's machine")
            selected = relay.store.matching(flt, REPLAY_MAX)
        else:
            raise ConsoleError(400, "say what to replay: {\"webhook_id\": ...} or {\"filter\": {...}}")
        if not selected:
            return {"selected": 0, "dry_run": dry_run, "summary": "nothing matches: nothing to replay",
                    "as_of": time.time(), "counts": {}, "queued": 0, "dead": 0, "failures": [],
                    "notes": [], "warnings": [], "new_ids": [], "held_back": 0}
        # replay with the mappings as they are on disk now, like `paymap replay`: a set with errors
        # replays nothing (and the running set stays); a real replay also puts them in use, a dry run not
        as_of = time.time()
        mappings: MappingSetLike | None
        if dry_run:
            try:
                mappings = relay.holder.compile()
            except CompileError as exc:
                raise ConsoleError(409, "the mappings on disk have errors; nothing would be replayed:\n"
                                   + exc.rendered) from None
        else:
            if not relay.holder.reload("console replay"):
                last = relay.holder.last_reload
                raise ConsoleError(409, "the mappings on disk have errors; nothing replayed:\n"
                                   + (last.diagnostics if last and last.diagnostics else ""))
            mappings = relay.holder.current
        assert mappings is not None
        report = replay(relay.store, mappings, selected, event_max_bytes=relay.settings.event_max_bytes,
                        new_ids=new_ids, include_delivered=include_delivered, dry_run=dry_run)
        if not dry_run:
            relay.sender.wake()
            log.info("console replay", extra={"webhooks": report.selected, "queued": report.queued})
        return {
            "selected": report.selected,
            "dry_run": dry_run,
            "as_of": as_of,
            "summary": report.summary(),
            "counts": report.counts,
            "queued": report.queued,
            "dead": report.dead,
            "failures": [{"what": what, "why": why} for what, why in report.failures[:50]],
            # the CLI's lines, with the console's words for its flags
            "notes": [_console_words(n) for n in report.notes()],
            "warnings": [_console_words(w) for w in report.warnings()],
            "new_ids": [{"webhook_id": wid, "event_id": eid} for wid, eid in report.renamed[:50]],
            "held_back": report.held_back,
        }

    async def replay_action(request: Request) -> Response:
        try:
            data = await request.json()
        except ValueError:
            raise ConsoleError(400, "the request body must be a JSON object") from None
        if not isinstance(data, dict):
            raise ConsoleError(400, "the request body must be a JSON object")
        return json_answer(await run_in_threadpool(replay_run, data))

    async def api_not_found(_request: Request) -> Response:
        return json_answer({"error": "no such console API"}, 404)

    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", api(logout, action=True), methods=["POST"]),
        Route("/", page(shell), methods=["GET"]),
        Route("/events", page(shell), methods=["GET"]),
        Route("/events/{webhook_id:path}", page(shell), methods=["GET"]),
        Route("/static/{name}", page(static), methods=["GET"]),
        Route("/api/session", api(session_info), methods=["GET"]),
        Route("/api/overview", api(overview), methods=["GET"]),
        Route("/api/webhooks", api(webhooks), methods=["GET"]),
        Route("/api/types", api(types), methods=["GET"]),
        Route("/api/webhooks/{webhook_id:path}/body", api(body), methods=["GET"]),
        Route("/api/webhooks/{webhook_id:path}", api(detail), methods=["GET"]),
        Route("/api/replay", api(replay_action, action=True), methods=["POST"]),
        Route("/api/{rest:path}", api(api_not_found), methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        Route("/{rest:path}", page(shell), methods=["GET"]),
    ]


async def _login_form_fields(request: Request) -> dict[str, str]:
    """The login form's fields (URL-encoded, a few hundred bytes; anything larger is not our form)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > 8192:
            return {}
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", errors="replace")).items()}
