"""Standard Webhooks signature check over the raw request bytes, with a reason for every failure.

Wraps ``standardwebhooks.Webhook.verify``. The library raises plain ``ValueError`` /
``binascii.Error`` for malformed signature entries and ``UnicodeDecodeError`` for non-UTF-8
bodies; every one of these becomes a :class:`VerificationFailed` with a stable ``reason`` code (for
the 401 body and the ``rejected`` metric) and a sentence for the log.
"""

from __future__ import annotations

import binascii
import math
import time
from collections.abc import Mapping, Sequence

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from prelude.errors import PaymapError

REQUIRED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
TOLERANCE_SECONDS = 5 * 60  # the Standard Webhooks library's window, checked again by it with the body


class VerificationFailed(PaymapError):
    """The request is not a validly signed webhook; ``reason`` is a short code, ``str()`` a sentence."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class Verifier:
    """Accepts a request if any configured secret (rotation) verifies it."""

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("at least one webhook secret is needed")
        self._hooks = [Webhook(secret) for secret in secrets]

    @staticmethod
    def _signature_headers(headers: Mapping[str, str]) -> tuple[str, str, str]:
        # ASGI header names are lower case already; lower them only when that finds nothing
        wid, ts, sig = headers.get("webhook-id"), headers.get("webhook-timestamp"), headers.get("webhook-signature")
        if not (wid and ts and sig):
            lowered = {k.lower(): v for k, v in headers.items()}
            wid, ts, sig = (lowered.get(h) for h in REQUIRED_HEADERS)
            if not (wid and ts and sig):
                missing = [h for h in REQUIRED_HEADERS if not lowered.get(h)]
                raise VerificationFailed("missing_headers", f"missing header(s): {', '.join(missing)}")
        return wid, ts, sig

    def precheck(self, headers: Mapping[str, str], *, now: float | None = None) -> None:
        """What can be refused before reading the body: missing headers, a timestamp outside the window.

        An unauthenticated client then cannot make the relay hold a body in memory with stale or
        absent signature headers.
        """
        _wid, ts, _sig = self._signature_headers(headers)
        try:
            stamp = float(ts)
        except ValueError:
            raise _classify("Invalid Signature Headers") from None
        if not math.isfinite(stamp):
            raise _classify("Invalid Signature Headers")
        now = time.time() if now is None else now
        if stamp < now - TOLERANCE_SECONDS:
            raise _classify("too old")
        if stamp > now + TOLERANCE_SECONDS:
            raise _classify("too new")

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise :class:`VerificationFailed` unless ``body`` is signed by one of the secrets."""
        wid, ts, sig = self._signature_headers(headers)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise VerificationFailed("body_not_utf8", f"the body is not UTF-8 (byte {exc.start})") from None
        subset = {"webhook-id": wid, "webhook-timestamp": ts, "webhook-signature": sig}
        first: VerificationFailed | None = None
        for hook in self._hooks:
            try:
                hook.verify(text, subset, json_parse=False)
                return
            except WebhookVerificationError as exc:
                failure = _classify(str(exc))
            except (ValueError, binascii.Error) as exc:
                failure = VerificationFailed(
                    "malformed_signature",
                    f"webhook-signature is malformed (each entry must be 'v1,<base64>'): {exc}",
                )
            if failure.reason != "signature_mismatch":
                raise failure  # the same for every secret: no point trying the others
            first = first or failure
        assert first is not None
        raise first


def _classify(message: str) -> VerificationFailed:
    if "too old" in message:
        return VerificationFailed(
            "timestamp_too_old", "webhook-timestamp is more than 5 minutes in the past (check the clock)"
        )
    if "too new" in message:
        return VerificationFailed(
            "timestamp_too_new", "webhook-timestamp is more than 5 minutes in the future (check the clock)"
        )
    if "Invalid Signature Headers" in message:
        return VerificationFailed("malformed_timestamp", "webhook-timestamp is not a Unix time in seconds")
    if "Missing required headers" in message:
        return VerificationFailed("missing_headers", "missing webhook-id, webhook-timestamp or webhook-signature")
    return VerificationFailed(
        "signature_mismatch", "no signature in webhook-signature matches a configured secret"
    )
