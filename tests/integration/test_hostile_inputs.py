"""Hostile query strings and cursors on every list route: a 400 naming the field, never a 500.

The routes come from the app's own declarations, so a list added later is covered at once.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from chalicelib.http import ROUTES
from tests.support.api import call


def _list_routes():
    import app  # noqa: F401  (registers every route)

    return [spec for spec in ROUTES if spec.paginated]


def _path_params(path: str) -> dict[str, str]:
    return {name: "camera" if name == "label" else "some-id" for name in re.findall(r"\{([^}]+)\}", path)}


def _concrete(path: str) -> str:
    return path.format(**_path_params(path))


BAD_LIMITS = ["²", "③", "①", "١٢", "５", "-1", "1e2", " 5"]  # the first five were a 500 or taken as a number


#: A valid value of each list filter, so only the cursor is wrong ("camera" for labels).
VALID_QUERY_VALUES = {"status": "active", "tier": "gold", "unread": "true", "type": "store"}

#: In every group, so group-only lists (a merchant's own campaigns) reach their parsing too.
EVERY_GROUP = ("merchants", "judges", "admins")


def test_a_limit_of_anything_but_ascii_digits_is_a_400_on_every_list(client, users):
    someone = users(groups=EVERY_GROUP)
    routes = _list_routes()
    assert len(routes) >= 10
    for spec in routes:
        for limit in BAD_LIMITS:
            response = call(client, "GET", f"{_concrete(spec.path)}?limit={quote(limit)}", someone)
            assert response.status_code == 400, (spec.path, limit, response.status_code, response.data)
            assert response.data["Message"].startswith("limit: "), (spec.path, response.data)


def _signed(position: dict, spec, caller_id: str, query: dict) -> str:
    """A cursor signed with the stage's own key for exactly this list and caller: only its shape is wrong."""
    from chalicelib.http import _page_scope
    from chalicelib.pagination import encode_cursor

    caller = type("Caller", (), {"user_id": caller_id})
    return encode_cursor(position, _page_scope(spec, _path_params(spec.path), query, caller))


def test_a_signed_cursor_of_the_wrong_shape_is_a_400_on_every_list(client, users):
    someone = users(groups=EVERY_GROUP)
    shapes = [
        {"x": 1},
        {"after": 5},
        {"after": "9" * 3000},
        {"r": someone.user_id, "b": "9" * 3000, "n": 0, "p": []},
        {"r": someone.user_id, "b": "01J", "n": True, "p": []},
        {"r": someone.user_id, "b": "01J", "n": -5, "p": [["x"]]},
        {"r": someone.user_id, "b": 7, "n": 0, "p": []},
        {"user_id": {"S": someone.user_id}, "post_id": {"N": "x"}},
        {"user_id": {"S": "u" * 3000}},
        {"user_id": "plain"},
    ]
    failures = []
    for spec in _list_routes():
        query = {name: VALID_QUERY_VALUES.get(name, "camera") for name in spec.query}
        for shape in shapes:
            cursor = _signed(shape, spec, someone.user_id, query)
            params = "&".join([f"{k}={v}" for k, v in query.items()] + [f"cursor={cursor}"])
            response = call(client, "GET", f"{_concrete(spec.path)}?{params}", someone)
            if response.status_code != 400 or not response.data["Message"].startswith("cursor: "):
                failures.append((spec.path, shape, response.status_code, response.data))
    assert failures == []


def test_image_urls_with_spaces_quotes_or_a_bad_host_are_a_400_naming_the_field(client, users):
    author, shop = users("author"), users("shop", groups=("merchants",))
    for url in ['https://a b"<script>', "https://img.example/a b.jpg", "https://user@img.example/x.jpg",
                "https://img..example/x.jpg"]:
        post = call(client, "POST", "/posts", author, {"text": "look", "image_urls": [url]})
        assert post.status_code == 400, (url, post.data)
        assert post.data["Message"].startswith("image_urls.0: "), post.data
        item = call(client, "POST", "/products", shop,
                    {"title": "Lens", "price_cents": 100, "labels": ["camera"], "image_url": url})
        assert item.status_code == 400, (url, item.data)
        assert item.data["Message"].startswith("image_url: "), item.data
    ok = call(client, "POST", "/posts", author, {"text": "look", "image_urls": ["https://img.example/a%20b.jpg"]})
    assert ok.status_code == 201, ok.data
