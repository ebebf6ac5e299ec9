"""Broadcast: one event to 2,000 real WebSocket connections through the management API.

A child process plays AWS and the audience: the local gateway (`chalicelib/local/ws_gateway.py`,
what `make dev` runs) serving a minimal Chalice app whose `$connect` accepts, and 2,000
`websockets` client sockets connected to it; it reports the connection ids, the management calls
the gateway served and the frames each socket received. This process is the Lambda function: the
event goes out twice per round, over the same boto3 `apigatewaymanagementapi` client:

- `bare`: a sequential loop of `post_to_connection`, one connection after the other;
- `broadcast`: `chalicelib.services.broadcast.send_to_connections`, the same calls split across
  its parallel senders.

`management_calls` is what the gateway counted for the broadcast (one per connection: the API has
no batch call), `seconds` the broadcast's wall time, `ratio` broadcast / bare (target ≤ 1.5; below
1 when the parallel senders pay off). Each side runs `ROUNDS` times, alternating, and the fastest
round counts, so a busy machine slows both alike. Every socket must have received every frame.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from chalicelib.local.ws_gateway import raise_open_files_limit

ROOT = Path(__file__).resolve().parents[1]
CONNECTIONS = 2_000
ROUNDS = 5
RATIO_TARGET = 1.5


# -- the child: the gateway and the viewers' sockets ------------------------------------------------

def _app():
    from chalice import Chalice

    app = Chalice(app_name="bench-broadcast")

    @app.on_ws_connect()
    def accept(event):
        return {"statusCode": 200}

    return app


async def _viewers(count: int) -> None:
    """Start the gateway, open `count` sockets, print the ids and the management URL, then answer
    every `count` line on stdin with the frames received and the management calls served."""
    from websockets.asyncio.client import connect

    from chalicelib.local.ws_gateway import WebSocketGateway

    gateway = WebSocketGateway.for_app(_app(), port=0, management_port=0, handler_threads=16).start()
    received = [0] * count
    sockets = []
    for start in range(0, count, 200):
        sockets += await asyncio.gather(*(connect(gateway.ws_url, open_timeout=60, ping_interval=None)
                                          for _ in range(start, min(count, start + 200))))

    async def read(index: int, socket) -> None:
        async for _ in socket:
            received[index] += 1

    readers = [asyncio.create_task(read(i, s)) for i, s in enumerate(sockets)]
    while len(gateway.connections) < count:
        await asyncio.sleep(0.05)
    print(json.dumps({"management_url": gateway.management_url, "ids": list(gateway.connections)}), flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line or line.strip() == "close":
            break
        print(json.dumps({"min": min(received), "sum": sum(received),
                          "management_calls": gateway.management_calls}), flush=True)
    for socket in sockets:
        await socket.close()
    for reader in readers:
        reader.cancel()
    gateway.stop()


# -- this process: the sender ---------------------------------------------------------------------

class Audience:
    def __init__(self, connections: int):
        self.process = subprocess.Popen([sys.executable, "-m", "bench.broadcast", "--viewers", str(connections)],
                                        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        opened = self.process.stdout.readline() if self.process.stdout else ""
        if not opened:
            raise RuntimeError("the viewers' sockets did not open")
        state = json.loads(opened)
        self.management_url: str = state["management_url"]
        self.ids: list[str] = state["ids"]

    def counts(self) -> dict:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        if self.process.poll() is None and self.process.stdin is not None:
            self.process.stdin.write("close\n")
            self.process.stdin.flush()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def measure(connections: int = CONNECTIONS, rounds: int = ROUNDS) -> dict:
    import boto3
    from botocore.config import Config

    from chalicelib.services.broadcast import DEFAULT_SENDERS, MAX_SENDERS, send_to_connections

    raise_open_files_limit(connections + 1_000)
    audience = Audience(connections)
    try:
        ids = audience.ids
        if len(ids) != connections:
            raise RuntimeError(f"{len(ids)} of {connections} connections registered")
        client = boto3.client("apigatewaymanagementapi", endpoint_url=audience.management_url,
                              region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench",
                              config=Config(max_pool_connections=MAX_SENDERS, retries={"max_attempts": 1}))
        payload = {"type": "pin", "event_id": "bench", "product": {"product_id": "p1", "title": "A camera"}}
        data = json.dumps(payload, separators=(",", ":")).encode()
        send_to_connections(ids[:100], payload, client=client)  # warm the client and its pool
        for connection_id in ids[:50]:
            client.post_to_connection(ConnectionId=connection_id, Data=data)
        warm_frames = 150
        bare_times, broadcast_times, calls = [], [], []
        for _ in range(rounds):
            started = time.perf_counter()
            for connection_id in ids:
                client.post_to_connection(ConnectionId=connection_id, Data=data)
            bare_times.append(time.perf_counter() - started)
            before = audience.counts()["management_calls"]
            started = time.perf_counter()
            report = send_to_connections(ids, payload, client=client)
            broadcast_times.append(time.perf_counter() - started)
            calls.append(audience.counts()["management_calls"] - before)
            if report.sent != connections:
                raise RuntimeError(f"broadcast sent {report.sent} of {connections}: {report}")
        expected = 2 * rounds
        deadline = time.time() + 30
        while (counted := audience.counts())["min"] < expected and time.time() < deadline:
            time.sleep(0.2)
        if counted["min"] < expected:
            raise RuntimeError(f"a socket received {counted['min']} of {expected} frames")
        delivered = counted["sum"] - warm_frames
    finally:
        audience.close()
    bare, parallel = min(bare_times), min(broadcast_times)
    return {
        "connections": connections,
        "management_calls": calls[-1],
        "senders": DEFAULT_SENDERS,
        "seconds": round(parallel, 3),
        "baseline_seconds": round(bare, 3),
        "ratio": round(parallel / bare, 2),
        "frames_delivered": delivered,
        "rounds": rounds,
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["--viewers"]:
        raise_open_files_limit(2 * int(argv[1]) + 1_000)  # both ends of every socket live in that process
        asyncio.run(_viewers(int(argv[1])))
        return 0
    print(json.dumps(measure(), indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    sys.exit(main(sys.argv[1:]))
