"""The fixed catalogue of shopping-style labels."""

MAX_LABELS = 5

LABELS: tuple[tuple[str, str], ...] = (
    ("lolita", "Lolita"),
    ("mori-girl", "Mori girl"),
    ("hardcore-youth", "Hardcore youth"),
    ("small-fresh", "Small & fresh"),
    ("digital", "Digital"),
    ("cooking", "Cooking"),
    ("seafood", "Seafood"),
    ("makeup", "Makeup"),
    ("camera", "Camera"),
    ("phone", "Phone"),
    ("streetwear", "Streetwear"),
    ("outdoor", "Outdoor"),
    ("home", "Home"),
    ("books", "Books"),
    ("gaming", "Gaming"),
)

LABEL_IDS = frozenset(label_id for label_id, _ in LABELS)
