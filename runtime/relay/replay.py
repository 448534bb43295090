"""Replay: re-map stored webhooks with the current mappings and queue their events again.

One implementation for ``paymap replay`` and the console's replay buttons, so both do exactly the
same thing: the new events replace the undelivered ones (``Store.remap``); the running relay
delivers them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from runtime.relay.mapping import MappingSetLike, map_webhook
from runtime.relay.store import DROPPED, FAILED, MAPPED, SKIPPED, Store, StoredWebhook


@dataclass
class ReplayReport:
    """What a replay did (or, dry, would do)."""

    selected: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {MAPPED: 0, SKIPPED: 0, DROPPED: 0, FAILED: 0})
    queued: int = 0  # events queued for delivery
    dead: int = 0  # events dead-lettered at once (they break Inngest's rules)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (what, why) still failing
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would replay" if self.dry_run else "replayed"
        c = self.counts
        return (
            f"{verb} {self.selected} webhook(s): {c[MAPPED]} mapped ({self.queued} event(s) queued"
            + (f", {self.dead} dead-lettered" if self.dead else "")
            + f"), {c[SKIPPED]} skipped, {c[DROPPED]} dropped, {c[FAILED]} failed"
        )


def replay(
    store: Store,
    mappings: MappingSetLike,
    webhooks: Sequence[StoredWebhook],
    *,
    event_max_bytes: int,
    new_ids: bool = False,
    dry_run: bool = False,
) -> ReplayReport:
    """Re-map ``webhooks``; ``new_ids`` gives the events fresh ids (``:r<n>``) so Inngest runs them again."""
    report = ReplayReport(selected=len(webhooks), dry_run=dry_run)
    for webhook in webhooks:
        suffix = f":r{webhook.generation + 1}" if new_ids else ""
        record = map_webhook(mappings, webhook, event_max_bytes=event_max_bytes, id_suffix=suffix)
        report.counts[record.state] = report.counts.get(record.state, 0) + 1
        report.queued += sum(1 for e in record.events if not e.dead_reason)
        report.dead += sum(1 for e in record.events if e.dead_reason)
        if record.state == FAILED:
            report.failures.append((webhook.webhook_id, record.error or ""))
        for e in record.events:
            if e.dead_reason:
                report.failures.append((f"{webhook.webhook_id} event {e.event_id}", e.dead_reason))
        if not dry_run:
            store.remap(webhook.seq, record)
    return report
