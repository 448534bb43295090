"""``python -m bench [mapping|relay] [options]``: run one benchmark (``mapping`` by default).

``python -m bench mapping --help`` / ``python -m bench relay --help`` list each one's options.
"""

from __future__ import annotations

import importlib
import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    which = "mapping"
    if args and not args[0].startswith("-"):
        which, args = args[0], args[1:]
    if which == "mapping":
        from bench import mapping_bench

        return mapping_bench.main(args)
    if which == "relay":
        try:
            relay = importlib.import_module("bench.relay_bench")
        except ModuleNotFoundError:
            relay = None
        if relay is None or not callable(getattr(relay, "main", None)):
            print("bench/relay_bench.py has no main()", file=sys.stderr)
            return 2
        sys.argv = [f"{sys.executable} -m bench relay", *args]  # it reads its options from sys.argv
        result = relay.main()
        return result if isinstance(result, int) else 0
    print(f"unknown benchmark {which!r}; choose `mapping` (the default) or `relay`", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
