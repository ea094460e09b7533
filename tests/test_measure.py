"""The rates of `bandwidth measure` from byte counters read on one clock (measure_read), without a lab."""

from __future__ import annotations

import pytest

from bandwidth.reports import measure_read

RATE = 10_000_000 / 8  # bytes per second: 10 Mbit/s


def test_a_rate_is_the_bytes_between_the_first_read_and_the_last():
    assert measure_read.rate_mbps([(0.0, 0), (0.5, 500_000), (1.0, round(RATE))]) == 10.0
    # Reads between do not weigh: 15 Mbit/s for 0.3 s, 5 for 0.6 s, 25 for the last 0.1 s is 10 Mbit/s over the window.
    # A line fitted through the eleven reads would say 8.3 Mbit/s, below the window's average and below its goodput.
    uneven = [(0.1 * i, round(RATE * (0.15 * i if i <= 3 else 0.45 + 0.05 * (i - 3)))) for i in range(10)] + [(1.0, round(RATE))]
    assert measure_read.rate_mbps(uneven) == 10.0


@pytest.mark.parametrize("points", [[], [(0.0, 0)], [(0.0, 5000), (0.1, 125_000), (0.2, 100)], [(0.5, 0), (0.5, 100)]], ids=["none", "one read", "counter went back", "no time between"])
def test_no_rate_without_two_reads_of_one_counter(points):
    assert measure_read.rate_mbps(points) is None


# `ss -tinH state connected` in an uplink's server namespace, as iproute2 6.1 prints it (trimmed): the control
# connection and two data connections of an IPv4 download from port 5206 (one with 3 segments held beyond a loss),
# an IPv6 data connection on 5207, a connection closing (TIME-WAIT: no TCP_INFO left) and one to another port.
SS = """ESTAB 0      0      198.19.8.2:5206 198.18.15.2:41960
\t bbr wscale:10,10 rto:204 mss:1448 advmss:1448 bytes_sent:4 bytes_acked:4 bytes_received:179 segs_out:6
ESTAB 0      676216 198.19.8.2:5206 198.18.15.2:41972
\t bbr wscale:10,10 rto:216 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 bytes_sent:1326368 bytes_acked:1308992 bytes_received:37 sacked:3
ESTAB 0      739096 198.19.8.2:5206 198.18.15.2:41966
\t bbr wscale:10,10 rto:220 mss:1448 bytes_sent:1094072 bytes_acked:1076696 bytes_received:37
ESTAB     0      0      [2001:2:0:ff08::2]:5207 [2001:2:0:1006::2]:55370
\t bbr wscale:10,10 rto:208 mss:1428 bytes_sent:900000 bytes_acked:880000 bytes_received:37
TIME-WAIT 0      0      [2001:2:0:ff08::2]:5207 [2001:2:0:1006::2]:56139
\t
ESTAB 0      0      198.18.10.2:50000 198.19.8.2:5201
\t cubic mss:1448 bytes_acked:123456 bytes_received:5
"""


def test_connections_are_read_with_the_payload_their_sender_knows_delivered():
    found = measure_read.parse_connections(SS)
    assert found[(5206, 41972, "198.18.15.2")] == 1308992 + 3 * 1448  # acknowledged, and held by the receiver beyond a loss
    assert found[(5207, 55370, "[2001:2:0:1006::2]")] == 880000
    assert found[(50000, 5201, "198.19.8.2")] == 123456  # a client's connection: the server's port is the peer's
    assert (5207, 56139, "[2001:2:0:1006::2]") not in found  # closing: nothing to read
    assert len(found) == 5


def test_goodput_sums_the_connections_of_its_port_and_keeps_what_a_closed_one_carried():
    delivered = measure_read.Goodput(5206, old={(5206, 41960, "198.18.15.2")})
    delivered.add(measure_read.parse_connections(SS), 0.0)
    assert delivered.points == [(0.0, 1308992 + 3 * 1448 + 1076696)]  # the connection of an earlier round left out
    # 0.1 s later: 125,000 bytes more on each connection, then one of them is gone (it closed): it keeps what it carried.
    start = delivered.points[0][1]
    delivered.add({(5206, 41972, "198.18.15.2"): 1308992 + 3 * 1448 + 125_000, (5206, 41966, "198.18.15.2"): 1076696 + 125_000}, 0.1)
    delivered.add({(5206, 41966, "198.18.15.2"): 1076696 + 250_000}, 0.2)
    assert delivered.points[-1] == (0.2, start + 375_000)
    assert delivered.mbps() == 15.0  # 375 kB from the first read to the last, 0.2 s apart
    upload = measure_read.Goodput(5201, old=set())  # read in the client's namespace: the server's port is the peer's
    upload.add(measure_read.parse_connections(SS), 0.0)
    assert upload.points == [(0.0, 123456)]


def test_connections_are_read_without_the_state_column_too():
    """ss leaves the state out when one state is asked for (`state established`)."""
    found = measure_read.parse_connections("0      0      198.19.8.2:5206 198.18.15.2:44944\n\t bbr mss:1448 bytes_acked:1000 bytes_received:37\n")
    assert found == {(5206, 44944, "198.18.15.2"): 1000}
