"""What each stream effect decides from a change, from plain `Change` values: no AWS, no moto.

The integration tests prove the wiring (the effect writes what it decided, once, under replay);
these pin the decisions: which counter moves, whether a notice is due, which step runs.
"""

from __future__ import annotations

import pytest

from chalicelib.domain.changes import Change, inserted, modified, removed
from chalicelib.services import advice_effects, fanout, good_finds, graph_effects, groups, polls, ratings
from chalicelib.streams.events import apply_effects

FOLLOW = {"follower_id": "fan", "followee_id": "star", "created_at": "2024-05-01T00:00:00.000Z"}


# -- the change itself ------------------------------------------------------------------------------
def test_a_change_names_its_item_and_what_it_does_to_a_count():
    assert inserted("Follows", FOLLOW).count_delta == 1
    assert removed("Follows", FOLLOW).count_delta == -1
    assert modified("Follows", FOLLOW, {**FOLLOW, "created_at": "x"}).count_delta == 0
    # a removed item is seen as it was
    assert removed("Follows", FOLLOW).item == FOLLOW


def test_a_write_that_changed_nothing_is_a_noop_and_effect_ids_are_stable_per_record():
    assert modified("Posts", {"a": 1}, {"a": 1}).is_noop
    assert not modified("Posts", {"a": 1}, {"a": 2}).is_noop
    first = inserted("Follows", FOLLOW, sequence_number="42")
    again = inserted("Follows", FOLLOW, sequence_number="42")
    assert first.effect_id("follow-count") == again.effect_id("follow-count") == "follow-count:Follows:42"


# -- the dispatch loop ------------------------------------------------------------------------------
def test_the_dispatch_loop_runs_every_effect_in_order_and_names_the_one_that_failed():
    seen: list[str] = []

    def first(change: Change) -> None:
        seen.append("first")

    def broken(change: Change) -> None:
        seen.append("broken")
        raise ValueError("boom")

    def never(change: Change) -> None:
        seen.append("never")

    apply_effects((first, first), inserted("Follows", FOLLOW))
    assert seen == ["first", "first"]
    seen.clear()
    with pytest.raises(ValueError) as failure:
        apply_effects((first, broken, never), inserted("Follows", FOLLOW))
    # the record fails as a whole (it is redelivered to all its effects), after the failing one
    assert seen == ["first", "broken"]
    assert any("broken" in note for note in failure.value.__notes__)


# -- Follows ----------------------------------------------------------------------------------------
def test_a_follow_moves_both_counters_up_and_an_unfollow_both_down():
    assert graph_effects.follow_count_moves(inserted("Follows", FOLLOW)) == [
        ("fan", "following_count", 1), ("star", "follower_count", 1)]
    assert graph_effects.follow_count_moves(removed("Follows", FOLLOW)) == [
        ("fan", "following_count", -1), ("star", "follower_count", -1)]
    assert graph_effects.follow_count_moves(modified("Follows", FOLLOW, {**FOLLOW, "created_at": "y"})) == []


def test_only_a_new_follow_tells_the_followee():
    assert graph_effects.new_follower_notice(inserted("Follows", FOLLOW)) == ("star", {"follower_id": "fan"})
    assert graph_effects.new_follower_notice(removed("Follows", FOLLOW)) is None


def test_a_block_ends_follows_both_ways_and_an_unblock_restores_nothing():
    block = {"blocker_id": "me", "blocked_id": "troll"}
    assert graph_effects.follows_ended_by(inserted("Blocks", block)) == [("me", "troll"), ("troll", "me")]
    assert graph_effects.follows_ended_by(removed("Blocks", block)) == []


# -- Posts and fan-out jobs -------------------------------------------------------------------------
POST = {"post_id": "P1", "author_id": "a", "home_author_id": "a", "created_at": "2024-05-01T00:00:00.000Z"}


def test_only_a_new_home_post_is_fanned_out():
    assert fanout.post_to_fan_out(inserted("Posts", POST)) == POST
    circle_post = {**POST, "home_author_id": None, "group_id": "g1"}
    assert fanout.post_to_fan_out(inserted("Posts", circle_post)) is None
    # a poll vote rewrites the post: no new fan-out
    assert fanout.post_to_fan_out(modified("Posts", POST, {**POST, "text": "x"})) is None
    assert fanout.post_to_fan_out(removed("Posts", POST)) is None


