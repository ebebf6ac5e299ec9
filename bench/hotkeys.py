"""Double-11 hot keys: scripted bursts on one item, metered, projected to the contract's rates.

    python -m bench.hotkeys                 # every scenario and the per-operation costs; prints JSON
    python -m bench.hotkeys --size 100      # a smaller burst (the ratios hold; numbers are per op)

Each scenario builds its world through the routes (real Cognito tokens, the app's rate limit and
validation), then runs a burst of requests on ONE target (a campaign, a poll, an account, a
circle, an answer) and lets the stream runner (`chalicelib.local.stream_runner`, what `make dev`
runs) deliver every record to its handler, as Lambda would. Everything from the first request of
the burst to the last stream effect is metered (`bench.meter`), so counters, ledger entries,
notifications and audience buckets that stream handlers write are in the numbers.

The bursts are scaled down (moto copies every table a transaction touches, so thousands of
requests would take minutes): `size` requests (100 by default, one full stream batch) instead of the thousands a second
the contract names. Every number is per request, and projected linearly to the target rate:

* `wcu_per_op`, `rcu_per_op`: units billed per request, stream effects included.
* `hottest_key`, `hottest_key_share`: the partition key (`table[/index]:value`) that took the most
  write units, and its share of all the burst's write units.
* `projected_wcu_per_s`: that partition's write units per request × the target rate. The contract's
  ceiling is 1,000 WCU/s per partition key (DynamoDB's per-partition limit).
* `projected_tx_per_s_per_item`: the item most often inside a transaction, transactions per
  request × the target rate. Ceiling: 50 transactions/s per item.
* `projected_rcu_per_s`: the hottest read partition's read units × the rate (DynamoDB: 3,000 RCU/s).

A burst is sequential: it measures units and keys, not contention (a real 10,000/s burst on one
item would also see `TransactionConflict` retries, which only add to these numbers). Stream
batches are as full as the runner delivers them (a burst's records arrive together, as they would
at these rates), so a handler that sums a counter per batch shows it here.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bench import harness, lambda_time, meter  # first: their hooks must be in place before any client exists

SIZE = 100  # a full stream batch (the handlers' batch size): per-batch summing shows as it would at peak
WCU_CEILING = 1000
TX_CEILING = 50
READ_CEILING = 3000

# Target rates (SPEC "Double-11 rules"); the answer-vote storm's is ours: a viral answer on a
# product page, voted as fast as a circle is joined.
RATES = {
    "flash_coupon": 10_000,
    "celebrity_poll": 5_000,
    "follow_surge": 1_000,
    "circle_join_surge": 1_000,
    "answer_vote_storm": 1_000,
    "question_surge": 500,  # questions a second in one label (issue #13: the `question#*` partition)
    "fanout_near_threshold": 1,  # posts a second by one author just under FANOUT_PULL_THRESHOLD
    # 100,000 viewers joining one live room within a minute, each sending a like message (its `count`
    # bundles up to 50 taps) as it joins
    "live_room": 100_000 // 60,
    # a room just under the contract's sampling threshold (5,000 viewers: every message is kept), each
    # viewer chatting at the limit (one message per 2 s): the room's stored chat at its worst
    "live_chat": 5_000 // 2,
    # products a second platform-wide in a Double-11 catalogue import, every title sharing its words:
    # the search index's worst case (a prefix in 100 % of titles; domain/search.py shards products by 2)
    "catalogue_import": 1_000,
}
#: The flash sale's campaign as the contract sizes it (10,000 claims a second for 2,000 coupons): its
#: stock is split into as many shards as a campaign of that size gets, and a burst claims from it.
FLASH_CAMPAIGN_COUPONS = 2_000


@dataclass
class Burst:
    """What a scenario's set-up leaves: the requests to meter, and names for the ids in its keys."""

    requests: list  # (method, path, user, body, accepted statuses)
    aliases: dict[str, str]
    note: str = ""
    per: int | None = None  # what `ops` counts when it is not the requests (followers of a fan-out)
    response_alias: tuple[str, str] | None = None  # (field, name): an id the burst itself creates


