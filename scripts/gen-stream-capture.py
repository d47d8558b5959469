#!/usr/bin/env python3
"""Writes a large capture of TCP connections for the stream benchmarks (fixed seed).

    python3 scripts/gen-stream-capture.py OUT.pcap [PACKETS] [FLOWS] [REORDER]
    # defaults: 1,000,000 packets, 5,000 connections at a time

FLOWS connections at a time between 10.x.y.z clients and a few servers, each
a handshake, requests and responses of 100 to 1400 bytes, 1% of segments
swapped with the next one of their direction, and FIN both ways; a finished
connection is replaced by a new one until PACKETS are written; then the
open connections finish (so no stream ends in a gap). With REORDER (a
fraction, e.g. 0.01), that fraction of all data segments is swapped with
the next data segment of its direction, whichever exchange it is in,
instead. Packets are built from byte templates,
not scapy, so that a million take seconds.
"""
import random
import struct
import sys


def frame(src, dst, sport, dport, seq, ack, flags, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq % 2**32, ack % 2**32, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst)
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + tcp


class Connection:
    def __init__(self, rng, serial, blob, reorder=None):
        self.rng = rng
        self.reorder = reorder
        self.client = bytes([10, (serial >> 16) & 255, (serial >> 8) & 255, serial & 255 or 1])
        self.server = bytes([192, 168, 0, rng.randrange(1, 8)])
        self.sport = 1024 + serial % 60000
        self.isn = [rng.randrange(2**32), rng.randrange(2**32)]
        self.sent = [0, 0]
        self.blob = blob
        self.queue = []
        self.exchanges = rng.randrange(2, 12)
        self.plan()

    def seg(self, d, flags, n=0):
        src, dst = (self.client, self.server) if d == 0 else (self.server, self.client)
        sp, dp = (self.sport, 80) if d == 0 else (80, self.sport)
        off = self.rng.randrange(len(self.blob) - n) if n else 0
        p = frame(src, dst, sp, dp, self.isn[d] + 1 + self.sent[d], self.isn[1 - d] + 1 + self.sent[1 - d], flags,
                  self.blob[off:off + n])
        self.sent[d] += n
        return p

    def plan(self):
        q = [(None, frame(self.client, self.server, self.sport, 80, self.isn[0], 0, 0x02, b"")),
             (None, frame(self.server, self.client, 80, self.sport, self.isn[1], self.isn[0] + 1, 0x12, b""))]
        for _ in range(self.exchanges):
            d = self.rng.random() < 0.4
            burst = [self.seg(int(d), 0x18, self.rng.choice([100, 300, 700, 1400])) for _ in range(self.rng.randrange(1, 4))]
            for i in range(len(burst) - 1):
                if self.reorder is None and self.rng.random() < 0.01:
                    burst[i], burst[i + 1] = burst[i + 1], burst[i]
            q += [(int(d), p) for p in burst]
        if self.reorder is not None:
            for i in range(2, len(q)):
                if q[i][0] is None or self.rng.random() >= self.reorder:
                    continue
                j = next((k for k in range(i + 1, len(q)) if q[k][0] == q[i][0]), None)
                if j is not None:
                    q[i], q[j] = q[j], q[i]
        q = [p for _, p in q]
        q += [self.seg(0, 0x11), self.seg(1, 0x11)]
        self.queue = q


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    flows = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    reorder = float(sys.argv[4]) if len(sys.argv) > 4 else None
    rng = random.Random(14)
    blob = bytes(rng.randrange(256) for _ in range(65536))
    serial = 0
    live = []
    for _ in range(flows):
        serial += 1
        live.append(Connection(rng, serial, blob, reorder))
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        t = 1700000000 * 1000000
        written = 0
        while live:
            k = rng.randrange(len(live))
            c = live[k]
            p = c.queue.pop(0)
            if not c.queue:
                serial += 1
                if written < count:
                    live[k] = Connection(rng, serial, blob, reorder)
                else:
                    live[k] = live[-1]
                    live.pop()
            t += 3
            written += 1
            f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(p), len(p)) + p)


if __name__ == "__main__":
    sys.exit(main())