def test_a_deleted_post_takes_its_poll_votes_only_if_it_had_a_poll():
    with_poll = {**POST, "poll": {"options": [], "closes_at": "2024-05-02T00:00:00.000Z"}}
    assert polls.poll_to_delete(removed("Posts", with_poll)) == "P1"
    assert polls.poll_to_delete(removed("Posts", POST)) is None
    assert polls.poll_to_delete(inserted("Posts", with_poll)) is None


def test_a_recorded_step_asks_for_the_next_and_a_finished_job_for_nothing():
    job = {"job_id": "P1", "steps": 2, "done": False}
    assert fanout.step_due(inserted("FanoutJobs", {**job, "steps": 0})) == ("P1", 0)
    assert fanout.step_due(modified("FanoutJobs", {**job, "steps": 1}, job)) == ("P1", 2)
    assert fanout.step_due(modified("FanoutJobs", job, {**job, "steps": 3, "done": True})) is None
    assert fanout.step_due(removed("FanoutJobs", job)) is None


# -- Circles ----------------------------------------------------------------------------------------
def test_a_member_joining_or_leaving_moves_the_count_but_the_owner_was_counted_at_creation():
    member = {"group_id": "g1", "user_id": "u1", "role": "member"}
    owner = {"group_id": "g1", "user_id": "o1", "role": "owner"}
    assert groups.member_count_delta(inserted("GroupMembers", member)) == 1
    assert groups.member_count_delta(removed("GroupMembers", member)) == -1
    assert groups.member_count_delta(inserted("GroupMembers", owner)) == 0
    assert groups.member_count_delta(modified("GroupMembers", member, {**member, "joined_at": "x"})) == 0


# -- Answers ----------------------------------------------------------------------------------------
ANSWER = {"answer_id": "A1", "question_id": "Q1", "question_title": "Which kettle?", "author_id": "helper",
          "asker_id": "asker", "accepted": False}


def test_a_new_answer_tells_the_asker_unless_they_answered_themselves():
    assert advice_effects.new_answer_notice(inserted("Answers", ANSWER)) == (
        "asker", {"question_id": "Q1", "answer_id": "A1", "question_title": "Which kettle?", "author_id": "helper"})
    assert advice_effects.new_answer_notice(inserted("Answers", {**ANSWER, "author_id": "asker"})) is None
    assert advice_effects.new_answer_notice(modified("Answers", ANSWER, {**ANSWER, "score": 1})) is None


def test_an_acceptance_tells_the_answerer_once_when_it_happens():
    accepted = {**ANSWER, "accepted": True}
    assert advice_effects.acceptance_notice(modified("Answers", ANSWER, accepted)) == (
        "helper", {"question_id": "Q1", "answer_id": "A1", "question_title": "Which kettle?", "asker_id": "asker"})
    # still accepted (a score moved): no second notice; taken back: none either
    assert advice_effects.acceptance_notice(modified("Answers", accepted, {**accepted, "score": 3})) is None
    assert advice_effects.acceptance_notice(modified("Answers", accepted, ANSWER)) is None
    assert advice_effects.acceptance_notice(removed("Answers", accepted)) is None
    # accepting one's own answer tells nobody
    own = {**ANSWER, "author_id": "asker"}
    assert advice_effects.acceptance_notice(modified("Answers", own, {**own, "accepted": True})) is None


# -- Merchants --------------------------------------------------------------------------------------
STORE = {"merchant_id": "m1", "tier": "silver", "badge": "S", "judge_count": 3}


def test_a_store_hears_when_its_tier_moves_and_only_then():
    gold = {**STORE, "tier": "gold", "badge": "G"}
    assert ratings.tier_notice(modified("Merchants", STORE, gold)) == (
        "m1", {"merchant_id": "m1", "tier": "gold", "badge": "G", "previous_tier": "silver", "judge_count": 3})
    assert ratings.tier_notice(modified("Merchants", STORE, {**STORE, "judge_count": 4})) is None
    assert ratings.tier_notice(inserted("Merchants", STORE)) is None


def test_a_stores_good_finds_move_when_its_tier_moves_or_it_is_gone():
    keys = {"merchant_id": "m1"}
    assert good_finds.store_to_reindex(modified("Merchants", STORE, {**STORE, "tier": None}, keys=keys)) == "m1"
    assert good_finds.store_to_reindex(removed("Merchants", STORE, keys=keys)) == "m1"
    assert good_finds.store_to_reindex(modified("Merchants", STORE, {**STORE, "badge": "x"}, keys=keys)) is None


