import pytest

from chalicelib.domain.ids import id_time_ms, new_id
from chalicelib.errors import BadRequest
from chalicelib.pagination import decode_cursor, encode_cursor, page_request


def test_cursor_round_trips_and_is_bound_to_its_list():
    position = {"user_id": {"S": "u1"}, "post_id": {"S": "01ABC"}}
    cursor = encode_cursor(position, "/feed")
    assert decode_cursor(cursor, "/feed") == position
    with pytest.raises(BadRequest):
        decode_cursor(cursor, "/users/x/posts")


@pytest.mark.parametrize("mutate", [lambda c: c[:-1], lambda c: "A" + c[1:], lambda c: c + "x", lambda c: "!!"])
def test_a_changed_cursor_is_refused(mutate):
    cursor = encode_cursor({"k": 1}, "scope")
    changed = mutate(cursor)
    if changed != cursor:
        with pytest.raises(BadRequest):
            decode_cursor(changed, "scope")


def test_limit_bounds():
    assert page_request({}, "s").limit == 20
    assert page_request({"limit": "100"}, "s").limit == 100
    for bad in ("0", "101", "-1", "abc", "1.5", "", " 5", "5 ", "+5", "1_0"):
        with pytest.raises(BadRequest):
            page_request({"limit": bad}, "s")


@pytest.mark.parametrize("digits", ["²", "³", "①", "١٢", "۵", "５", "𝟓", "1²"])
def test_only_ascii_digits_are_a_limit(digits):
    # Superscripts and circled digits made int() raise (a 500); Arabic-Indic and full-width were taken
    with pytest.raises(BadRequest, match="^limit: "):
        page_request({"limit": digits}, "s")


def test_ids_sort_by_time_and_are_unique():
    earlier, later = new_id(at_ms=1_700_000_000_000), new_id(at_ms=1_700_000_000_001)
    assert earlier < later
    assert id_time_ms(earlier) == 1_700_000_000_000
    assert len({new_id() for _ in range(1000)}) == 1000


def _page(position):
    return page_request({"cursor": encode_cursor(position, "s")}, "s")


def test_a_start_key_must_be_the_key_of_the_queried_table_or_index_in_its_partition():
    from chalicelib.models.graph import Follow
    from chalicelib.models.groups import GroupMember

    by_follower = {"follower_id": {"S": "u1"}, "followee_id": {"S": "u2"}}
    by_user = {"member_key": {"S": "g1#0"}, "user_id": {"S": "u1"}, "group_id": {"S": "g1"}}
    # honest positions pass through unchanged (an index's position holds the table's keys and its own)
    assert _page(by_follower).start_key(Follow, "u1") == by_follower
    assert _page(by_user).start_key(GroupMember.by_user, "u1") == by_user
    assert page_request({}, "s").start_key(Follow, "u1") is None
    # anything else is a 400 naming the cursor
    for position, source, hash_value in [
        (by_follower, Follow, "someone-else"),  # another partition
        (by_user, GroupMember.by_user, "u2"),  # the index's partition is the member's
        (by_follower, GroupMember.by_user, "u1"),  # not a position of this index
        ({**by_follower, "created_at": {"S": "2024"}}, Follow, "u1"),  # extra attributes
        ({"follower_id": {"S": "u1"}}, Follow, "u1"),
        ({"follower_id": {"N": "1"}, "followee_id": {"S": "u2"}}, Follow, "u1"),
        ({"follower_id": "u1", "followee_id": {"S": "u2"}}, Follow, "u1"),
        ({"follower_id": {"S": "u1", "N": "1"}, "followee_id": {"S": "u2"}}, Follow, "u1"),
        ({"follower_id": {"S": "u1"}, "followee_id": {"S": "x" * 1025}}, Follow, "u1"),
        ({"follower_id": {"S": "u1"}, "followee_id": {"S": ""}}, Follow, "u1"),
        ({"follower_id": {"S": "u1"}, "followee_id": {"S": 5}}, Follow, "u1"),
        ({}, Follow, "u1"),
    ]:
        with pytest.raises(BadRequest, match="^cursor: "):
            _page(position).start_key(source, hash_value)


def test_a_signed_cursor_that_is_not_json_is_a_400():
    from chalicelib.pagination import _b64, _signature

    payload = b"\xff not json"
    with pytest.raises(BadRequest, match="^cursor: "):
        decode_cursor(_b64(_signature(payload, "s") + payload), "s")
