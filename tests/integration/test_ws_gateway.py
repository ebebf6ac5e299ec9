"""The local WebSocket gateway on its own: a tiny Chalice app, real `websockets` client sockets, and
boto3's `apigatewaymanagementapi` client pointed at the gateway's management API."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import boto3
import pytest
from chalice import Chalice
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chalicelib.local.ws_gateway import WebSocketGateway
from chalicelib.services import broadcast
from tests.support.ws import gateway_for

EVENTS: list[dict] = []  # every event the handlers saw, in order
SLOW = threading.Event()  # a `slow` message (or a `slow` token's connect) blocks its handler until this is set

app = Chalice(app_name="wsgw-test")
app.websocket_api.session = boto3.Session(region_name="us-east-1", aws_access_key_id="local",
                                          aws_secret_access_key="local")


@app.on_ws_connect()
def connect_handler(event):
    EVENTS.append(event.to_dict())
    query = event.to_dict().get("queryStringParameters") or {}
    if query.get("token") == "boom":
        raise RuntimeError("the connect handler failed")
    if query.get("token") == "slow":
        SLOW.wait(10)
        return {"statusCode": 200}
    if query.get("token") != "ok":
        return {"statusCode": 403, "body": "bad token"}
    return {"statusCode": 200}


@app.on_ws_message()
def message_handler(event):
    EVENTS.append(event.to_dict())
    if event.body == "fail":
        raise RuntimeError("the message handler failed")
    if event.body == "slow":
        SLOW.wait(10)
    if event.body == "chalice":  # Chalice's own helper, as a handler might use it
        app.websocket_api.send(event.connection_id, json.dumps({"via": "app.websocket_api"}))
        return
    reply = {"echo": event.body, "connection_id": event.connection_id}
    broadcast.send_to_connections([event.connection_id], reply)


@app.on_ws_disconnect()
def disconnect_handler(event):
    EVENTS.append(event.to_dict())


@pytest.fixture
def gateway():
    EVENTS.clear()
    SLOW.clear()
    with gateway_for(app, stage="dev") as running:
        yield running
        SLOW.set()


def management(url: str):
    return boto3.client("apigatewaymanagementapi", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def events(route_key: str) -> list[dict]:
    return [e for e in EVENTS if e["requestContext"]["routeKey"] == route_key]


def eventually(probe, timeout: float = 5.0):
    deadline = time.time() + timeout
    while not (result := probe()):
        if time.time() > deadline:
            raise AssertionError("condition not met")
        time.sleep(0.02)
    return result


def test_connect_gets_api_gateways_event_and_messages_reach_default(gateway):
    async def scenario():
        async with connect(f"{gateway.ws_url}/?room_id=r1&token=ok&tag=a&tag=b",
                           user_agent_header="pytest-client") as ws:
            await ws.send("hello")
            return json.loads(await asyncio.wait_for(ws.recv(), 5))

    reply = asyncio.run(scenario())
    # Then $connect saw the query string, headers and request context API Gateway sends
    (connected,) = events("$connect")
    context = connected["requestContext"]
    assert connected["queryStringParameters"] == {"room_id": "r1", "token": "ok", "tag": "b"}
    assert connected["multiValueQueryStringParameters"]["tag"] == ["a", "b"]
    assert connected["headers"]["User-Agent"] == "pytest-client"
    assert "Sec-WebSocket-Key" in connected["headers"]
    assert context["eventType"] == "CONNECT" and context["stage"] == "dev" and context["apiId"] == "local"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert {"connectionId", "connectedAt", "requestId", "domainName", "requestTimeEpoch"} <= set(context)
    # and the message reached $default with the same connection id, which the reply was posted to
    (message,) = events("$default")
    assert message["body"] == "hello" and message["requestContext"]["eventType"] == "MESSAGE"
    assert message["requestContext"]["connectionId"] == context["connectionId"]
    assert reply == {"echo": "hello", "connection_id": context["connectionId"]}
    # and closing the socket ran $disconnect once
    (gone,) = eventually(lambda: events("$disconnect"))
    assert gone["requestContext"]["eventType"] == "DISCONNECT"
    assert gone["requestContext"]["connectionId"] == context["connectionId"]
    assert gone["requestContext"]["disconnectStatusCode"] == 1000


@pytest.mark.parametrize("token, status", [("bad", 403), ("boom", 500)])
def test_a_refusing_or_failing_connect_handler_refuses_the_connection(gateway, token, status):
    async def scenario():
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{gateway.ws_url}/?token={token}"):
                pass
        return refused.value.response.status_code

    assert asyncio.run(scenario()) == status
    assert gateway.connections == {}
    time.sleep(0.1)
    assert events("$disconnect") == []  # never connected, so never disconnected


def test_an_app_without_websocket_handlers_refuses_every_connect():
    bare = WebSocketGateway.for_app(Chalice(app_name="bare"), port=0).start()
    try:
        async def scenario():
            with pytest.raises(InvalidStatus) as refused:
                async with connect(bare.ws_url):
                    pass
            return refused.value.response.status_code

        assert asyncio.run(scenario()) == 404
    finally:
        bare.stop()


def test_management_api_with_and_without_stage_and_410_for_unknown(gateway):
    async def scenario():
        async with connect(f"{gateway.ws_url}/dev?token=ok", user_agent_header="agent-7") as ws:
            connection_id = events("$connect")[0]["requestContext"]["connectionId"]
            with_stage = management(gateway.management_url)
            without_stage = management(gateway.management_url.rsplit("/", 1)[0])
            await asyncio.to_thread(with_stage.post_to_connection, ConnectionId=connection_id, Data=b'{"n":1}')
            await asyncio.to_thread(without_stage.post_to_connection, ConnectionId=connection_id, Data=b"\xff\x00")
            first, second = await ws.recv(), await ws.recv()
            info = await asyncio.to_thread(with_stage.get_connection, ConnectionId=connection_id)
            with pytest.raises(with_stage.exceptions.GoneException):
                await asyncio.to_thread(with_stage.post_to_connection, ConnectionId="nope", Data=b"x")
            with pytest.raises(with_stage.exceptions.PayloadTooLargeException):
                await asyncio.to_thread(with_stage.post_to_connection, ConnectionId=connection_id,
                                        Data=b"x" * (128 * 1024 + 1))
            await asyncio.to_thread(without_stage.delete_connection, ConnectionId=connection_id)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            with pytest.raises(with_stage.exceptions.GoneException):
                await asyncio.to_thread(with_stage.get_connection, ConnectionId=connection_id)
            return first, second, info

    first, second, info = asyncio.run(scenario())
    assert first == '{"n":1}'  # UTF-8 goes out as a text frame
    assert second == b"\xff\x00"  # anything else as binary
    assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "agent-7"}
    assert info["ConnectedAt"] <= info["LastActiveAt"]
    (gone,) = eventually(lambda: events("$disconnect"))  # closed by the server: $disconnect too
    assert gone["requestContext"]["disconnectStatusCode"] == 1000


def test_broadcast_reaches_every_socket_and_reports_a_closed_one_gone(gateway):
    async def scenario():
        sockets = await asyncio.gather(*(connect(f"{gateway.ws_url}/?token=ok") for _ in range(200)))
        ids = [e["requestContext"]["connectionId"] for e in events("$connect")]
        await sockets[0].close()
        await asyncio.sleep(0.05)
        gone: list[str] = []
        served_before = gateway.management_calls
        report = await asyncio.to_thread(broadcast.send_to_connections, ids, {"type": "pin", "event_id": "e1"},
                                         on_gone=gone.append, senders=16)
        assert gateway.management_calls - served_before == 200  # one call per connection, the gone one too
        received = await asyncio.gather(*(asyncio.wait_for(ws.recv(), 5) for ws in sockets[1:]))
        for ws in sockets[1:]:
            await ws.close()
        return ids, report, gone, received

    ids, report, gone, received = asyncio.run(scenario())
    assert report.calls == 200 and report.sent == 199 and report.failed == []
    assert report.gone == gone == [ids[0]]
    assert {json.loads(r)["event_id"] for r in received} == {"e1"} and len(received) == 199
    eventually(lambda: len(events("$disconnect")) == 200)


def test_a_slow_or_failing_handler_holds_up_only_its_own_connection(gateway):
    async def scenario():
        async with connect(f"{gateway.ws_url}/?token=ok") as slow, connect(f"{gateway.ws_url}/?token=ok") as fast:
            await slow.send("slow")
            await fast.send("fail")
            error = json.loads(await asyncio.wait_for(fast.recv(), 5))
            await fast.send("quick")
            echo = json.loads(await asyncio.wait_for(fast.recv(), 5))
            SLOW.set()
            late = json.loads(await asyncio.wait_for(slow.recv(), 5))
            return error, echo, late

    error, echo, late = asyncio.run(scenario())
    assert error["message"] == "Internal server error" and error["requestId"]
    assert echo["echo"] == "quick" and late["echo"] == "slow"


def test_binary_frames_close_with_1003_and_idle_connections_time_out(monkeypatch):
    EVENTS.clear()
    short = WebSocketGateway.for_app(app, port=0, idle_timeout=0.5).start()
    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", short.management_url)
    try:
        async def scenario():
            async with connect(f"{short.ws_url}/?token=ok") as binary, connect(f"{short.ws_url}/?token=ok") as idle:
                await binary.send(b"\x00\x01")
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(binary.recv(), 5)
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(idle.recv(), 5)
                return binary.close_code, idle.close_code

        assert asyncio.run(scenario()) == (1003, 1001)
        eventually(lambda: len(events("$disconnect")) == 2)
    finally:
        short.stop()


def test_chalices_own_send_helper_posts_to_the_gateway(gateway):
    async def scenario():
        async with connect(f"{gateway.ws_url}/?token=ok") as ws:
            await ws.send("chalice")
            return json.loads(await asyncio.wait_for(ws.recv(), 5))

    assert asyncio.run(scenario()) == {"via": "app.websocket_api"}


def test_a_client_that_leaves_while_connect_runs_is_disconnected_once(gateway):
    async def scenario():
        with pytest.raises(TimeoutError):
            async with connect(f"{gateway.ws_url}/?token=slow", open_timeout=0.3):
                pass

    asyncio.run(scenario())
    SLOW.set()  # $connect accepts, after the client has gone
    (gone,) = eventually(lambda: events("$disconnect"))
    assert gone["requestContext"]["connectionId"] == events("$connect")[0]["requestContext"]["connectionId"]
    time.sleep(0.2)
    assert len(events("$disconnect")) == 1 and gateway.connections == {}


def test_a_blueprints_handler_gets_the_raw_lambda_event_as_chalice_deploys_it():
    # Chalice wraps only the app's own websocket handlers into a WebsocketEvent; a blueprint's is the
    # function itself, which Lambda calls with (event, context). The gateway calls what Chalice registered.
    from chalice import Blueprint

    seen: list = []
    blueprint = Blueprint(__name__)

    @blueprint.on_ws_connect()
    def raw_connect(event, context):
        seen.append((type(event).__name__, context.function_name))
        return {"statusCode": 200}

    bare = Chalice(app_name="blueprint-ws")
    bare.register_blueprint(blueprint)
    with gateway_for(bare) as running:
        async def scenario():
            async with connect(running.ws_url):
                pass

        asyncio.run(scenario())
    assert seen == [("dict", "jianghu-websocket_connect")]


def test_a_viewer_that_stops_reading_does_not_stall_the_senders_and_is_dropped(gateway, monkeypatch):
    from chalicelib.local import ws_gateway

    monkeypatch.setattr(ws_gateway, "OUTBOX_FRAMES", 5)
    client = management(gateway.management_url)

    async def scenario():
        # a client that reads nothing: its library queue (1 frame) and the TCP buffers fill up
        async with connect(f"{gateway.ws_url}/?token=ok", max_queue=1, close_timeout=0.5) as stuck:
            connection_id = events("$connect")[0]["requestContext"]["connectionId"]
            frame = b"x" * (120 * 1024)
            for posted in range(1, 500):
                started = time.perf_counter()
                try:
                    await asyncio.to_thread(client.post_to_connection, ConnectionId=connection_id, Data=frame)
                except client.exceptions.GoneException:
                    return posted, stuck
                assert time.perf_counter() - started < 2  # a post never waits for the client to read
            raise AssertionError("the stuck connection was never dropped")

    posted, stuck = asyncio.run(scenario())
    assert posted > 5
    (gone,) = eventually(lambda: events("$disconnect"))
    assert gone["requestContext"]["disconnectStatusCode"] == 1008
