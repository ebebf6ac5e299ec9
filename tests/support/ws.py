"""The local WebSocket gateway for integration tests: `with gateway_for(app) as gateway:` serves the
app's websocket handlers on free ports and points `WEBSOCKET_MANAGEMENT_URL` (and the broadcast
service's cached client) at it for the duration."""

from __future__ import annotations

import contextlib
import os

from chalicelib.local.ws_gateway import WebSocketGateway


@contextlib.contextmanager
def gateway_for(app, **options):
    from chalicelib.services import broadcast

    running = WebSocketGateway.for_app(app, port=0, management_port=0, **options).start()
    previous = os.environ.get("WEBSOCKET_MANAGEMENT_URL")
    os.environ["WEBSOCKET_MANAGEMENT_URL"] = running.management_url
    broadcast.reset_management_client()
    try:
        yield running
    finally:
        running.stop()
        if previous is None:
            os.environ.pop("WEBSOCKET_MANAGEMENT_URL", None)
        else:
            os.environ["WEBSOCKET_MANAGEMENT_URL"] = previous
        broadcast.reset_management_client()
