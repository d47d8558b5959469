#!/usr/bin/env python3
"""Makes the captures in pcap-samples/ (deterministic: fixed seed and times).

    python3 scripts/make-samples.py [OUTDIR]      # default: pcap-samples/

mixed.pcap        IPv4/IPv6, VLAN and QinQ, TCP/UDP/ICMP/ICMPv6/SCTP, HTTP,
                  IPv4 options, IPv6 extension headers, fragments, ARP
mixed.pcapng      the first 500 packets of mixed.pcap as pcapng
mixed-ns.pcap     the same 500 with nanosecond timestamps
raw-ip.pcap       IPv4 and IPv6 packets with the raw-IP link type
malformed.pcap    bad IHL, lying lengths, truncated headers, tiny frames
streams.pcap      TCP conversations for reassembly: reordering, retransmissions,
                  overlaps, sequence wrap-around, a RST mid-stream, a capture
                  that starts mid-stream, IPv6, VLAN, a request split mid-path
                  and a retransmission with other bytes than the first copy
fragments.pcap    IPv4 and IPv6 datagrams cut into fragments: in order, reversed,
                  interleaved, on a VLAN, after IPv6 extension headers, with
                  link-layer padding, 21 pieces of one datagram, and the TCP
                  segments of two connections; unfragmented packets between
fragments-whole.pcap  what defrag makes of fragments.pcap: each datagram whole,
                  where and when its last fragment came
"""
import sys

if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
    print(__doc__)
    sys.exit(0)

import os
import random
import struct

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether, ICMPv6EchoRequest, IPOption_RR, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Padding, Raw, fragment,
                       fragment6)
from scapy.layers.sctp import SCTP, SCTPChunkData
from scapy.utils import PcapWriter, wrpcap, wrpcapng

random.seed(20261121)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "pcap-samples")
BASE_TIME = 1700000000

