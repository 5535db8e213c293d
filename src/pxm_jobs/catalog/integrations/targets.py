"""Where a webhook may post: an http or https URL whose host is a public address.

A store admin names the URL, and the service's workers post to it from inside the service's own
network; left unchecked, that would let a store reach the database, a cloud metadata endpoint or
anything else only the service can see. So loopback, private, link-local and every other
non-public address is refused, unless the operator allows them
(`PXM_WEBHOOK_ALLOW_PRIVATE_TARGETS`, for a receiver on the same machine or network).

Host names are resolved when the URL is given and again before every delivery, and the delivery
connects to the very address that was checked, so a name that later resolves elsewhere (a DNS
change, or a rebinding attack) reaches nothing it should not.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from pxm_jobs.catalog.integrations.errors import TargetRefused

URL_MAX_LENGTH = 2048
SCHEMES = ("http", "https")
ALLOW_SETTING = "PXM_WEBHOOK_ALLOW_PRIVATE_TARGETS"

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 addresses a NAT64 gateway turns into the IPv4 address in their last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Host and port to the addresses they resolve to, as text.
Resolver = Callable[[str, int], Sequence[str]]


def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to; raises OSError when it resolves to none."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in found})


@dataclass(frozen=True)
class Target:
    """A checked URL, split into what a pinned connection needs."""

    url: str
    scheme: str
    host: str  # without brackets, as resolved
    port: int

    @property
    def host_is_address(self) -> bool:
        return _parse_address(self.host) is not None


def parse_target(url: str) -> Target:
    """The URL split into its parts; raises TargetRefused unless it is an http(s) URL."""
    if len(url) > URL_MAX_LENGTH:
        raise TargetRefused(f"the URL is longer than {URL_MAX_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise TargetRefused(f"{url!r} is not a URL ({error})") from None
    if parts.scheme.lower() not in SCHEMES:
        raise TargetRefused(
            f"{url!r} is not an http or https URL; webhooks are posted over HTTP(S) only"
        )
    host = parts.hostname
    if not host:
        raise TargetRefused(f"{url!r} names no host; give a URL such as https://example.com/hook")
    scheme = parts.scheme.lower()
    return Target(url, scheme, host, port or (443 if scheme == "https" else 80))


def resolve_target(target: Target, resolver: Resolver = resolve_host) -> list[str]:
    """The public addresses of the target's host; raises TargetRefused if any address is not.

    A name with one private address among public ones is refused whole: a connection could be
    steered to that one.
    """
    literal = _parse_address(target.host)
    addresses: list[IpAddress | None]
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = [_parse_address(found) for found in resolver(target.host, target.port)]
        except OSError:
            raise TargetRefused(
                f"the host {target.host!r} does not resolve; check the URL's spelling"
            ) from None
    checked = [address for address in addresses if address is not None]
    if not checked:
        raise TargetRefused(f"the host {target.host!r} does not resolve to an IP address")
    for address in checked:
        kind = _non_public_kind(address)
        if kind is not None:
            shown = "" if literal is not None else f" (it resolves to {address})"
            raise TargetRefused(
                f"{target.host}{shown} is {kind}; webhooks may only post to public addresses "
                f"unless the service's operator sets {ALLOW_SETTING}=true"
            )
    return [str(address) for address in checked]


def check_target(url: str, *, allow_private: bool, resolver: Resolver = resolve_host) -> Target:
    """The URL checked as a place to post webhooks; raises TargetRefused saying why not."""
    target = parse_target(url)
    if not allow_private:
        resolve_target(target, resolver)
    return target


def _parse_address(text: str) -> IpAddress | None:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 form of an IPv4 address reaches that IPv4 address: judge it as such.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return embedded
    return address


def _non_public_kind(address: IpAddress) -> str | None:
    """What kind of address this is when it is not a public one; None when it is public."""
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "a reserved address"
    return None