# -- the handlers -----------------------------------------------------------------------------------
def test_every_table_stream_has_one_handler_and_it_lists_named_use_cases():
    from chalice.app import EventSourceHandler

    import app
    from chalicelib.streams import activity as activity_streams
    from chalicelib.streams import advice, graph, merchants
    from chalicelib.streams import coupons as coupon_streams
    from chalicelib.streams import feed as feed_streams
    from chalicelib.streams import groups as group_streams
    from chalicelib.streams import jobs as job_streams
    from chalicelib.streams import live as live_streams
    from chalicelib.streams import moderation as moderation_streams
    from chalicelib.streams import notifications as notification_streams
    from chalicelib.streams import polls as poll_streams
    from chalicelib.streams import search as search_streams
    from chalicelib.streams import social as social_streams

    modules = (advice, feed_streams, graph, group_streams, merchants, job_streams, coupon_streams,
               notification_streams, poll_streams, social_streams, moderation_streams, activity_streams,
               search_streams, live_streams)
    handlers = {name: handler for module in modules
                for name, handler in vars(module).items() if isinstance(handler, EventSourceHandler)}
    # the Lambda names the README and the deployed functions know
    assert set(handlers) == {"update_follow_graph", "enforce_blocks", "fan_out_posts", "continue_fan_out",
                             "count_group_members", "track_answers", "tally_answer_votes", "tally_helpful_marks",
                             "rank_merchants", "propagate_merchant_tiers", "index_products", "continue_jobs",
                             "tally_coupon_stock", "track_reviews", "count_unread_notifications",
                             "tally_poll_votes", "count_likes", "track_comments",
                             "count_reports", "notify_moderated_users", "share_wishlist_adds",
                             "share_coupon_redeems", "track_activities",
                             "index_users", "index_questions", "index_circles",
                             "broadcast_live_rooms", "count_live_activity", "broadcast_live_chat"}
    streams = [source.stream_arn for source in app.app.event_sources if hasattr(source, "stream_arn")]
    assert len(streams) == len(set(streams)) == len(handlers)
    for name, handler in handlers.items():
        effects = handler.func.effects
        assert effects, name
        for effect in effects:
            assert effect.__module__.startswith("chalicelib.services."), (name, effect)
            assert getattr(__import__(effect.__module__, fromlist=["x"]), effect.__name__) is effect


# -- Notifications ----------------------------------------------------------------------------------
NOTICE = {"user_id": "bob", "notification_id": "01J0000000AAAAAAAAAAAAAAAA", "type": "new_follower",
          "created_at": "2024-05-01T00:00:00.000Z", "data": {"follower_id": "fan"}}


def test_a_new_notice_may_add_one_unread_and_marking_or_expiring_it_unread_takes_one_away():
    from chalicelib.services.notifications import unread_move

    key = ("bob", NOTICE["notification_id"])
    assert unread_move(inserted("Notifications", NOTICE)) == (*key, 1)
    assert unread_move(modified("Notifications", NOTICE, {**NOTICE, "read": True})) == (*key, -1)
    assert unread_move(removed("Notifications", NOTICE)) == (*key, -1)
    # a notice already read changes nothing when it expires, nor does a grouped notice growing
    assert unread_move(removed("Notifications", {**NOTICE, "read": True})) is None
    assert unread_move(modified("Notifications", NOTICE, {**NOTICE, "count": 2})) is None
    # the read state beside the notices is not a notice
    state = {"user_id": "bob", "notification_id": "!state", "unread": 1, "version": 1}
    assert unread_move(inserted("Notifications", state)) is None


# -- Likes and comments -----------------------------------------------------------------------------
LIKE = {"like_key": "P1#3", "user_id": "bob", "post_id": "P1", "created_at": "2024-05-01T00:00:00.000Z"}
COMMENT = {"post_id": "P1", "comment_id": "C1", "author_id": "bob", "post_author_id": "alice", "text": "hi " * 50,
           "created_at": "2024-05-01T00:00:00.000Z"}


def test_a_like_counts_one_its_removal_takes_one_and_a_modify_moves_nothing():
    from chalicelib.services import social

    [(target, effect_id, delta)] = social.like_moves(inserted("Likes", LIKE, sequence_number="7"))
    assert (target.post_id, target.attribute_name, delta) == ("P1", "like_count", 1)
    assert effect_id == "count_likes:Likes:7"
    assert [move[2] for move in social.like_moves(removed("Likes", LIKE))] == [-1]
    assert list(social.like_moves(modified("Likes", LIKE, LIKE))) == []