HOSTS4 = ["10.0.0.1", "10.0.0.2", "10.0.1.7", "192.168.1.10", "192.168.1.20", "172.16.5.4", "8.8.8.8"]
HOSTS6 = ["2001:db8::1", "2001:db8::2", "2001:db8:1::7", "fe80::1", "2001:db8:ff::10"]
HTTP = [b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        b"GET /admin HTTP/1.1\r\nHost: example.com\r\n\r\n",
        b"POST /login HTTP/1.1\r\nContent-Length: 9\r\n\r\nuser=root",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"]
FLAGS = ["S", "SA", "A", "PA", "FA", "R", "RA"]


def ether(vlan=None):
    e = Ether(src="02:00:00:00:00:%02x" % random.randrange(256), dst="02:00:00:00:01:%02x" % random.randrange(256))
    if vlan == "qinq":
        return e / Dot1AD(vlan=100) / Dot1Q(vlan=random.choice([10, 20, 30]))
    if vlan:
        return e / Dot1Q(vlan=vlan)
    return e


def payload(n):
    return bytes(random.randrange(256) for _ in range(n))


def transport(v6=False):
    kind = random.choices(["http", "tcp", "udp", "dns", "icmp", "sctp"], [4, 3, 3, 2, 2, 1])[0]
    if kind == "http":
        to_server = random.random() < 0.6
        sp, dp = (random.randrange(1024, 65535), 80) if to_server else (80, random.randrange(1024, 65535))
        body = random.choice(HTTP[:3]) if to_server else HTTP[3]
        return TCP(sport=sp, dport=dp, flags="PA", seq=random.randrange(2**32)) / Raw(body)
    if kind == "tcp":
        dp = random.choice([22, 443, 8080, 25, 80])
        return TCP(sport=random.randrange(1024, 65535), dport=dp, flags=random.choice(FLAGS)) / Raw(
            payload(random.choice([0, 0, 20, 200, 1000])))
    if kind == "udp":
        return UDP(sport=random.randrange(1024, 65535), dport=random.choice([123, 5000, 4789])) / Raw(
            payload(random.choice([8, 64, 512])))
    if kind == "dns":
        return UDP(sport=random.randrange(1024, 65535), dport=53) / Raw(payload(40))
    if kind == "icmp":
        return ICMPv6EchoRequest(id=random.randrange(65536)) / Raw(payload(32)) if v6 else ICMP(type=8) / Raw(payload(32))
    return SCTP(sport=random.randrange(1024, 65535), dport=9899) / SCTPChunkData(data=payload(24))


def mixed_packets():
    packets = []
    for i in range(1800):
        r = random.random()
        vlan = None
        if r < 0.10:
            vlan = random.choice([5, 100, 200])
        elif r < 0.15:
            vlan = "qinq"
        if random.random() < 0.25:
            ip = IPv6(src=random.choice(HOSTS6), dst=random.choice(HOSTS6), hlim=random.choice([1, 64, 255]))
            ext = random.random()
            if ext < 0.05:
                ip = ip / IPv6ExtHdrHopByHop()
            elif ext < 0.08:
                ip = ip / IPv6ExtHdrRouting(addresses=["2001:db8::99"])
            elif ext < 0.10:
                ip = ip / IPv6ExtHdrDestOpt()
            p = ether(vlan) / ip / transport(v6=True)
        else:
            ip = IP(src=random.choice(HOSTS4), dst=random.choice(HOSTS4), ttl=random.choice([1, 32, 64, 128]),
                    id=random.randrange(65536))
            if random.random() < 0.03:
                ip.options = [IPOption_RR()]
            p = ether(vlan) / ip / transport()
        packets.append(p)
        if i % 150 == 0:
            packets.append(ether() / ARP(pdst=random.choice(HOSTS4)))
        if i % 300 == 0:
            big = IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=4000, dport=5000) / Raw(payload(3000))
            packets.extend(ether() / f for f in fragment(big, fragsize=1000))
            big6 = IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(id=i, m=1) / UDP(
                sport=4000, dport=5000) / Raw(payload(64))
            packets.append(ether() / big6)
            later6 = IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(id=i, offset=100, nh=17) / Raw(
                payload(64))
            packets.append(ether() / later6)
    return packets


def stamp(packets):
    for i, p in enumerate(packets):
        p.time = BASE_TIME + i * 0.000731 + (i % 7) * 0.000001
    return packets


def raw_record(data, t, wire=None):
    sec = int(t)
    usec = int(round((t - sec) * 1e6))
    return struct.pack("<IIII", sec, usec, len(data), wire if wire is not None else len(data)) + data


def long_ipv6_chain():
    """IPv6 with nine chained hop-by-hop headers (more than the parser walks)."""
    hop = b"\x01\x04\x00\x00\x00\x00"  # PadN filling an 8-byte header
    chain = (b"\x00\x00" + hop) * 8 + b"\x11\x00" + hop + bytes(UDP(sport=1, dport=2))
    return bytes(Ether() / IPv6(src="2001:db8::1", dst="2001:db8::2", nh=0, plen=len(chain))) + chain


