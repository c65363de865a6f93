#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write .cache/kernels/kernels.json from the entries setup-kernels.sh just set up.

Usage: kernels-manifest.py MANIFEST < entries (one JSON object a line).

The entries of the series set up now replace theirs; the manifest's other entries are
kept while their vmlinuz and kbuild tree still exist, so `make kernels` (6.1 6.12) and
`make kernels-rt` (6.1-rt 6.12-rt) add up to one manifest instead of undoing each other.
Written to a temporary file and renamed: readers never see half a manifest.
"""

import json
import os
import sys

ORDER = ("6.1", "6.12", "6.1-rt", "6.12-rt")


def still_there(entry: dict) -> bool:
    return (os.path.isfile(entry.get("vmlinuz", ""))
            and os.path.isfile(os.path.join(entry.get("kdir", ""), "Makefile")))


def merge(old: list, new: list) -> list:
    done = {e["series"] for e in new}
    kept = [e for e in old if isinstance(e, dict) and e.get("series") not in done and still_there(e)]
    rank = {s: i for i, s in enumerate(ORDER)}
    return sorted(new + kept, key=lambda e: (rank.get(e["series"], len(ORDER)), e["series"]))


def main(argv: list) -> int:
    if len(argv) != 2:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    path = argv[1]
    new = [json.loads(line) for line in sys.stdin if line.strip()]
    old = []
    if os.path.isfile(path):
        try:
            with open(path) as f:
                old = json.load(f)
        except ValueError:
            old = []        # a broken manifest is rewritten from what is set up now
        if not isinstance(old, list):
            old = []
    out = merge(old, new)
    with open(path + ".tmp", "w") as f:
        f.write("[\n" + ",\n".join("  " + json.dumps(e) for e in out) + "\n]\n")
    os.replace(path + ".tmp", path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
