"""The one base of every exception paymap raises: ``except PaymapError`` catches any of them.

The tree (as ``httpx/_exceptions.py`` draws its own); each class lives beside the code that raises
it, in the lowest layer that needs it, and derives from this module's base::

    PaymapError
    ├── Fault                   prelude.values      a value-level failure inside a mapping (`cents("abc")`)
    ├── SchemaLoadError         dsl.schema          a declared input schema cannot be read
    ├── FormatterBug            dsl.formatter       the formatter cannot read text the compiler accepts
    ├── MappingError            runtime.errors      a compiled mapping failed on one event; carries a Span
    ├── CompileError            runtime.errors      mapping files have error diagnostics (runtime.load)
    ├── YamlError               runtime.testyaml    a `*.test.yaml` file cannot be read
    ├── UsageError              runtime.testing     `paymap test` was asked for something impossible
    ├── PlaygroundError         runtime.playground.workspace
    ├── Timeout, WorkerCrashed  runtime.playground.worker
    ├── SettingsError           runtime.relay.config    the relay's settings are invalid
    ├── VerificationFailed      runtime.relay.verify    a webhook's signature does not verify
    ├── ConsoleError            runtime.relay.console   a console request refused (with its HTTP status)
    ├── StoreError              runtime.relay.store
    │   ├── StoreUnavailable    (answer 503)
    │   ├── SchemaTooNew
    │   ├── NotAStore
    │   └── TargetMismatch      runtime.relay.service
    └── UserError               runtime.cli.common  a command-line mistake, printed without a traceback

Internal signals (``_TooDeep`` in the parser, ``_TooLarge`` in the relay's app, ``_PatchError`` in
the test runner) derive from it too; they never leave the module that raises them.

Diagnostics are not exceptions: the compiler returns them as values (``dsl.diagnostics``).
"""

from __future__ import annotations


class PaymapError(Exception):
    """Base class of every paymap exception."""
