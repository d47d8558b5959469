#!/usr/bin/env python3
"""Checks that includes run one way between the rooms of src/:

    apps -> core -> graph -> (flow, shadow, filters, lang, io, packet, plugin) -> sdk -> include/sl

A room may include the rooms to its right, never one to its left or one
beside it. The example plugins include the public SDK only.
Usage: scripts/check-layers.py [SOURCE-ROOT]; prints each include that breaks
the rule and exits 1 if there is one."""
import pathlib
import re
import sys

LEVEL = {"include/sl": 0, "sdk": 1, "shadow": 2, "filters": 2, "lang": 2, "io": 2, "packet": 2, "plugin": 2, "flow": 2,
         "graph": 3, "core": 4, "apps": 5}
INCLUDE = re.compile(r'#\s*include\s+[<"]([^>"]+)[>"]')


def room_of(path, src):
    rel = path.relative_to(src)
    if rel.parts[0] == "include":
        return "include/sl"
    return rel.parts[0]


def target_of(header):
    if header.startswith("sl/"):
        return "include/sl"
    first = header.split("/")[0]
    return first if first in LEVEL and "/" in header else None


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent)
    src = root / "src"
    broken = []
    files = [(p, room_of(p, src)) for p in src.rglob("*.[ch]pp")]
    files += [(p, "apps") for p in (root / "apps").rglob("*.cpp")]
    for path, room in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            m = INCLUDE.match(line.strip())
            if not m:
                continue
            target = target_of(m.group(1))
            if target is None or target == room:
                continue
            if room == "plugins":
                ok = target == "include/sl"
            else:
                ok = LEVEL[target] < LEVEL[room]
            if not ok:
                broken.append(f"{path.relative_to(root)}:{number}: {room} includes {m.group(1)} ({target})")
    for b in broken:
        print(b)
    print(f"{len(files)} files, {len(broken)} includes against the rule")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
