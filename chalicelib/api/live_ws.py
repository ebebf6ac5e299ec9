"""The live rooms' WebSocket API (API Gateway WebSocket routes `$connect`, `$default`, `$disconnect`)
and the minute schedule that sends `live_soon`.

Connect with `?room_id=<room>&token=<IdToken>`; the protocol is in the README ("Live rooms").
"""

from chalice import Blueprint, Rate, Response

blueprint = Blueprint(__name__)


@blueprint.on_ws_connect()
def on_ws_connect(event):
    from chalicelib.services import live_sockets

    query = (event.to_dict().get("queryStringParameters") or {})
    status = live_sockets.connect(event.connection_id, query)
    return Response(body="", status_code=status)


@blueprint.on_ws_message()
def on_ws_message(event):
    from chalicelib.services import live_sockets

    live_sockets.message(event.connection_id, event.body)


@blueprint.on_ws_disconnect()
def on_ws_disconnect(event):
    from chalicelib.services import live_sockets

    live_sockets.disconnect(event.connection_id)


@blueprint.schedule(Rate(1, unit=Rate.MINUTES), name="send_live_soon_notices")
def send_live_soon_notices(event):
    """Every minute: `live_soon` to the followers of rooms starting within 10 minutes."""
    from chalicelib.services import live

    return {"rooms": live.send_due_soon_notices()}
