"""The relay: receive Dodo webhooks, verify, store durably, map, and deliver to Inngest.

Entry points: :class:`runtime.relay.service.Relay` (the background work) and
:func:`runtime.relay.app.create_app` (the ASGI app); ``paymap serve`` wires them to uvicorn.
"""
