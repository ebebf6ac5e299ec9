"""Export and erasure on the real local stack (its stream runner drives the jobs; STREAM_CHAOS=1 too):
A exports and the file holds A's posts, ledger and follows; A deletes the account and the profile,
posts, feed entries, follows and Cognito user are gone, while B's question still shows A's accepted
answer from a deleted user and B's points are unchanged."""

import requests

from chalicelib.schemas.cards import DELETED_USER_NAME


def _ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def _balance(stack, user) -> int:
    return _ok(stack.call("GET", "/me/points", user))["balance"]


def _feed_ids(stack, user) -> list[str]:
    return [item.get("post_id") for item in _ok(stack.call("GET", "/feed", user))["items"]]


def test_a_user_exports_then_erases_the_account(stack):
    a, b, c = stack.sign_up("alice"), stack.sign_up("bob"), stack.sign_up("carol")
    for user in (a, b, c):
        _ok(stack.call("GET", "/me", user))
    _ok(stack.call("PUT", f"/users/{a.user_id}/follow", b))
    _ok(stack.call("PUT", f"/users/{a.user_id}/follow", c))
    _ok(stack.call("PUT", f"/users/{b.user_id}/follow", a))
    post_id = _ok(stack.call("POST", "/posts", a, {"text": "my new bag"}), 201)["post_id"]
    stack.eventually(lambda: post_id in _feed_ids(stack, c), timeout=15)
    # B asks, A answers, B accepts: A earns 15, B 2
    qid = _ok(stack.call("POST", "/questions", b, {"title": "Which bag?", "body": "For travel",
                                                   "labels": ["camera"]}), 201)["question_id"]
    answer_id = _ok(stack.call("POST", f"/questions/{qid}/answers", a, {"body": "The canvas one"}), 201)["answer_id"]
    _ok(stack.call("POST", f"/questions/{qid}/accept", b, {"answer_id": answer_id}))
    stack.eventually(lambda: _balance(stack, a) == 15 and _balance(stack, b) == 2, timeout=15)
    b_points = _balance(stack, b)

    # A exports: the file holds A's posts, ledger and follows
    export_id = _ok(stack.call("POST", "/me/export", a), 202)["export_id"]
    assert stack.call("GET", f"/me/export/{export_id}", b).status_code == 404
    done = stack.eventually(lambda: (lambda s: s if s["status"] == "done" else None)(
        _ok(stack.call("GET", f"/me/export/{export_id}", a))), timeout=30)
    exported = requests.get(done["url"], timeout=10)
    assert exported.status_code == 200, exported.text
    tables = exported.json()["tables"]

    def rows(table):
        return [row for label, found in tables.items() if label.split(":")[0] == table for row in found]

    assert [row["post_id"] for row in rows("Posts")] == [post_id]
    assert 15 in [row.get("amount") for row in rows("Ledger")]
    assert {(row["follower_id"], row["followee_id"]) for row in rows("Follows")} == {
        (b.user_id, a.user_id), (c.user_id, a.user_id), (a.user_id, b.user_id)}

    # A deletes the account
    assert stack.call("DELETE", "/me", a).status_code == 202
    me = stack.call("GET", "/me", a)
    assert (me.status_code, me.json()["Code"]) == (401, "AccountDeleted")

    def cognito_user_gone():
        try:
            stack.cognito.admin_get_user(UserPoolId=stack.state["user_pool_id"], Username=a.email)
        except stack.cognito.exceptions.UserNotFoundException:
            return True
        return False

    stack.eventually(cognito_user_gone, timeout=30, interval=0.5)  # the erasure's first phase
    # the profile goes last (then only the audit record is written)
    stack.eventually(lambda: stack.call("GET", f"/users/{a.user_id}", b).status_code == 404, timeout=60,
                     interval=0.5)
    assert stack.call("GET", f"/posts/{post_id}", b).status_code == 404
    for user in (b, c):
        assert post_id not in _feed_ids(stack, user)
        listed = (_ok(stack.call("GET", f"/users/{user.user_id}/followers", user))["items"]
                  + _ok(stack.call("GET", f"/users/{user.user_id}/following", user))["items"])
        assert a.user_id not in [ref["user_id"] for ref in listed]
    assert stack.call("GET", f"/users/{a.user_id}/followers", b).json().get("items", []) == []
    assert stack.call("GET", f"/users/{a.user_id}/posts", b).json().get("items", []) == []
    # B's question still shows A's accepted answer, from a deleted user; B's points stand
    answers = _ok(stack.call("GET", f"/questions/{qid}/answers", b))["items"]
    assert [(x["answer_id"], x["accepted"], x["user"]["display_name"]) for x in answers] == [
        (answer_id, True, DELETED_USER_NAME)]
    assert _balance(stack, b) == b_points
    write = stack.call("POST", "/posts", a, {"text": "still here?"})
    assert (write.status_code, write.json()["Code"]) == (401, "AccountDeleted")
