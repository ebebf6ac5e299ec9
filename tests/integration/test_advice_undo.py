"""Edits and undo of questions, answers, reviews and products, through the routes and the real streams:
every undo reverses exactly what the undone thing earned (rewards, expert scores, counts)."""

from __future__ import annotations

import pytest

from tests.support.advice import answer, ask, product, review, vote
from tests.support.api import call


def balance(client, user) -> int:
    return call(client, "GET", "/me/points", user).data["balance"]


def expert_scores(user_id: str) -> dict[str, int]:
    from chalicelib.models.points import ExpertScore

    return {score.label: int(score.score) for score in ExpertScore.query(user_id)}


@pytest.fixture
def people(client, users):
    made = {name: users(name) for name in ("asker", "answerer", "voter", "second")}
    made["shop"] = users("shop", groups=("merchants",))
    for user in made.values():
        call(client, "GET", "/me", user)
    return made


@pytest.mark.parametrize("runner", ["streams", "chaos_streams"])
def test_withdrawing_an_acceptance_reverses_both_awards_exactly(client, people, runner, request):
    streams = request.getfixturevalue(runner)
    asker, answerer, voter = people["asker"], people["answerer"], people["voter"]
    question_id = ask(client, asker)["question_id"]
    answer_id = answer(client, answerer, question_id)["answer_id"]
    assert call(client, "POST", f"/questions/{question_id}/accept", asker, {"answer_id": answer_id}).status_code == 200
    streams.drain()
    assert (balance(client, answerer), balance(client, asker)) == (15, 2)
    # Only the asker may withdraw; an unknown question is 404
    assert call(client, "DELETE", f"/questions/{question_id}/accept", voter).status_code == 403
    assert call(client, "DELETE", "/questions/01ARZ3NDEKTSV4RRFFQ69G5FAV/accept", asker).status_code == 404
    withdrawn = call(client, "DELETE", f"/questions/{question_id}/accept", asker)
    assert withdrawn.status_code == 200, withdrawn.data
    assert withdrawn.data["accepted_answer_id"] is None
    assert call(client, "DELETE", f"/questions/{question_id}/accept", asker).status_code == 200  # idempotent
    streams.drain()
    assert (balance(client, answerer), balance(client, asker)) == (0, 0)
    answers = call(client, "GET", f"/questions/{question_id}/answers", asker).data["items"]
    assert [a["accepted"] for a in answers] == [False]
    # Accepting again after the withdrawal awards again
    assert call(client, "POST", f"/questions/{question_id}/accept", asker, {"answer_id": answer_id}).status_code == 200
    streams.drain()
    assert (balance(client, answerer), balance(client, asker)) == (15, 2)


def test_a_question_is_edited_and_deleted_by_its_asker_only(client, people, streams):
    asker, other = people["asker"], people["voter"]
    question = ask(client, asker, labels=("camera",))
    question_id = question["question_id"]
    path = f"/questions/{question_id}"
    assert call(client, "PATCH", path, other, {"title": "Mine"}).status_code == 403
    for body, field in [({"title": ""}, "title"), ({"labels": ["nope"]}, "labels"), ({"extra": 1}, "extra")]:
        response = call(client, "PATCH", path, asker, body)
        assert response.status_code == 400 and field in response.data["Message"], response.data
    edited = call(client, "PATCH", path, asker, {"title": "Which phone?", "labels": ["phone"]})
    assert edited.status_code == 200, edited.data
    assert (edited.data["title"], edited.data["labels"], edited.data["body"]) == (
        "Which phone?", ["phone"], question["body"])
    # The label index follows the new labels
    assert [q["question_id"] for q in call(client, "GET", "/questions?label=phone", asker).data["items"]] == [
        question_id]
    assert call(client, "GET", "/questions?label=camera", asker).data["items"] == []
    # Deleting: the asker only, and it leaves every list
    assert call(client, "DELETE", path, other).status_code == 403
    assert call(client, "DELETE", path, asker).status_code == 204
    assert call(client, "GET", path, asker).status_code == 404
    assert call(client, "GET", "/questions", asker).data["items"] == []
    assert call(client, "POST", f"{path}/answers", other, {"body": "late"}).status_code == 404


