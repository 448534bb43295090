"""``paymap purge``: delete a person's data (or everything before a date) from the relay's store.

For erasure requests: every stored webhook that names the customer (by id or email, anywhere in
its body) is deleted with the events mapped from it, then the freed pages are given back and the
write-ahead log emptied, so the data is not left behind in the file. Works while `paymap serve`
runs (deletions go in batches; the final space reclaim may make webhooks wait a moment).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "purge",
        help="delete a customer's data (by id or email) or everything received before a date",
        description=(
            "Delete stored webhooks, and the events mapped from them, that name a customer (any JSON "
            "value equal to the id or email, anywhere in the body) or that were received before a date; "
            "then reclaim the space so nothing is left in the file. Events not delivered yet are "
            "deleted too (the output says how many). Try --dry-run first."
        ),
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer", metavar="ID", help="a Dodo customer id (cus_...)")
    who.add_argument("--email", metavar="ADDRESS", help="an email address (any case)")
    who.add_argument("--before", metavar="DATE", help="received before: ISO time (2025-08-04T00:00:00Z) or an age (90d)")
    p.add_argument("--db", help="SQLite store file (PAYMAP_DB, default paymap-data/relay.sqlite3); "
                                "without it, PAYMAP_DATABASE_URL names a PostgreSQL store")
    p.add_argument("--dry-run", action="store_true", help="show what would be deleted; change nothing")
    p.set_defaults(func=run)


def _names(value: Any, wanted: str, fold: bool) -> bool:
    """Whether any string in the JSON ``value`` equals ``wanted`` (case-insensitively with ``fold``)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if (item.casefold() if fold else item) == wanted:
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def matching(candidates: list[tuple[int, bytes]], wanted: str, fold: bool) -> list[int]:
    """The seqs whose body holds ``wanted`` as a whole JSON value (not merely inside a longer text)."""
    target = wanted.casefold() if fold else wanted
    found: list[int] = []
    for seq, body in candidates:
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            continue
        if _names(payload, target, fold):
            found.append(seq)
    return found


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from runtime.cli.replay import parse_when
    from runtime.relay.redact import printable
    from runtime.relay.store import StoreError
    from runtime.relay.stores import open_for_command

    for flag, value in (("--customer", args.customer), ("--email", args.email)):
        if value is not None and not value.strip():
            print(f"paymap purge: {flag} needs a value", file=sys.stderr)
            return 2
    if args.email is not None and "@" not in args.email:
        print(f"paymap purge: --email {args.email!r} is not an email address", file=sys.stderr)
        return 2
    try:
        before = parse_when(args.before) if args.before else None
    except ValueError as exc:
        print(f"paymap purge: --before: {exc}", file=sys.stderr)
        return 2
    try:
        store = open_for_command(Path(args.db) if args.db else None, read_only=args.dry_run)
    except StoreError as exc:
        print(f"paymap purge: {exc}", file=sys.stderr)
        return 1
    try:
        if before is not None:
            seqs = store.seqs_received_before(before)
            what = f"received before {args.before}"
        else:
            wanted = str(args.customer or args.email).strip()
            seqs = matching(store.bodies_containing(wanted), wanted, fold=args.email is not None)
            what = f"naming customer {wanted}" if args.customer else f"naming {wanted}"
        plan = store.purge_plan(seqs)
        shown = printable(", ".join(plan.sample_ids) + (", …" if plan.webhooks > len(plan.sample_ids) else ""))
        verb = "would delete" if args.dry_run else "deleted"
        summary = f"{verb} {plan.webhooks} webhook(s) {what} and {plan.events} event(s) mapped from them"
        if args.dry_run or not seqs:
            print(summary + (f": {shown}" if seqs else ""))
        else:
            store.delete_webhooks(seqs)
            print(summary + f": {shown}")
            print(f"space: {store.reclaim_space()}")
        if plan.undelivered:
            print(f"note: {plan.undelivered} of those events were not delivered to Inngest yet"
                  + ("" if args.dry_run else " and never will be"))
    except StoreError as exc:
        print(f"paymap purge: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0