def test_a_comment_notifies_the_posts_author_with_an_excerpt_but_not_on_their_own_post():
    from chalicelib.services import social

    recipient, data = social.comment_notice(inserted("Comments", COMMENT))
    assert recipient == "alice"
    assert data["author_id"] == "bob" and data["comment_id"] == "C1" and len(data["excerpt"]) == 80
    assert social.comment_notice(inserted("Comments", {**COMMENT, "author_id": "alice"})) is None
    assert social.comment_notice(removed("Comments", COMMENT)) is None
    assert [move[2] for move in social.comment_moves(removed("Comments", COMMENT))] == [-1]


# -- Search and the circle directory ----------------------------------------------------------------
def test_search_entries_follow_the_name_and_removed_at_and_other_changes_write_nothing():
    from chalicelib.services import search

    store = search.SOURCES["store"]
    image = {"merchant_id": "M1", "store_name": "Lens Corner", "tier": "gold"}
    wanted = search.wanted_entries(store, "M1", image)
    assert set(wanted) == {"store#le#0", "store#len#0", "store#lens#0", "store#co#0", "store#cor#0",
                           "store#corn#0", "store#corne#0", "store#corner#0"}
    assert all(entry == {"words": ["lens", "corner"]} for entry in wanted.values())
    # removed by moderation, gone, or nameless: no entries (a suspension changes nothing)
    assert search.wanted_entries(store, "M1", {**image, "removed_at": "2026-11-30T00:00:00Z"}) == {}
    assert search.wanted_entries(store, "M1", None) == {}
    assert search.wanted_entries(store, "M1", {"merchant_id": "M1"}) == {}
    assert search.wanted_entries(search.SOURCES["user"], "U1", {"display_name": "Al Wu", "suspended_at": "x"})
    # a question's entries keep its asker and products' stores; a product's its store
    question = search.wanted_entries(search.SOURCES["question"], "Q1", {
        "title": "Which lens", "asker_id": "U1", "product_merchants": {"P1": "M1"}})
    assert next(iter(question.values())) == {"words": ["which", "lens"], "asker_id": "U1",
                                             "product_merchants": {"P1": "M1"}}
    # a tier change touches neither the name nor removed_at: no read, no write
    assert search.reindex(store, modified("Merchants", image, {**image, "tier": "silver"})) == (0, 0)


def test_the_circle_directory_effect_writes_nothing_when_the_image_already_agrees():
    from chalicelib.domain.circles import directory_key
    from chalicelib.services import circle_directory

    listed = {"group_id": "G1", "name": "x", "directory_key": directory_key("G1")}
    # these would raise without moto if they read or wrote anything
    assert circle_directory.list_circle(modified("Groups", listed, {**listed, "member_count": 3})) is None
    assert circle_directory.list_circle(removed("Groups", listed)) is None
    hidden = {"group_id": "G1", "name": "x", "removed_at": "2026-11-30T00:00:00Z"}
    assert circle_directory.list_circle(modified("Groups", hidden, {**hidden, "member_count": 3})) is None


def test_a_nameless_item_has_nothing_to_index_and_is_not_read():
    from chalicelib.services import search

    assert search.reindex(search.SOURCES["store"], inserted("Merchants", {"merchant_id": "M1"})) == (0, 0)


def test_a_placeholder_name_is_not_indexed_but_a_chosen_one_is():
    from chalicelib.domain.names import default_display_name
    from chalicelib.services import search

    user = search.SOURCES["user"]
    assert search.wanted_entries(user, "abcdef123456", {"display_name": default_display_name("abcdef123456")}) == {}
    assert search.wanted_entries(user, "abcdef123456", {"display_name": "Shopper Joe"})


def test_the_callers_labels_are_their_profile_labels_then_their_expert_labels():
    from types import SimpleNamespace

    from chalicelib.services.suggestions import caller_labels

    profile = SimpleNamespace(labels=["camera"], expert_levels={"lolita#1", "phone#2", "camera#3"})
    assert caller_labels(profile) == ["camera", "phone"]
    assert caller_labels(SimpleNamespace(labels=[], expert_levels={"lolita#1"})) == ["lolita"]
    assert caller_labels(SimpleNamespace(labels=[], expert_levels=None)) == []
    assert caller_labels(None) == []
