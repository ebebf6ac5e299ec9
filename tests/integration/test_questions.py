"""Questions and answers through the routes, with the real stream path for counts and notices."""

from tests.support.advice import answer, ask, notifications, product
from tests.support.api import call


def test_asking_returns_the_question_with_zero_answers(client, users):
    # Given a shopper
    alice = users("alice")
    # When she asks a question
    response = call(client, "POST", "/questions", alice,
                    {"title": "Which camera?", "body": "For travel", "labels": ["camera", "digital"]})
    # Then it is created, and readable with its counters
    assert response.status_code == 201, response.data
    question = response.data
    assert question["asker_id"] == alice.user_id
    assert question["labels"] == ["camera", "digital"]
    assert question["answer_count"] == 0
    assert question["accepted_answer_id"] is None
    read = call(client, "GET", f"/questions/{question['question_id']}", alice)
    assert read.status_code == 200
    assert read.data == question


def test_a_question_can_name_existing_products(client, users):
    merchant, alice = users("shop", groups=("merchants",)), users("alice")
    camera = product(client, merchant)
    question = ask(client, alice, product_ids=[camera["product_id"]])
    assert question["product_ids"] == [camera["product_id"]]


def test_asking_refuses_invalid_input(client, users):
    alice = users()
    good = {"title": "Which?", "body": "Help", "labels": ["camera"]}
    cases = [
        ({**good, "labels": []}, "labels"),
        ({**good, "labels": ["not-a-label"]}, "labels"),
        ({**good, "labels": ["camera", "phone", "digital", "cooking", "seafood", "makeup"]}, "labels"),
        ({**good, "title": ""}, "title"),
        ({**good, "title": "x" * 201}, "title"),
        ({**good, "body": "x" * 10_001}, "body"),
        ({**good, "product_ids": ["no-such-product"]}, "product_ids"),
        ({**good, "extra": True}, "extra"),
        ({"title": "Which?", "labels": ["camera"]}, "body"),
    ]
    for body, field in cases:
        response = call(client, "POST", "/questions", alice, body)
        assert response.status_code == 400, body
        assert field in response.data["Message"], response.data


def test_unknown_question_is_404(client, users):
    alice = users()
    assert call(client, "GET", "/questions/nope", alice).status_code == 404
    assert call(client, "POST", "/questions/nope/answers", alice, {"body": "x"}).status_code == 404
    assert call(client, "GET", "/questions/nope/answers", alice).status_code == 404


def test_questions_are_listed_by_label_newest_first(client, users):
    # Given questions with different labels
    alice = users()
    first = ask(client, alice, labels=["camera"], title="first")
    second = ask(client, alice, labels=["camera", "phone"], title="second")
    third = ask(client, alice, labels=["phone"], title="third")
    # When listing by label, and without one
    cameras = call(client, "GET", "/questions?label=camera", alice).data
    phones = call(client, "GET", "/questions?label=phone", alice).data
    everything = call(client, "GET", "/questions", alice).data
    # Then each list holds its questions, newest first
    assert [q["question_id"] for q in cameras["items"]] == [second["question_id"], first["question_id"]]
    assert [q["question_id"] for q in phones["items"]] == [third["question_id"], second["question_id"]]
    assert [q["title"] for q in everything["items"]] == ["third", "second", "first"]
    assert call(client, "GET", "/questions?label=cooking", alice).data["items"] == []


def test_question_list_pages_with_a_cursor(client, users):
    alice = users()
    titles = [ask(client, alice, title=f"q{i}")["title"] for i in range(5)]
    page1 = call(client, "GET", "/questions?label=camera&limit=2", alice).data
    page2 = call(client, "GET", f"/questions?label=camera&limit=2&cursor={page1['next_cursor']}", alice).data
    page3 = call(client, "GET", f"/questions?label=camera&limit=2&cursor={page2['next_cursor']}", alice).data
    seen = [q["title"] for q in page1["items"] + page2["items"] + page3["items"]]
    assert seen == list(reversed(titles))
    # A cursor of one label's list is refused on another's
    other = call(client, "GET", f"/questions?label=phone&limit=2&cursor={page1['next_cursor']}", alice)
    assert other.status_code == 400


