"""Product facts: currencies (ISO 4217) and the rating average kept from the reviews' counters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_CURRENCY = "CNY"
MAX_DESCRIPTION = 5000

# ISO 4217 active codes (list one, 2024), funds and precious-metal codes excluded.
ISO_4217_CODES: frozenset[str] = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD
XCG XOF XPF YER ZAR ZMW ZWG
""".split())


def check_currency(code: str) -> str:
    """The code if it is an ISO 4217 currency code (upper case, as ISO writes it), else ValueError."""
    if code not in ISO_4217_CODES:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code (e.g. CNY, USD, EUR)")
    return code


def rating_average(rating_total: int, review_count: int) -> float | None:
    """The mean rating to two decimals, or None with no review."""
    if review_count <= 0:
        return None
    return round(rating_total / review_count, 2)


def review_counter_moves(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
                         ) -> tuple[str, int, int] | None:
    """(product_id, review_count delta, rating_total delta) of one change of a Reviews item, or None.

    A review's insert counts +1 and its rating, its removal the opposite, a changed rating moves the
    total only. The table's guard items (no `product_id`) count nothing, nor does a review a moderator
    removed (`removed_at`): removal takes it out of the count and the average, restore puts it back.
    """
    before: Mapping[str, Any] = old if old and old.get("product_id") and not old.get("removed_at") else {}
    after: Mapping[str, Any] = new if new and new.get("product_id") and not new.get("removed_at") else {}
    if not before and not after:
        return None
    product_id = str((after or before)["product_id"])
    count = (1 if after else 0) - (1 if before else 0)
    rating = int(after.get("rating") or 0) - int(before.get("rating") or 0)
    if count == 0 and rating == 0:
        return None
    return product_id, count, rating
