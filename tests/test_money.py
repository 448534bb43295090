"""The money and time core, checked value by value and against independent models: ``cents`` is
JavaScript's ``(amount / 100).toFixed(2)``, ``money`` scales minor units by the ISO 4217 exponent,
``epoch``/``epoch_ms`` floor like ``Math.floor(Date.getTime() / n)``; plus the value model."""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prelude.functions import (
    _integral,
    cents,
    currency_exponent,
    decimals,
    epoch,
    epoch_ms,
    iso,
    money,
    parse_time,
    to_decimal,
)
from prelude.values import MISSING, Fault, kind, show, to_json_value

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------ cents
@pytest.mark.parametrize(("amount", "text"), [
    (1900, "19.00"), (5, "0.05"), (0, "0.00"), (-5, "-0.05"), (-1900, "-19.00"), (123456789, "1234567.89"),
    (99, "0.99"), (100, "1.00"), (-100, "-1.00"), ("1900", "19.00"), ("0", "0.00"),
    (Decimal("1.5"), "0.02"), (Decimal("-1.5"), "-0.02"), (Decimal("1.4"), "0.01"), (Decimal("0.4"), "0.00"),
    (Decimal("-0.4"), "-0.00"), (Decimal(0), "0.00"), (Decimal("-0"), "0.00"), (12.5, "0.13"),
    (" 250 ", "2.50"), ("-250", "-2.50"), ("1e2", "1.00"),
])
def test_cents(amount: object, text: str) -> None:
    assert cents(amount) == text


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_cents_of_whole_minor_units_is_exact(amount: int) -> None:
    assert cents(amount) == f"{Decimal(amount).scaleb(-2):.2f}"
    assert cents(str(abs(amount))) == cents(abs(amount))


@pytest.mark.parametrize("amount", ["abc", "", "NaN", "Infinity", "١٢", None, [1], True])
def test_cents_refuses_what_is_not_a_number(amount: object) -> None:
    with pytest.raises(Fault, match=r"cents\(\) expected a number"):
        cents(amount)


# ------------------------------------------------------------------ money
@pytest.mark.parametrize(("amount", "currency", "text"), [
    (1900, "USD", "19.00"), (1900, "JPY", "1900"), (1234, "KWD", "1.234"), (-5, "USD", "-0.05"),
    (-1234, "KWD", "-1.234"), (5, "KWD", "0.005"), (0, "EUR", "0.00"), (-1900, "JPY", "-1900"),
    ("1900", "USD", "19.00"), (1900, "usd", "19.00"), (1900, "XAU", "1900"), (Decimal("1900"), "USD", "19.00"),
    (1900.0, "USD", "19.00"), (123456, "CLF", "12.3456"), (100, "EUR", "1.00"),
])
def test_money(amount: object, currency: str, text: str) -> None:
    assert money(amount, currency) == text


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(["USD", "JPY", "KWD", "CLF", "EUR", "BHD"]))
def test_money_scales_by_the_currency_exponent(amount: int, currency: str) -> None:
    exponent = {"USD": 2, "JPY": 0, "KWD": 3, "CLF": 4, "EUR": 2, "BHD": 3}[currency]
    text = money(amount, currency)
    assert Decimal(text) == Decimal(amount).scaleb(-exponent)
    assert len(text.partition(".")[2]) == exponent
    assert decimals(currency) == currency_exponent(currency) == exponent


@pytest.mark.parametrize(("amount", "currency", "message"), [
    (1900, "ZZZ", "unknown currency code 'ZZZ'"),
    (1900, "zzz", "unknown currency code 'zzz'"),
    (1900, 840, "money() expected a currency code string, got integer 840"),
    (19.5, "USD", "money() expected a whole number of minor units, got decimal 19.5"),
    ("19.5", "USD", "money() expected a whole number of minor units"),
    ("abc", "USD", "money() expected a number"),
])
def test_money_faults(amount: object, currency: object, message: str) -> None:
    with pytest.raises(Fault) as caught:
        money(amount, currency)
    assert caught.value.message.startswith(message)


def test_decimals_refuses_a_non_string() -> None:
    with pytest.raises(Fault, match=r"decimals\(\) expected a currency code string, got integer 840"):
        decimals(840)


