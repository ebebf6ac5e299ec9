"""The live rooms' WebSocket API (API Gateway WebSocket routes `$connect`, `$default`, `$disconnect`)
and the minute schedule that sends `live_soon`.

Chalice wraps websocket handlers only when they are registered on the app itself (a blueprint's
would reach Lambda unwrapped), so `app.py` declares the three and calls these. Connect with
`?room_id=<room>&token=<IdToken>`; the protocol is in the README ("Live rooms").
"""

from chalice import Blueprint, Rate, Response

blueprint = Blueprint(__name__)


def connect(event) -> Response:
    from chalicelib.services import live_sockets

    query = event.to_dict().get("queryStringParameters") or {}
    return Response(body="", status_code=live_sockets.connect(event.connection_id, query))


def message(event) -> None:
    from chalicelib.services import live_sockets

    live_sockets.message(event.connection_id, event.body)


def disconnect(event) -> None:
    from chalicelib.services import live_sockets

    live_sockets.disconnect(event.connection_id)


@blueprint.schedule(Rate(1, unit=Rate.MINUTES), name="send_live_soon_notices")
def send_live_soon_notices(event):
    """Every minute: `live_soon` to the followers of rooms starting within 10 minutes."""
    from chalicelib.services import live

    return {"rooms": live.send_due_soon_notices()}