def _ok(response, *statuses):
    assert response.status_code in (statuses or (200,)), (response.status_code, response.data)
    return response.data


def _call(world, method, path, user, body=None):
    from tests.support.api import call

    return call(world.client, method, path, user, body)


def _profiles(world, users) -> None:
    for user in users:
        _ok(_call(world, "GET", "/me", user))


# -- scenarios ---------------------------------------------------------------------------------------
def flash_coupon(world, pool) -> Burst:
    """`size` shoppers claim a free coupon from one campaign of 2,000 coupons (its real shard count)."""
    from chalicelib.domain.ids import iso, utc_now

    store = world.users("store", groups=("merchants",))
    _ok(_call(world, "PUT", "/merchants/me", store, {"store_name": "Double Eleven"}))
    quantity = FLASH_CAMPAIGN_COUPONS
    body = {"title": "11.11 flash", "discount_cents": 1100, "min_spend_cents": 5000, "points_cost": 0,
            "total_quantity": quantity, "per_user_limit": 1, "expires_at": iso(utc_now() + timedelta(days=1))}
    campaign = _ok(_call(world, "POST", "/merchants/me/coupons", store, body), 201)
    path = f"/coupons/{campaign['campaign_id']}/redeem"
    return Burst([("POST", path, user, None, (201, 409)) for user in pool],
                 {campaign["campaign_id"]: "<campaign>", store.user_id: "<store>"},
                 note=f"{len(pool)} claims from a campaign of {quantity} free coupons")


def celebrity_poll(world, pool) -> Burst:
    author = world.users("celebrity")
    _profiles(world, [author])
    poll = {"options": [{"text": "red"}, {"text": "gold"}, {"text": "black"}]}
    post_id = _ok(_call(world, "POST", "/posts", author, {"text": "Which colour for 11.11?", "poll": poll}), 201)[
        "post_id"]
    return Burst([("POST", f"/posts/{post_id}/poll/votes", user, {"option": index % 3}, (200, 201))
                  for index, user in enumerate(pool)],
                 {post_id: "<poll>", author.user_id: "<author>"}, note=f"{len(pool)} voters, one poll")


def follow_surge(world, pool) -> Burst:
    star = world.users("star")
    _profiles(world, [star])
    aliases = {star.user_id: "<star>"}
    for n in range(3):  # a new follower's feed is given the star's recent posts
        post = _ok(_call(world, "POST", "/posts", star, {"text": f"new arrivals {n}"}), 201)
        aliases[post["post_id"]] = f"<star-post-{n}>"
    return Burst([("PUT", f"/users/{star.user_id}/follow", user, None, (200,)) for user in pool],
                 aliases, note=f"{len(pool)} new followers of one account with 3 posts")


def circle_join_surge(world, pool) -> Burst:
    owner = world.users("owner")
    _profiles(world, [owner])
    group = _ok(_call(world, "POST", "/groups", owner,
                      {"name": "11.11 deals", "description": "Share the best deals", "label": "camera"}), 201)
    return Burst([("PUT", f"/groups/{group['group_id']}/members/me", user, None, (200, 201)) for user in pool],
                 {group["group_id"]: "<circle>", owner.user_id: "<owner>"}, note=f"{len(pool)} joiners, one circle")


def answer_vote_storm(world, pool) -> Burst:
    asker, answerer = world.users("asker"), world.users("answerer")
    _profiles(world, [asker, answerer])
    question = _ok(_call(world, "POST", "/questions", asker,
                         {"title": "Best camera deal this 11.11?", "body": "Under 500", "labels": ["camera"]}), 201)
    answer = _ok(_call(world, "POST", f"/questions/{question['question_id']}/answers", answerer,
                       {"body": "The X100 bundle, 20 % off"}), 201)
    return Burst([("PUT", f"/answers/{answer['answer_id']}/vote", user, {"value": 1}, (200,)) for user in pool],
                 {answer["answer_id"]: "<answer>", question["question_id"]: "<question>",
                  answerer.user_id: "<answerer>", asker.user_id: "<asker>"},
                 note=f"{len(pool)} up-votes on one answer")


