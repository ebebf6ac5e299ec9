"""Export and erasure of the tables merged with the later features, through the real stream path:
shared activity, the liked-posts index, reports and the moderation log, search, and live rooms.
Afterwards nothing of the user is found by search, profile or lists."""

from __future__ import annotations

import pytest

from bench import harness  # noqa: F401  (the DynamoDB call counter, before any client exists)
from chalicelib.schemas.cards import DELETED_USER_NAME
from tests.integration.test_account_data import build_world, erase, export_of, rows
from tests.integration.test_live_rooms import gateway  # noqa: F401  (the fixture)
from tests.integration.test_search import hit_ids
from tests.support.activity import feed_activities, share
from tests.support.advice import ask, product, review
from tests.support.api import call
from tests.support.live import Viewer, create_room


def _scan_keys(model, prefix: str) -> list[str]:
    """Test-only: every hash key of the table that starts with `prefix` (a Scan, never on a request path)."""
    hash_name = model._hash_keyname
    return [getattr(item, hash_name) for item in model.scan() if str(getattr(item, hash_name)).startswith(prefix)]


def _registry_rows_left(user_id: str, *, skip: tuple[str, ...] = ()) -> list[str]:
    from chalicelib.services.personal_data import KEPT, REGISTRY

    left = []
    for entry in REGISTRY.owned():
        if entry.erase.startswith(KEPT) or entry.table in skip:
            continue
        for reach in entry.reaches:
            for hash_key in reach.keys(user_id):
                if reach.page(hash_key, 10, None)[0]:
                    left.append(f"{entry.table}:{reach.index}")
    return left


@pytest.mark.parametrize("runner", ["streams", "chaos_streams"])
def test_shared_activity_liked_posts_and_search_leave_with_the_account(client, users, request, runner):
    from chalicelib.models.activity import Activity
    from chalicelib.models.social import LikedPosts

    streams = request.getfixturevalue(runner)
    world = build_world(client, users, streams)
    a, b, c, store = world["a"], world["b"], world["c"], world["store"]
    assert call(client, "PUT", "/me", a, {"display_name": "Zephyrine Quill"}).status_code == 200
    share(client, a, review=True, wishlist_add=True)
    tripod = product(client, store, title="Travel tripod")
    a_review = review(client, a, tripod["product_id"], rating=5)
    assert call(client, "PUT", f"/me/wishlist/{tripod['product_id']}", a).status_code == 200
    streams.drain()
    for follower in (b, c):
        assert {item["type"] for item in feed_activities(client, follower)} == {"review", "wishlist_add"}
    assert _scan_keys(LikedPosts, f"{a.user_id}#")  # A's like of B's post is indexed
    assert hit_ids(client, b, "zephyrine", "user") == [a.user_id]
    assert world["lonely"]["question_id"] in hit_ids(client, b, "anyone", "question")

    # the export holds the shared activities and the switches
    exported = export_of(client, streams, a)
    shared = rows(exported, "Activities")
    assert {row["type"] for row in shared if "type" in row} == {"review", "wishlist_add"}
    settings = [row for row in shared if row["activity_id"] == "~settings"]
    assert settings and settings[0]["review"] is True and settings[0]["wishlist_add"] is True

    erase(client, streams, a)
    # the activities left every follower's feed, the settings item went too
    for follower in (b, c):
        assert feed_activities(client, follower) == []
    assert list(Activity.query(a.user_id, consistent_read=True)) == []
    # the liked-posts index holds nothing of A's (the Likes stream emptied and deleted the items)
    assert _scan_keys(LikedPosts, f"{a.user_id}#") == []
    # search, profile, lists: nothing of A
    for q, kind in (("zephyrine", "user"), ("anyone", "question")):
        assert a.user_id not in hit_ids(client, b, q, kind)
        assert world["lonely"]["question_id"] not in hit_ids(client, b, q, kind)
    assert call(client, "GET", f"/users/{a.user_id}", b).status_code == 404
    assert call(client, "GET", f"/users/{a.user_id}/wishlist", b).status_code == 404
    # A's review stays, shown from a deleted user (and the product page lists it)
    reviews = call(client, "GET", f"/products/{tripod['product_id']}/reviews", b).data["items"]
    assert [(item["review_id"], item["user"]["display_name"]) for item in reviews] == [
        (a_review["review_id"], DELETED_USER_NAME)]
    assert _registry_rows_left(a.user_id) == []