def malformed_capture(path):
    """Written by hand: scapy would fix the lengths we want wrong."""
    good = bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1234, dport=80) / Raw(b"GET / HTTP/1.1\r\n"))
    udp = bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1234, dport=53) / Raw(b"x" * 20))
    v6 = bytes(Ether() / IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=1, dport=80))

    def patch(data, offset, value):
        return data[:offset] + bytes([value]) + data[offset + 1:]

    cases = [
        good,                                              # a good packet for reference
        patch(good, 14, 0x43),                             # IHL 3 (below 5)
        patch(good, 14, 0x4f),                             # IHL 15: header longer than the packet
        good[:16] + b"\xff\xff" + good[18:],               # total length 65535: lies
        good[:16] + b"\x00\x10" + good[18:],               # total length 16: below the header
        patch(good, 14, 0x55),                             # IP version 5
        good[:20],                                         # truncated IPv4 header
        good[:40],                                         # truncated TCP header
        patch(good, 46, 0x20),                             # TCP data offset 2 (below 5)
        patch(good, 46, 0xf0),                             # TCP data offset 15: beyond the data
        udp[:38] + b"\x00\x04" + udp[40:],                 # UDP length 4
        udp[:36],                                          # truncated UDP header
        v6[:30],                                           # truncated IPv6 header
        v6[:18] + b"\xff\xff" + v6[20:],                   # IPv6 payload length lies
        bytes(Ether() / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / IP() / UDP()),  # three VLAN tags
        bytes(Ether(type=0x8100)) + b"\x00",               # truncated VLAN tag
        long_ipv6_chain(),                                 # nine hop-by-hop headers
        b"\x01\x02\x03",                                   # three bytes
        b"\x00" * 13,                                      # truncated Ethernet header
        b"",                                               # zero-length record
        bytes(random.randrange(256) for _ in range(60)),   # garbage
        bytes(random.randrange(256) for _ in range(1500)),  # more garbage
        good,
    ]
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i, data in enumerate(cases):
            f.write(raw_record(data, BASE_TIME + i * 0.01))


def tcp_conversation(rng, client, server, sport, dport, sizes, order=None, isn=None, v6=False, vlan=None,
                     syn=True, rst_after=None, extra=(), rewrite=(), data=None):
    """One connection: handshake, the client's segments in `order` (indexes
    into `sizes`, repeats are retransmissions), `extra` (offset, length)
    segments that overlap what was sent with the same bytes, `rewrite`
    (offset, length) ones that overlap it with other bytes, a reply, and
    FIN both ways (or the server's RST after the client's segment
    `rst_after`). The client sends `data`, or random bytes."""
    L3 = IPv6 if v6 else IP
    c_isn = rng.randrange(2**32) if isn is None else isn
    s_isn = rng.randrange(2**32)
    if data is None:
        data = bytes(rng.randrange(256) for _ in range(sum(sizes)))
    assert len(data) == sum(sizes)
    reply = bytes(rng.randrange(256) for _ in range(700))

    def seg(src, dst, sp, dp, flags, seq, ack, body=b""):
        e = Ether() / Dot1Q(vlan=vlan) if vlan else Ether()
        p = e / L3(src=src, dst=dst) / TCP(sport=sp, dport=dp, flags=flags, seq=seq % 2**32, ack=ack % 2**32)
        return p / Raw(body) if body else p

    to_s = lambda flags, seq, body=b"": seg(client, server, sport, dport, flags, seq, s_isn + 1, body)
    to_c = lambda flags, seq, body=b"": seg(server, client, dport, sport, flags, seq, c_isn + 1 + len(data), body)
    packets = []
    if syn:
        packets += [to_s("S", c_isn), to_c("SA", s_isn), to_s("A", c_isn + 1)]
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    for i in (order if order is not None else range(len(sizes))):
        packets.append(to_s("PA", c_isn + 1 + starts[i], data[starts[i]:starts[i] + sizes[i]]))
        if rst_after == i:
            packets.append(to_c("R", s_isn + 1))
            return packets
    for off, n in extra:
        packets.append(to_s("PA", c_isn + 1 + off, data[off:off + n]))
    for off, n in rewrite:
        packets.append(to_s("PA", c_isn + 1 + off, bytes(b ^ 0x5A for b in data[off:off + n])))
    packets += [to_c("PA", s_isn + 1, reply[:400]), to_c("PA", s_isn + 401, reply[400:])]
    end = c_isn + 1 + len(data)
    packets += [to_s("FA", end), to_c("FA", s_isn + 1 + len(reply)), to_s("A", end + 1)]
    return packets


HTTP_ADMIN_REQUEST = b"GET /admin/users HTTP/1.1\r\nHost: example.org\r\n\r\n"