def question_surge(world, pool) -> Burst:
    """`size` shoppers each ask a question in one label: its list, and the list of all, take every one."""
    body = {"body": "Under 500, for travel", "labels": ["camera"]}
    return Burst([("POST", "/questions", user, {**body, "title": f"Best camera deal for 11.11, take {n}?"}, (201,))
                  for n, user in enumerate(pool)], {}, note=f"{len(pool)} questions, one label")


def fanout_near_threshold(world, pool) -> Burst:
    """One post by an author with `size` followers; per-follower units projected to threshold − 1."""
    from tests.support.posts import given_followers

    author = world.users("merchant-author")
    _profiles(world, [author])
    followers = len(pool)
    given_followers(author.user_id, followers)
    return Burst([("POST", "/posts", author, {"text": "11.11 starts now"}, (201,))],
                 {author.user_id: "<author>"}, per=followers, response_alias=("post_id", "<post>"),
                 note=f"one post, {followers} followers, per-follower units × (FANOUT_PULL_THRESHOLD − 1)")


@dataclass
class LiveRoomBench:
    """A started room, its host, and the app's WebSocket handlers called with API Gateway's events
    (broadcasts post through moto's management API)."""

    room_id: str
    host: Any  # the test user (tests.support)
    handlers: dict

    @classmethod
    def start(cls, world, title: str) -> LiveRoomBench:
        import os

        from chalicelib.local.ws_gateway import chalice_handlers
        from chalicelib.services import broadcast

        os.environ["WEBSOCKET_MANAGEMENT_URL"] = "https://bench.execute-api.us-east-1.amazonaws.com/bench"
        broadcast.reset_management_client()
        host = world.users("host", groups=("merchants",))
        _profiles(world, [host])
        room = _ok(_call(world, "POST", "/live", host, {"title": title, "labels": ["camera"]}), 201)
        _ok(_call(world, "POST", f"/live/{room['room_id']}/start", host))
        return cls(room["room_id"], host, chalice_handlers(__import__("app").app))

    def send(self, route_key: str, connection_id: str, **extra):
        context = {"routeKey": route_key, "eventType": route_key.strip("$").upper(), "apiId": "bench",
                   "stage": "bench", "connectionId": connection_id, "domainName": "bench", "requestId": connection_id}
        return self.handlers[route_key]({"requestContext": context, "isBase64Encoded": False, **extra}, None)

    def join(self, connection_id: str, user) -> None:
        query = {"room_id": self.room_id, "token": user.token}
        answer = self.send("$connect", connection_id, queryStringParameters=query)
        assert answer["statusCode"] == 200, answer

    def burst(self, requests: list, note: str) -> Burst:
        return Burst(requests, {self.room_id: "<room>", self.host.user_id: "<host>"}, note=note)


def live_room(world, pool) -> Burst:
    """`size` viewers join one live room over its WebSocket (the app's `$connect` handler) and each
    sends a like message (`$default`); the room's counters and broadcasts run on the stream path."""
    live = LiveRoomBench.start(world, "11.11 live")

    def viewer(index: int, user) -> tuple:
        connection_id = f"bench{index:06d}AAAA="

        def join_and_like() -> None:
            live.join(connection_id, user)
            live.send("$default", connection_id, body='{"action": "like", "count": 5}')

        return (join_and_like, None, None, None, None)

    return live.burst([viewer(index, user) for index, user in enumerate(pool)],
                      note=f"{len(pool)} viewers join one room and send a like message each")


def live_chat(world, pool) -> Burst:
    """`size` viewers of a room of 5,000 (the counters say so; up to that every message is stored and
    broadcast) each send one chat message over their socket (`$default`); storage and broadcast run
    on the stream path. The joins are set-up, not metered."""
    from chalicelib.models.live import LiveRoom
    from chalicelib.services import live_sockets

    live = LiveRoomBench.start(world, "11.11 chat")
    # the joins below add len(pool) as the counters fold them: 5,000 viewers then, the most not sampled
    LiveRoom(live.room_id).update(actions=[LiveRoom.viewer_count.set(5_000 - len(pool))])
    live_sockets._rooms.clear()

    def viewer(index: int, user) -> tuple:
        connection_id = f"chat{index:06d}AAAA="
        live.join(connection_id, user)

        def chat() -> None:
            live.send("$default", connection_id, body=json.dumps({"action": "chat", "text": f"抢! {index}"}))

        return (chat, None, None, None, None)

    return live.burst([viewer(index, user) for index, user in enumerate(pool)],
                      note=f"{len(pool)} viewers of a 5,000-viewer room send a chat message each")


