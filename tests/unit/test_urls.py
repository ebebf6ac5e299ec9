"""Image URLs: well-formed https:// URLs only (issue #12, defect 8)."""

from __future__ import annotations

import pytest

from chalicelib.domain.urls import https_url_problem

GOOD = [
    "https://img.example/1.jpg",
    "https://img.example.com/d.jpg",
    "https://cdn.shop-1.example.cn:8443/a/b%20c.png?w=200&h=100#top",
    "https://IMG.Example.COM./x",
    "https://203.0.113.7/x.jpg",
    "https://[2001:db8::1]/x.jpg",
    "https://[2001:db8::1]:443/x.jpg",
    "https://xn--fiqs8s.example/%E5%9B%BE.jpg",
    "https://a.b.example",
    "https://img.example/p/(1)/~me/a;b=c,d*e+f$g!h@i:j",
]

BAD = [
    'https://a b"<script>',  # the defect: a space, a quote and markup
    "https://a.example/b c.jpg",
    'https://a.example/b".jpg',
    "https://a.example/b'.jpg",
    "https://a.example/<b>.jpg",
    "https://a.example/b\\c.jpg",
    "https://a.example/\x00.jpg",
    "https://a.example/\x1b[31m.jpg",
    "https://a.example/\u202e.jpg",
    "https://a.example/图.jpg",
    "https://a.example/%zz.jpg",
    "https://a.example/%4.jpg",
    "https://",
    "https:///x.jpg",
    "https://a",  # not a DNS name with a domain
    "https://-a.example/x",
    "https://a-.example/x",
    "https://a..example/x",
    "https://a.123/x",
    "https://" + "a" * 64 + ".example/x",
    "https://" + ".".join(["abcdefghi"] * 26) + ".example/x",  # over 253 characters
    "https://999.1.1.1/x",
    "https://1.2.3/x",
    "https://[::zz]/x",
    "https://[::1/x",
    "https://a.example:0/x",
    "https://a.example:99999/x",
    "https://a.example:http/x",
    "https://user:pw@a.example/x",
    "https://bank.example@evil.example/x",
    "https://图.example/x",
    "http://a.example/x.jpg",
    "HTTPS://a.example/x.jpg",
    "javascript:alert(1)",
    " https://a.example/x.jpg",
    "https://a.example/x.jpg\n",
    "https://a.example/" + "x" * 2048,
]


@pytest.mark.parametrize("url", GOOD)
def test_well_formed_https_urls_are_accepted(url):
    assert https_url_problem(url) is None


@pytest.mark.parametrize("url", BAD)
def test_malformed_or_unsafe_urls_are_refused(url):
    assert https_url_problem(url) is not None
