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


def given_answer(answer_id: str, author_id: str, labels=("camera",)) -> None:
    """An Answer item for votes written straight to AnswerVotes (the vote route only votes on an
    answer that stands, and the votes' stream deletes a vote whose answer is gone). Its asker is
    its author, so it notifies nobody; no question holds it."""
    from chalicelib.domain.advice import answer_rank
    from chalicelib.domain.ids import now_iso
    from chalicelib.models.advice import Answer
    from chalicelib.models.base import save_if

    item = Answer(answer_id, question_id="q-" + answer_id, author_id=author_id, asker_id=author_id,
                  labels=list(labels), body="(given)", rank=answer_rank(accepted=False, score=0, answer_id=answer_id),
                  created_at=now_iso())
    save_if(item, Answer.answer_id.does_not_exist())  # False: already there
