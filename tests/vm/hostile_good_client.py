# SPDX-License-Identifier: GPL-2.0
"""The well-behaved client of the hostile-client suite (tests/vm/test_hostile.py).

Runs in the VM guest, in a process of its own (so the attackers' Python does not hold
its interpreter lock), until the stop file appears:

    python hostile_good_client.py PORT TRANSPORT OUT STOPFILE

It calls testString (random text) and testI32 (random value) of examples/thrifttest's
module in turn with thriftpy2, checks every answer, and appends one line per call to
OUT: "<start> <seconds> <method> ok|wrong|error [detail]", start in CLOCK_MONOTONIC
seconds (the driver's clock: the same across processes).  After an error it reconnects.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from clients.common import Target  # noqa: E402
from clients.thrifttest import T  # noqa: E402

PAUSE = 0.02          # between calls: a steady client, not a load generator
TIMEOUT_MS = 20000    # a stalled call is recorded with its real duration, up to this


def main() -> int:
    port, transport, out, stop = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
    try:
        Path("/proc/self/oom_score_adj").write_text("-1000\n")
    except OSError:
        pass
    rng = random.Random(1)
    target = Target(port=port, transport=transport, where="kernel")
    client = None
    lines: list[str] = []
    last_flush = time.monotonic()
    n = 0
    with open(out, "a") as f:
        while not stop.exists():
            method = "testString" if n % 2 == 0 else "testI32"
            n += 1
            t0 = time.monotonic()
            status, detail = "ok", ""
            try:
                if client is None:
                    client = target.client(T, timeout=TIMEOUT_MS)
                if method == "testString":
                    arg = "".join(rng.choice("abcdefghij\u00e9\u2603") for _ in range(rng.randint(0, 200)))
                    got = client.testString(arg)
                else:
                    arg = rng.randint(-2**31, 2**31 - 1)
                    got = client.testI32(arg)
                if got != arg:
                    status, detail = "wrong", f"sent {arg!r:.60} got {got!r:.60}"
            except Exception as e:  # noqa: BLE001 - every failure is a finding
                status, detail = "error", f"{type(e).__name__}: {e}"[:200].replace("\n", " ")
                if client is not None:
                    try:
                        client.close()
                    except Exception:  # noqa: BLE001
                        pass
                client = None
            lines.append(f"{t0:.6f} {time.monotonic() - t0:.6f} {method} {status} {detail}\n")
            now = time.monotonic()
            if now - last_flush > 0.2:
                f.writelines(lines)
                f.flush()
                lines.clear()
                last_flush = now
            time.sleep(PAUSE if status == "ok" else 0.1)
        f.writelines(lines)
    if client is not None:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
