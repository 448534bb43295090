"""The relay's signature check accepts and refuses exactly what ``standardwebhooks.Webhook.verify`` does.

``runtime.relay.verify.Verifier.verify`` does the library's job without its datetime work; the
reference below is the library itself, wrapped the way the relay wrapped it before (same reasons
and sentences), and both see the same random requests: bodies, ids, timestamps in and out of the
window or malformed, and signature headers mixing valid, wrong, foreign-version and malformed entries.
"""

from __future__ import annotations

import base64
import binascii
import time
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from runtime.relay.verify import HASH_PIECE_BYTES, VerificationFailed, Verifier, _classify

BODY = b'{"type":"payment.succeeded","data":{"payment_id":"pay_1","total_amount":1000}}'


def library_outcome(secrets: list[str], body: bytes, headers: dict[str, str]) -> tuple[str, str] | None:
    """None if the library accepts; else (reason, detail) as the relay reported the library's error."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "body_not_utf8", f"the body is not UTF-8 (byte {exc.start})"
    first: VerificationFailed | None = None
    for secret in secrets:
        try:
            Webhook(secret).verify(text, headers, json_parse=False)
            return None
        except WebhookVerificationError as exc:
            failure = _classify(str(exc))
        except (ValueError, binascii.Error) as exc:
            failure = VerificationFailed(
                "malformed_signature", f"webhook-signature is malformed (each entry must be 'v1,<base64>'): {exc}")
        if failure.reason != "signature_mismatch":
            return failure.reason, failure.detail
        first = first or failure
    assert first is not None
    return first.reason, first.detail


def relay_outcome(secrets: list[str], body: bytes, headers: dict[str, str]) -> tuple[str, str] | None:
    try:
        Verifier(secrets).verify(body, headers)
    except VerificationFailed as failure:
        return failure.reason, failure.detail
    return None


keys = st.binary(min_size=24, max_size=64).map(lambda k: "whsec_" + base64.b64encode(k).decode())
ids = st.one_of(st.just("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"), st.text(st.characters(max_codepoint=255), max_size=30))
bodies = st.one_of(
    st.just(BODY),
    st.binary(max_size=200),
    st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
    # the relay hashes a body in pieces of HASH_PIECE_BYTES: sizes around their edges, and long texts
    st.sampled_from([2046, 2047, 2048, 2049, 4093, 4094, 4095]).map(lambda n: b"x" * n),
    st.text(min_size=600, max_size=2500).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    now = int(time.time())
    offset = draw(st.one_of(st.integers(-250, 250), st.integers(-10**6, 10**6)))
    form = draw(st.sampled_from(["int", "float", "padded", "junk", "nan", "huge"]))
    if form == "int":
        return str(now + offset)
    if form == "float":
        return f"{now + offset}.{draw(st.integers(0, 9999999))}"
    if form == "padded":
        return f" {now + offset}" if draw(st.booleans()) else f"0{now + offset}"
    if form == "nan":
        return draw(st.sampled_from(["nan", "inf", "-inf", "1e400"]))
    if form == "huge":
        return "9" * draw(st.integers(11, 40))
    return draw(st.text(min_size=1, max_size=12))


@st.composite
def requests(draw: st.DrawFn) -> tuple[list[str], bytes, dict[str, str]]:
    secrets = draw(st.lists(keys, min_size=1, max_size=3))
    body, wid, ts = draw(bodies), draw(ids), draw(timestamps())
    entries: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["valid", "other-key", "random", "v2", "no-comma", "two-commas", "bad-b64"]))
        if kind in ("valid", "other-key"):
            signer = draw(st.sampled_from(secrets)) if kind == "valid" else draw(keys)
            try:
                stamp = datetime.fromtimestamp(float(ts), tz=UTC)
                entries.append(Webhook(signer).sign(wid, stamp, body.decode("utf-8", "replace")))
            except (ValueError, OverflowError, OSError):
                entries.append("v1," + base64.b64encode(draw(st.binary(min_size=32, max_size=32))).decode())
        elif kind == "random":
            entries.append("v1," + base64.b64encode(draw(st.binary(max_size=40))).decode())
        elif kind == "v2":
            entries.append("v2," + draw(st.text(max_size=10)))
        elif kind == "no-comma":
            entries.append(draw(st.text(alphabet="v1abc=", max_size=8)))
        elif kind == "two-commas":
            entries.append("v1,abc,def")
        else:
            entries.append("v1," + draw(st.text(max_size=10)))
    headers = {"webhook-id": wid, "webhook-timestamp": ts, "webhook-signature": " ".join(entries)}
    return secrets, body, headers


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_the_relay_check_equals_the_library(request: tuple[list[str], bytes, dict[str, str]]) -> None:
    secrets, body, headers = request
    if not (headers["webhook-id"] and headers["webhook-timestamp"] and headers["webhook-signature"]):
        return  # refused before either runs (missing_headers): tested in test_receive.py
    assert relay_outcome(secrets, body, headers) == library_outcome(secrets, body, headers)


def test_a_valid_signature_passes_and_each_kind_of_failure_is_named() -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    now = datetime.now(tz=UTC)
    good = Webhook(secret).sign("msg_1", now, BODY.decode())
    base = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp()))}
    assert relay_outcome([secret], BODY, {**base, "webhook-signature": "v2,x " + good}) is None
    cases = {
        "signature_mismatch": {**base, "webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()},
        "malformed_signature": {**base, "webhook-signature": "v1,a,b"},
        "malformed_timestamp": {**base, "webhook-timestamp": "soon", "webhook-signature": good},
        "timestamp_too_old": {**base, "webhook-timestamp": str(int(now.timestamp()) - 3600), "webhook-signature": good},
    }
    for reason, headers in cases.items():
        outcome = relay_outcome([secret], BODY, headers)
        assert outcome is not None and outcome[0] == reason
        assert outcome == library_outcome([secret], BODY, headers)


def test_a_body_hashed_in_pieces_verifies_as_a_whole() -> None:
    """Verifier hashes a body in pieces of HASH_PIECE_BYTES (so hashlib keeps the interpreter lock):
    signed by the library, every size around the pieces' edges passes, and a byte changed at either
    side of an edge fails."""
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    verifier = Verifier([secret])
    edge = HASH_PIECE_BYTES
    for size in (0, 1, edge - 1, edge, edge + 1, 2 * edge - 1, 2 * edge, 2 * edge + 1, 5000):
        body = bytes(ord("a") + i % 26 for i in range(size))
        ts = str(int(time.time()))
        headers = {"webhook-id": "msg_1", "webhook-timestamp": ts,
                   "webhook-signature": Webhook(secret).sign("msg_1", datetime.fromtimestamp(int(ts), tz=UTC), body.decode())}
        verifier.verify(body, headers)
        for at in {0, edge - 1, edge, 2 * edge - 1, 2 * edge, size - 1} & set(range(size)):
            changed = body[:at] + b"!" + body[at + 1:]
            try:
                verifier.verify(changed, headers)
            except VerificationFailed as failure:
                assert failure.reason == "signature_mismatch"
            else:
                raise AssertionError(f"a {size}-byte body changed at byte {at} passed")
