"""``paymap replay``: re-map stored webhooks with the current mappings and queue the events again.

For after a fix: failed webhooks (a mapping raised), dead-lettered events, or any webhooks by id
or time range. The new events replace undelivered ones; the running relay delivers them.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "replay",
        help="re-map stored webhooks (failed, dead-lettered, by id or time) and deliver again",
        description=(
            "Re-map stored webhooks with the mappings as they are now on disk and queue the resulting "
            "events for delivery (a running `paymap serve` sends them). Choose webhooks with at least "
            "one selector; --since/--until narrow any selection (alone they select every webhook in range). "
            "Events Inngest already accepted are left out unless --include-delivered."
        ),
    )
    p.add_argument("--failed", action="store_true", help="webhooks whose mapping failed")
    p.add_argument("--dead", action="store_true", help="webhooks with dead-lettered events")
    p.add_argument("--skipped", action="store_true", help="webhooks no rule matched (e.g. after adding a rule)")
    p.add_argument("--id", dest="ids", action="append", default=[], metavar="WEBHOOK_ID", help="a webhook-id (repeatable)")
    p.add_argument("--since", help="received at or after: ISO time (2025-08-04T08:00:00Z) or an age (30m, 2h, 3d)")
    p.add_argument("--until", help="received before: ISO time or an age")
    p.add_argument("--mappings", type=Path, help="a .map file or directory (PAYMAP_MAPPINGS, default mappings/)")
    p.add_argument("--db", type=Path, help="SQLite store file (PAYMAP_DB, default paymap-data/relay.sqlite3); "
                                           "without it, PAYMAP_DATABASE_URL names a PostgreSQL store")
    p.add_argument(
        "--new-ids",
        action="store_true",
        help="give every event a new id (its id + ':r<n>', n counting the webhook's replays) so Inngest "
        "runs functions again even within its 24 h id dedup window; the ids are printed (default: keep "
        "the ids, and Inngest drops an event whose id it saw in the last 24 h)",
    )
    p.add_argument(
        "--include-delivered",
        action="store_true",
        help="also send again events Inngest already accepted (default: leave them out, so a replay never "
        "runs a function twice); past Inngest's 24 h dedup window their functions run again",
    )
    p.add_argument("--dry-run", action="store_true", help="show what would happen; change nothing")
    p.set_defaults(func=run)


def parse_when(text: str, *, now: float | None = None) -> float:
    """An ISO 8601 time (naive = UTC) or an age such as ``90m``; raises ValueError with a sentence."""
    now = time.time() if now is None else now
    m = _DURATION.match(text.strip())
    if m:
        return now - float(m.group(1)) * _UNITS[m.group(2)]
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is neither an ISO time like 2025-08-04T08:00:00Z nor an age like 2h") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def run(args: argparse.Namespace) -> int:
    import os

    # the relay's modules load here only: building the CLI parser (e.g. for `paymap check`) stays fast
    from runtime.errors import CompileError
    from runtime.relay.mapping import default_loader
    from runtime.relay.replay import replay
    from runtime.relay.store import FAILED, SKIPPED, StoreError
    from runtime.relay.stores import open_for_command

    if not (args.failed or args.dead or args.skipped or args.ids or args.since or args.until):
        print("paymap replay: choose what to replay: --failed, --dead, --skipped, --id WEBHOOK_ID, "
              "or a --since/--until range", file=sys.stderr)
        return 2
    try:
        since = parse_when(args.since) if args.since else None
        until = parse_when(args.until) if args.until else None
    except ValueError as exc:
        print(f"paymap replay: {exc}", file=sys.stderr)
        return 2
    mappings_path = args.mappings or Path(os.environ.get("PAYMAP_MAPPINGS") or "mappings")
    if not mappings_path.exists():
        print(f"paymap replay: mappings not found: {mappings_path}", file=sys.stderr)
        return 2
    try:
        mappings = default_loader(mappings_path)
    except CompileError as exc:
        print(f"paymap replay: the mappings in {mappings_path} have errors; nothing replayed:\n{exc.rendered}",
              file=sys.stderr)
        return 1
    max_bytes = int(os.environ.get("PAYMAP_EVENT_MAX_BYTES") or 3 * 1024 * 1024)
    try:
        store = open_for_command(args.db)
    except StoreError as exc:
        print(f"paymap replay: {exc}", file=sys.stderr)
        return 1
    try:
        states = [s for s, on in ((FAILED, args.failed), (SKIPPED, args.skipped)) if on]
        selected = store.select_webhooks(
            states=states, webhook_ids=args.ids, with_dead_events=args.dead, since=since, until=until
        )
        missing = sorted(set(args.ids) - {w.webhook_id for w in selected})
        for wid in missing:
            print(f"paymap replay: no stored webhook with id {wid!r}", file=sys.stderr)
        report = replay(store, mappings, selected, event_max_bytes=max_bytes, new_ids=args.new_ids,
                        include_delivered=args.include_delivered, dry_run=args.dry_run)
    except StoreError as exc:
        print(f"paymap replay: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(report.summary())
    for line in report.notes():
        print(line)
    if report.renamed:
        print(("new event ids (would be):" if args.dry_run else "new event ids:") + "\n"
              + "\n".join(f"  {wid} -> {event_id}" for wid, event_id in report.renamed))
    if report.failures:
        print("still failing:\n" + "\n".join(f"  {what}: {why}" for what, why in report.failures))
    for line in report.warnings():
        print(line, file=sys.stderr)
    if report.queued and not args.dry_run:
        print("the running `paymap serve` delivers the queued events; `paymap status` shows progress")
    return 1 if (missing and not selected) else 0