def test_a_question_with_answers_cannot_be_deleted(client, people, streams):
    asker, answerer = people["asker"], people["answerer"]
    question_id = ask(client, asker)["question_id"]
    answer(client, answerer, question_id)
    streams.drain()
    response = call(client, "DELETE", f"/questions/{question_id}", asker)
    assert response.status_code == 409 and response.data["Code"] == "HasAnswers", response.data


@pytest.mark.parametrize("runner", ["streams", "chaos_streams"])
def test_deleting_an_answer_reverses_its_vote_points_expert_score_and_count(client, people, runner, request):
    streams = request.getfixturevalue(runner)
    asker, answerer, voter, second = people["asker"], people["answerer"], people["voter"], people["second"]
    question_id = ask(client, asker, labels=("camera",))["question_id"]
    answer_id = answer(client, answerer, question_id)["answer_id"]
    assert vote(client, voter, answer_id, 1).status_code == 200
    assert vote(client, second, answer_id, 1).status_code == 200
    assert vote(client, asker, answer_id, -1).status_code == 200
    streams.drain()
    assert balance(client, answerer) == 18
    assert expert_scores(answerer.user_id).get("camera", 0) > 0
    assert call(client, "GET", f"/questions/{question_id}", asker).data["answer_count"] == 1
    # Editing: the author only
    assert call(client, "PATCH", f"/answers/{answer_id}", voter, {"body": "x"}).status_code == 403
    assert call(client, "PATCH", f"/answers/{answer_id}", answerer, {"body": ""}).status_code == 400
    edited = call(client, "PATCH", f"/answers/{answer_id}", answerer, {"body": "Take the big one"})
    assert edited.status_code == 200 and edited.data["body"] == "Take the big one", edited.data
    # While accepted it cannot be deleted
    call(client, "POST", f"/questions/{question_id}/accept", asker, {"answer_id": answer_id})
    refused = call(client, "DELETE", f"/answers/{answer_id}", answerer)
    assert refused.status_code == 409 and refused.data["Code"] == "AnswerAccepted", refused.data
    call(client, "DELETE", f"/questions/{question_id}/accept", asker)
    assert call(client, "DELETE", f"/answers/{answer_id}", voter).status_code == 403
    assert call(client, "DELETE", f"/answers/{answer_id}", answerer).status_code == 204
    streams.drain()
    # Every point and expert score the answer earned is gone, and so is its count
    assert balance(client, answerer) == 0
    assert expert_scores(answerer.user_id).get("camera", 0) == 0
    assert call(client, "GET", f"/questions/{question_id}", asker).data["answer_count"] == 0
    assert vote(client, voter, answer_id, 1).status_code == 404  # no vote on a deleted answer
    from chalicelib.models.advice import AnswerVote

    assert [vote for key in AnswerVote.keys_of(answer_id) for vote in AnswerVote.query(key)] == []
    # and, without answers, the question can go
    assert call(client, "DELETE", f"/questions/{question_id}", asker).status_code == 204


@pytest.mark.parametrize("runner", ["streams", "chaos_streams"])
def test_a_vote_that_lands_after_its_answer_was_deleted_is_swept_and_pays_nothing(client, people, runner,
                                                                                  request, monkeypatch):
    from chalicelib.models.advice import Answer, AnswerVote
    from chalicelib.services import questions

    streams = request.getfixturevalue(runner)
    asker, answerer, voter = people["asker"], people["answerer"], people["voter"]
    question_id = ask(client, asker, labels=("camera",))["question_id"]
    answer_id = answer(client, answerer, question_id)["answer_id"]
    # Given a voter who read the answer just before its author deleted it and its votes were swept
    original = questions.get_answer

    def read_then_deleted(wanted: str):
        found = original(wanted)
        Answer(answer_id).delete()  # as the author's DELETE does it, its stream effects run at once
        streams.drain()
        return found

    monkeypatch.setattr(questions, "get_answer", read_then_deleted)
    # When the vote (one conditional write, no check of the answer) lands after the sweep
    assert vote(client, voter, answer_id, 1).status_code == 200
    monkeypatch.setattr(questions, "get_answer", original)
    streams.drain()
    # Then the votes' stream finds its answer gone and deletes it: no vote stands, no point or score
    assert [v for key in AnswerVote.keys_of(answer_id) for v in AnswerVote.query(key)] == []
    assert balance(client, answerer) == 0
    assert expert_scores(answerer.user_id).get("camera", 0) == 0


