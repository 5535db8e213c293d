"""Where webhooks may post, how a delivery is pinned to the address that was checked, and how
long failed attempts wait."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from pxm_jobs.catalog.integrations.errors import TargetRefused
from pxm_jobs.catalog.integrations.targets import check_target, parse_target, resolve_target
from pxm_jobs.config import Settings
from pxm_jobs.webhooks.courier import lease_seconds, retry_delay_seconds
from pxm_jobs.webhooks.sending import _pinned

PUBLIC = "93.184.215.14"


def resolver(table: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    "url",
    [
        f"https://{PUBLIC}/hooks",
        f"http://{PUBLIC}:8080/hooks?store=1",
        "https://hooks.example.com/jobs",
        "HTTPS://Hooks.Example.COM/jobs",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/hooks",
        "https://user:password@hooks.example.com/jobs",
    ],
)
def test_public_http_and_https_urls_are_accepted(url: str) -> None:
    names = {"hooks.example.com": [PUBLIC]}
    target = check_target(url, allow_private=False, resolver=resolver(names))
    assert target.scheme in ("http", "https") and target.port in (443, 8080, 80)


@pytest.mark.parametrize(
    ("url", "names", "why"),
    [
        ("file:///etc/passwd", {}, "is not an http or https URL"),
        ("gopher://hooks.example.com/", {}, "is not an http or https URL"),
        ("https://", {}, "names no host"),
        ("https://hooks.example.com:99999/", {}, "is not a URL"),
        ("https://nowhere.example/", {}, "does not resolve"),
        ("http://localhost:8080/", {"localhost": ["127.0.0.1", "::1"]}, "a loopback address"),
        # One private address among public ones is enough to refuse the name.
        ("https://mixed.example/", {"mixed.example": [PUBLIC, "10.0.0.1"]}, "a private address"),
        ("http://172.16.0.9/", {}, "a private address"),
        ("http://[fd00::1]/", {}, "a private address"),
        ("http://[fe80::1]/", {}, "a link-local address"),
        ("http://[::ffff:127.0.0.1]/", {}, "a loopback address"),
        ("http://[2002:7f00:1::]/", {}, "a loopback address"),
        ("http://[64:ff9b::a00:1]/", {}, "a private address"),
        ("http://224.0.0.1/", {}, "a multicast address"),
        ("http://[::]/", {}, "the unspecified address"),
        ("http://198.18.0.1/", {}, "a private address"),
        ("http://2130706433/", {"2130706433": ["127.0.0.1"]}, "a loopback address"),
        ("https://" + "a" * 2050 + ".example/", {}, "longer than 2048"),
    ],
)
def test_urls_that_reach_no_public_address_are_refused(
    url: str, names: dict[str, list[str]], why: str
) -> None:
    with pytest.raises(TargetRefused) as refused:
        check_target(url, allow_private=False, resolver=resolver(names))
    assert why in refused.value.detail


def test_the_operator_may_allow_private_targets_but_never_other_schemes() -> None:
    allowed = check_target("http://127.0.0.1:9000/hooks", allow_private=True)
    assert (allowed.host, allowed.port) == ("127.0.0.1", 9000)
    with pytest.raises(TargetRefused):
        check_target("ftp://127.0.0.1/hooks", allow_private=True)


def test_a_delivery_goes_to_the_checked_address_under_the_url_s_own_name() -> None:
    names = resolver({"hooks.example.com": [PUBLIC]})
    url, host, extensions = _pinned("https://hooks.example.com:8443/jobs?x=1", False, names)
    assert str(url) == f"https://{PUBLIC}:8443/jobs?x=1"
    assert host == "hooks.example.com:8443"
    assert extensions == {"sni_hostname": "hooks.example.com"}
    plain, host, extensions = _pinned("http://hooks.example.com/jobs", False, names)
    assert (str(plain), host, extensions) == (f"http://{PUBLIC}/jobs", "hooks.example.com", {})
    literal, host, _ = _pinned(f"https://{PUBLIC}/jobs", False, names)
    assert (str(literal), host) == (f"https://{PUBLIC}/jobs", None)
    with pytest.raises(TargetRefused):
        _pinned("https://hooks.example.com/", False, resolver({"hooks.example.com": ["10.9.8.7"]}))


def test_resolving_returns_every_public_address() -> None:
    names = resolver({"hooks.example.com": [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"]})
    target = parse_target("https://hooks.example.com/")
    assert resolve_target(target, names) == [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"]


def test_retries_wait_twice_as_long_each_time_up_to_the_maximum_and_then_stop() -> None:
    settings = Settings(
        webhook_retry_base_seconds=5,
        webhook_retry_max_seconds=60,
        webhook_max_attempts=6,
    )
    rng = random.Random(3)
    delays = [retry_delay_seconds(attempt, settings, rng) for attempt in range(1, 7)]
    middles = [5, 10, 20, 40, 60]
    for delay, middle in zip(delays[:5], middles, strict=True):
        assert delay is not None and middle * 0.8 <= delay <= middle * 1.2
    assert delays[5] is None, "the sixth attempt was the last"


def test_a_lease_outlasts_every_phase_of_an_attempt() -> None:
    assert lease_seconds(Settings(webhook_timeout_seconds=10)) > 4 * 10
