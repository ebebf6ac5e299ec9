"""Activity sharing on the real local stack (run with STREAM_CHAOS=1 too): a shared review reaches
followers within seconds but not a blocked user, turning the kind off takes it out of every feed,
and a private wish list is 403 to others."""


def activities(stack, user) -> list[dict]:
    return [item["activity"] for item in stack.call("GET", "/feed", user).json()["items"]
            if item["kind"] == "activity"]


def test_a_shared_review_reaches_followers_not_the_blocked_and_leaves_when_turned_off(stack):
    # Given alice, two followers, and a follower she blocks; and a store's product
    alice, bob, carol, mallory = (stack.sign_up(name) for name in ("alice", "bob", "carol", "mallory"))
    shop = stack.sign_up("store", groups=("merchants",))
    for user in (alice, bob, carol, mallory, shop):
        assert stack.call("GET", "/me", user).status_code == 200
    for fan in (bob, carol, mallory):
        assert stack.call("PUT", f"/users/{alice.user_id}/follow", fan).status_code == 200
    assert stack.call("PUT", f"/users/{mallory.user_id}/block", alice).status_code == 200
    product = stack.call("POST", "/products", shop, {"title": "Kettle", "price_cents": 1999, "labels": ["cooking"]})
    assert product.status_code == 201, product.text
    product_id = product.json()["product_id"]
    # When alice turns on review sharing and reviews the product
    assert stack.call("GET", "/me/sharing", alice).json() == {
        "wishlist_add": False, "review": False, "answer": False, "store_follow": False, "coupon_redeemed": False}
    assert stack.call("PUT", "/me/sharing", alice, {"review": True}).json()["review"] is True
    assert stack.call("POST", f"/products/{product_id}/reviews", alice,
                      {"rating": 5, "body": "Boils fast"}).status_code == 201
    # Then both followers see it within seconds, with her card and the product's
    for fan in (bob, carol):
        [seen] = stack.eventually(lambda fan=fan: activities(stack, fan) or None, timeout=10.0)
        assert seen["type"] == "review" and seen["user"]["user_id"] == alice.user_id
        assert seen["product"]["product_id"] == product_id
    # And the blocked user does not, and the preview shows what a follower sees
    assert activities(stack, mallory) == []
    preview = stack.call("GET", "/me/sharing/preview", alice).json()["items"]
    assert [item["activity"] for item in preview] == activities(stack, bob)
    # When she turns review sharing off
    assert stack.call("PUT", "/me/sharing", alice, {"review": False}).json()["review"] is False
    # Then it leaves every follower's feed within seconds, and her list of what is shared
    for fan in (bob, carol):
        stack.eventually(lambda fan=fan: activities(stack, fan) == [], timeout=10.0)
    assert stack.call("GET", "/me/activity", alice).json()["items"] == []


def test_a_private_wishlist_is_403_to_others(stack):
    owner, follower, stranger = stack.sign_up("owner"), stack.sign_up("follower"), stack.sign_up("stranger")
    for user in (owner, follower, stranger):
        assert stack.call("GET", "/me", user).status_code == 200
    assert stack.call("PUT", f"/users/{owner.user_id}/follow", follower).status_code == 200
    path = f"/users/{owner.user_id}/wishlist"
    assert stack.call("GET", path, stranger).status_code == 200  # public by default
    assert stack.call("PUT", "/me/wishlist/settings", owner, {"visibility": "private"}).json() == {
        "visibility": "private"}
    assert stack.call("GET", path, stranger).status_code == 403
    assert stack.call("GET", path, follower).status_code == 403
    assert stack.call("GET", path, owner).status_code == 200
    assert stack.call("PUT", "/me/wishlist/settings", owner, {"visibility": "followers"}).status_code == 200
    assert stack.call("GET", path, follower).status_code == 200
    assert stack.call("GET", path, stranger).status_code == 403
