"""Discovery on the real local stack: search finds a new store within seconds, a new user gets suggestions."""

import time


def test_search_finds_a_new_store_by_a_prefix_of_its_name_within_seconds(stack):
    # Given a merchant who opens a store with a Latin and Chinese name
    merchant = stack.sign_up("merchant", groups=("merchants",))
    shopper = stack.sign_up("shopper")
    opened = stack.call("PUT", "/merchants/me", merchant, {"store_name": "Dragonfly Optics 蜻蜓", "labels": ["camera"]})
    assert opened.status_code == 200, opened.text
    started = time.time()

    # When a shopper searches by a prefix of a word of its name, in another case and width
    def found(q):
        response = stack.call("GET", "/search", shopper, params={"q": q, "type": "store"})
        assert response.status_code == 200, response.text
        return [hit for hit in response.json()["items"] if hit["id"] == merchant.user_id]

    hits = stack.eventually(lambda: found("ＤＲＡＧ opt"), timeout=10)
    # Then the store is found within seconds, with its store card, and by a Chinese character too
    assert time.time() - started < 10
    assert hits[0]["store"]["store_name"] == "Dragonfly Optics 蜻蜓"
    assert found("蜓")
    # and a bad query is a 400 naming the field
    bad = stack.call("GET", "/search", shopper, params={"q": "!!", "type": "store"})
    assert bad.status_code == 400 and bad.json()["Message"].startswith("q:")


def test_a_new_user_gets_suggestions(stack):
    # Given an expert of "camera" (an upvoted answer) and a store of that label rated gold by three judges
    asker, expert, fan = stack.sign_up("asker"), stack.sign_up("expert"), stack.sign_up("fan")
    question = stack.call("POST", "/questions", asker,
                          {"title": "Which lens?", "body": "For portraits", "labels": ["camera"]}).json()
    answer = stack.call("POST", f"/questions/{question['question_id']}/answers", expert, {"body": "An 85mm"}).json()
    assert stack.call("PUT", f"/answers/{answer['answer_id']}/vote", fan, {"value": 1}).status_code == 200
    store = stack.sign_up("store", groups=("merchants",))
    assert stack.call("PUT", "/merchants/me", store, {"store_name": "Portrait Glass", "labels": ["camera"]}).ok
    for index in range(3):
        judge = stack.sign_up(f"judge{index}", groups=("judges",))
        assert stack.call("PUT", f"/merchants/{store.user_id}/ratings/me", judge, {"score": 85}).ok
    # When a new user who shops for cameras asks whom to follow
    newbie = stack.sign_up("newbie")
    assert stack.call("PUT", "/me", newbie, {"display_name": "Newbie", "labels": ["camera"]}).ok

    def suggested():
        response = stack.call("GET", "/suggestions/follow", newbie)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        return items if {expert.user_id, store.user_id} <= {item["user_id"] for item in items} else None

    items = stack.eventually(suggested, timeout=15)
    # Then the expert and the rated store are suggested, best first, with their cards
    by_id = {item["user_id"]: item for item in items}
    assert by_id[expert.user_id]["reason"] == "expert" and by_id[expert.user_id]["label"] == "camera"
    assert by_id[store.user_id]["reason"] == "store" and by_id[store.user_id]["tier"] == "gold"
    assert newbie.user_id not in by_id
    # and once they follow the store it is no longer suggested
    assert stack.call("PUT", f"/users/{store.user_id}/follow", newbie).status_code == 200
    assert store.user_id not in {i["user_id"] for i in stack.call("GET", "/suggestions/follow", newbie).json()["items"]}
