"""Display names: the one rule every source of a name goes through.

A name reaches the service from `PUT /me`, the token's `name` claim, the sign-up trigger's user
attributes and the CLI; each passes it through `check_display_name` (or `display_name_or_none`
where a bad name falls back to the default instead of failing). The contract: 1-50 visible
characters after trimming; control, bidi-override and zero-width characters refused.
"""

from __future__ import annotations

import unicodedata

MAX_DISPLAY_NAME = 50

# Invisible characters that are not whitespace (so `str.strip` keeps them) and not format
# characters (so the category check misses them): Hangul fillers and the blank Braille pattern.
_BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Cc: controls (NUL, ESC of an ANSI escape, newlines); Cf: format characters, which hold every
# bidi embedding, override and isolate (U+202A-202E, U+2066-2069), LRM/RLM and the zero-width
# characters (U+200B-200D, U+2060, U+FEFF); Cs: lone surrogates (DynamoDB cannot store them);
# Zl/Zp: line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class InvalidDisplayName(ValueError):
    """The name breaks the display-name rule; the message says how."""


def check_display_name(raw: object) -> str:
    """The name as stored (NFC, trimmed), or InvalidDisplayName."""
    if not isinstance(raw, str):
        raise InvalidDisplayName("must be a string")
    name = unicodedata.normalize("NFC", raw).strip()
    for char in name:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise InvalidDisplayName(
                f"must not contain control, bidi or zero-width characters (U+{ord(char):04X})"
            )
    if not any(not char.isspace() and char not in _BLANK_LOOKALIKES for char in name):
        raise InvalidDisplayName("must hold at least one visible character")
    if len(name) > MAX_DISPLAY_NAME:
        raise InvalidDisplayName(f"must be at most {MAX_DISPLAY_NAME} characters")
    return name


def display_name_or_none(raw: object) -> str | None:
    """The checked name, or None where a bad name falls back to the default (token claims, sign-up)."""
    try:
        return check_display_name(raw)
    except InvalidDisplayName:
        return None


def default_display_name(user_id: str) -> str:
    return f"shopper-{user_id[:8]}"