def streams_packets():
    rng = random.Random(20261202)
    convs = [
        # reordered, with a retransmission and overlaps of the same bytes
        tcp_conversation(rng, "10.1.0.1", "10.1.0.2", 40000, 80, [300] * 6, order=[0, 2, 1, 1, 4, 3, 5],
                         extra=[(250, 200), (1000, 500)]),
        # sequence numbers wrap around in the middle of the stream
        tcp_conversation(rng, "10.1.0.3", "10.1.0.2", 40001, 80, [400] * 5, isn=2**32 - 900),
        # the server resets the connection in the middle of the stream
        tcp_conversation(rng, "10.1.0.4", "10.1.0.2", 40002, 80, [500] * 4, rst_after=1),
        # the capture begins in the middle of the stream
        tcp_conversation(rng, "10.1.0.5", "10.1.0.2", 40003, 8080, [200] * 3, syn=False),
        tcp_conversation(rng, "2001:db8::a", "2001:db8::b", 40004, 443, [600, 600, 100], order=[1, 0, 2], v6=True),
        tcp_conversation(rng, "10.2.0.1", "10.2.0.2", 40005, 25, [250] * 4, order=[3, 2, 1, 0], vlan=7),
        # a web request split in the middle of its path ("GET /adm", "in/...")
        tcp_conversation(rng, "10.1.0.6", "10.1.0.2", 40006, 80, [8, 40], data=HTTP_ADMIN_REQUEST),
        # a retransmission that carries other bytes than the first copy
        tcp_conversation(rng, "10.1.0.7", "10.1.0.2", 40007, 80, [300] * 3, rewrite=[(200, 200)]),
    ]
    # Conversations interleave, one packet of each in turn.
    packets = []
    while any(convs):
        for c in convs:
            if c:
                packets.append(c.pop(0))
    return packets


