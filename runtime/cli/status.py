"""``paymap status``: what the relay's store holds — counts by state, queue, why events wait, dead letters."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "status",
        help="show the relay's queue: counts by state, oldest pending, dead letters",
        description="Read the relay's store (works while `paymap serve` runs) and report its state.",
    )
    p.add_argument("--db", type=Path, help="SQLite store file (PAYMAP_DB, default paymap-data/relay.sqlite3); "
                                           "without it, PAYMAP_DATABASE_URL names a PostgreSQL store")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--limit", type=int, default=10, help="how many dead letters / failed webhooks to list (default 10)")
    p.set_defaults(func=run)


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 172800:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d{(seconds % 86400) // 3600:02d}h"


def render(info: dict[str, Any], db: str) -> str:
    from runtime.relay.redact import mask_personal, printable

    w, e = info["webhooks"], info["events"]
    lines = [
        f"store     {db}",
        f"webhooks  {sum(w.values())} stored: mapped {w['mapped']}, skipped {w['skipped']} (no rule), "
        f"dropped {w['dropped']}, failed {w['failed']}, awaiting mapping {w['received']}",
        f"events    pending {e['pending']}, delivered {e['delivered']}, dead {e['dead']}, superseded {e['superseded']}",
    ]
    if info["insecure_dev"]:
        lines.append("INSECURE DEV MODE: the relay accepts webhooks WITHOUT checking their signatures")
    sender = info["sender"]
    if sender["target"]:
        lines.append(f"target    {sender['target']}")
    if sender["paused"]:
        lines.append(f"SENDER PAUSED for {_age(sender['paused_for_seconds'] or 0)}: {sender['paused']}")
    if info.get("mapping_versions_differ"):
        lines.append("MAPPINGS DIFFER between live instances (a deploy in progress, or one that did not reload): "
                     "they map the same webhook differently until they agree")
    shown = info.get("instances", [])
    for inst in shown if len(shown) > 1 or info.get("mapping_versions_differ") else []:  # one instance: nothing to compare
        state = "alive" if inst["alive"] else "no heartbeat"
        lines.append(f"instance  {inst['id']} on {inst['host']}: mappings {inst['mapping_hash']}, "
                     f"heartbeat {_age(inst['heartbeat_age_seconds'])} ago ({state})")
    rejected = info["mappings_reload_rejected"]
    if rejected:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(rejected.get("at") or 0)))
        files = ", ".join(rejected.get("files") or []) or "?"
        lines.append(f"MAPPINGS RELOAD REJECTED at {when} ({rejected.get('trigger', '?')}): {files} — "
                     "still running the previous set; fix and save again (or send SIGHUP)")
        lines += ["  " + line for line in str(rejected.get("diagnostics", "")).splitlines()]
    if info["queue_depth"]:
        nxt = info["next_attempt_in_seconds"]
        due = (f"{info['ready_now']} due now" if info["ready_now"]
               else f"next attempt in {_age(math.ceil(nxt))}" if nxt else "due now")
        lines.append(
            f"queue     {info['queue_depth']} waiting, oldest {_age(info['oldest_pending_age_seconds'] or 0)}, {due}"
        )
        if info["oldest_pending_reason"]:
            lines.append(
                f"waiting because  {info['oldest_pending_reason']} (attempts {info['oldest_pending_attempts']})"
            )
        elif not sender["paused"]:
            lines.append("waiting because  not sent yet (is `paymap serve` running?)")
    else:
        lines.append("queue     empty")
    if info["dead_letters"]:
        lines.append(f"dead letters (newest {len(info['dead_letters'])}; `paymap replay --dead` after fixing):")
        for d in info["dead_letters"]:
            lines.append(f"  {d['webhook_id']}  {d['event_id']}  {d['name']}: {d['reason']}")
    if info["failed_webhooks"]:
        lines.append(f"failed webhooks (newest {len(info['failed_webhooks'])}; `paymap replay --failed` after fixing):")
        for f in info["failed_webhooks"]:
            lines.append(f"  {f['webhook_id']}  {f['type']}: {f['error']}")
    # stored text comes from customers and unauthenticated senders: one record stays one line
    return "\n".join(printable(mask_personal(line)) for line in lines)


def run(args: argparse.Namespace) -> int:
    from runtime.relay.overview import collect
    from runtime.relay.store import StoreError
    from runtime.relay.stores import open_for_command

    try:
        store = open_for_command(args.db, read_only=True)  # never convert or extend a file given by mistake
    except StoreError as exc:
        print(f"paymap status: {exc}", file=sys.stderr)
        return 1
    try:
        info = collect(store, args.limit)
    except StoreError as exc:
        print(f"paymap status: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(json.dumps(info, indent=2) if args.json else render(info, store.location))
    return 0
