"""Live rooms end to end in process: routes, the real stream path, and real WebSocket clients on the
local gateway invoking the app's websocket handlers (management API calls back to the gateway)."""

from __future__ import annotations

import time

import pytest

from chalicelib.domain.ids import new_id
from chalicelib.services import live_sockets
from tests.support.api import call
from tests.support.live import Viewer, create_product, create_room

VIEWERS = 12


@pytest.fixture
def gateway(monkeypatch, tables):
    from app import app
    from chalicelib.local.ws_gateway import WebSocketGateway
    from chalicelib.services import broadcast

    running = WebSocketGateway.for_app(app, port=0, stage="test", idle_timeout=600).start()
    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", running.management_url)
    broadcast.reset_management_client()
    yield running
    running.stop()
    broadcast.reset_management_client()


def notices(client, user, kind: str) -> list[dict]:
    return [n for n in call(client, "GET", "/me/notifications", user).data["items"] if n["type"] == kind]


def test_only_merchants_create_rooms_of_their_own_products(client, users):
    shop, other, shopper = users("shop", groups=("merchants",)), users("other", groups=("merchants",)), users()
    theirs = create_product(client, other)
    assert call(client, "POST", "/live", shopper, {"title": "x", "labels": []}).status_code == 403
    response = call(client, "POST", "/live", shop, {"title": "x", "labels": [], "product_ids": [theirs["product_id"]]})
    assert response.status_code == 403
    assert call(client, "POST", "/live", shop, {"title": "", "labels": []}).status_code == 400
    past = call(client, "POST", "/live", shop, {"title": "x", "labels": [], "scheduled_at": "2020-01-01T00:00:00Z"})
    assert past.status_code == 400 and "scheduled_at" in past.data["Message"]


def test_a_room_has_an_ivs_channel_whose_key_only_the_host_reads(client, users):
    shop, shopper = users("shop", groups=("merchants",)), users()
    product = create_product(client, shop)
    room = create_room(client, shop, product_ids=[product["product_id"]])
    assert room["status"] == "scheduled" and room["playback_url"].startswith("https://")
    assert room["host"]["user_id"] == shop.user_id and room["products"][0]["product_id"] == product["product_id"]
    assert "stream_key" not in room
    ingest = call(client, "GET", f"/live/{room['room_id']}/ingest", shop)
    assert ingest.status_code == 200 and ingest.data["stream_key"].startswith("sk_")
    assert call(client, "GET", f"/live/{room['room_id']}/ingest", shopper).status_code == 403
    import boto3

    channels = boto3.client("ivs", region_name="us-east-1").list_channels()["channels"]
    assert any(room["room_id"] in channel["name"] for channel in channels)
    assert call(client, "GET", f"/users/{shop.user_id}/live", shopper).data["items"][0]["room_id"] == room["room_id"]
    listed = call(client, "GET", "/live?status=scheduled&label=camera", shopper).data["items"]
    assert listed[0]["room_id"] == room["room_id"]
    assert call(client, "GET", "/live?status=nope", shopper).status_code == 400


def test_live_soon_waits_for_the_schedule_and_goes_out_once(client, users, streams):
    from datetime import timedelta

    from chalicelib.domain.ids import utc_now
    from chalicelib.services.live import send_due_soon_notices

    shop, fan = users("shop", groups=("merchants",)), users("fan")
    call(client, "GET", "/me", shop)
    assert call(client, "PUT", f"/users/{shop.user_id}/follow", fan).status_code == 200
    later = create_room(client, shop, minutes_ahead=30)
    soon = create_room(client, shop, minutes_ahead=5)  # under 10 minutes ahead: at once
    streams.drain()
    assert [n["data"]["room_id"] for n in notices(client, fan, "live_soon")] == [soon["room_id"]]
    assert send_due_soon_notices() == 0  # 30 minutes ahead is not due yet
    assert send_due_soon_notices(utc_now() + timedelta(minutes=21)) == 1
    assert send_due_soon_notices(utc_now() + timedelta(minutes=22)) == 0  # exactly once
    streams.drain()
    assert {n["data"]["room_id"] for n in notices(client, fan, "live_soon")} == {soon["room_id"], later["room_id"]}


