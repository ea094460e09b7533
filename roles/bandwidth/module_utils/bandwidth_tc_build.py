"""The tc core, builders: one function per tc object (qdisc, class, filter) and the numbers they use.

Standard library only (Python 3.10+, as the gateways have): it runs on the gateways (the Ansible modules, the boot restore)
and in the CLI (`bandwidth render`, `measure`, `monitor`), which imports it from this folder, its
single home (scripts/bandwidth/shaping/tc.py).

The tree on each shaped device (the LAN interface for download, its ifb for upload):

    qdisc 1: htb default 2
      class 1:1      the uplink: rate = ceil = capacity
        class 1:2    unclassified traffic: rate = the reserve, ceil = capacity, prio 7
        class 1:<m>  one per allocation: rate = guaranteed, ceil = max, prio = priority
          qdisc <m>: the leaf (fq_codel in production, pfifo in the lab)
    filter prio 1 (IPv4) and prio 2 (IPv6): u32, the root table hashes one address byte
      into table 2: (IPv4) or 3: (IPv6) with 256 buckets; each bucket holds the matches of
      the subnets that fall in it, so classification scales past u32's 4,096 nodes per table.

Commands are lines for `tc -batch` (without the leading "tc").
"""

from __future__ import annotations

import ipaddress
import re

PARENT_MINOR = 1
DEFAULT_MINOR = 2
MINOR_FIRST, MINOR_LAST = 0x10, 0xFFEF  # allocation classes; their leaf qdisc handle is <minor>:
TABLES = {4: 2, 6: 3}  # u32 hash table handle per IP version
PRIOS = {4: 1, 6: 2}  # filter priority per IP version
PROTOCOLS = {4: "ip", 6: "ipv6"}
NODE_LAST = 0xFFF  # u32 node ids per bucket: 1 .. 0xfff
BURST_MIN = 1600  # bytes: a full Ethernet frame and some, tc's own floor for HTB


def classid(minor: int) -> str:
    """The HTB class 1:<minor> (tc writes the minor in hexadecimal)."""
    return f"1:{minor:x}"


ROOT_CLASS, DEFAULT_CLASS = classid(PARENT_MINOR), classid(DEFAULT_MINOR)  # the uplink; traffic of no allocation

# Where the address is in the packet, and which 32-bit word/mask feeds the hash:
# IPv4 hashes the third octet, IPv6 the eighth byte (the last of a /64 prefix).
ADDRESS_OFFSET = {(4, "dst"): 16, (4, "src"): 12, (6, "dst"): 24, (6, "src"): 8}
HASH_KEY = {4: (0x0000FF00, 0), 6: (0x000000FF, 4)}  # mask, byte offset from the address start


def minor_for(request_id: str) -> int:
    """A stable class minor from an id like BW-2026-0007 (collisions are probed by the caller)."""
    match = re.fullmatch(r"BW-(\d{4})-(\d{4})", request_id)
    number = int(match.group(1)) * 10000 + int(match.group(2)) if match else sum(request_id.encode())
    return MINOR_FIRST + number % (MINOR_LAST - MINOR_FIRST + 1)


def assign_minors(request_ids: list[str]) -> dict[str, int]:
    """Minors for the ids on one device; on a collision the newer id (sorting later) probes on."""
    taken: dict[int, str] = {}
    result = {}
    for request_id in sorted(request_ids):
        minor = minor_for(request_id)
        while minor in taken:
            minor = MINOR_FIRST if minor >= MINOR_LAST else minor + 1
        taken[minor] = request_id
        result[request_id] = minor
    return result


def rate_text(kbit: int) -> str:
    """A rate as `tc class show` prints it (iproute2's print_rate), for exact comparison."""
    rate = kbit * 1000
    units = ["", "K", "M", "G", "T"]
    index = 0
    while index < len(units) - 1:
        if rate < 1000 or (rate % 1000 != 0 and rate < 1000 * 1000):
            break
        rate //= 1000
        index += 1
    return f"{rate}{units[index]}bit"


