"""The judges' panel on the real local stack: racing scores, tiers, badges and Good Finds."""

from concurrent.futures import ThreadPoolExecutor


def test_concurrent_scores_from_several_judges_end_with_the_right_mean(stack):
    # Given a store with a product, and eight judges
    merchant = stack.sign_up("store", groups=("merchants",))
    assert stack.call("PUT", "/merchants/me", merchant, {"store_name": "Racing Lens"}).status_code == 200
    created = stack.call("POST", "/products", merchant,
                         {"title": "Rangefinder", "price_cents": 45000, "labels": ["camera"]})
    assert created.status_code == 201, created.text
    judges = [stack.sign_up(f"judge{i}", groups=("judges",)) for i in range(8)]
    first = [40, 55, 99, 10, 70, 65, 100, 0]
    final = [90, 85, 88, 92, 79, 95, 83, 88]  # mean 87.5: Gold

    # When they all score at once, and each then changes their score, racing one another
    def score(index: int) -> list[int]:
        path = f"/merchants/{merchant.user_id}/ratings/me"
        return [stack.call("PUT", path, judges[index], {"score": value}).status_code
                for value in (first[index], final[index])]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(score, range(8)))
    assert statuses == [[200, 200]] * 8

    # Then, once the stream has caught up, the standing is the mean of the final scores
    def settled():
        shown = stack.call("GET", f"/merchants/{merchant.user_id}", merchant).json()
        return shown if shown["judge_count"] == 8 and shown["mean_score"] == 87.5 else None

    shown = stack.eventually(settled, timeout=10)
    assert (shown["tier"], shown["badge"]) == ("gold", "tier-gold")
    # And the store's product is a Good Find for a camera lover, with the badge
    shopper = stack.sign_up("shopper")
    assert stack.call("PUT", "/me", shopper, {"display_name": "Cam", "labels": ["camera"]}).status_code == 200

    def listed():
        items = stack.call("GET", "/good-finds", shopper).json()["items"]
        return [item for item in items if item["merchant_id"] == merchant.user_id]

    items = stack.eventually(listed, timeout=10)
    assert [(i["title"], i["store_name"], i["tier"], i["badge"]) for i in items] == [
        ("Rangefinder", "Racing Lens", "gold", "tier-gold")]
    # And the merchant's latest tier notice is Gold
    notes = stack.eventually(
        lambda: [n for n in stack.call("GET", "/me/notifications", merchant).json()["items"]
                 if n["type"] == "merchant_tier"])
    assert notes[0]["data"]["tier"] == "gold"
