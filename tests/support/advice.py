"""Factories for purchase-advice scenarios: questions, answers, products, reviews, via the routes."""

from __future__ import annotations

from tests.support.api import call


def ask(client, user, labels=("camera",), title="Which camera for travel?", body="Light, under 500", **extra):
    response = call(client, "POST", "/questions", user, {"title": title, "body": body, "labels": list(labels), **extra})
    assert response.status_code == 201, response.data
    return response.data


def answer(client, user, question_id: str, body: str = "Take the small one"):
    response = call(client, "POST", f"/questions/{question_id}/answers", user, {"body": body})
    assert response.status_code == 201, response.data
    return response.data


def vote(client, user, answer_id: str, value: int):
    return call(client, "PUT", f"/answers/{answer_id}/vote", user, {"value": value})


def product(client, merchant, title="Pocket camera", price_cents=45_900, labels=("camera",), **extra):
    body = {"title": title, "price_cents": price_cents, "labels": list(labels), **extra}
    response = call(client, "POST", "/products", merchant, body)
    assert response.status_code == 201, response.data
    return response.data


def review(client, user, product_id: str, rating: int = 4, body: str = "Sharp and small"):
    response = call(client, "POST", f"/products/{product_id}/reviews", user, {"rating": rating, "body": body})
    assert response.status_code == 201, response.data
    return response.data


def notifications(client, user, kind: str | None = None) -> list[dict]:
    items = call(client, "GET", "/me/notifications", user).data["items"]
    return [n for n in items if kind is None or n["type"] == kind]