def burst(kbit: int) -> int:
    """Bytes a class may send at once: 1 ms at `kbit`, at least BURST_MIN.

    tc's default is about one frame. HTB refills it on a timer, and where the timer fires late (a
    virtual machine, a busy gateway) a class then stays under its rate: in the lab a 120 Mbit/s
    ceiling carried 115 Mbit/s (96 %) with tc's default and 119 Mbit/s (99 %) with 1 ms of it."""
    return max(BURST_MIN, kbit // 8)


def quantum(kbit: int) -> int:
    """Bytes a class may send per round: rate/10 as HTB's default, kept within MTU..200000."""
    return min(200_000, max(1514, kbit * 125 // 10))


def buckets(version: int, prefix: str) -> list[int]:
    """The hash buckets a subnet's addresses fall in."""
    net = ipaddress.ip_network(prefix)
    address = int(net.network_address)
    if version == 4:
        fixed_bits = min(max(net.prefixlen - 16, 0), 8)  # of the third octet
        start = (address >> 8) & 0xFF
    else:
        fixed_bits = min(max(net.prefixlen - 56, 0), 8)  # of the eighth byte
        start = (address >> 64) & 0xFF
    count = 1 << (8 - fixed_bits)
    start &= ~(count - 1) & 0xFF
    return list(range(start, start + count))


def u32_matches(version: int, field: str, prefix: str) -> list[tuple[int, int, int]]:
    """(value, mask, offset) words that match a prefix, as the kernel stores them."""
    net = ipaddress.ip_network(prefix)
    base = ADDRESS_OFFSET[(version, field)]
    words = 1 if version == 4 else 4
    address, mask = int(net.network_address), int(net.netmask)
    bits = 32 * words
    found = []
    for index in range(words):
        shift = bits - 32 * (index + 1)
        word_mask = (mask >> shift) & 0xFFFFFFFF
        if word_mask:
            found.append(((address >> shift) & word_mask, word_mask, base + 4 * index))
    return found


def hash_key(version: int, field: str) -> tuple[int, int]:
    mask, byte_offset = HASH_KEY[version]
    return mask, ADDRESS_OFFSET[(version, field)] + byte_offset


# ---- builders: one per tc object -------------------------------------------------------


def r2q(capacity_kbit: int) -> int:
    """HTB's rate-to-quantum divisor, so that the uplink class's quantum stays <= 200000 bytes
    (leaf classes set their quantum explicitly; this only keeps the kernel from warning)."""
    return max(10, -(-capacity_kbit * 125 // 200_000))


def qdisc_root(device: str, capacity_kbit: int) -> str:
    return f"qdisc replace dev {device} root handle 1: htb default {DEFAULT_MINOR:x} r2q {r2q(capacity_kbit)}"


def qdisc_leaf(device: str, minor: int, leaf: str) -> str:
    return f"qdisc replace dev {device} parent {classid(minor)} handle {minor:x}: {leaf}"


def qdisc_ingress(device: str) -> str:
    return f"qdisc replace dev {device} handle ffff: ingress"


def htb_class(
    verb: str,
    device: str,
    parent: str,
    minor: int,
    rate: str,
    ceil: str,
    prio: int | None = None,
    quantum_bytes: int | None = None,
    burst_bytes: int | None = None,
    cburst_bytes: int | None = None,
) -> str:
    command = f"class {verb} dev {device} parent {parent} classid {classid(minor)} htb rate {rate} ceil {ceil}"
    if prio is not None:
        command += f" prio {prio}"
    if quantum_bytes is not None:
        command += f" quantum {quantum_bytes}"
    if burst_bytes is not None:
        command += f" burst {burst_bytes}b"
    if cburst_bytes is not None:
        command += f" cburst {cburst_bytes}b"
    return command


def filter_table(device: str, version: int) -> str:
    return f"filter add dev {device} parent 1: prio {PRIOS[version]} handle {TABLES[version]:x}: protocol {PROTOCOLS[version]} u32 divisor 256"


def filter_link(device: str, version: int, field: str) -> str:
    mask, offset = hash_key(version, field)
    match = f"ip {field} 0.0.0.0/0" if version == 4 else f"ip6 {field} ::/0"
    return f"filter add dev {device} parent 1: prio {PRIOS[version]} protocol {PROTOCOLS[version]} u32 match {match} hashkey mask 0x{mask:08x} at {offset} link {TABLES[version]:x}:"


def filter_leaf(device: str, version: int, bucket: int, node: int, matches, minor: int) -> str:
    table = TABLES[version]
    words = " ".join(f"match u32 0x{value:08x} 0x{mask:08x} at {offset}" for value, mask, offset in matches)
    return f"filter add dev {device} parent 1: prio {PRIOS[version]} handle {table:x}:{bucket:x}:{node:x} protocol {PROTOCOLS[version]} u32 ht {table:x}:{bucket:x}: {words} flowid {classid(minor)}"


def filter_delete(device: str, version: int, handle: str) -> str:
    return f"filter del dev {device} parent 1: prio {PRIOS[version]} handle {handle} protocol {PROTOCOLS[version]} u32"


def filter_redirect(device: str, ifb: str) -> str:
    return f"filter add dev {device} parent ffff: prio 1 protocol all u32 match u32 0 0 action mirred egress redirect dev {ifb}"
