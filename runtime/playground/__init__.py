"""``paymap playground``: a local web page to write mappings and see the Inngest events as you type.

The page (``runtime/web/static/``, built from ``web/``) holds no checking or mapping logic: every
keystroke goes to a small JSON API (:mod:`runtime.playground.app`) over the real compiler and
runtime, which run in a separate worker process with a deadline per compile and per apply
(:mod:`runtime.playground.worker`). What the worker does is in :mod:`runtime.playground.workspace`.
"""