def test_large_amounts_stay_exact() -> None:
    """Beyond the 28 digits of Python's default decimal context: 29-digit minor units."""
    assert cents(Decimal("12345678901234567890123456789")) == "123456789012345678901234567.89"
    assert cents(12345678901234567890123456789) == "123456789012345678901234567.89"
    assert money(12345678901234567890123456789, "KWD") == "12345678901234567890123456.789"


@pytest.mark.parametrize(("call", "message", "hint"), [
    (lambda: to_decimal("١٢", "f()"), 'f() expected a number, got string "١٢"', "the text is not a decimal number"),
    (lambda: to_decimal("abc", "f()"), 'f() expected a number, got string "abc"', "the text is not a decimal number"),
    (lambda: to_decimal({}, "f()"), "f() expected a number, got object {}", None),
    (lambda: money(19.5, "USD"), "money() expected a whole number of minor units, got decimal 19.5",
     "amounts from Dodo are integers in the currency's smallest unit"),
    (lambda: money(1, "ZZZ"), "unknown currency code 'ZZZ'", 'use an ISO 4217 code such as "USD", "JPY" or "KWD"'),
    (lambda: epoch("soon"), "epoch() could not read 'soon' as a timestamp",
     'expected RFC 3339, e.g. "2025-08-04T08:13:04.882151Z"'),
    (lambda: iso("soon"), "iso() could not read 'soon' as a timestamp",
     'expected RFC 3339, e.g. "2025-08-04T08:13:04.882151Z"'),
    (lambda: iso(5), "iso() expected an RFC 3339 timestamp string, got integer 5", None),
])
def test_faults_say_what_and_how_to_fix_it(call: Callable[[], object], message: str, hint: str | None) -> None:
    with pytest.raises(Fault) as caught:
        call()
    assert (caught.value.message, caught.value.hint) == (message, hint)


def test_iso_does_not_depend_on_the_machines_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        assert iso("2025-08-04T08:13:04Z") == "2025-08-04T08:13:04Z"
        assert iso("2025-08-04T10:13:04+02:00") == "2025-08-04T08:13:04Z"
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(("value", "number"), [
    (7, 7), ("1900", 1900), (Decimal("12"), 12), (Decimal("12.0"), 12), (3.0, 3), ("-4", -4), (" 5 ", 5),
])
def test_integral(value: object, number: int) -> None:
    assert _integral(value, "f()") == number
    assert type(_integral(value, "f()")) is int


@pytest.mark.parametrize(("value", "expected"), [
    (3, Decimal(3)), (Decimal("1.10"), Decimal("1.10")), (0.1, Decimal("0.1")), ("  2.5 ", Decimal("2.5")),
    ("-0.5", Decimal("-0.5")),
])
def test_to_decimal(value: object, expected: Decimal) -> None:
    d = to_decimal(value, "f()")
    assert d == expected and str(d) == str(expected)


@pytest.mark.parametrize("value", ["1_000", "sNaN", "-inf", "x", "١", False, {}])
def test_to_decimal_refuses(value: object) -> None:
    with pytest.raises(Fault) as caught:
        to_decimal(value, "f()")
    assert caught.value.message.startswith("f() expected a number, got ")


# ------------------------------------------------------------------ time
@pytest.mark.parametrize(("text", "ms"), [
    ("2025-08-04T08:13:04.882151Z", 1754295184882),
    ("2025-08-04T08:13:04Z", 1754295184000),
    ("2025-08-04T10:13:04.882+02:00", 1754295184882),
    ("2025-08-04T08:13:04.882", 1754295184882),  # no offset: UTC
    ("2025-08-04t08:13:04.882z", 1754295184882),
    ("2025-08-04 08:13:04.882Z", 1754295184882),
    (" 2025-08-04T08:13:04.882Z\n", 1754295184882),
    ("2025-08-04T08:13:04.88215199Z", 1754295184882),  # nanoseconds: cut to microseconds
    ("2025-08-04T08:13:04.8z", 1754295184800),
    ("2025-08-04t08:13:04z", 1754295184000),  # lower-case z, no fraction: only the slow path reads it
    ("1970-01-01T00:00:00Z", 0),
    ("1969-12-31T23:59:59.9995Z", -1),  # floor, not toward zero
    ("1969-12-31T23:59:59.999Z", -1),
])
def test_epoch_ms(text: str, ms: int) -> None:
    assert epoch_ms(text) == ms
    assert epoch(text) == ms // 1000


