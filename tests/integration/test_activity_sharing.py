"""Activity sharing through the real stream path: opt-in per kind, the five kinds in followers'
feeds, withdrawal (one, or a whole kind), blocks, pull mode and wish-list visibility."""

from __future__ import annotations

import pytest

from chalicelib.domain import activity as rules
from tests.support.activity import activity_holders, feed_activities, open_store, share
from tests.support.advice import answer, ask, product, review
from tests.support.api import call
from tests.support.posts import follow, stored_feed, with_profiles


@pytest.fixture
def shop(client, users):
    merchant = users("shop", groups=("merchants",))
    open_store(client, merchant)
    return merchant


# -- the switches -----------------------------------------------------------------------------------
def test_every_kind_is_off_until_turned_on_and_put_changes_only_the_kinds_given(client, users):
    alice = users("alice")
    assert call(client, "GET", "/me/sharing", alice).data == {kind: False for kind in rules.KINDS}
    assert share(client, alice, review=True, answer=True) == {**{k: False for k in rules.KINDS},
                                                              "review": True, "answer": True}
    assert share(client, alice, answer=False)["review"] is True
    assert call(client, "GET", "/me/sharing", alice).data["answer"] is False


@pytest.mark.parametrize(("body", "field"), [
    ({}, None), ({"bookmarks": True}, "bookmarks"), ({"review": "yes"}, "review"), ({"review": None}, "review"),
])
def test_bad_switches_are_400_naming_the_field(client, users, body, field):
    response = call(client, "PUT", "/me/sharing", users(), body)
    assert response.status_code == 400
    if field:
        assert field in response.data["Message"]


# -- sharing ----------------------------------------------------------------------------------------
def test_a_shared_review_reaches_followers_with_cards_but_not_strangers_or_the_blocked(client, users, shop, streams):
    # Given alice, who shares reviews, two followers, a stranger and a follower she then blocks
    alice, bob, carol, dave, eve = (users(name) for name in ("alice", "bob", "carol", "dave", "eve"))
    with_profiles(client, alice, bob, carol, dave, eve)
    for fan in (bob, carol, eve):
        follow(client, fan, alice)
    assert call(client, "PUT", f"/users/{eve.user_id}/block", alice).status_code == 200
    share(client, alice, review=True)
    item = product(client, shop, title="Travel tripod")
    streams.drain()
    # When she reviews a product
    review(client, alice, item["product_id"])
    streams.drain()
    # Then her followers see the activity, with her card and the product's card
    for reader in (bob, carol):
        [seen] = feed_activities(client, reader)
        assert seen["type"] == "review" and seen["user"]["user_id"] == alice.user_id
        assert seen["product"]["product_id"] == item["product_id"] and seen["product"]["title"] == "Travel tripod"
        assert seen["product"]["merchant"]["store_name"] == "Lens Shop"
        assert seen["question"] is None and seen["store"] is None and seen["campaign"] is None
    # And neither the stranger nor the blocked user, nor alice's own feed
    for reader in (dave, eve, alice):
        assert feed_activities(client, reader) == []
    # And she sees it among what she shared, and the preview shows what bob sees
    [mine] = call(client, "GET", "/me/activity", alice).data["items"]
    assert mine == feed_activities(client, bob)[0]
    preview = call(client, "GET", "/me/sharing/preview", alice).data["items"]
    assert preview == [{"kind": "activity", "activity": mine}]


