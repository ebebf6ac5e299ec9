"""The display-name rule (contract: 1-50 visible characters after trimming; no control, bidi or
zero-width characters), and the sources of a name that go through it."""

from __future__ import annotations

import pytest

from chalicelib.domain.names import (
    MAX_DISPLAY_NAME,
    InvalidDisplayName,
    check_display_name,
    default_display_name,
    display_name_or_none,
)


@pytest.mark.parametrize("raw, stored", [
    ("Ana", "Ana"),
    ("  Ana Lim  ", "Ana Lim"),
    ("小林 🍵", "小林 🍵"),
    ("Cafe\u0301", "Caf\u00e9"),  # NFC
    ("x" * MAX_DISPLAY_NAME, "x" * MAX_DISPLAY_NAME),
    ("  " + "y" * MAX_DISPLAY_NAME + "  ", "y" * MAX_DISPLAY_NAME),  # trimmed first, then counted
])
def test_a_good_name_is_kept_trimmed_and_normalised(raw, stored):
    assert check_display_name(raw) == stored


@pytest.mark.parametrize("raw", [
    "",
    "   ",
    "\u3000\u00a0",                 # ideographic and no-break spaces only
    "\u200b\u200b",                 # zero-width spaces only
    "\x00",                         # NUL
    "\x1b[31m\x1b[0m",              # ANSI escapes only
    "\u3164\u2800",                 # Hangul filler and blank Braille: invisible letters
    "Ana\u202egnp.exe",             # right-to-left override
    "Ana\u2066x\u2069",             # bidi isolate
    "A\u200dna",                    # zero-width joiner
    "An\ufeffa",                    # zero-width no-break space
    "Ana\nLim",                     # control inside
    "Ana\u2028Lim",                 # line separator
    "x" * (MAX_DISPLAY_NAME + 1),
    "\u202e" + "x" * 1499,          # the reported attack: 1,500 characters with a bidi override
    None,
    42,
])
def test_a_bad_name_is_refused(raw):
    with pytest.raises(InvalidDisplayName):
        check_display_name(raw)
    assert display_name_or_none(raw) is None


def test_the_default_name_passes_the_rule():
    assert check_display_name(default_display_name("0123456789abcdef")) == "shopper-01234567"


def test_every_demo_name_passes_the_rule():
    from chalicelib.local.demo import CAST

    for user in CAST:
        assert check_display_name(user.display_name) == user.display_name
