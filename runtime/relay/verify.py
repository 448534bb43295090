"""Standard Webhooks signature check over the raw request bytes, with a reason for every failure.

The secrets are decoded by ``standardwebhooks.Webhook``; the check itself is the library's
``Webhook.verify`` over the raw bytes without its per-call datetime and str round trips (a third of
its cost on the receive path): ``tests/relay/test_verify_equal.py`` proves both accept and refuse
the same requests over random inputs. Malformed signature entries, a non-UTF-8 body and every other
failure become a :class:`VerificationFailed` with a stable ``reason`` code (for the 401 body and the
``rejected`` metric) and a sentence for the log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from standardwebhooks import Webhook

from prelude.errors import PaymapError

REQUIRED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
TOLERANCE_SECONDS = 5 * 60  # the Standard Webhooks library's window, checked again by it with the body
# hashlib lets go of the interpreter lock for an update of 2048 bytes or more, and then the event loop
# waits to get it back from whichever thread took it (the mapper, the writer: up to the 5 ms switch
# interval) for a hash of a few microseconds. Most of Dodo's bodies are over 2 KB; fed in pieces under
# that size, the hash keeps the lock (tests/relay/test_verify_equal.py: the same digests).
HASH_PIECE_BYTES = 2047


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
        # HMAC state after the key, made once: each check copies it (a third cheaper than hmac.new)
        self._keyed = [hmac.new(hook._whsecret, digestmod=hashlib.sha256) for hook in self._hooks]

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
            body.decode("utf-8")  # the library reads the body as text: it must be UTF-8
        except UnicodeDecodeError as exc:
            raise VerificationFailed("body_not_utf8", f"the body is not UTF-8 (byte {exc.start})") from None
        stamp, signed = _timestamp(ts)
        now = time.time()
        if stamp < now - TOLERANCE_SECONDS:
            raise _classify("too old")
        if stamp > now + TOLERANCE_SECONDS:
            raise _classify("too new")
        prefix = f"{wid}.{signed}.".encode()
        view = memoryview(body)
        for keyed in self._keyed:
            mac = keyed.copy()
            mac.update(prefix)
            for start in range(0, len(view), HASH_PIECE_BYTES):
                mac.update(view[start:start + HASH_PIECE_BYTES])
            expected = mac.digest()
            for versioned in sig.split(" "):  # in order, like the library: a match ends the parse
                try:
                    version, signature = versioned.split(",")  # exactly one comma, or ValueError
                    if version != "v1":
                        continue
                    candidate = base64.b64decode(signature)
                except (ValueError, binascii.Error) as exc:
                    raise VerificationFailed(
                        "malformed_signature",
                        f"webhook-signature is malformed (each entry must be 'v1,<base64>'): {exc}",
                    ) from None
                if hmac.compare_digest(expected, candidate):
                    return
        raise _classify("No matching signature found")


def _timestamp(ts: str) -> tuple[float, int]:
    """(the time to check against the window, the whole seconds signed), as the library reads them.

    Dodo's integer stamps directly; anything else through datetime like the library (which rounds
    to microseconds before its floor).
    """
    if ts.isascii() and ts.isdigit() and len(ts) < 12:
        whole = int(ts)
        return float(whole), whole
    try:
        moment = datetime.fromtimestamp(float(ts), tz=UTC).timestamp()
    except (ValueError, OverflowError, OSError):
        raise _classify("Invalid Signature Headers") from None
    return moment, math.floor(moment)


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
