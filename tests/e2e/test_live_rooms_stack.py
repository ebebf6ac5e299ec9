"""Taobao Live on the real local stack (issue 16's "Done when"): real WebSocket clients on the gateway,
the stream runner carrying every change, the scheduled handler at a 1 s rate. Honours STREAM_CHAOS."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from websockets.asyncio.client import connect

from tests.support.stack import start_stack, stop_stack

SOCKETS = 200
LIKES_PER_SOCKET = 5
RACERS = 50


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("live-stack"),
                          extra_env={"WRITE_LIMIT_PER_MINUTE": "100000", "LIVE_SCHEDULE_SECONDS": "1"})
    yield running
    stop_stack(running)


class Socket:
    """One viewer's socket: every frame kept (bundles opened), duplicates dropped by event_id."""

    def __init__(self, ws):
        self.ws = ws
        self.events: dict[str, dict] = {}
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self):
        async for raw in self.ws:
            frame = json.loads(raw)
            for event in frame["events"] if frame.get("type") == "bundle" else [frame]:
                self.events.setdefault(event["event_id"], event)

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events.values() if e["type"] == kind]

    async def send(self, message: dict) -> None:
        await self.ws.send(json.dumps(message))


async def until(probe, timeout: float = 60.0, describe=None):
    deadline = time.time() + timeout
    while not (result := probe()):
        if time.time() > deadline:
            raise AssertionError("condition not met in time" + (f": {describe()}" if describe else ""))
        await asyncio.sleep(0.2)
    return result


def notices(stack, user, kind: str) -> list[dict]:
    items = stack.call("GET", "/me/notifications?limit=100", user).json()["items"]
    return [n for n in items if n["type"] == kind]