def catalogue_import(world, pool) -> Burst:
    """`size` products from 10 stores whose titles all share their words (Latin and Chinese): every
    product writes the same search prefixes, spread over the product index's 2 shards."""
    stores = [world.users(f"importer{n}", groups=("merchants",)) for n in range(10)]
    for n, store in enumerate(stores):
        _ok(_call(world, "PUT", "/merchants/me", store, {"store_name": f"Import {n}", "labels": ["camera"]}))
    body = {"price_cents": 9_900, "labels": ["camera"]}
    return Burst([("POST", "/products", stores[n % len(stores)],
                   {**body, "title": f"2024新款 Camera strap 相机背带 {n}"}, (201,)) for n in range(len(pool))],
                 {store.user_id: f"<store{n}>" for n, store in enumerate(stores)},
                 note=f"{len(pool)} products, titles sharing every word, from 10 stores")


SCENARIOS = {
    "live_room": live_room,
    "live_chat": live_chat,
    "flash_coupon": flash_coupon,
    "celebrity_poll": celebrity_poll,
    "follow_surge": follow_surge,
    "circle_join_surge": circle_join_surge,
    "answer_vote_storm": answer_vote_storm,
    "question_surge": question_surge,
    "fanout_near_threshold": fanout_near_threshold,
    "catalogue_import": catalogue_import,
}


# -- running -----------------------------------------------------------------------------------------
def _label(key: str | None, aliases: dict[str, str]) -> str | None:
    if key is None:
        return None
    for value, alias in aliases.items():
        key = key.replace(value, alias)
    return key


@contextlib.contextmanager
def fresh_tables(world):
    """Every table emptied (as if created anew), and a stream runner on the fresh streams, so one
    scenario's items and stream records are not metered in the next. The Cognito users are kept.
    """
    from app import app
    from chalicelib.local.stream_runner import StreamRunner
    from tests.support.aws import reset_tables

    reset_tables(world.aws)
    streams = StreamRunner(app, world.aws.session, failures_queue_url=world.aws.outputs["StreamFailuresQueueUrl"])
    meter.attribute_stream_handlers(streams)
    yield harness.World(client=world.client, users=world.users, streams=streams, aws=world.aws)


def run_burst(world, burst: Burst) -> tuple[meter.MeterLog, frozenset[str]]:
    """Meter the burst's requests and every stream effect they cause.

    Returns the log and the keys that were ONE request's own new items (`_request_items`).
    """
    world.streams.drain()  # the set-up's own effects are not the burst's
    touched: dict[str, set[int]] = {}
    named: list[set[str]] = []
    with meter.metering() as log:
        for index, (method, path, user, body, statuses) in enumerate(burst.requests):
            charges, transactions = len(log.charges), Counter(log.transactions)
            if callable(method):  # not an HTTP request (a WebSocket handler's invocation)
                method()
                data = None
            else:
                data = _ok(_call(world, method, path, user, body), *statuses)
                if burst.response_alias and isinstance(data, dict) and burst.response_alias[0] in data:
                    burst.aliases[data[burst.response_alias[0]]] = burst.response_alias[1]
            for key in _keys_touched(log, charges, transactions):
                touched.setdefault(key, set()).add(index)
            named.append(set(_ids_in(data)))
        charges, transactions = len(log.charges), Counter(log.transactions)
        world.streams.drain()
        for key in _keys_touched(log, charges, transactions):
            touched.setdefault(key, set()).add(-1)  # a stream effect's
    assert not world.streams.set_aside, world.streams.set_aside
    return log, _request_items(touched, named)


def _keys_touched(log: meter.MeterLog, charges_before: int, transactions_before: Counter) -> set[str]:
    """Partition keys charged, and items put in a transaction, since the counts given."""
    keys = {charge.partition for charge in log.charges[charges_before:] if charge.wcu or charge.rcu}
    return keys | {item for item, count in log.transactions.items() if count > transactions_before.get(item, 0)}