def test_an_erased_liker_leaves_no_liked_posts_item_even_where_a_window_overflowed(client, users, streams,
                                                                                    monkeypatch):
    from chalicelib.models.social import LikedPosts
    from chalicelib.services import social
    from tests.support.posts import publish, with_profiles

    monkeypatch.setattr(social, "LIKED_WINDOW_CAP", 2)
    a, b = users("a"), users("b")
    with_profiles(client, a, b)
    posts = [publish(client, b, f"post {n}") for n in range(4)]
    for post_id in posts:
        assert call(client, "PUT", f"/posts/{post_id}/like", a).status_code == 200
    streams.drain()
    assert LikedPosts.get(social.liked_key(a.user_id, posts[0])).overflow is True
    erase(client, streams, a)
    assert _scan_keys(LikedPosts, f"{a.user_id}#") == []


def test_an_erased_merchant_leaves_search_and_reports_go_but_the_audit_log_stays(client, users, streams):
    from chalicelib.models.moderation import ModerationAction, Report, ReportTarget

    shop = users("shop", groups=("merchants",))
    b, c = users("bob"), users("carol")
    admin = users("admin", groups=("admins",))
    for user in (shop, b, c, admin):
        assert call(client, "GET", "/me", user).status_code == 200
    assert call(client, "PUT", "/me", shop, {"display_name": "Quokka Owner"}).status_code == 200
    assert call(client, "PUT", "/merchants/me", shop, {"store_name": "Quokka Optics", "labels": ["camera"]}
                ).status_code == 200
    lens = product(client, shop, title="Quokka lens")
    lonely = ask(client, shop, title="Quokka lens cap sizes?")
    answered = ask(client, shop, title="Quokka strap colours?")
    assert call(client, "POST", f"/questions/{answered['question_id']}/answers", b, {"body": "Red"}).status_code == 201
    b_post = call(client, "POST", "/posts", b, {"text": "b's bag"}).data["post_id"]
    shop_post = call(client, "POST", "/posts", shop, {"text": "sale today"}).data["post_id"]
    # the shop reports B's post, C reports the shop, an admin removes the shop's post
    assert call(client, "POST", "/reports", shop, {"target_type": "post", "target_id": b_post,
                                                   "reason": "spam"}).status_code == 201
    assert call(client, "POST", "/reports", c, {"target_type": "user", "target_id": shop.user_id,
                                                "reason": "fake store"}).status_code == 201
    removed = call(client, "POST", "/admin/moderation", admin, {"target_type": "post", "target_id": shop_post,
                                                                 "action": "remove", "reason": "misleading"})
    assert removed.status_code in (200, 201), removed.data
    streams.drain()
    for q, kind, item_id in (("quokka", "user", shop.user_id), ("quokka", "store", shop.user_id),
                             ("quokka", "product", lens["product_id"]), ("quokka", "question", lonely["question_id"])):
        assert item_id in hit_ids(client, b, q, kind), kind
    exported = export_of(client, streams, shop)
    assert [(row["target_id"], row["reason"]) for row in rows(exported, "Reports")] == [(b_post, "spam")]
    assert [row["target_id"] for row in rows(exported, "ModerationLog")] == [shop_post]
    assert "fake store" not in str(exported)  # others' reports of the account are theirs, not exported

    erase(client, streams, shop)
    # nothing of the shop is found by search: profile, store, product, the unanswered question
    for kind in ("user", "store", "product", "question"):
        assert hit_ids(client, b, "quokka", kind) in ([], [answered["question_id"]]), kind
    assert hit_ids(client, b, "quokka", "question") == [answered["question_id"]]  # it has an answer: it stays
    assert call(client, "GET", f"/products/{lens['product_id']}", b).status_code == 404
    assert call(client, "GET", f"/merchants/{shop.user_id}", b).status_code == 404
    # the shop's report went; B's post keeps its count (reports are closed by moderation, never un-counted)
    assert list(Report.by_reporter.query(shop.user_id)) == []
    target = ReportTarget.get(f"post#{b_post}", consistent_read=True)
    assert int(target.report_count) == 1
    assert target.last_reason is None  # the shop's words left the queue with its report
    # C's report of the shop and the shop's queue item went with the account
    assert list(Report.by_reporter.query(c.user_id)) == []
    assert ReportTarget.count(f"user#{shop.user_id}") == 0
    queue = call(client, "GET", "/admin/reports", admin).data["items"]
    assert shop.user_id not in [item["target_id"] for item in queue]
    # the audit log stays (the legal basis of the removal): ids and the admin's reason, no name
    log = list(ModerationAction.query("all"))
    assert [(entry.target_id, entry.affected_user_id) for entry in log] == [(shop_post, shop.user_id)]
    assert "Quokka" not in str([entry.attribute_values for entry in log])
    assert _registry_rows_left(shop.user_id, skip=("Questions",)) == []  # the answered question stays