def test_listing_by_an_unknown_label_is_400(client, users):
    alice = users()
    assert call(client, "GET", "/questions?label=unknown-label", alice).status_code == 400


def test_an_answer_copies_the_question_and_counts_through_the_stream(client, users, streams):
    # Given alice's question
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    question = ask(client, alice, labels=["camera", "phone"])
    qid = question["question_id"]
    # When bob and carol answer
    first = answer(client, bob, qid, "Buy the X100")
    answer(client, carol, qid, "Buy a phone")
    assert first["author_id"] == bob.user_id
    assert first["score"] == 0 and first["accepted"] is False
    streams.drain()
    # Then the question counts two answers, and the answer item carries the copied fields
    assert call(client, "GET", f"/questions/{qid}", alice).data["answer_count"] == 2
    from chalicelib.models.advice import Answer

    stored = Answer.get(first["answer_id"])
    assert stored.asker_id == alice.user_id
    assert stored.labels == ["camera", "phone"]


def test_new_answer_notifies_the_asker(client, users, streams):
    alice, bob = users("alice"), users("bob")
    question = ask(client, alice, title="Lens?")
    given = answer(client, bob, question["question_id"])
    streams.drain()
    notes = notifications(client, alice, "new_answer")
    assert len(notes) == 1
    assert notes[0]["data"]["question_id"] == question["question_id"]
    assert notes[0]["data"]["answer_id"] == given["answer_id"]
    assert notes[0]["data"]["author_id"] == bob.user_id
    assert notes[0]["data"]["question_title"] == "Lens?"
    assert notifications(client, bob) == []


def test_answering_your_own_question_notifies_nobody(client, users, streams):
    alice = users()
    question = ask(client, alice)
    answer(client, alice, question["question_id"])
    streams.drain()
    assert notifications(client, alice) == []
    assert call(client, "GET", f"/questions/{question['question_id']}", alice).data["answer_count"] == 1


def test_answer_refuses_invalid_input(client, users):
    alice = users()
    qid = ask(client, alice)["question_id"]
    for body in ({}, {"body": ""}, {"body": "x" * 10_001}, {"body": "ok", "extra": 1}, {"body": 7}):
        assert call(client, "POST", f"/questions/{qid}/answers", alice, body).status_code == 400, body


def test_accepting_an_answer_orders_it_first_and_notifies_its_author(client, users, streams):
    # Given a question with two answers
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    qid = ask(client, alice)["question_id"]
    older = answer(client, bob, qid, "older")
    newer = answer(client, carol, qid, "newer")
    # When alice accepts the newer one
    accepted = call(client, "POST", f"/questions/{qid}/accept", alice, {"answer_id": newer["answer_id"]})
    assert accepted.status_code == 200, accepted.data
    assert accepted.data == {"question_id": qid, "accepted_answer_id": newer["answer_id"]}
    streams.drain()
    # Then the question names it, it is listed first, and carol is told
    assert call(client, "GET", f"/questions/{qid}", alice).data["accepted_answer_id"] == newer["answer_id"]
    listed = call(client, "GET", f"/questions/{qid}/answers", alice).data["items"]
    assert [(a["answer_id"], a["accepted"]) for a in listed] == [
        (newer["answer_id"], True), (older["answer_id"], False)]
    notes = notifications(client, carol, "answer_accepted")
    assert len(notes) == 1 and notes[0]["data"]["answer_id"] == newer["answer_id"]
    assert notes[0]["data"]["question_id"] == qid
    assert notifications(client, bob, "answer_accepted") == []


