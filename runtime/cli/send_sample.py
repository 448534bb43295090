"""``paymap send-sample TYPE``: post a signed sample Dodo webhook to a running relay (for trying it out)."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from runtime import samples

DEV_SECRET_FILE = "paymap-data/dev-webhook-secret"  # written by `make run` when no secret is set (Makefile)


def _local_secret() -> list[str]:
    """The secret `make run` gave the relay when DODO_PAYMENTS_WEBHOOK_KEY was not set."""
    try:
        text = Path(DEV_SECRET_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return []
    if text:
        print(f"paymap send-sample: signing with the local secret in {DEV_SECRET_FILE} (the one `make run` uses)",
              file=sys.stderr)
    return [text] if text else []


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "send-sample",
        help="send a signed sample Dodo webhook to the relay",
        description=(
            "Post one of the bundled sample Dodo webhooks (e.g. payment.succeeded) to a running "
            "`paymap serve`, signed with DODO_PAYMENTS_WEBHOOK_KEY (or --secret) and a fresh webhook-id."
        ),
    )
    p.add_argument("type", nargs="?", help="event type, e.g. payment.succeeded (see --list)")
    p.add_argument("--list", action="store_true", help="list the sample event types")
    p.add_argument("--url", help="relay URL (default http://127.0.0.1:$PAYMAP_PORT/webhooks/dodo)")
    p.add_argument("--secret", help="signing secret (default: first of DODO_PAYMENTS_WEBHOOK_KEY, else the local "
                   f"secret `make run` created in {DEV_SECRET_FILE})")
    p.add_argument("--webhook-id", help="webhook-id header (default: a fresh msg_... id)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # imported here only: building the CLI parser (e.g. for `paymap check`) stays fast
    import httpx
    from standardwebhooks import Webhook

    from runtime.relay.config import check_secret, split_secrets

    types = samples.names()
    if args.list:
        print("\n".join(types))
        return 0
    if not args.type:
        print("paymap send-sample: name an event type, e.g. `paymap send-sample payment.succeeded` (see --list)",
              file=sys.stderr)
        return 2
    if args.type not in types:
        print(f"paymap send-sample: no sample for {args.type!r}; `paymap send-sample --list` shows the {len(types)} types",
              file=sys.stderr)
        return 2
    body = (samples.read(args.type) or b"").decode("utf-8")
    port = os.environ.get("PAYMAP_PORT", "8000")
    url = args.url or f"http://127.0.0.1:{port}/webhooks/dodo"
    webhook_id = args.webhook_id or f"msg_{uuid.uuid4().hex[:24]}"
    now = datetime.now(tz=UTC)
    headers = {"content-type": "application/json", "webhook-id": webhook_id,
               "webhook-timestamp": str(int(now.timestamp()))}
    secrets = [args.secret] if args.secret else split_secrets(os.environ.get("DODO_PAYMENTS_WEBHOOK_KEY"))
    secrets = secrets or _local_secret()
    if secrets:
        why = check_secret(secrets[0])
        if why:
            print(f"paymap send-sample: the signing secret {why}", file=sys.stderr)
            return 2
        headers["webhook-signature"] = Webhook(secrets[0]).sign(webhook_id, now, body)
    else:
        print(f"paymap send-sample: no DODO_PAYMENTS_WEBHOOK_KEY, --secret or {DEV_SECRET_FILE}: sending UNSIGNED "
              "(only a relay started with --insecure-dev accepts it)", file=sys.stderr)
    try:
        response = httpx.post(url, content=body.encode(), headers=headers, timeout=20)
    except httpx.HTTPError as exc:
        print(f"paymap send-sample: cannot reach {url} ({type(exc).__name__}); is `paymap serve` running?",
              file=sys.stderr)
        return 1
    detail = response.text.strip()
    if response.status_code == 200:
        print(f"{args.type} sent as webhook-id {webhook_id}: {response.status_code} {detail}")
        print("see it with `paymap status` (or in the Inngest dev server UI at http://127.0.0.1:8288)")
        return 0
    print(f"paymap send-sample: the relay answered {response.status_code}: {detail}", file=sys.stderr)
    return 1
