"""The registry of diagnostic codes. Every code has a page ``docs/errors/<CODE>.md``."""

from __future__ import annotations

from typing import NamedTuple


class Code(NamedTuple):
    title: str
    severity: str  # "error" or "warning": the default; a few codes are reported as either


CODES: dict[str, Code] = {
    # M1xx: the text could not be read as a mapping
    "M100": Code("syntax error", "error"),
    "M101": Code("unexpected character", "error"),
    "M102": Code("invalid string literal", "error"),
    "M103": Code("file is not valid UTF-8", "error"),
    "M104": Code("statement outside a rule", "error"),
    "M105": Code("mapping too large or too deeply nested", "error"),
    "M106": Code("file cannot be read", "error"),
    "M110": Code("file defines no rules", "warning"),
    "M120": Code("input schema or samples cannot be read", "error"),
    "M121": Code("misplaced or repeated `input` declaration", "error"),
    "M130": Code("invalid `const` declaration", "error"),
    "M131": Code("invalid group, `defaults` or `use`", "error"),
    # M2xx: names, functions, arguments
    "M200": Code("unknown name", "error"),
    "M201": Code("unknown input field", "error"),
    "M202": Code("unknown function", "error"),
    "M203": Code("wrong number of arguments", "error"),
    "M204": Code("name defined twice", "error"),
    "M205": Code("misplaced `x -> ...` function argument", "error"),
    "M206": Code("input field exists for only some of the rule's event types", "warning"),
    "M210": Code("invalid JMESPath expression", "error"),
    "M211": Code("invalid argument value", "error"),
    # M3xx: types
    "M300": Code("argument has the wrong type", "error"),
    "M301": Code("operator used on the wrong types", "error"),
    "M302": Code("condition is not a boolean", "error"),
    "M303": Code("match has no default arm", "error"),
    "M304": Code("match arm pattern is not a literal", "error"),
    "M305": Code("amount in minor units divided by 100", "warning"),
    # M4xx: the Inngest event being built
    "M400": Code("field assigned twice", "error"),
    "M401": Code("overlapping assignments", "error"),
    "M402": Code("not a field of an Inngest event", "error"),
    "M403": Code("event has no name", "error"),
    "M404": Code("invalid event name", "error"),
    "M405": Code("`ts` in seconds; Inngest reads milliseconds", "error"),
    "M406": Code("`ts` is not an integer of milliseconds", "error"),
    "M407": Code("`data` or `user` is not an object", "error"),
    "M408": Code("`id` or `v` is not a string", "error"),
    "M409": Code("event name format", "warning"),
    "M410": Code("no Inngest function listens for this event name", "warning"),
    "M411": Code("an Inngest function listens for a name no mapping produces", "warning"),
    # M5xx: routing
    "M500": Code("event type pattern matches no known event type", "error"),
    "M501": Code("invalid event type pattern", "error"),
    "M502": Code("rules with equal precedence", "warning"),
    "M503": Code("rule has no statements", "warning"),
    # M6xx: probably not what you meant
    "M600": Code("unused `let`", "warning"),
    "M601": Code("`??` can never fall back", "warning"),
    "M602": Code("unreachable match arm", "warning"),
    "M603": Code("value may be missing or null where one is needed", "warning"),
    "M604": Code("comparison with a value the field never has", "warning"),
    "M605": Code("group never used", "warning"),
    # M7xx: `paymap export` / `paymap check --target`: what the JavaScript targets cannot take
    "M700": Code("cannot be exported to JavaScript", "error"),
    "M701": Code("several events from one body", "error"),
    "M702": Code("export too large, or empty", "error"),
    "M703": Code("no event `id` for Dodo's retries", "warning"),
}
