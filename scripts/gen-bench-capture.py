#!/usr/bin/env python3
"""Writes a large synthetic capture for the benchmarks (fixed seed).

    python3 scripts/gen-bench-capture.py OUT.pcap [PACKETS]   # default 3,000,000

A mix like an edge link: TCP to port 80 and 443, UDP, some IPv6, frame sizes
from 64 to 1514 bytes. Packets are built from byte templates, not scapy, so
that three million take seconds.
"""
import random
import struct
import sys


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    return (~(s + (s >> 16))) & 0xFFFF


def ipv4_tcp(src, dst, sport, dport, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x18, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + tcp


def ipv4_udp(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + udp


def ipv6_tcp(sport, dport, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x18, 65535, 0, 0) + payload
    ip = struct.pack("!IHBB16s16s", 0x60000000, len(tcp), 6, 64, b"\x20\x01\x0d\xb8" + b"\x00" * 11 + b"\x01",
                     b"\x20\x01\x0d\xb8" + b"\x00" * 11 + b"\x02")
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x86\xdd" + ip + tcp


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3000000
    rng = random.Random(3)
    hosts = [bytes([10, 0, rng.randrange(256), rng.randrange(1, 255)]) for _ in range(64)]
    sizes = [0, 0, 0, 40, 100, 300, 700, 1400]
    templates = []
    for i in range(4096):
        size = rng.choice(sizes)
        payload = bytes(rng.randrange(256) for _ in range(size))
        kind = rng.random()
        src, dst = rng.choice(hosts), rng.choice(hosts)
        if kind < 0.25:
            frame = ipv4_tcp(src, dst, rng.randrange(1024, 65535), 80, payload)
        elif kind < 0.5:
            frame = ipv4_tcp(src, dst, 443, rng.randrange(1024, 65535), payload)
        elif kind < 0.8:
            frame = ipv4_udp(src, dst, rng.randrange(1024, 65535), rng.choice([53, 123, 4789]), payload[:600])
        else:
            frame = ipv6_tcp(rng.randrange(1024, 65535), rng.choice([80, 22, 8080]), payload)
        frame = frame[:1514]
        templates.append(frame + b"\x00" * max(0, 60 - len(frame)))
    with open(out, "wb", buffering=1 << 22) as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        t = 1700000000 * 1000000
        chunk = []
        for i in range(count):
            frame = templates[(i * 2654435761) % 4096]
            t += 1 + (i % 5)
            chunk.append(struct.pack("<IIII", t // 1000000, t % 1000000, len(frame), len(frame)))
            chunk.append(frame)
            if len(chunk) >= 8192:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))


if __name__ == "__main__":
    main()