def _ids_in(data) -> list[str]:
    """The ids a response names (strings of 8 characters or more, anywhere in it)."""
    if isinstance(data, str):
        return [data] if len(data) >= 8 else []
    if isinstance(data, dict):
        return [found for value in data.values() for found in _ids_in(value)]
    if isinstance(data, list):
        return [found for value in data for found in _ids_in(value)]
    return []


def _request_items(touched: dict[str, set[int]], named: list[set[str]]) -> frozenset[str]:
    """Keys of items that belong to ONE request: touched by that request only (no other request, no
    stream effect), and named by an id its own response returned (a coupon code it was given, an
    id it created). At any rate each such item sees that one request, never `rate` of them: a
    burst of 100 shows it once per 100 requests, which a linear projection would misread as one
    item shared by every request (100 → 10,000 claims a second on a coupon that one shopper holds).
    A shard (`<key>#<n>`) is never one: at the target rate more requests land on it.
    """
    owned = set()
    for key, requests in touched.items():
        if len(requests) != 1 or _SHARD.match(key.split("/", 1)[-1]):
            continue
        (index,) = requests
        value = key.split(":", 1)[1] if ":" in key else key
        if index >= 0 and any(found in value for found in named[index]):
            owned.add(key)
    return frozenset(owned)


#: A shopper's own items (wallet, ledger, claims, votes) see only that shopper's requests, which the
#: per-user write limit caps (120 a minute by default): more shoppers at a higher rate spread over
#: more such keys, so they are projected at this rate, not at the scenario's.
PER_CALLER_RATE = 2.0


def _own_key(key: str, callers: frozenset[str], owned: frozenset[str] = frozenset()) -> bool:
    """Is this partition key (or item) one caller's own: its value starts with a burst caller's id,
    or it is one request's own new item (`_request_items`)?"""
    if key in owned:
        return True
    value = key.split(":", 1)[1] if ":" in key else key
    return any(value.startswith(caller) for caller in callers)


_SHARD = re.compile(r"^(?P<group>.+)#(?P<shard>\d+)$")


def _per_shard(totals: dict) -> dict:
    """Keys `<key>#<n>` are shards of one key, chosen at random or by a hash: at the target rate each
    takes 1/N of the group's load (N = the highest shard seen + 1), which a burst smaller than N
    cannot show by itself (its busiest shard is chance). Other keys are kept as they are."""
    groups: dict[str, list[float]] = {}
    shards: dict[str, int] = {}
    plain = {}
    for key, value in totals.items():
        match = _SHARD.match(key)
        if match is None:
            plain[key] = value
            continue
        group = match["group"]
        groups.setdefault(group, []).append(value)
        shards[group] = max(shards.get(group, 0), int(match["shard"]) + 1)
    for group, values in groups.items():
        plain[f"{group}#<1 of {shards[group]}>"] = sum(values) / shards[group]
    return plain


def _hottest(totals: dict, callers: frozenset[str], owned: frozenset[str] = frozenset()) -> tuple[str | None, float]:
    shared = _per_shard({key: value for key, value in totals.items() if not _own_key(key, callers, owned)})
    if not shared:
        return None, 0.0
    return max(shared.items(), key=lambda pair: (pair[1], pair[0]))