def test_accepting_another_answer_moves_the_acceptance(client, users, streams):
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    qid = ask(client, alice)["question_id"]
    first = answer(client, bob, qid, "first")
    second = answer(client, carol, qid, "second")
    call(client, "POST", f"/questions/{qid}/accept", alice, {"answer_id": first["answer_id"]})
    # When alice changes her mind
    moved = call(client, "POST", f"/questions/{qid}/accept", alice, {"answer_id": second["answer_id"]})
    assert moved.status_code == 200
    streams.drain()
    # Then only the second is accepted, and it leads the list
    assert call(client, "GET", f"/questions/{qid}", alice).data["accepted_answer_id"] == second["answer_id"]
    listed = call(client, "GET", f"/questions/{qid}/answers", alice).data["items"]
    assert [(a["answer_id"], a["accepted"]) for a in listed] == [
        (second["answer_id"], True), (first["answer_id"], False)]
    # Both authors were told once each; accepting the same answer again changes nothing
    again = call(client, "POST", f"/questions/{qid}/accept", alice, {"answer_id": second["answer_id"]})
    assert again.status_code == 200
    streams.drain()
    assert len(notifications(client, bob, "answer_accepted")) == 1
    assert len(notifications(client, carol, "answer_accepted")) == 1


def test_only_the_asker_may_accept(client, users):
    alice, bob = users("alice"), users("bob")
    qid = ask(client, alice)["question_id"]
    given = answer(client, bob, qid)
    response = call(client, "POST", f"/questions/{qid}/accept", bob, {"answer_id": given["answer_id"]})
    assert response.status_code == 403
    assert call(client, "GET", f"/questions/{qid}", alice).data["accepted_answer_id"] is None


def test_accepting_refuses_unknown_and_foreign_answers(client, users):
    alice, bob = users("alice"), users("bob")
    qid = ask(client, alice)["question_id"]
    other_qid = ask(client, alice, title="another")["question_id"]
    foreign = answer(client, bob, other_qid)
    assert call(client, "POST", f"/questions/{qid}/accept", alice, {"answer_id": "nope"}).status_code == 404
    assert call(client, "POST", "/questions/nope/accept", alice, {"answer_id": foreign["answer_id"]}).status_code == 404
    response = call(client, "POST", f"/questions/{qid}/accept", alice, {"answer_id": foreign["answer_id"]})
    assert response.status_code == 400
    assert "answer_id" in response.data["Message"]
    assert call(client, "POST", f"/questions/{qid}/accept", alice, {}).status_code == 400


def test_answers_are_ordered_accepted_then_score_then_oldest(client, users, streams):
    # Given four answers: one will be accepted, two tie on score, one is downvoted
    alice, a, b, c, d = (users(n) for n in ("alice", "a", "b", "c", "d"))
    voters = [users(f"v{i}") for i in range(3)]
    qid = ask(client, alice)["question_id"]
    low = answer(client, a, qid, "low")
    tie_old = answer(client, b, qid, "tie-old")
    tie_new = answer(client, c, qid, "tie-new")
    accepted = answer(client, d, qid, "accepted")
    for voter in voters:
        call(client, "PUT", f"/answers/{low['answer_id']}/vote", voter, {"value": -1})
    for target in (tie_old, tie_new):
        for voter in voters[:2]:
            call(client, "PUT", f"/answers/{target['answer_id']}/vote", voter, {"value": 1})
    call(client, "POST", f"/questions/{qid}/accept", alice, {"answer_id": accepted["answer_id"]})
    streams.drain()
    # Then the order is accepted, the tie oldest first, then the negative score
    listed = call(client, "GET", f"/questions/{qid}/answers", alice).data["items"]
    assert [x["body"] for x in listed] == ["accepted", "tie-old", "tie-new", "low"]
    assert [x["score"] for x in listed] == [0, 2, 2, -3]
    assert listed[3]["downvotes"] == 3 and listed[1]["upvotes"] == 2
    # And each voter sees their own vote
    mine = call(client, "GET", f"/questions/{qid}/answers", voters[0]).data["items"]
    assert [x["my_vote"] for x in mine] == [0, 1, 1, -1]