@pytest.mark.parametrize("runner", ["streams", "chaos_streams"])
def test_a_room_end_to_end_over_real_sockets(client, users, gateway, request, runner):
    streams = request.getfixturevalue(runner)
    shop, fan = users("shop", groups=("merchants",)), users("fan")
    viewers = [users(f"viewer{i}") for i in range(VIEWERS)]
    call(client, "GET", "/me", shop)
    assert call(client, "PUT", f"/users/{shop.user_id}/follow", fan).status_code == 200
    product = create_product(client, shop)
    room = create_room(client, shop, product_ids=[product["product_id"]])
    room_id = room["room_id"]

    # Given a waiting room, bad tokens, unknown rooms are refused
    from websockets.exceptions import InvalidStatus

    for query, status in ((f"room_id={room_id}&token=nope", 401), (f"room_id=NOPE&token={fan.token}", 404)):
        with pytest.raises(InvalidStatus) as refused:
            from websockets.sync.client import connect

            connect(f"{gateway.ws_url}/?{query}", open_timeout=10)
        assert refused.value.response.status_code == status

    # When the host starts, followers are told and get a live feed item
    sockets = [Viewer(gateway.ws_url, room_id, user.token) for user in viewers]
    host = Viewer(gateway.ws_url, room_id, shop.token)
    assert call(client, "POST", f"/live/{room_id}/start", shop).data["status"] == "live"
    streams.drain()
    assert [n["data"]["room_id"] for n in notices(client, fan, "live_started")] == [room_id]
    feed = call(client, "GET", "/feed", fan).data["items"]
    assert feed[0]["kind"] == "live" and feed[0]["live"]["room_id"] == room_id
    assert call(client, "GET", f"/users/{shop.user_id}/posts", fan).data["items"] == []
    for socket in sockets:
        socket.wait_for("status", lambda found: [e["status"] for e in found] == ["live"])
    sockets[0].wait_for("viewers", lambda found: any(e["count"] == VIEWERS + 1 for e in found))

    # Chat arrives with the author's card; too fast, too long, not JSON and unknown actions are errors
    sockets[0].send({"action": "chat", "text": "Is it weather sealed?"})
    sockets[0].send({"action": "chat", "text": "again"})
    sockets[1].send({"action": "chat", "text": "x" * 201})
    sockets[2].send("not json")
    sockets[3].send({"action": "dance"})
    sockets[4].send({"action": "like", "count": 51})
    streams.drain()
    for socket in sockets + [host]:
        chat = socket.wait_for("chat", between=streams.drain)  # the gateway may still be writing it
        assert [c["text"] for c in chat] == ["Is it weather sealed?"]
        assert chat[0]["user"]["user_id"] == viewers[0].user_id and chat[0]["sent_at"]
    assert sockets[0].wait_for("error")[0]["code"] == "TooManyRequests"
    for index in (1, 2, 3, 4):
        assert sockets[index].wait_for("error")[0]["code"] == "BadRequest"
    assert not sockets[5].events("error")  # errors go to their connection only

    # Likes are summed: the deltas (duplicates dropped) add up to the total
    for socket in sockets:
        socket.send({"action": "like", "count": 5})
        socket.send({"action": "like", "count": 5})
    total = VIEWERS * 10

    def drained() -> None:
        streams.drain()

    likes = sockets[7].wait_for("likes", lambda found: bool(found) and found[-1]["total"] == total, between=drained)
    assert sum(e["delta"] for e in likes) == total

    # A pin reaches everyone, with the product's card; a second pin of the same product is no new pin
    assert call(client, "POST", f"/live/{room_id}/pin", shop, {"product_id": product["product_id"]}).status_code == 200
    call(client, "POST", f"/live/{room_id}/pin", shop, {"product_id": product["product_id"]})
    assert call(client, "POST", f"/live/{room_id}/pin", fan, {"product_id": product["product_id"]}).status_code == 403
    streams.drain()
    for socket in sockets:
        pins = socket.wait_for("pin")
        assert len(pins) == 1 and pins[0]["product"]["product_id"] == product["product_id"]

    # A muted viewer's chat is refused
    assert call(client, "POST", f"/live/{room_id}/mute", shop, {"user_id": viewers[6].user_id}).status_code == 204
    sockets[6].send({"action": "chat", "text": "spam"})
    assert sockets[6].wait_for("error")[0]["code"] == "Muted"

    # Clicks and store visits give the visit rate
    for user in viewers[:3]:
        call(client, "POST", f"/live/{room_id}/events", user, {"type": "store_visit"})
        call(client, "POST", f"/live/{room_id}/events", user, {"type": "store_visit"})  # distinct users
        click = {"type": "product_click", "product_id": product["product_id"]}
        call(client, "POST", f"/live/{room_id}/events", user, click)
    bad = call(client, "POST", f"/live/{room_id}/events", fan, {"type": "purchase"})
    assert bad.status_code == 400 and "type" in bad.data["Message"]

    # A closed socket is cleaned up
    sockets[-1].close()
    streams.drain()
    sockets[0].wait_for("viewers", lambda found: any((e["count"], e["peak"]) == (VIEWERS, VIEWERS + 1) for e in found),
                        between=drained)
    streams.drain()
    stats = call(client, "GET", f"/live/{room_id}/stats", shop).data
    assert stats["unique_viewers"] == VIEWERS and stats["store_visitors"] == 3 and stats["product_clicks"] == 3
    assert stats["visit_rate"] == 0.25 and stats["peak_viewers"] == VIEWERS + 1
    assert call(client, "GET", f"/live/{room_id}/stats", fan).status_code == 403

    # The host ends the room: everyone is told, new sockets are refused, the chat replays
    assert call(client, "POST", f"/live/{room_id}/end", shop).data["status"] == "ended"
    streams.drain()
    sockets[0].wait_for("status", lambda found: found[-1]["status"] == "ended")
    time.sleep(live_sockets.ROOM_CACHE_SECONDS)  # a container's cached room may say "live" for that second
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{gateway.ws_url}/?room_id={room_id}&token={fan.token}", open_timeout=10)
    assert refused.value.response.status_code == 410
    replay = call(client, "GET", f"/live/{room_id}/chat", fan).data
    assert [m["text"] for m in replay["items"]] == ["Is it weather sealed?"] and replay["next_cursor"] is None
    for socket in sockets[:-1] + [host]:
        socket.close()


