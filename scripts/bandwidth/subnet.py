"""IP networks as plain integers: parsed strictly, compared cheaply, pickled small."""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple

_IPV4 = re.compile(r"(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})/(0|[1-9][0-9]?)\Z")
_BITS = {4: 32, 6: 128}


class Subnet(NamedTuple):
    version: int  # 4 or 6
    address: int  # the network address
    prefixlen: int

    @property
    def size(self) -> int:
        return 1 << (_BITS[self.version] - self.prefixlen)

    @property
    def last(self) -> int:
        return self.address + self.size - 1

    def contains(self, other: Subnet) -> bool:
        """other lies within this network (the same network counts)."""
        return self.version == other.version and self.prefixlen <= other.prefixlen and self.address <= other.address <= other.last <= self.last

    def overlaps(self, other: Subnet) -> bool:
        return self.contains(other) or other.contains(self)

    def __str__(self) -> str:
        return str(self.network())

    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        cls = ipaddress.IPv4Network if self.version == 4 else ipaddress.IPv6Network
        return cls((self.address, self.prefixlen))


def parse(text: str) -> Subnet:
    """'198.18.10.0/24' -> Subnet. ValueError names what is wrong (host bits, syntax)."""
    match = _IPV4.match(text)
    if match:  # the common case, without ipaddress's cost
        octets = [int(match.group(i)) for i in range(1, 5)]
        prefixlen = int(match.group(5))
        if max(octets) <= 255 and prefixlen <= 32:
            address = (octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]
            if address & ((1 << (32 - prefixlen)) - 1):
                raise ValueError(f"{text} has host bits set (the network address is {ipaddress.ip_network(text, strict=False)})")
            return Subnet(4, address, prefixlen)
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        if "has host bits set" in str(exc):
            raise ValueError(f"{text} has host bits set (the network address is {ipaddress.ip_network(text, strict=False)})") from None
        raise ValueError(f"{text} is not a valid IPv4 or IPv6 network") from None
    return Subnet(net.version, int(net.network_address), net.prefixlen)


def is_special(subnet: Subnet) -> bool:
    """Multicast, loopback, link-local or unspecified: never an agency's network."""
    net = subnet.network()
    return net.is_multicast or net.is_loopback or net.is_link_local or net.is_unspecified


# Special ranges for the fast IPv4 path: multicast, loopback, link-local, "this network".
_IPV4_SPECIAL = [Subnet(4, 0xE0000000, 4), Subnet(4, 0x7F000000, 8), Subnet(4, 0xA9FE0000, 16), Subnet(4, 0, 8)]


def is_special_fast(subnet: Subnet) -> bool:
    if subnet.version == 4 and subnet.prefixlen >= 16:  # the usual case, in plain integers
        top = subnet.address >> 24
        return top in (0, 127) or top >> 4 == 0xE or subnet.address >> 16 == 0xA9FE
    if subnet.version == 4:
        return any(special.overlaps(subnet) for special in _IPV4_SPECIAL)
    return is_special(subnet)
