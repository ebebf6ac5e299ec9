"""Small helpers for calling the app through Chalice's test client."""

from __future__ import annotations

import json
from typing import Any


def call(client, method: str, path: str, user=None, body: Any = None, raw: bytes | None = None,
         headers: dict | None = None):
    all_headers = dict(user.headers if user is not None else {"Content-Type": "application/json"})
    all_headers.update(headers or {})
    payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
    response = client.http.request(method, path, headers=all_headers, body=payload)
    response.data = json.loads(response.body) if response.body else None
    return response
