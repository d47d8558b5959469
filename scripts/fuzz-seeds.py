#!/usr/bin/env python3
"""Writes the seed corpus of one fuzz target into a folder:
    scripts/fuzz-seeds.py TARGET DIR

capture   every capture in pcap-samples/, whole and cut short
parser    every packet of the pcap samples, behind the byte that names its
          link type (fuzz/fuzz_parser.cpp)
language  config/*.sl and the README's pipelines
filters   bursts of the samples' Ethernet packets (fuzz/fuzz_filters.cpp)

Inputs in fuzz/regressions/TARGET/ (crashes found before) are seeds too.
Reads captures with the standard library only: the seeds must not need scapy.
"""
import glob
import os
import re
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# fuzz_parser.cpp's kLinkTypes, by LINKTYPE_ value: its index there.
PARSER_LINK_INDEX = {1: 0, 101: 1, 113: 2, 276: 3, 0: 4, 108: 5, 105: 6, 127: 7, 9: 8, 228: 9, 229: 10}


def pcap_packets(path):
    """(linktype, bytes) of each record of a classic pcap file."""
    data = open(path, "rb").read()
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return []
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    out, at = [], 24
    while at + 16 <= len(data):
        caplen = struct.unpack(e + "I", data[at + 8:at + 12])[0]
        at += 16
        if caplen > len(data) - at:
            break
        out.append((linktype, data[at:at + caplen]))
        at += caplen
    return out


def samples():
    return sorted(glob.glob(os.path.join(ROOT, "pcap-samples", "*.pcap*")))


def write(folder, name, data):
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def capture(folder):
    for path in samples():
        data = open(path, "rb").read()
        base = os.path.basename(path)
        if len(data) > 200_000:
            data = data[:200_000]
        write(folder, base, data)
        write(folder, base + ".cut", data[: len(data) * 2 // 3])


def parser(folder):
    n = 0
    for path in samples():
        for linktype, packet in pcap_packets(path):
            if linktype in PARSER_LINK_INDEX:
                write(folder, f"packet-{n}", bytes([PARSER_LINK_INDEX[linktype]]) + packet)
                n += 1


def language(folder):
    for path in sorted(glob.glob(os.path.join(ROOT, "config", "*.sl"))):
        shutil.copy(path, folder)
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    for n, line in enumerate(re.findall(r"^\s*(?:[a-z]+ = )?rx[^\n]*$", readme, re.M)):
        write(folder, f"readme-{n}.sl", line.strip().encode())


def filters(folder):
    n = 0
    for path in samples():
        packets = [p for linktype, p in pcap_packets(path) if linktype == 1]
        for start in range(0, len(packets), 16):
            burst = bytearray([n % 8])
            for p in packets[start:start + 16]:
                burst += struct.pack(">HBB", len(p), 0, start % 3) + p
            write(folder, f"burst-{n}", bytes(burst))
            n += 1


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("capture", "parser", "language", "filters"):
        sys.exit(__doc__.strip())
    target, folder = sys.argv[1], sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    globals()[target](folder)
    regressions = os.path.join(ROOT, "fuzz", "regressions", target)
    for path in sorted(glob.glob(os.path.join(regressions, "*"))):
        shutil.copy(path, folder)


if __name__ == "__main__":
    main()
