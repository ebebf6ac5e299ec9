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