def test_replayed_answer_records_count_and_notify_once(client, users, chaos_streams):
    # Given three answers (one by the asker) and an acceptance, delivered in random splits, twice
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    qid = ask(client, alice)["question_id"]
    answer(client, bob, qid)
    chosen = answer(client, carol, qid)
    answer(client, alice, qid)
    call(client, "POST", f"/questions/{qid}/accept", alice, {"answer_id": chosen["answer_id"]})
    chaos_streams.drain()
    # Then the count and the notices are what one delivery gives
    assert call(client, "GET", f"/questions/{qid}", alice).data["answer_count"] == 3
    assert len(notifications(client, alice, "new_answer")) == 2
    assert len(notifications(client, carol, "answer_accepted")) == 1


def test_the_answers_stream_keeps_flowing_after_replays_and_failed_transactions(client, users, chaos_streams):
    # Given an answer whose vote tally is replayed (the replay's transaction fails on its marker)
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    qid = ask(client, alice)["question_id"]
    first = answer(client, bob, qid)
    call(client, "PUT", f"/answers/{first['answer_id']}/vote", carol, {"value": 1})
    chaos_streams.drain()
    # When another answer arrives later
    answer(client, carol, qid)
    chaos_streams.drain()
    # Then it is still counted and announced
    assert call(client, "GET", f"/questions/{qid}", alice).data["answer_count"] == 2
    assert len(notifications(client, alice, "new_answer")) == 2


def test_a_label_list_spread_over_its_shards_pages_through_every_question_once(client, users):
    # Given eleven camera questions (spread over the list's shards) and one about phones
    from chalicelib.domain.advice import QUESTION_INDEX_SHARDS
    from chalicelib.domain.sharded_lists import shard_of

    alice = users()
    asked = [ask(client, alice, labels=["camera"], title=f"q{i}")["question_id"] for i in range(11)]
    ask(client, alice, labels=["phone"], title="phone")
    assert len({shard_of(qid, QUESTION_INDEX_SHARDS) for qid in asked}) > 1
    # When a client pages through the camera list three at a time
    seen, cursor, pages = [], None, 0
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        response = call(client, "GET", f"/questions?label=camera&limit=3{suffix}", alice)
        assert response.status_code == 200, response.data
        seen += [q["question_id"] for q in response.data["items"]]
        pages += 1
        cursor = response.data["next_cursor"]
        if cursor is None:
            break
    # Then every question comes exactly once, newest first, in full pages
    assert seen == list(reversed(asked))
    assert pages == 4


def test_a_signed_cursor_of_the_wrong_shape_is_a_400(client, users):
    # Given a cursor this service signed, but whose position is not one of the sharded list's
    from chalicelib.pagination import encode_cursor

    alice = users()
    for i in range(3):
        ask(client, alice, labels=["camera"], title=f"q{i}")
    scope = f"/questions|caller={alice.user_id}|label=camera"
    positions = [
        {"label_key": {"S": "question#camera"}, "item_id": {"S": "x"}},  # an unsharded key
        {"shards": [None, None]},
        {"shards": [{"label_key": {"S": "question#phone#0"}, "item_id": {"S": "x"}}, None, None, None]},
        {"shards": [{"label_key": {"S": "question#camera#0"}, "item_id": {"N": "1e999"}}, None, None, None]},
    ]
    for position in positions:
        # When it is used, Then the answer is a 400, not a 500
        response = call(client, "GET", f"/questions?label=camera&limit=1&cursor={encode_cursor(position, scope)}",
                        alice)
        assert response.status_code == 400, (position, response.data)
        assert "cursor" in response.data["Message"]
    # (the scope is right: a real cursor's position, signed again, is accepted)
    first = call(client, "GET", "/questions?label=camera&limit=1", alice).data
    from chalicelib.pagination import decode_cursor

    position = decode_cursor(first["next_cursor"], scope)
    again = call(client, "GET", f"/questions?label=camera&limit=1&cursor={encode_cursor(position, scope)}", alice)
    assert again.status_code == 200 and len(again.data["items"]) == 1
