"""Purchase advice on the real local stack: racing votes, racing acceptances and reviews, notices."""

from concurrent.futures import ThreadPoolExecutor


def _race(calls, threads: int = 8):
    """Run the callables on `threads` threads at once (the local API's listen backlog is small) and
    return their results in order."""
    with ThreadPoolExecutor(max_workers=min(threads, len(calls))) as pool:
        return list(pool.map(lambda fn: fn(), calls))


def _ask_and_answer(stack, asker, answerer):
    question = stack.call("POST", "/questions", asker, {"title": "Which phone?", "body": "Budget", "labels": ["phone"]})
    assert question.status_code == 201, question.text
    qid = question.json()["question_id"]
    answer = stack.call("POST", f"/questions/{qid}/answers", answerer, {"body": "The cheap one"})
    assert answer.status_code == 201, answer.text
    return qid, answer.json()["answer_id"]


def _answer_of(stack, user, qid, answer_id):
    items = stack.call("GET", f"/questions/{qid}/answers", user).json()["items"]
    return next(a for a in items if a["answer_id"] == answer_id)


def test_concurrent_votes_from_many_users_and_one_fickle_user_count_exactly(stack):
    # Given an answer, twelve voters and one user who keeps changing their mind
    asker, author, fickle = stack.sign_up("asker"), stack.sign_up("author"), stack.sign_up("fickle")
    qid, answer_id = _ask_and_answer(stack, asker, author)
    voters = [stack.sign_up(f"voter{i}") for i in range(12)]
    values = [1 if i % 3 else -1 for i in range(12)]  # 8 up, 4 down
    # When all of them vote at once, the fickle user many times over on threads of their own
    calls = [lambda v=v, value=value: stack.call("PUT", f"/answers/{answer_id}/vote", v, {"value": value})
             for v, value in zip(voters, values, strict=True)]
    calls += [lambda value=value: stack.call("PUT", f"/answers/{answer_id}/vote", fickle, {"value": value})
              for value in (1, -1, 0, 1, -1, 1, 1, 0, -1, 1)]
    responses = _race(calls)
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200]
    # Then, once the stream has delivered, the score is exactly the sum of the votes that stand
    final_fickle = _answer_of(stack, fickle, qid, answer_id)["my_vote"]
    expected = (sum(values) + final_fickle, 8 + (final_fickle == 1), 4 + (final_fickle == -1))

    def tallied():
        seen = _answer_of(stack, asker, qid, answer_id)
        return (seen["score"], seen["upvotes"], seen["downvotes"]) == expected

    stack.eventually(tallied, timeout=15)


def test_concurrent_acceptances_leave_exactly_one_accepted_answer(stack):
    asker = stack.sign_up("asker")
    answerers = [stack.sign_up(f"answerer{i}") for i in range(4)]
    qid, first = _ask_and_answer(stack, asker, answerers[0])
    answer_ids = [first] + [
        stack.call("POST", f"/questions/{qid}/answers", a, {"body": f"answer {i}"}).json()["answer_id"]
        for i, a in enumerate(answerers[1:])
    ]
    # When the asker accepts each of them at once
    responses = _race([lambda a=a: stack.call("POST", f"/questions/{qid}/accept", asker, {"answer_id": a})
                       for a in answer_ids])
    assert {r.status_code for r in responses} <= {200, 409}
    # Then the question names one of them, and exactly that one is accepted
    chosen = stack.call("GET", f"/questions/{qid}", asker).json()["accepted_answer_id"]
    assert chosen in answer_ids
    listed = stack.call("GET", f"/questions/{qid}/answers", asker).json()["items"]
    assert [a["answer_id"] for a in listed if a["accepted"]] == [chosen]
    assert listed[0]["answer_id"] == chosen


def test_concurrent_reviews_by_one_user_store_one(stack):
    merchant, shopper = stack.sign_up("shop", groups=("merchants",)), stack.sign_up("shopper")
    product = stack.call("POST", "/products", merchant, {"title": "Rice cooker", "price_cents": 8_800,
                                                         "labels": ["cooking"]})
    assert product.status_code == 201, product.text
    product_id = product.json()["product_id"]
    responses = _race([lambda i=i: stack.call("POST", f"/products/{product_id}/reviews", shopper,
                                              {"rating": 1 + i % 5, "body": f"take {i}"}) for i in range(6)])
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5
    assert len(stack.call("GET", f"/products/{product_id}/reviews", shopper).json()["items"]) == 1


def test_answer_and_acceptance_notices_arrive_through_the_streams(stack):
    asker, author = stack.sign_up("asker"), stack.sign_up("author")
    qid, answer_id = _ask_and_answer(stack, asker, author)
    notes = stack.eventually(lambda: [n for n in stack.call("GET", "/me/notifications", asker).json()["items"]
                                      if n["type"] == "new_answer"], timeout=15)
    assert notes[0]["data"]["answer_id"] == answer_id
    stack.eventually(lambda: stack.call("GET", f"/questions/{qid}", asker).json()["answer_count"] == 1, timeout=15)
    assert stack.call("POST", f"/questions/{qid}/accept", asker, {"answer_id": answer_id}).status_code == 200
    notes = stack.eventually(lambda: [n for n in stack.call("GET", "/me/notifications", author).json()["items"]
                                      if n["type"] == "answer_accepted"], timeout=15)
    assert notes[0]["data"]["question_id"] == qid
