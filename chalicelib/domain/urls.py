"""Which `https://` URLs the API accepts (image URLs of posts, products, ...).

A URL the service stores is later put in front of other users, so it must be one a browser reads
the way we do: the `https` scheme, a host that is a DNS name or an IP address, an optional port,
and a path, query and fragment of RFC 3986 characters only (percent-escapes well formed). No
spaces, quotes, angle brackets, backslashes, control or non-ASCII characters (IDN hosts come
punycoded), and no user info (`https://bank.example@evil.example/` is a classic disguise).

An upload's `image_url` is accepted too: it starts with the stage's media base URL (a CloudFront
`https://` address deployed; `http://127.0.0.1:$PORT/media/` on the local stack).
"""

from __future__ import annotations

import ipaddress
import re

MAX_URL_LENGTH = 2048
MAX_HOST_LENGTH = 253

_SCHEME = "https://"
#: Where uploads land in the media bucket (`chalicelib/domain/uploads.py` writes there).
MEDIA_UPLOAD_PREFIX = "uploads/"
# RFC 3986 path/query/fragment characters: unreserved, sub-delims without the single quote, ":",
# "@", "/", "?" and percent-escapes
_REST = re.compile(r"(?:[A-Za-z0-9\-._~!$&()*+,;=:@/?#]|%[0-9A-Fa-f]{2})*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TOP_LABEL = re.compile(r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")  # never all digits
_PORT = re.compile(r"[0-9]{1,5}")


def https_url_problem(value: str) -> str | None:
    """None when `value` is an acceptable https:// URL, else what is wrong with it."""
    if len(value) > MAX_URL_LENGTH:
        return f"must be at most {MAX_URL_LENGTH} characters"
    if not value.startswith(_SCHEME):
        return "must be an https:// URL"
    rest = value[len(_SCHEME):]
    split = re.search(r"[/?#]", rest)
    authority, tail = (rest[:split.start()], rest[split.start():]) if split else (rest, "")
    if not authority:
        return "must name a host"
    if "@" in authority:
        return "must not carry a user name or password"
    host, port = _split_port(authority)
    if port is not None and not (_PORT.fullmatch(port) and 0 < int(port) <= 65535):
        return "has an invalid port"
    if not _valid_host(host):
        return "must name a valid host name or IP address"
    if not _REST.fullmatch(tail):
        return "has characters a URL may not hold (spaces, quotes, <, >, \\, control or non-ASCII)"
    return None


def image_url_problem(value: str, media_base_url: str) -> str | None:
    """None when `value` is an upload's image URL of this stage or an acceptable https:// URL."""
    if media_base_url and value.startswith(media_base_url + MEDIA_UPLOAD_PREFIX):
        key = value[len(media_base_url):]
        if len(value) <= MAX_URL_LENGTH and _REST.fullmatch(key) and all(
                part not in ("", ".", "..") for part in key.split("?")[0].split("/")):
            return None
    return https_url_problem(value)


def _split_port(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):  # an IPv6 literal: [::1] or [::1]:443
        end = authority.find("]")
        if end == -1:
            return authority, None
        after = authority[end + 1:]
        if after.startswith(":"):
            return authority[:end + 1], after[1:]
        return authority, None  # "[...]" alone is the host; anything else after "]" fails as a host
    if ":" in authority:
        host, port = authority.rsplit(":", 1)
        return host, port
    return authority, None


def _valid_host(host: str) -> bool:
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
        return True
    name = host[:-1] if host.endswith(".") else host  # a fully qualified name may end in a dot
    if not 0 < len(name) <= MAX_HOST_LENGTH:
        return False
    labels = name.split(".")
    return (len(labels) >= 2 and all(_LABEL.fullmatch(label) for label in labels[:-1])
            and _TOP_LABEL.fullmatch(labels[-1]) is not None)