def test_an_erased_hosts_rooms_end_and_their_chat_visits_and_marks_go(client, users, gateway, streams):  # noqa: F811
    from chalicelib.models.live import LiveActivity, LiveChatMessage

    shop, host = users("shop", groups=("merchants",)), users("host", groups=("merchants",))
    fan, other = users("fan"), users("other")
    for user in (shop, host, fan, other):
        assert call(client, "GET", "/me", user).status_code == 200
    own = create_room(client, shop)["room_id"]
    theirs = create_room(client, host)["room_id"]
    for owner, room_id in ((shop, own), (host, theirs)):
        assert call(client, "POST", f"/live/{room_id}/start", owner).data["status"] == "live"
    watching_own = Viewer(gateway.ws_url, own, fan.token)
    shop_viewing = Viewer(gateway.ws_url, theirs, shop.token)
    other_viewing = Viewer(gateway.ws_url, theirs, other.token)
    try:
        streams.drain()
        shop_viewing.send({"action": "chat", "text": "Quokka prices here too"})
        other_viewing.send({"action": "chat", "text": "Nice lens"})
        for user in (shop, other):
            assert call(client, "POST", f"/live/{theirs}/events", user, {"type": "store_visit"}).status_code == 204
        assert call(client, "POST", f"/live/{theirs}/mute", host, {"user_id": shop.user_id}).status_code == 204
        streams.drain()
        other_viewing.wait_for("chat", lambda found: len(found) == 2)
        chat = call(client, "GET", f"/live/{theirs}/chat", host).data["items"]
        assert sorted(m["user"]["user_id"] for m in chat) == sorted([shop.user_id, other.user_id])
        before = call(client, "GET", f"/live/{theirs}/stats", host).data
        assert (before["unique_viewers"], before["store_visitors"]) == (2, 2)
        exported = export_of(client, streams, shop)
        assert [row["room_id"] for row in rows(exported, "LiveRooms")] == [own]
        assert [row["text"] for row in rows(exported, "LiveChat")] == ["Quokka prices here too"]
        assert {row["kind"] for row in rows(exported, "LiveActivity")} == {"viewer", "visit", "mute"}

        erase(client, streams, shop)
        # the shop's room ended and its viewer heard it through the room's status event
        assert call(client, "GET", f"/live/{own}", fan).data["status"] == "ended"
        watching_own.wait_for("status", lambda found: "ended" in [e["status"] for e in found])
        assert call(client, "GET", f"/users/{shop.user_id}/live", fan).status_code == 404
        assert shop.user_id not in [room["host"]["user_id"] for room in
                                    call(client, "GET", "/live?status=live", fan).data["items"]]
        # the shop's chat in another's room went, the other viewer's stays
        chat = call(client, "GET", f"/live/{theirs}/chat", host).data["items"]
        assert [m["text"] for m in chat] == ["Nice lens"]
        assert list(LiveChatMessage.by_user.query(shop.user_id)) == []
        # its first view, visit and mute markers went; the room's distinct counts stand (as counted then)
        assert list(LiveActivity.by_viewer.query(shop.user_id)) == []
        after = call(client, "GET", f"/live/{theirs}/stats", host).data
        assert (after["unique_viewers"], after["store_visitors"], after["visit_rate"]) == (
            before["unique_viewers"], before["store_visitors"], before["visit_rate"])
        assert _registry_rows_left(shop.user_id, skip=("LiveRooms",)) == []
    finally:
        for socket in (watching_own, shop_viewing, other_viewing):
            socket.close()