def test_a_dropped_coupon_follows_the_sharded_stock_rules(client, users, streams):
    from tests.integration.test_coupons import campaign_body

    shop, fan = users("shop", groups=("merchants",)), users("fan")
    other = users("other", groups=("merchants",))
    room = create_room(client, shop, minutes_ahead=None)
    call(client, "POST", f"/live/{room['room_id']}/start", shop)
    campaign = call(client, "POST", "/merchants/me/coupons", shop, campaign_body(points_cost=0, total_quantity=3)).data
    theirs = call(client, "POST", "/merchants/me/coupons", other, campaign_body(points_cost=0)).data
    drops = f"/live/{room['room_id']}/coupons"
    assert call(client, "POST", drops, shop, {"campaign_id": theirs["campaign_id"]}).status_code == 403
    dropped = call(client, "POST", drops, shop, {"campaign_id": campaign["campaign_id"]})
    assert dropped.status_code == 201 and dropped.data["remaining"] == 3
    assert call(client, "POST", f"/coupons/{campaign['campaign_id']}/redeem", fan).status_code == 201
    streams.drain()
    assert call(client, "GET", f"/live/{room['room_id']}/stats", shop).data["coupon_redemptions"] == 1


def test_unknown_rooms_are_404_and_ended_rooms_refuse_changes(client, users):
    shop = users("shop", groups=("merchants",))
    assert call(client, "GET", f"/live/{new_id()}", shop).status_code == 404
    assert call(client, "GET", f"/live/{new_id()}/chat", shop).status_code == 404
    room = create_room(client, shop, minutes_ahead=None)
    call(client, "POST", f"/live/{room['room_id']}/end", shop)
    assert call(client, "POST", f"/live/{room['room_id']}/start", shop).data["Code"] == "Ended"


def test_above_5000_viewers_chat_is_capped_at_20_a_second_but_the_host_always_passes(client, users, monkeypatch):
    from chalicelib.domain.live import chat_keys
    from chalicelib.models.live import LiveChatMessage, LiveRoom
    from chalicelib.services import broadcast, live_sockets

    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", "https://test.execute-api.us-east-1.amazonaws.com/test")
    broadcast.reset_management_client()
    shop = users("shop", groups=("merchants",))
    room = create_room(client, shop, minutes_ahead=None)
    call(client, "POST", f"/live/{room['room_id']}/start", shop)
    LiveRoom(room["room_id"]).update(actions=[LiveRoom.viewer_count.set(100_000)])  # as the counters would say
    live_sockets._rooms.clear()
    sockets = [f"viewer{i:03d}AAAA=" for i in range(60)]
    for i, connection_id in enumerate(sockets):  # 60 viewers: the chat limit is per viewer
        assert live_sockets.connect(connection_id, {"room_id": room["room_id"], "token": users(f"v{i}").token}) == 200
    assert live_sockets.connect("hostAAAAAAAA=", {"room_id": room["room_id"], "token": shop.token}) == 200
    # Given every candidate passes the sampling, the per-second cap alone decides
    monkeypatch.setattr("chalicelib.domain.live.chat_sample_probability", lambda viewers: 1.0)
    monkeypatch.setattr("time.time", lambda: 1_800_000_000.5)  # all in one second
    for connection_id in sockets:
        live_sockets.message(connection_id, '{"action": "chat", "text": "first!"}')
    live_sockets.message("hostAAAAAAAA=", '{"action": "chat", "text": "Welcome"}')
    stored = [m for key in chat_keys(room["room_id"]) for m in LiveChatMessage.query(key)]
    hosts = [m for m in stored if m.user_id == shop.user_id]
    assert len(hosts) == 1 and 1 <= len(stored) - 1 <= 20


