"""Compiling is thread-safe: a web server or a test runner may compile from many threads at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from dsl.compiler import compile_text
from dsl.diagnostics import Diagnostics
from dsl.formatter import format_source
from dsl.render import render_text

# Each text exercises the parser's per-parse state: brackets across lines (newlines dropped), `a - b`
# against a negative arm, a bracket never closed (errors point at it), a misplaced `->`.
RULE = 'on "payment.succeeded"\nname = "app/paid"\n'
TEXTS = {
    "lists.map": RULE + "data.items = [\n  data.payment_id,\n  data.total_amount - 1,\n]\n",
    "match.map": RULE + 'data.x = match data.total_amount {\n  1 => "a",\n  -1 => "b",\n  _ => "c"\n}\n',
    "open.map": RULE + "data.items = [data.payment_id,\ndata.y = 2\n",
    "arrow.map": RULE + "data.x = data.items.map(i -> i.amount)\n",
    "minus.map": RULE + "data.n = data.total_amount - data.tax\ndata.m = -data.tax\n",
}


def _compile(name: str) -> tuple[str, str]:
    diags = Diagnostics()
    compiled = compile_text(TEXTS[name], name, diags)
    source = compiled.generated.source if compiled.generated is not None else ""
    return render_text(diags.items, {name: compiled.source}, color=False), source


def _format(name: str) -> str:
    result = format_source(TEXTS[name], name)
    return result.text if result.text is not None else "<syntax error>"


def test_compiling_from_8_threads_gives_the_single_threaded_results() -> None:
    alone = {name: (_compile(name), _format(name)) for name in TEXTS}
    assert any("never closed" in alone[name][0][0] for name in TEXTS), "a syntax error is among the cases"
    assert any(alone[name][0][1] for name in TEXTS), "generated code is among the cases"
    jobs = [name for _ in range(40) for name in TEXTS]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda name: (name, _compile(name), _format(name)), jobs))
    for name, compiled, formatted in results:
        assert (compiled, formatted) == alone[name], name
