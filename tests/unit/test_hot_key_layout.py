"""Where a hot account's follows, a hot circle's members and a hot answer's votes live: spread over
shards by a hash of the writer, one item per writer (no AWS: the keys are computed in Python)."""

from __future__ import annotations

from chalicelib.models.advice import VOTE_SHARDS, AnswerVote
from chalicelib.models.graph import FOLLOWER_SHARDS, Follow, followers_key, followers_keys
from chalicelib.models.groups import MEMBER_SHARDS, GroupMember

WRITERS = [f"user-{n}" for n in range(200)]


def test_a_follow_names_its_followers_shard_from_its_two_ids_and_a_read_item_keeps_what_was_stored():
    follow = Follow("fan", "star", created_at="2026-11-30T00:00:00.000Z")
    assert follow.followee_shard == followers_key("star", "fan") in followers_keys("star")
    assert Follow("fan", "star").followee_shard == follow.followee_shard  # stable: the same follow, the same shard
    stored = Follow.from_raw_data({"follower_id": {"S": "fan"}, "followee_id": {"S": "star"},
                                   "followee_shard": {"S": "star#9"}, "created_at": {"S": "x"}})
    assert stored.followee_shard == "star#9"


def test_one_accounts_followers_one_circles_members_one_answers_votes_spread_over_every_shard():
    assert {followers_key("star", fan) for fan in WRITERS} == set(followers_keys("star"))
    assert len(followers_keys("star")) == FOLLOWER_SHARDS == 4
    assert {GroupMember.key("g1", user)[0] for user in WRITERS} == set(GroupMember.keys_of("g1"))
    assert len(GroupMember.keys_of("g1")) == MEMBER_SHARDS == 4
    assert {AnswerVote.key("a1", voter)[0] for voter in WRITERS} == set(AnswerVote.keys_of("a1"))
    assert len(AnswerVote.keys_of("a1")) == VOTE_SHARDS == 4


def test_each_writer_has_one_item_whose_key_a_reader_can_name():
    # the same writer always lands on the same key: a conditional put on it is "once per user"
    for user in WRITERS[:20]:
        assert GroupMember.key("g1", user) == GroupMember.key("g1", user) == (GroupMember.of("g1", user).member_key,
                                                                              user)
        assert AnswerVote.key("a1", user) == (AnswerVote.of("a1", user).vote_key, user)
    member = GroupMember.of("g1", "alice", joined_at="now")
    assert (member.group_id, member.user_id) == ("g1", "alice")
    vote = AnswerVote.of("a1", "bob", value=1)
    assert (vote.answer_id, vote.voter_id) == ("a1", "bob")
