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


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "some-id", path)


BAD_LIMITS = ["²", "③", "①", "١٢", "５", "-1", "1e2", " 5"]  # the first five were a 500 or taken as a number


def test_a_limit_of_anything_but_ascii_digits_is_a_400_on_every_list(client, users):
    someone = users()
    routes = _list_routes()
    assert len(routes) >= 10
    for spec in routes:
        for limit in BAD_LIMITS:
            response = call(client, "GET", f"{_concrete(spec.path)}?limit={quote(limit)}", someone)
            assert response.status_code == 400, (spec.path, limit, response.status_code, response.data)
            assert response.data["Message"].startswith("limit: "), (spec.path, response.data)
