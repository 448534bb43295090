"""``python -m bench [mapping|check|size|relay|steady|stages|scrape|export|playground|console|compile_ab|cluster] [options]``: run one benchmark (``mapping`` by default).

Each is a module ``bench/<name>_bench.py`` with ``main()``; ``python -m bench NAME --help`` lists
its options. ``--write`` puts the figures in ``bench/RESULTS.md``.
"""

from __future__ import annotations

import importlib
import inspect
import sys

BENCHMARKS = ("mapping", "check", "size", "relay", "steady", "stages", "scrape", "export", "playground", "console",
              "compile_ab", "cluster")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    which = "mapping"
    if args and not args[0].startswith("-"):
        which, args = args[0], args[1:]
    if which not in BENCHMARKS:
        print(f"unknown benchmark {which!r}; choose one of: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"bench.{which}_bench")
    sys.argv = [f"{sys.executable} -m bench {which}", *args]  # the modules read options from sys.argv
    takes_argv = bool(inspect.signature(module.main).parameters)
    result = module.main(args) if takes_argv else module.main()
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