def project(log: meter.MeterLog, ops: int, rate: float, aliases: dict[str, str], scale: float = 1.0,
            callers: frozenset[str] = frozenset(), owned: frozenset[str] = frozenset()) -> dict:
    """Per-op units and the hottest keys' load at `rate` ops a second (`scale`: units per op multiplier).

    Keys shared by the burst scale with the rate; a caller's own keys (`callers`: each made one
    request of the burst) and one request's own new items (`owned`) are reported apart, at
    `PER_CALLER_RATE` requests a second.
    """
    hot_key, hot_wcu = _hottest(log.by_partition("wcu"), callers, owned)
    read_key, hot_rcu = _hottest(log.by_partition("rcu"), callers, owned)
    tx_item, tx_count = _hottest(dict(log.transactions), callers, owned)
    own_key, own_wcu = max(((key, value) for key, value in log.by_partition("wcu").items()
                            if _own_key(key, callers, owned)), key=lambda pair: (pair[1], pair[0]),
                           default=(None, 0.0))
    own_tx = max((count for item, count in log.transactions.items() if _own_key(item, callers, owned)), default=0)
    per_op = scale / ops
    return {
        "hottest_key": _label(hot_key, aliases),
        "hottest_key_share": round(hot_wcu / log.wcu, 3) if log.wcu else 0.0,
        "projected_wcu_per_s": round(max(hot_wcu * per_op * rate, own_wcu * PER_CALLER_RATE), 1),
        "projected_tx_per_s_per_item": round(max(tx_count * per_op * rate, own_tx * PER_CALLER_RATE), 1),
        "hottest_tx_item": _label(tx_item, aliases),
        "hottest_own_key": _label(own_key, aliases),
        "wcu_per_op": round(log.wcu * per_op, 2),
        "rcu_per_op": round(log.rcu * per_op, 2),
        "hottest_read_key": _label(read_key, aliases),
        "projected_rcu_per_s": round(hot_rcu * per_op * rate, 1),
    }


def measure_scenario(world, pool, name: str) -> tuple[dict, dict]:
    """(hot_keys entry, details) of one scenario, on fresh tables."""
    from chalicelib.config import get_settings

    with fresh_tables(world) as fresh:
        if name != "fanout_near_threshold":  # its followers are written in bulk, without profiles
            _profiles(fresh, pool)
        burst = SCENARIOS[name](fresh, pool)
        log, owned = run_burst(fresh, burst)
    rate = RATES[name]
    if burst.per:  # a fan-out: units per follower, projected to an author just under the pull threshold
        followers = get_settings().fanout_pull_threshold - 1
        result = project(log, 1, rate, burst.aliases, scale=followers / burst.per)
        result.update(followers_measured=burst.per, followers_projected=followers,
                      wcu_per_follower=round(log.wcu / burst.per, 3), rcu_per_follower=round(log.rcu / burst.per, 3))
    else:
        callers = frozenset(user.user_id for user in pool) - set(burst.aliases)
        result = project(log, len(burst.requests), rate, burst.aliases, callers=callers, owned=owned)
    result.update(ops=len(burst.requests), rate_per_s=rate, burst=burst.note,
                  within_limits=result["projected_wcu_per_s"] <= WCU_CEILING
                  and result["projected_tx_per_s_per_item"] <= TX_CEILING)
    top = log.by_partition("wcu").most_common(5)
    details = {
        "top_write_keys": [[_label(key, burst.aliases), round(units, 2)] for key, units in top],
        "units_by_table": {_label(k, burst.aliases): v for k, v in log.by_table().items()},
        "units_by_source": log.by_source(),
        "calls_by_operation": dict(log.calls),
    }
    if burst.per:
        details["per_follower"] = {
            "wcu": round(log.wcu / burst.per, 3), "rcu": round(log.rcu / burst.per, 3),
            "new_bytes": round(log.new_bytes / burst.per), "stream_invocations_per_post": _stream_invocations(log),
            "units_by_table": {table: {k: round(v / burst.per, 3) for k, v in units.items()}
                               for table, units in log.by_table().items()},
        }
    return result, details


# -- per-operation costs (for the cost model) ---------------------------------------------------------
def _write_review(world):
    from bench.operations import Request

    store = world.users("store", groups=("merchants",))
    _ok(_call(world, "PUT", "/merchants/me", store, {"store_name": "Good Lens"}))
    product = _ok(_call(world, "POST", "/products", store, {"title": "Lens", "price_cents": 19_900,
                                                            "labels": ["camera"]}), 201)
    shopper = world.users("reviewer")
    _profiles(world, [shopper])
    return Request("POST", f"/products/{product['product_id']}/reviews", shopper,
                   {"rating": 5, "body": "Sharp and light"}, 201)