@pytest.mark.parametrize("runner", ["streams", "chaos_streams"])
def test_deleting_a_review_reverses_its_helpful_points_and_the_product_counts(client, people, runner, request):
    streams = request.getfixturevalue(runner)
    shop, reviewer, reader, second = people["shop"], people["answerer"], people["voter"], people["second"]
    product_id = product(client, shop)["product_id"]
    written = call(client, "POST", f"/products/{product_id}/reviews", reviewer,
                   {"rating": 2, "body": "Meh", "image_urls": ["https://img.example.com/a.jpg"]})
    assert written.status_code == 201, written.data
    assert written.data["image_urls"] == ["https://img.example.com/a.jpg"]
    review_id = written.data["review_id"]
    for marker in (reader, second):
        assert call(client, "PUT", f"/reviews/{review_id}/helpful", marker, {"value": True}).status_code == 200
    streams.drain()
    assert balance(client, reviewer) == 10
    # Editing the rating moves the product's average
    assert call(client, "PATCH", f"/reviews/{review_id}", reader, {"rating": 5}).status_code == 403
    edited = call(client, "PATCH", f"/reviews/{review_id}", reviewer, {"rating": 4, "image_urls": []})
    assert edited.status_code == 200, edited.data
    assert (edited.data["rating"], edited.data["image_urls"], edited.data["body"]) == (4, [], "Meh")
    streams.drain()
    read = call(client, "GET", f"/products/{product_id}", reader).data
    assert (read["review_count"], read["rating_avg"]) == (1, 4)
    # Deleting
    assert call(client, "DELETE", f"/reviews/{review_id}", reader).status_code == 403
    assert call(client, "DELETE", f"/reviews/{review_id}", reviewer).status_code == 204
    assert call(client, "DELETE", f"/reviews/{review_id}", reviewer).status_code == 404
    streams.drain()
    assert balance(client, reviewer) == 0
    read = call(client, "GET", f"/products/{product_id}", reader).data
    assert (read["review_count"], read["rating_avg"]) == (0, None)
    assert call(client, "PUT", f"/reviews/{review_id}/helpful", reader, {"value": True}).status_code == 404
    # The author may review the product again
    review(client, reviewer, product_id)


def test_review_images_are_validated_like_posts(client, people):
    shop, reviewer = people["shop"], people["answerer"]
    product_id = product(client, shop)["product_id"]
    for images in (["https://a b\"<script>"], ["http://img.example.com/a.jpg"],
                   [f"https://img.example.com/{n}.jpg" for n in range(10)]):
        response = call(client, "POST", f"/products/{product_id}/reviews", reviewer,
                        {"rating": 3, "body": "ok", "image_urls": images})
        assert response.status_code == 400 and "image_urls" in response.data["Message"], response.data


def test_a_product_is_edited_and_deleted_by_its_store_only(client, people, users, streams):
    shop, shopper = people["shop"], people["voter"]
    other_shop = users("other", groups=("merchants",))
    created = product(client, shop, labels=("camera",))
    product_id = created["product_id"]
    path = f"/products/{product_id}"
    assert call(client, "PATCH", path, other_shop, {"title": "Mine"}).status_code == 403
    for body, field in [({"price_cents": 0}, "price_cents"), ({"currency": "XXQ"}, "currency"),
                        ({"description": "x" * 5001}, "description"), ({"image_url": "ftp://x"}, "image_url")]:
        response = call(client, "PATCH", path, shop, body)
        assert response.status_code == 400 and field in response.data["Message"], response.data
    edited = call(client, "PATCH", path, shop, {"title": "Big camera", "price_cents": 99_00, "currency": "USD",
                                                "description": "Heavy"})
    assert edited.status_code == 200, edited.data
    assert (edited.data["title"], edited.data["price_cents"], edited.data["currency"], edited.data["description"],
            edited.data["labels"]) == ("Big camera", 99_00, "USD", "Heavy", ["camera"])
    assert call(client, "PUT", f"/me/wishlist/{product_id}", shopper).status_code == 200
    streams.drain()
    assert call(client, "DELETE", path, other_shop).status_code == 403
    assert call(client, "DELETE", path, shop).status_code == 204
    streams.drain()
    assert call(client, "GET", path, shopper).status_code == 404
    wishlist = call(client, "GET", f"/users/{shopper.user_id}/wishlist", shopper).data["items"]
    assert [(entry["product_id"], entry["product"]["available"]) for entry in wishlist] == [(product_id, False)]