def test_stored_chat_spreads_over_its_shards_and_replays_oldest_first_page_by_page(client, users, monkeypatch):
    from chalicelib.domain.live import CHAT_SHARDS, chat_keys
    from chalicelib.models.live import LiveChatMessage
    from chalicelib.services import live_sockets

    shop, viewer = users("shop", groups=("merchants",)), users("viewer")
    room = create_room(client, shop, minutes_ahead=None)
    room_id = room["room_id"]
    call(client, "POST", f"/live/{room_id}/start", shop)
    live_sockets._rooms.clear()
    assert live_sockets.connect("chatterAAAA=", {"room_id": room_id, "token": viewer.token}) == 200
    # When 30 messages are stored, each as soon as the chat limit allows (few viewers: every one is kept)
    now = [1_800_000_000.0]
    monkeypatch.setattr("time.time", lambda: now[0])
    for n in range(30):
        live_sockets.message("chatterAAAA=", f'{{"action": "chat", "text": "message {n:02d}"}}')
        now[0] += 2.0
    # Then they lie under more than one of the room's partition keys
    per_shard = [len(list(LiveChatMessage.query(key))) for key in chat_keys(room_id)]
    assert sum(per_shard) == 30 and sum(1 for count in per_shard if count) > 1 and len(per_shard) == CHAT_SHARDS
    # And the replay reads them back oldest first, 7 a page, each once
    texts, cursor = [], None
    while True:
        path = f"/live/{room_id}/chat?limit=7" + (f"&cursor={cursor}" if cursor else "")
        response = call(client, "GET", path, viewer)
        assert response.status_code == 200, response.data
        assert len(response.data["items"]) <= 7
        texts += [item["text"] for item in response.data["items"]]
        cursor = response.data["next_cursor"]
        if not cursor:
            break
    assert texts == [f"message {n:02d}" for n in range(30)]


def test_the_chat_limit_is_per_viewer_whatever_number_of_sockets_they_open(client, users, monkeypatch):
    from chalicelib.domain.live import chat_keys
    from chalicelib.models.live import LiveChatMessage
    from chalicelib.services import live_sockets

    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", "https://test.execute-api.us-east-1.amazonaws.com/test")
    shop, viewer, other = users("shop", groups=("merchants",)), users("viewer"), users("other")
    room = create_room(client, shop, minutes_ahead=None)
    room_id = room["room_id"]
    call(client, "POST", f"/live/{room_id}/start", shop)
    live_sockets._rooms.clear()
    for connection_id, user in (("firstAAAAAAA=", viewer), ("secondAAAAAA=", viewer), ("otherAAAAAAA=", other)):
        assert live_sockets.connect(connection_id, {"room_id": room_id, "token": user.token}) == 200
    now = [1_800_000_000.0]
    monkeypatch.setattr("time.time", lambda: now[0])
    # When a viewer chats from one socket, then at once from their second, and someone else chats too
    for connection_id, text in (("firstAAAAAAA=", "one"), ("secondAAAAAA=", "two"), ("otherAAAAAAA=", "hi")):
        live_sockets.message(connection_id, f'{{"action": "chat", "text": "{text}"}}')
        now[0] += 0.001
    # And the viewer's second socket tries again once 2 s have passed
    now[0] += 2.0
    live_sockets.message("secondAAAAAA=", '{"action": "chat", "text": "three"}')
    # Then the second socket's first message was refused: one message per 2 s per viewer, not per socket
    stored = sorted((m.message_id, m.text) for key in chat_keys(room_id) for m in LiveChatMessage.query(key))
    assert [text for _, text in stored] == ["one", "hi", "three"]
