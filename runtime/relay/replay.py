"""Replay: re-map stored webhooks with the current mappings and queue their events again.

One implementation for ``paymap replay`` and the console's replay buttons, so both do exactly the
same thing: the new events replace the undelivered ones (``Store.remap``); the running relay
delivers them. Events Inngest already accepted are left out unless asked for (a replay must not run
a function twice by surprise); ``new_ids`` gives the events fresh ids (``<id>:r<n>``) so Inngest,
which drops an id it saw in the last 24 h, runs them again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from runtime.relay.mapping import MappingSetLike, map_webhook
from runtime.relay.store import DROPPED, FAILED, MAPPED, SKIPPED, Store, StoredWebhook

DEDUP_WINDOW = 24 * 3600  # Inngest drops an event whose id it saw this recently
_REPLAY_SUFFIX = re.compile(r":r\d+$")


def unsuffixed(event_id: str, suffix: str = "") -> str:
    """The id an event had before any replay gave it a new one (``...:r<n>``)."""
    return _REPLAY_SUFFIX.sub("", event_id.removesuffix(suffix) if suffix else event_id)


@dataclass
class ReplayReport:
    """What a replay did (or, dry, would do)."""

    selected: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {MAPPED: 0, SKIPPED: 0, DROPPED: 0, FAILED: 0})
    queued: int = 0  # events queued for delivery
    dead: int = 0  # events dead-lettered at once (they break Inngest's rules)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (what, why) still failing
    dry_run: bool = False
    new_ids: bool = False
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (webhook id, new event id) with new_ids
    left_out: list[str] = field(default_factory=list)  # webhooks with nothing left to send
    held_back: int = 0  # events left out because Inngest already accepted them
    resent: int = 0  # delivered events sent again (include_delivered)
    recent: int = 0  # ... of which delivered less than 24 h ago
    old: int = 0  # ... and more than 24 h ago

    def summary(self) -> str:
        verb = "would replay" if self.dry_run else "replayed"
        c = self.counts
        return (
            f"{verb} {self.selected - len(self.left_out)} webhook(s): {c[MAPPED]} mapped "
            f"({self.queued} event(s) {'would be queued' if self.dry_run else 'queued'}"
            + (f", {self.dead} dead-lettered" if self.dead else "")
            + f"), {c[SKIPPED]} skipped, {c[DROPPED]} dropped, {c[FAILED]} failed"
        )

    def notes(self) -> list[str]:
        """What was left out, and how to include it."""
        if not self.held_back:
            return []
        return [
            f"left out {self.held_back} event(s) Inngest already accepted"
            + (f" ({len(self.left_out)} webhook(s) with nothing else to send)" if self.left_out else "")
            + "; add --include-delivered to send them again"
        ]

    def warnings(self) -> list[str]:
        """What Inngest will do with the queued events' ids (drop them, or run their functions again)."""
        out: list[str] = []
        if self.queued and not self.new_ids:
            out.append("note: the events keep their ids, and Inngest drops an event whose id it saw in the last "
                       "24 h (add --new-ids to run its functions again)")
        if self.recent and not self.new_ids:
            out.append(f"warning: {self.recent} event(s) were delivered less than 24 h ago: Inngest will drop "
                       "them as duplicates")
        if self.old and not self.new_ids:
            out.append(f"warning: {self.old} event(s) were delivered more than 24 h ago: Inngest no longer "
                       "remembers their ids, so their functions run again")
        if self.resent and self.new_ids:
            out.append(f"warning: {self.resent} event(s) Inngest already accepted are sent again under new ids: "
                       "their functions run again")
        return out


def replay(
    store: Store,
    mappings: MappingSetLike,
    webhooks: Sequence[StoredWebhook],
    *,
    event_max_bytes: int,
    new_ids: bool = False,
    include_delivered: bool = False,
    dry_run: bool = False,
) -> ReplayReport:
    """Re-map ``webhooks``; events Inngest accepted before stay out unless ``include_delivered``."""
    report = ReplayReport(selected=len(webhooks), dry_run=dry_run, new_ids=new_ids)
    delivered = store.delivered_events([w.seq for w in webhooks])
    now = time.time()
    for webhook in webhooks:
        suffix = f":r{webhook.generation + 1}" if new_ids else ""
        record = map_webhook(mappings, webhook, event_max_bytes=event_max_bytes, id_suffix=suffix)
        sent_before = {unsuffixed(i): at for i, at in delivered.get(webhook.seq, {}).items()}
        keep = []
        for event in record.events:
            at = sent_before.get(unsuffixed(event.event_id or "", suffix))
            if at is None:
                keep.append(event)
            elif include_delivered:
                keep.append(event)
                report.resent += 1
                if now - at < DEDUP_WINDOW:
                    report.recent += 1
                else:
                    report.old += 1
            else:
                report.held_back += 1
        if record.events and not keep:
            report.left_out.append(webhook.webhook_id)
            continue
        record = replace(record, events=keep)
        report.counts[record.state] = report.counts.get(record.state, 0) + 1
        report.queued += sum(1 for e in record.events if not e.dead_reason)
        report.dead += sum(1 for e in record.events if e.dead_reason)
        if record.state == FAILED:
            report.failures.append((webhook.webhook_id, record.error or ""))
        for e in record.events:
            if e.dead_reason:
                report.failures.append((f"{webhook.webhook_id} event {e.event_id}", e.dead_reason))
            elif new_ids:
                report.renamed.append((webhook.webhook_id, e.event_id or ""))
        if not dry_run:
            store.remap(webhook.seq, record)
    return report
