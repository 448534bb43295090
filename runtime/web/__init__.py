"""Static files of paymap's web pages (``static/``: built from ``web/`` by ``scripts/build_web.sh``).

Shipped as package data so ``pip install`` users need no Node; served by ``paymap playground``
(:mod:`runtime.playground.app`) and meant to be reused by the relay's operator console.
"""