def test_nothing_is_shared_while_a_kind_is_off(client, users, shop, streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    follow(client, bob, alice)
    share(client, alice, answer=True)  # on, but not for reviews
    item = product(client, shop)
    review(client, alice, item["product_id"])
    call(client, "PUT", f"/me/wishlist/{item['product_id']}", alice)
    streams.drain()
    assert feed_activities(client, bob) == []
    assert call(client, "GET", "/me/activity", alice).data["items"] == []


def test_the_five_kinds_each_carry_what_they_name(client, users, shop, chaos_streams):
    from tests.integration.test_coupons import create, give_points, redeem

    # Given alice shares every kind, and bob follows her
    alice, bob, asker = users("alice"), users("bob"), users("asker")
    with_profiles(client, alice, bob, asker)
    follow(client, bob, alice)
    share(client, alice, **{kind: True for kind in rules.KINDS})
    item = product(client, shop, title="Camera bag")
    question_id = ask(client, asker, title="Which bag for a mirrorless?")["question_id"]
    campaign = create(client, shop, title="10 off bags")
    give_points(alice, 100)
    chaos_streams.drain()
    # When she adds to her wish list, answers, follows the store, and redeems a coupon
    call(client, "PUT", f"/me/wishlist/{item['product_id']}", alice)
    answer(client, alice, question_id)
    follow(client, alice, shop)
    assert redeem(client, alice, campaign["campaign_id"]).status_code in (200, 201)
    chaos_streams.drain()
    # Then bob's feed holds one activity of each (delivered twice and split: still one each)
    seen = {activity["type"]: activity for activity in feed_activities(client, bob)}
    assert sorted(seen) == sorted(rules.KINDS[:1] + rules.KINDS[2:])
    assert len(feed_activities(client, bob)) == 4
    assert seen["wishlist_add"]["product"]["product_id"] == item["product_id"]
    assert seen["answer"]["question"] == {"question_id": question_id, "title": "Which bag for a mirrorless?"}
    assert seen["store_follow"]["store"]["merchant_id"] == shop.user_id
    assert seen["store_follow"]["store"]["store_name"] == "Lens Shop"
    assert seen["coupon_redeemed"]["campaign"] == {"campaign_id": campaign["campaign_id"], "title": "10 off bags"}
    assert seen["coupon_redeemed"]["store"]["merchant_id"] == shop.user_id
    # And following someone who is not a store shares nothing
    follow(client, alice, bob)
    chaos_streams.drain()
    assert len(call(client, "GET", "/me/activity", alice).data["items"]) == 4


# -- withdrawing ------------------------------------------------------------------------------------
def test_turning_a_kind_off_withdraws_it_from_every_feed_and_a_replay_does_not_bring_it_back(
        client, users, shop, chaos_streams):
    # Given alice shares reviews and answers with two followers
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    with_profiles(client, alice, bob, carol)
    follow(client, bob, alice)
    follow(client, carol, alice)
    share(client, alice, review=True, answer=True)
    first, second = product(client, shop), product(client, shop, title="Strap")
    question_id = ask(client, users("asker"))["question_id"]
    chaos_streams.drain()
    review(client, alice, first["product_id"])
    review(client, alice, second["product_id"])
    answer(client, alice, question_id)
    chaos_streams.drain()
    assert len(feed_activities(client, bob)) == 3
    # When she turns reviews off
    share(client, alice, review=False)
    chaos_streams.drain()
    # Then no follower's feed holds a review of hers any more; the answer stays
    for reader in (bob, carol):
        assert [a["type"] for a in feed_activities(client, reader)] == ["answer"]
        assert len(stored_feed(reader.user_id)) == 1
    assert [a["type"] for a in call(client, "GET", "/me/activity", alice).data["items"]] == ["answer"]
    # And the job that did it finished
    from chalicelib.services import activity

    job = activity.withdrawal_status(alice.user_id, "review")
    assert job.done and int(job.processed) == 2
    # And turning reviews on again does not bring the withdrawn ones back
    share(client, alice, review=True)
    chaos_streams.drain()
    assert [a["type"] for a in feed_activities(client, bob)] == ["answer"]


def test_one_activity_is_withdrawn_on_its_own_and_others_are_404(client, users, shop, streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    follow(client, bob, alice)
    share(client, alice, wishlist_add=True)
    first, second = product(client, shop), product(client, shop, title="Strap")
    call(client, "PUT", f"/me/wishlist/{first['product_id']}", alice)
    call(client, "PUT", f"/me/wishlist/{second['product_id']}", alice)
    streams.drain()
    newest, oldest = (a["activity_id"] for a in feed_activities(client, bob))
    # Someone else's, an unknown one, and the settings item are 404
    assert call(client, "DELETE", f"/me/activity/{newest}", bob).status_code == 404
    assert call(client, "DELETE", "/me/activity/01JUNKNOWN0000000000000000", alice).status_code == 404
    assert call(client, "DELETE", "/me/activity/~settings", alice).status_code == 404
    # When alice withdraws one
    assert call(client, "DELETE", f"/me/activity/{newest}", alice).status_code == 204
    streams.drain()
    # Then it leaves bob's feed and her list; withdrawing it again changes nothing
    assert [a["activity_id"] for a in feed_activities(client, bob)] == [oldest]
    assert stored_feed(bob.user_id) == [oldest]
    assert [a["activity_id"] for a in call(client, "GET", "/me/activity", alice).data["items"]] == [oldest]
    assert call(client, "DELETE", f"/me/activity/{newest}", alice).status_code == 204
    assert call(client, "DELETE", f"/me/activity/{newest}", bob).status_code == 404


def test_a_new_follower_gets_the_newest_shared_activities_with_the_posts_but_not_withdrawn_ones(
        client, users, shop, streams):
    from tests.support.posts import publish

    # Given alice, who posted, shared two wish-list adds and withdrew one of them
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    share(client, alice, wishlist_add=True)
    post_id = publish(client, alice, "my new tripod")
    first, second = product(client, shop), product(client, shop, title="Strap")
    call(client, "PUT", f"/me/wishlist/{first['product_id']}", alice)
    call(client, "PUT", f"/me/wishlist/{second['product_id']}", alice)
    streams.drain()
    newest, oldest = (a["activity_id"] for a in call(client, "GET", "/me/activity", alice).data["items"])
    assert call(client, "DELETE", f"/me/activity/{newest}", alice).status_code == 204
    streams.drain()
    # When bob follows her
    follow(client, bob, alice)
    streams.drain()
    # Then his feed holds her post and the activity she still shares, newest first, as her followers' do
    assert stored_feed(bob.user_id) == [oldest, post_id]
    assert [a["activity_id"] for a in feed_activities(client, bob)] == [oldest]
    assert feed_activities(client, bob)[0]["product"]["product_id"] == first["product_id"]


def test_an_activity_withdrawn_while_its_fan_out_runs_is_not_left_behind(client, users, monkeypatch):
    from chalicelib.domain.ids import now_iso
    from chalicelib.models.activity import Activity
    from chalicelib.models.posts import FanoutJob
    from chalicelib.services import activity, fanout
    from tests.support.posts import given_followers

    # Given an activity whose fan-out (steps of about 10 followers) has run its first step
    monkeypatch.setattr(fanout, "FANOUT_PAGE_SIZE", 10)
    alice = users("alice")
    with_profiles(client, alice)
    follower_ids = given_followers(alice.user_id, 35)
    shared = rules.Shared(user_id=alice.user_id, type=rules.REVIEW, source="review#R1", created_at=now_iso(),
                          product_id="P1")
    activity_id = shared.activity_id
    Activity(alice.user_id, activity_id, type=shared.type, source=shared.source, created_at=shared.created_at,
             shared_at=now_iso()).save()
    fanout.start_activity_fan_out(activity_id, alice.user_id, shared.created_at)
    assert fanout.run_fan_out_step(activity_id, 0)
    assert len(activity_holders(activity_id, follower_ids)) > 1
    # And alice withdraws it while step 2 runs: the removal finishes before the step's entries land
    original = fanout._insert_entries

    def withdrawn_just_before_the_write(post, reader_ids):
        activity.withdraw(alice.user_id, activity_id)
        fanout.withdraw_activity_everywhere(activity_id, alice.user_id)
        step = 0
        while fanout.run_fan_out_step(fanout.removal_job_id(activity_id), step):
            step += 1
        return original(post, reader_ids)

    monkeypatch.setattr(fanout, "_insert_entries", withdrawn_just_before_the_write)
    # When step 2 finishes
    fanout.run_fan_out_step(activity_id, 1)
    # Then it took its own entries back out and ended the job: no follower's feed keeps it
    job = FanoutJob.get(activity_id)
    assert job.done and job.cancelled
    assert activity_holders(activity_id, follower_ids) == set()


def test_pull_mode_readers_merge_activities_and_lose_them_when_withdrawn(client, users, shop, streams, monkeypatch):
    from chalicelib.config import reset_settings

    # Given a star served by pull (threshold 1, two fans), sharing reviews
    monkeypatch.setenv("FANOUT_PULL_THRESHOLD", "1")
    reset_settings()
    try:
        star, bob, carol = users("star"), users("bob"), users("carol")
        with_profiles(client, star, bob, carol)
        follow(client, bob, star)
        follow(client, carol, star)
        streams.drain()
        call(client, "POST", "/posts", star, {"text": "crossing"})  # the post that lists her in pull lists
        streams.drain()
        share(client, star, review=True)
        item = product(client, shop)
        review(client, star, item["product_id"])
        streams.drain()
        # Then the fans see the activity though nothing was written into their feeds
        [seen] = feed_activities(client, bob)
        assert seen["type"] == "review" and stored_feed(bob.user_id) == []
        # When she withdraws it, it is gone from the merged feeds
        assert call(client, "DELETE", f"/me/activity/{seen['activity_id']}", star).status_code == 204
        streams.drain()
        assert feed_activities(client, bob) == feed_activities(client, carol) == []
    finally:
        monkeypatch.undo()
        reset_settings()


# -- wish-list visibility ---------------------------------------------------------------------------
def test_wishlist_visibility_is_enforced_on_the_list_and_its_activity(client, users, shop, streams):
    alice, bob, stranger, blocked = users("alice"), users("bob"), users("stranger"), users("blocked")
    with_profiles(client, alice, bob, stranger, blocked)
    follow(client, bob, alice)
    assert call(client, "PUT", f"/users/{blocked.user_id}/block", alice).status_code == 200
    share(client, alice, wishlist_add=True)
    item = product(client, shop)
    call(client, "PUT", f"/me/wishlist/{item['product_id']}", alice)
    streams.drain()
    path = f"/users/{alice.user_id}/wishlist"
    # public (the default): anyone but a blocked user
    assert call(client, "GET", "/me/wishlist/settings", alice).data == {"visibility": "public"}
    assert call(client, "GET", path, stranger).status_code == 200
    assert call(client, "GET", path, blocked).status_code == 403
    assert call(client, "GET", f"/users/{blocked.user_id}/wishlist", alice).status_code == 403
    # followers: bob yes, the stranger no
    assert call(client, "PUT", "/me/wishlist/settings", alice, {"visibility": "followers"}).status_code == 200
    assert call(client, "GET", path, bob).status_code == 200
    assert call(client, "GET", path, stranger).status_code == 403
    assert len(feed_activities(client, bob)) == 1
    # private: only alice; the wish-list activity leaves bob's feed and the preview
    assert call(client, "PUT", "/me/wishlist/settings", alice, {"visibility": "private"}).data == {
        "visibility": "private"}
    assert call(client, "GET", path, bob).status_code == 403
    assert call(client, "GET", path, alice).status_code == 200
    assert feed_activities(client, bob) == []
    assert call(client, "GET", "/me/sharing/preview", alice).data["items"] == []
    assert len(call(client, "GET", "/me/activity", alice).data["items"]) == 1
    # and a bad visibility is a 400 naming the field
    response = call(client, "PUT", "/me/wishlist/settings", alice, {"visibility": "friends"})
    assert response.status_code == 400 and "visibility" in response.data["Message"]


def test_removing_what_was_shared_withdraws_its_activity(client, users, shop, chaos_streams):
    # Given alice shares her reviews, wish-list adds and store follows with bob
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    follow(client, bob, alice)
    share(client, alice, review=True, wishlist_add=True, store_follow=True)
    item = product(client, shop)
    chaos_streams.drain()
    review_id = review(client, alice, item["product_id"])["review_id"]
    call(client, "PUT", f"/me/wishlist/{item['product_id']}", alice)
    follow(client, alice, shop)
    chaos_streams.drain()
    assert sorted(a["type"] for a in feed_activities(client, bob)) == ["review", "store_follow", "wishlist_add"]
    # When she deletes the review, takes the product off her wish list and unfollows the store
    assert call(client, "DELETE", f"/reviews/{review_id}", alice).status_code == 204
    assert call(client, "DELETE", f"/me/wishlist/{item['product_id']}", alice).status_code == 204
    assert call(client, "DELETE", f"/users/{shop.user_id}/follow", alice).status_code == 200
    chaos_streams.drain()
    # Then none of the three stays in bob's feed or among what she shares
    assert feed_activities(client, bob) == []
    assert stored_feed(bob.user_id) == []
    assert call(client, "GET", "/me/activity", alice).data["items"] == []


def test_a_review_or_answer_a_moderator_removes_leaves_feeds_with_its_activity(client, users, shop, streams):
    from tests.integration.test_moderation import moderate

    # Given alice shares her reviews and answers with bob
    alice, bob, asker = users("alice"), users("bob"), users("asker")
    admin = users("admin", groups=("admins",))
    with_profiles(client, alice, bob, asker)
    follow(client, bob, alice)
    share(client, alice, review=True, answer=True)
    item = product(client, shop)
    question = ask(client, asker)
    streams.drain()
    review_id = review(client, alice, item["product_id"])["review_id"]
    answer_id = answer(client, alice, question["question_id"])["answer_id"]
    streams.drain()
    assert sorted(a["type"] for a in feed_activities(client, bob)) == ["answer", "review"]
    # When a moderator removes both
    moderate(client, admin, "review", review_id, "remove")
    moderate(client, admin, "answer", answer_id, "remove")
    streams.drain()
    # Then their activities leave bob's feed and her list, as a deletion's would
    assert feed_activities(client, bob) == []
    assert stored_feed(bob.user_id) == []
    assert call(client, "GET", "/me/activity", alice).data["items"] == []
    # And a restore brings the review back, not its activity (withdrawn activities stay tombstones)
    moderate(client, admin, "review", review_id, "restore")
    streams.drain()
    assert feed_activities(client, bob) == []
