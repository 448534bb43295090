"""What the store says about the relay right now: one reading for `paymap status` and the console."""

from __future__ import annotations

import json
import time
from typing import Any

from runtime.relay.reload import REJECTED_KEY
from runtime.relay.store import Store, instances_in
from runtime.relay.worker import (
    INSECURE_KEY,
    LAST_ERROR_KEY,
    LAST_OK_KEY,
    PAUSE_KEY,
    PAUSE_SINCE_KEY,
    TARGET_KEY,
)


def collect(store: Store, limit: int) -> dict[str, Any]:
    """Counts by state, the queue and why it waits, the sender's pause and target, a rejected mapping
    reload, insecure mode, the newest dead letters and failures."""
    now = time.time()
    st = store.stats()
    instances = instances_in(st.meta)
    hashes = {i.mapping_hash for i in instances if i.alive(now)}
    oldest = now - st.oldest_pending_received_at if st.oldest_pending_received_at else None
    paused_since = st.meta.get(PAUSE_SINCE_KEY)
    try:
        rejected = json.loads(st.meta[REJECTED_KEY]) if REJECTED_KEY in st.meta else None
    except ValueError:
        rejected = {"diagnostics": st.meta[REJECTED_KEY]}
    return {
        "insecure_dev": st.meta.get(INSECURE_KEY) == "1",
        "webhooks": st.webhooks,
        "events": st.events,
        "queue_depth": st.queue_depth,
        "ready_now": st.ready_now,
        "oldest_pending_age_seconds": round(oldest, 3) if oldest is not None else None,
        "oldest_pending_reason": st.oldest_pending_error,
        "oldest_pending_attempts": st.oldest_pending_attempts,
        "next_attempt_in_seconds": round(max(0.0, st.next_attempt_at - now), 3) if st.next_attempt_at else None,
        "mappings_reload_rejected": rejected,
        # every relay sharing this store: its compiled mapping set's hash and its last heartbeat
        "instances": [
            {"id": i.instance_id, "host": i.host, "mapping_hash": i.mapping_hash,
             "heartbeat_age_seconds": round(max(0.0, now - i.heartbeat_at), 3),
             "alive": i.alive(now)}
            for i in instances
        ],
        "mapping_versions_differ": len(hashes) > 1,
        "sender": {
            "target": st.meta.get(TARGET_KEY),
            "paused": st.meta.get(PAUSE_KEY),
            "paused_for_seconds": round(now - float(paused_since), 3) if paused_since else None,
            "last_error": st.meta.get(LAST_ERROR_KEY),
            "last_delivery_at": float(st.meta[LAST_OK_KEY]) if LAST_OK_KEY in st.meta else None,
        },
        "dead_letters": [
            {"webhook_id": d.webhook_id, "event_id": d.event_id, "name": d.name, "reason": d.reason,
             "attempts": d.attempts}
            for d in store.dead_letters(limit)
        ],
        "failed_webhooks": [
            {"webhook_id": f.webhook_id, "type": f.event_type, "error": f.error} for f in store.failed_webhooks(limit)
        ],
    }