def _join_circle(world):
    from bench.operations import Request

    owner, joiner = world.users("owner"), world.users("joiner")
    _profiles(world, [owner, joiner])
    group = _ok(_call(world, "POST", "/groups", owner,
                      {"name": "Lens talk", "description": "All about lenses", "label": "camera"}), 201)
    return Request("PUT", f"/groups/{group['group_id']}/members/me", joiner)


def _post_by(world):
    author, reader = world.users("author"), world.users("reader")
    _profiles(world, [author, reader])
    post = _ok(_call(world, "POST", "/posts", author, {"text": "11.11 haul"}), 201)
    return post["post_id"], reader


def _like_post(world):
    from bench.operations import Request

    post_id, reader = _post_by(world)
    return Request("PUT", f"/posts/{post_id}/like", reader)


def _comment_post(world):
    from bench.operations import Request

    post_id, reader = _post_by(world)
    return Request("POST", f"/posts/{post_id}/comments", reader, {"text": "Which size did you take?"}, 201)


def operation_scenarios() -> dict:
    from bench import operations

    return {**operations.SCENARIOS, "write_review": _write_review, "join_circle": _join_circle,
            "like_post": _like_post, "comment_post": _comment_post}


def measure_operation(world, name: str) -> dict:
    """One request of `name` and the stream effects it causes: units billed, per table."""
    with fresh_tables(world) as fresh:
        request = operation_scenarios()[name](fresh)
        fresh.streams.drain()
        lambda_time.build_models()  # a warm container's request: its models are built
        with meter.metering() as log:
            with lambda_time.cpu_outside_dynamodb() as request_clock:
                _ok(_call(fresh, request.method, request.path, request.user, request.body), request.status)
            fresh.streams.drain()
    sources = log.by_source()
    return {
        "request_cpu_ms": request_clock.cpu_ms,
        "request_calls": request_clock.calls,
        "wcu": round(log.wcu, 2),
        "rcu": round(log.rcu, 2),
        "request_wcu": sources.get("request", {}).get("wcu", 0.0),
        "request_rcu": sources.get("request", {}).get("rcu", 0.0),
        "stream_invocations": _stream_invocations(log),
        "new_bytes": log.new_bytes,
        "units_by_table": log.by_table(),
    }


def _stream_invocations(log: meter.MeterLog) -> int:
    """Stream handlers that ran (each is at least one Lambda invocation)."""
    return len({charge.source for charge in log.charges if charge.source != "request"})


def measure_all(size: int = SIZE, scenarios=None, operations=None) -> dict:
    """Every scenario (on one pool of `size` Cognito users) and every operation's per-op units."""
    hot, details, ops = {}, {}, {}
    with harness.bench_world() as world:
        started = time.perf_counter()
        pool = [world.users(f"shopper{i}") for i in range(size)]
        print(f"  {size} Cognito users: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        for name in scenarios or SCENARIOS:
            started = time.perf_counter()
            hot[name], details[name] = measure_scenario(world, pool, name)
            details[name]["seconds"] = round(time.perf_counter() - started, 1)
            entry = hot[name]
            print(f"  {name:<24} hottest {entry['hottest_key']}: {entry['projected_wcu_per_s']} WCU/s, "
                  f"{entry['projected_tx_per_s_per_item']} tx/s at {entry['rate_per_s']}/s "
                  f"({entry['wcu_per_op']} WCU/op)", file=sys.stderr, flush=True)
        for name in operations if operations is not None else operation_scenarios():
            ops[name] = measure_operation(world, name)
            print(f"  {name:<24} {ops[name]['wcu']} WCU, {ops[name]['rcu']} RCU", file=sys.stderr, flush=True)
        fan = details.get("fanout_near_threshold", {}).get("per_follower")
        if fan:
            ops["fan_out_per_follower"] = fan
    return {"hot_keys": hot, "hot_key_details": details, "operation_units": ops}


def main(argv: list[str] | None = None) -> int:
    import warnings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=SIZE, help="requests per burst (default %(default)s)")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="only this one (repeatable)")
    parser.add_argument("--no-operations", action="store_true", help="skip the per-operation costs")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    harness.prepare_environment()
    measured = measure_all(args.size, args.scenario, [] if args.no_operations else None)
    json.dump(measured, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