def test_a_live_room_from_schedule_to_replay(live_stack):
    stack = live_stack
    host = stack.sign_up("host", groups=("merchants",))
    fan = stack.sign_up("fan")
    viewers = [stack.sign_up(f"viewer{i}") for i in range(RACERS)]
    assert stack.call("GET", "/me", host).status_code == 200
    assert stack.call("PUT", f"/users/{host.user_id}/follow", fan).status_code == 200
    body = {"title": "Camera", "price_cents": 99900, "labels": ["camera"]}
    product = stack.call("POST", "/products", host, body).json()

    # Given a room scheduled just over 10 minutes ahead: the minute schedule (1 s here) sends live_soon
    scheduled_at = (datetime.now(UTC) + timedelta(minutes=10, seconds=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    created = stack.call("POST", "/live", host, {"title": "Double-11 cameras", "labels": ["camera"],
                                                 "scheduled_at": scheduled_at, "product_ids": [product["product_id"]]})
    assert created.status_code == 201, created.text
    room_id = created.json()["room_id"]
    assert not notices(stack, fan, "live_soon")
    soon = stack.eventually(lambda: notices(stack, fan, "live_soon"), timeout=30)
    assert soon[0]["data"]["room_id"] == room_id and soon[0]["actor"]["user_id"] == host.user_id

    async def scenario():
        url = f"{stack.ws_url}/?room_id={room_id}&token="
        owners = [viewers[i % RACERS] for i in range(SOCKETS)]
        sockets: list[Socket] = []
        for start in range(0, SOCKETS, 25):  # concurrently, 25 handshakes at a time
            opened = await asyncio.gather(*(connect(url + o.token, open_timeout=60) for o in owners[start:start + 25]))
            sockets += [Socket(ws) for ws in opened]
        studio = Socket(await connect(url + host.token))

        # When the host starts: followers get live_started and a live feed item; every socket hears it
        assert stack.call("POST", f"/live/{room_id}/start", host).json()["status"] == "live"
        await until(lambda: all(s.of("status") for s in sockets))
        started = stack.eventually(lambda: notices(stack, fan, "live_started"), timeout=20)
        assert started[0]["data"]["room_id"] == room_id
        feed = stack.eventually(lambda: [i for i in stack.call("GET", "/feed", fan).json()["items"]
                                         if i["kind"] == "live"], timeout=20)
        assert feed[0]["live"]["room_id"] == room_id and feed[0]["live"]["host"]["user_id"] == host.user_id
        await until(lambda: any(e["count"] == SOCKETS + 1 for e in sockets[0].of("viewers")))

        # Chat arrives with the author's card
        await sockets[3].send({"action": "chat", "text": "Does it shoot 4K?"})
        await until(lambda: all(s.of("chat") for s in sockets))
        chat = sockets[-1].of("chat")[0]
        assert chat["text"] == "Does it shoot 4K?" and chat["user"]["user_id"] == owners[3].user_id

        # 200 sockets x 5 likes: the aggregated totals add up exactly
        await asyncio.gather(*(s.send({"action": "like", "count": 1}) for s in sockets
                               for _ in range(LIKES_PER_SOCKET)))
        total = SOCKETS * LIKES_PER_SOCKET
        def likes_state():
            room = stack.call("GET", f"/live/{room_id}", host).json()
            errors = [e for s in sockets for e in s.of("error")][:5]
            return {"like_count": room["like_count"], "seen": sockets[0].of("likes")[-3:], "errors": errors}

        await until(lambda: any(e["total"] == total for e in sockets[0].of("likes")), timeout=120,
                    describe=likes_state)
        for s in sockets[:20]:
            await until(lambda s=s: any(e["total"] == total for e in s.of("likes")))
            assert sum(e["delta"] for e in s.of("likes")) == total

        # A pin reaches all 200
        pinned = stack.call("POST", f"/live/{room_id}/pin", host, {"product_id": product["product_id"]})
        assert pinned.status_code == 200
        await until(lambda: all(len(s.of("pin")) == 1 for s in sockets))
        assert {s.of("pin")[0]["product"]["product_id"] for s in sockets} == {product["product_id"]}

        # A dropped coupon, raced by 50 viewers, is never oversold
        expires = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        campaign = stack.call("POST", "/merchants/me/coupons", host, {
            "title": "100 off", "discount_cents": 10000, "min_spend_cents": 0, "points_cost": 0,
            "total_quantity": 20, "per_user_limit": 1, "expires_at": expires}).json()
        drop = stack.call("POST", f"/live/{room_id}/coupons", host, {"campaign_id": campaign["campaign_id"]})
        assert drop.status_code == 201, drop.text
        await until(lambda: all(s.of("coupon") for s in sockets))
        assert sockets[0].of("coupon")[0]["campaign_id"] == campaign["campaign_id"]

        def redeem(user):
            return stack.call("POST", f"/coupons/{campaign['campaign_id']}/redeem", user).status_code

        codes = await asyncio.gather(*(asyncio.to_thread(redeem, v) for v in viewers))
        assert codes.count(201) == 20 and set(codes) <= {201, 409, 503}

        # Clicks and store visits give the visit rate
        for v in viewers[:10]:
            assert stack.call("POST", f"/live/{room_id}/events", v, {"type": "store_visit"}).status_code == 204
            stack.call("POST", f"/live/{room_id}/events", v, {"type": "product_click",
                                                              "product_id": product["product_id"]})

        # A closed socket is cleaned up
        await sockets[-1].ws.close()
        await until(lambda: any((e["count"], e["peak"]) == (SOCKETS, SOCKETS + 1) for e in sockets[0].of("viewers")),
                    timeout=30)

        def stats():
            body = stack.call("GET", f"/live/{room_id}/stats", host).json()
            return body if body["store_visitors"] == 10 and body["coupon_redemptions"] == 20 else None

        body = stack.eventually(stats, timeout=30)
        assert body["unique_viewers"] == RACERS and body["product_clicks"] == 10
        assert body["visit_rate"] == round(10 / RACERS, 4) and body["peak_viewers"] == SOCKETS + 1

        # The host ends the room; everyone hears it, and the chat replays
        assert stack.call("POST", f"/live/{room_id}/end", host).json()["status"] == "ended"
        await until(lambda: all(any(e["status"] == "ended" for e in s.of("status")) for s in sockets[:-1]))
        replay = stack.call("GET", f"/live/{room_id}/chat", fan).json()
        assert [m["text"] for m in replay["items"]] == ["Does it shoot 4K?"]
        for s in sockets[:-1] + [studio]:
            await s.ws.close()

    asyncio.run(scenario())
