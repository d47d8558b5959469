#!/usr/bin/env python3
"""Writes two captures of the same packet sizes for `sl-bench hostile`:
    scripts/gen-hostile-capture.py HOSTILE.pcap WELLFORMED.pcap PACKETS

HOSTILE holds, in turn: IPv4 and TCP/UDP headers whose lengths lie (total
length beyond the frame, TCP data offset past the segment, UDP length
beyond the datagram), IPv6 extension chains at the parser's bound (8) and
beyond it (12), 1-byte frames, 65,535-byte IPv4 frames (one packet in
64), and stacks of 8 VLAN tags. WELLFORMED holds, packet for packet, a well-formed IPv4 or IPv6
TCP/UDP packet of the same size (60 bytes where the hostile frame has
fewer than a header's worth). Fixed seed; standard library only.
"""
import random
import struct
import sys

ETH = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01"


def ipv4(proto, payload, total=None, src=1, dst=2):
    total = 20 + len(payload) if total is None else total
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, total & 0xFFFF, 1, 0, 64, proto, 0,
                       bytes([10, 0, 0, src]), bytes([10, 0, 1, dst])) + payload


def tcp(sport, dport, data, offset=5):
    return struct.pack(">HHIIBBHHH", sport, dport, 1, 0, offset << 4, 0x18, 4096, 0, 0) + data


def udp(sport, dport, data, length=None):
    return struct.pack(">HHHH", sport, dport, (8 + len(data)) if length is None else length, 0) + data


def ipv6(next_header, payload):
    return struct.pack(">IHBB16s16s", 0x60000000, len(payload), next_header, 64,
                       b"\x20\x01\x0d\xb8" + bytes(11) + b"\x01", b"\x20\x01\x0d\xb8" + bytes(11) + b"\x02") + payload


def ether(ethertype, body):
    return ETH + struct.pack(">H", ethertype) + body


def well_formed(size, rng):
    """A well-formed Ethernet/IPv4/UDP or TCP frame of `size` bytes (60 at least)."""
    size = max(size, 60)
    room = size - 14 - 20
    if rng.random() < 0.5:
        return ether(0x0800, ipv4(17, udp(rng.randrange(1024, 65535), 53, bytes(room - 8))))
    return ether(0x0800, ipv4(6, tcp(rng.randrange(1024, 65535), 80, bytes(room - 20))))


def hostile(kind, rng):
    if kind == 0:    # total length beyond the frame
        return ether(0x0800, ipv4(6, tcp(1234, 80, bytes(40)), total=1500))
    if kind == 1:    # TCP data offset of 60 bytes in a 30-byte segment
        return ether(0x0800, ipv4(6, tcp(1234, 80, bytes(10), offset=15)))
    if kind == 2:    # UDP length beyond the datagram
        return ether(0x0800, ipv4(17, udp(1234, 53, bytes(30), length=9000)))
    if kind in (3, 4):  # IPv6 extension headers: 8 (at the bound) or 12 (past it), then TCP
        count = 8 if kind == 3 else 12
        body = tcp(1234, 80, bytes(20))
        for _ in range(count):
            body = struct.pack(">BB", 6 if _ == 0 else 60, 0) + bytes(6) + body  # destination options
        return ether(0x86DD, ipv6(60, body))
    if kind == 5:    # a 1-byte frame
        return b"\x02"
    if kind == 6:    # a 65,535-byte frame whose IPv4 header says less
        return ether(0x0800, ipv4(17, udp(1234, 53, bytes(65535 - 14 - 28)), total=1000))
    # 8 stacked VLAN tags, then IPv4/TCP
    tags = b"".join(struct.pack(">HH", 0x8100, 100 + i) for i in range(7))
    return ETH + tags + struct.pack(">HH", 0x8100, 107) + struct.pack(">H", 0x0800) + ipv4(6, tcp(1234, 80, bytes(20)))


def write(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i // 1000000, i % 1000000, len(frame), len(frame)))
            f.write(frame)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip())
    count = int(sys.argv[3])
    rng = random.Random(15)
    bad, good = [], []
    for i in range(count):
        kind = i % 8
        if kind == 6 and (i // 8) % 8:  # 64 KB frames: one packet in 64, not one in 8
            kind = 7
        frame = hostile(kind, rng)
        bad.append(frame)
        good.append(well_formed(len(frame), rng))
    write(sys.argv[1], bad)
    write(sys.argv[2], good)


if __name__ == "__main__":
    main()
