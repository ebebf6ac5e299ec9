"""Moderation on the real local stack: an admin removes a reported post and it leaves the feed within
seconds; restore brings it back; the author is notified; a suspended user's writes are 403 `Suspended`."""


def _feed_ids(stack, user) -> list[str]:
    return [item["post_id"] for item in stack.call("GET", "/feed", user).json()["items"]]


def test_an_admin_removes_a_reported_post_and_it_leaves_the_feed(stack):
    # Given alice's two posts in bob's feed, and carol's report of one of them
    alice, bob, carol = stack.sign_up("alice"), stack.sign_up("bob"), stack.sign_up("carol")
    admin = stack.sign_up("moderator", groups=("admins",))
    for user in (alice, bob, carol, admin):
        assert stack.call("GET", "/me", user).status_code == 200
    assert stack.call("PUT", f"/users/{alice.user_id}/follow", bob).status_code == 200
    kept = stack.call("POST", "/posts", alice, {"text": "a fair kettle review"}).json()["post_id"]
    spam = stack.call("POST", "/posts", alice, {"text": "cheap watches, click here"}).json()["post_id"]
    stack.eventually(lambda: _feed_ids(stack, bob) == [spam, kept], timeout=5.0)
    reported = stack.call("POST", "/reports", carol, {"target_type": "post", "target_id": spam, "reason": "spam"})
    assert reported.status_code == 201, reported.text
    # When the admin finds it in the queue (the Reports stream counts it; the stack is shared with other
    # tests' reports, so the order is tested in tests/integration/test_moderation.py) and removes it
    def queued() -> list[dict] | None:
        items = stack.call("GET", "/admin/reports?limit=100", admin).json()["items"]
        return [item for item in items if item["target_id"] == spam] or None

    queue = stack.eventually(queued, timeout=5.0)
    assert queue[0]["report_count"] == 1
    removed = stack.call("POST", "/admin/moderation", admin, {"target_type": "post", "target_id": spam,
                                                              "action": "remove", "reason": "spam"})
    assert removed.status_code == 200, removed.text
    # Then it leaves bob's feed at once, and alice's list; bob cannot open it; the queue is empty
    assert _feed_ids(stack, bob) == [kept]
    assert [p["post_id"] for p in stack.call("GET", f"/users/{alice.user_id}/posts", bob).json()["items"]] == [kept]
    assert stack.call("GET", f"/posts/{spam}", bob).status_code == 404
    assert queued() is None  # its reports are closed (other tests' may stand in the shared queue)
    # And alice hears of it within seconds
    def moderation_notices():
        items = stack.call("GET", "/me/notifications", alice).json()["items"]
        return [n for n in items if n["type"] == "moderation"] or None

    notice = stack.eventually(moderation_notices, timeout=5.0)[0]
    assert notice["data"] == {"target_type": "post", "target_id": spam, "action": "remove", "reason": "spam"}
    # When the admin restores it, it is back in the feed
    restored = stack.call("POST", "/admin/moderation", admin, {"target_type": "post", "target_id": spam,
                                                               "action": "restore", "reason": "appeal"})
    assert restored.status_code == 200
    assert _feed_ids(stack, bob) == [spam, kept]
    log = stack.call("GET", "/admin/moderation", admin).json()["items"]
    assert [(entry["action"], entry["target_id"]) for entry in log[:2]] == [("restore", spam), ("remove", spam)]


def test_a_suspended_user_cannot_write_until_unsuspended(stack):
    spammer, admin = stack.sign_up("spammer"), stack.sign_up("moderator", groups=("admins",))
    assert stack.call("GET", "/me", spammer).status_code == 200
    body = {"target_type": "user", "target_id": spammer.user_id, "action": "suspend", "reason": "spam wave"}
    assert stack.call("POST", "/admin/moderation", admin, body).status_code == 200
    refused = stack.call("POST", "/posts", spammer, {"text": "more spam"})
    assert refused.status_code == 403 and refused.json()["Code"] == "Suspended"
    assert stack.call("GET", "/feed", spammer).status_code == 200
    assert stack.call("POST", "/admin/moderation", admin, dict(body, action="unsuspend")).status_code == 200
    assert stack.call("POST", "/posts", spammer, {"text": "sorry"}).status_code == 201
