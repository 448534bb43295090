"""``paymap run PATH --event FILE``: apply mappings to one webhook body and print the events."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from prelude.values import MISSING
from runtime import samples
from runtime.cli.common import UserError, dump_json, parse_event, read_event_bytes, read_sample
from runtime.errors import CompileError, MappingError
from runtime.mappingset import load


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="apply mappings to a webhook body and print the Inngest events",
                       description="Apply mappings to one Dodo webhook body and print the resulting Inngest events as JSON.")
    p.add_argument("path", nargs="?", default="mappings", help=".map file or directory (default: mappings)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--event", "-e", metavar="FILE", help="webhook body JSON file, or - for standard input")
    src.add_argument("--sample", "-s", metavar="TYPE", help="use the shipped sample body of a Dodo event type")
    src.add_argument("--list-samples", action="store_true", help="list the shipped sample event types")
    p.add_argument("--explain", action="store_true", help="show every statement with its value")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.list_samples:
        print("\n".join(samples.names()))
        return 0
    try:
        if args.sample:
            payload = parse_event(read_sample(args.sample), f"sample {args.sample}")
        elif args.event:
            payload = parse_event(read_event_bytes(args.event), args.event)
        else:
            raise UserError("give a webhook body with --event FILE (or - for stdin), or --sample TYPE")
        mappings = load(args.path)
    except UserError as exc:
        print(f"paymap: {exc}", file=sys.stderr)
        return 2
    except CompileError as exc:
        print(exc.rendered, file=sys.stderr)
        return 1
    if args.explain:
        return _explain(mappings, payload)
    try:
        outcome = mappings.run(payload)
    except MappingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not outcome.matched:
        print(f"note: no rule receives event type {payload.get('type')!r}; no events", file=sys.stderr)
    for rule in outcome.dropped:
        print(f"note: dropped by the rule at {rule.label}", file=sys.stderr)
    print(dump_json(outcome.events))
    return 0


def _explain(mappings: Any, payload: Any) -> int:
    try:
        explanations = mappings.explain(payload)
    except MappingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not explanations:
        print(f"no rule receives event type {payload.get('type')!r}")
        return 0
    status = 0
    for ex in explanations:
        rule = ex.rule
        print(f"rule {', '.join(repr(p) for p in rule.patterns)} at {rule.label}")
        for step in ex.steps:
            value = "missing (left out)" if step.value is MISSING else json.dumps(step.value, default=str, ensure_ascii=False)
            where = f"{step.span.line:>4}" if step.span.file == rule.file else f"{step.span.file}:{step.span.line}"
            print(f"  {where} | {step.source}")
            if step.origin:
                print(f"       from {step.origin}")
            for const in step.consts:
                print(f"       const {const}")
            print(f"       = {value}")
        if ex.error is not None:
            print(f"  error: {ex.error}")
            status = 1
        elif ex.event is None:
            print("  => dropped")
        else:
            print("  => event:")
            print("\n".join("     " + line for line in dump_json(ex.event).splitlines()))
    return status
