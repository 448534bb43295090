"""paymap's benchmarks: ``python -m bench`` (mapping, the default) and ``python -m bench relay``.

Figures go to bench/RESULTS.md (with ``--write``), each benchmark between its own markers.
"""