def fragments_packets():
    """Returns (fragments, wholes): the capture and, record for record, what
    joining its fragments gives (a datagram takes the place and time of the
    fragment that completed it)."""
    rng = random.Random(20261203)
    body = lambda n: bytes(rng.randrange(256) for _ in range(n))
    ipid = iter(range(0x4000, 0x5000))

    def v4(size, src="10.3.0.1", dst="10.3.0.2", vlan=None, sport=5000, dport=53):
        e = Ether() / Dot1Q(vlan=vlan) if vlan else Ether()
        return e / IP(src=src, dst=dst, id=next(ipid)) / UDP(sport=sport, dport=dport) / Raw(body(size))

    def v6(size, ext=None, src="2001:db8:3::1", dst="2001:db8:3::2"):
        l3 = IPv6(src=src, dst=dst)
        return Ether() / (l3 / ext if ext is not None else l3) / UDP(sport=6000, dport=6001) / Raw(body(size))

    def cut4(p, mtu):
        link = Ether(bytes(p)[:len(p) - len(p[IP])])
        return [link / f for f in fragment(p[IP], mtu)]

    def cut6(p, mtu):
        inner = p[IPv6].copy()
        # The fragment header goes after the extension headers that every
        # piece repeats (hop-by-hop, routing), as RFC 8200 puts it.
        layer = inner
        while isinstance(layer.payload, (IPv6ExtHdrHopByHop, IPv6ExtHdrRouting)):
            layer = layer.payload
        rest = layer.payload
        layer.remove_payload()
        layer.add_payload(IPv6ExtHdrFragment(id=next(ipid)) / rest)
        link = Ether(bytes(p)[:len(p) - len(p[IPv6])])
        return [link / f for f in fragment6(inner, mtu)]

    wholes = []   # (datagram, index into the fragment list of the piece that completes it)
    datagrams = []  # lists of records, each a datagram's pieces in the order they are sent
    # In order, reversed, and a datagram of 21 pieces.
    datagrams.append(("in order", v4(3000), lambda p: cut4(p, 1000)))
    datagrams.append(("reversed", v4(2500, dport=123), lambda p: cut4(p, 800)[::-1]))
    datagrams.append(("21 pieces", v4(30000, dport=9000), lambda p: cut4(p, 1480)))
    datagrams.append(("vlan", v4(1800, vlan=42), lambda p: cut4(p, 600)))
    datagrams.append(("ipv6", v6(3000), lambda p: cut6(p, 1280)))
    datagrams.append(("ipv6 reordered", v6(4000), lambda p: (lambda f: [f[1], f[3], f[0], f[2]])(cut6(p, 1280))))
    datagrams.append(("ipv6 hop-by-hop", v6(2000, ext=IPv6ExtHdrHopByHop()), lambda p: cut6(p, 1280)))
    datagrams.append(("ipv6 dest-opts", v6(2000, ext=IPv6ExtHdrDestOpt()), lambda p: cut6(p, 1280)))

    def padded_last(p):
        # The last piece carries 8 bytes: its frame is padded to 60 bytes.
        pieces = cut4(p, 1008)
        pieces[-1] = pieces[-1] / Padding(b"\0" * (60 - len(pieces[-1])))
        return pieces
    datagrams.append(("padding", v4(1008, dport=514), padded_last))

    # Two TCP connections whose data segments travel as fragments.
    for conv in (tcp_conversation(rng, "10.3.1.1", "10.3.1.2", 41000, 80, [2000, 1600, 900]),
                 tcp_conversation(rng, "2001:db8:3::a", "2001:db8:3::b", 41001, 80, [3000, 1400], v6=True)):
        for p in conv:
            big = len(p) > 1000
            if big and p.haslayer(IPv6):
                datagrams.append(("tcp6", p, lambda q: cut6(q, 700)))
            elif big:
                p[IP].id = next(ipid)  # a sender numbers its datagrams
                datagrams.append(("tcp4", p, lambda q: cut4(q, 700)))
            else:
                datagrams.append(("whole", p, lambda q: [q]))

    # Every datagram's pieces, and plain packets, interleave: two datagrams
    # are in flight at any time.
    queues = [(whole, cut(whole)) for _, whole, cut in datagrams]
    fragments = []
    active = []
    while queues or active:
        while len(active) < 2 and queues:
            active.append(queues.pop(0))
        whole, pieces = active[0]
        fragments.append(pieces.pop(0))
        if not pieces:
            wholes.append((whole, len(fragments) - 1))
            active.pop(0)
        else:
            active.append(active.pop(0))
    stamp(fragments)
    out = []
    for whole, at in wholes:
        w = Ether(bytes(whole))
        w.time = fragments[at].time
        out.append((at, w))
    out.sort(key=lambda x: x[0])
    return fragments, [w for _, w in out]


def main():
    os.makedirs(OUT, exist_ok=True)
    mixed = stamp(mixed_packets())
    wrpcap(os.path.join(OUT, "mixed.pcap"), mixed)
    wrpcapng(os.path.join(OUT, "mixed.pcapng"), mixed[:500])
    with PcapWriter(os.path.join(OUT, "mixed-ns.pcap"), nano=True) as w:
        for p in mixed[:500]:
            w.write(p)
    raw = []
    for p in mixed[:400]:
        if p.haslayer(IP) and not p.haslayer(Dot1Q):
            raw.append(p[IP])
        elif p.haslayer(IPv6) and not p.haslayer(Dot1Q):
            raw.append(p[IPv6])
    wrpcap(os.path.join(OUT, "raw-ip.pcap"), stamp(raw), linktype=101)
    malformed_capture(os.path.join(OUT, "malformed.pcap"))
    wrpcap(os.path.join(OUT, "streams.pcap"), stamp(streams_packets()))
    fragments, wholes = fragments_packets()
    wrpcap(os.path.join(OUT, "fragments.pcap"), fragments)
    wrpcap(os.path.join(OUT, "fragments-whole.pcap"), wholes)


if __name__ == "__main__":
    main()