@settings(max_examples=200)
@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))])))
def test_epoch_ms_floors_like_javascript(dt: datetime) -> None:
    micros = (dt - EPOCH) // timedelta(microseconds=1)
    text = dt.isoformat()
    assert epoch_ms(text) == micros // 1000
    assert epoch(text) == micros // 1_000_000
    assert parse_time(iso(text), "t") == dt


@pytest.mark.parametrize(("value", "message"), [
    ("soon", "epoch_ms() could not read 'soon' as a timestamp"),
    ("2025-08-04T08:13:04.xZ", "could not read"),
    ("2025-13-04T08:13:04Z", "could not read"),
    (1754295184, "epoch_ms() expected an RFC 3339 timestamp string, got integer 1754295184"),
    (None, "expected an RFC 3339 timestamp string, got null"),
])
def test_epoch_ms_faults(value: object, message: str) -> None:
    with pytest.raises(Fault) as caught:
        epoch_ms(value)
    assert message in caught.value.message
    if isinstance(value, str):
        assert caught.value.hint == 'expected RFC 3339, e.g. "2025-08-04T08:13:04.882151Z"'


def test_iso_normalises_to_utc_with_z() -> None:
    assert iso("2025-08-04T10:13:04.882+02:00") == "2025-08-04T08:13:04.882000Z"
    assert iso("2025-08-04T08:13:04Z") == "2025-08-04T08:13:04Z"
    assert parse_time("2025-08-04T08:13:04", "t").tzinfo is UTC


# ------------------------------------------------------------------ the value model
@pytest.mark.parametrize(("value", "name"), [
    (MISSING, "missing"), (None, "null"), (True, "boolean"), (1, "integer"), (Decimal("1.5"), "decimal"),
    (1.5, "decimal"), ("a", "string"), ([1], "list"), ({"a": 1}, "object"), ((1,), "tuple"),
])
def test_kind(value: object, name: str) -> None:
    assert kind(value) == name


def test_show_is_short_and_typed() -> None:
    assert show(MISSING) == "missing"
    assert show("é") == 'string "é"'
    assert show({"a": [1, None]}) == 'object {"a": [1, null]}'
    assert show(Decimal("1.5")) == 'decimal "1.5"'
    long = show("x" * 100)
    assert long == 'string "' + "x" * 56 + "..." and len(long) == len("string ") + 60
    assert show("x" * 58) == 'string "' + "x" * 58 + '"'  # exactly the limit: kept whole
    assert show({1, 2}).startswith("set ")
    assert show(float("nan")) == "decimal NaN"


@pytest.mark.parametrize(("value", "json_value"), [
    (Decimal("2.000"), 2), (Decimal("1.50"), 1.5), (Decimal("0.1"), 0.1), (Decimal("-3"), -3),
    ([Decimal("1.0"), MISSING, None], [1, None]), ({"a": MISSING, "b": {"c": Decimal("0.25")}}, {"b": {"c": 0.25}}),
    ("x", "x"), (True, True), (None, None),
])
def test_to_json_value(value: object, json_value: object) -> None:
    out = to_json_value(value)
    assert out == json_value and type(out) is type(json_value)


def test_to_json_value_refuses_an_inexact_decimal() -> None:
    with pytest.raises(Fault) as caught:
        to_json_value(Decimal("0.1000000000000000000001"))
    assert caught.value.message == "decimal 0.1000000000000000000001 cannot be written as an exact JSON number"
    assert caught.value.hint == "round it first, e.g. `round(x, 2)`, or convert it with `string(x)`"


def test_show_of_what_json_cannot_write() -> None:
    loop: list[object] = []
    loop.append(loop)
    assert show(loop) == "list [[...]]"


def test_missing_is_one_value_that_survives_pickling() -> None:
    assert repr(MISSING) == "missing"
    assert type(MISSING)() is MISSING
    assert pickle.loads(pickle.dumps(MISSING)) is MISSING
    fault = Fault("m", hint="h")
    assert (str(fault), fault.message, fault.hint) == ("m", "m", "h")
    assert Fault("m").hint is None
