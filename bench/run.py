#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Kernel vs user space, side by side in one VM: the thesis' two benchmarks.

    .venv/bin/python bench/run.py [--kernel 6.1] [--bench echo,forwarder] [--quick]

echo (thesis section 3.2): the raw byte echo, the client sending and reading back
buffers of 32 B .. 16 KiB.  Kernel: the runtime's test module (service=echo_raw);
user space: the same service file built as a user-space server (epoll backend).

forwarder (thesis section 3.3): the generated forwarder (examples/forwarder), 8
clients sending framed one-way `msg(key, payload)` messages spread over 20 backend
sinks.  Kernel: forwarder.ko; user space: forwarder_user.

The VM boots with one CPU and `-icount shift=0,sleep=off`, so guest time counts
instructions: figures repeat exactly from run to run and do not depend on the
host's load.  Absolute numbers are those of an emulated CPU; the ratios are what
to read (a floor for real hardware, where system-call costs are higher).
Prints a table per benchmark and writes bench/results/<bench>.json and .png.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import vmharness  # noqa: E402

BUILD = REPO / "bench" / "build"
RESULTS = REPO / "bench" / "results"
ECHO_SIZES = (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
FWD_PAYLOADS = (32, 64, 128, 256, 512, 1024, 2048, 4096)
FWD_CLIENTS = 8
FWD_BACKENDS = 20


def sh(cmd: list[str], cwd: Path = REPO) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def build_client() -> Path:
    BUILD.mkdir(parents=True, exist_ok=True)
    out = BUILD / "kgen-bench"
    sh(["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(out),
        str(REPO / "bench" / "clients" / "kgen_bench.c")])
    return out


def echo_bytes_per_size(size: int, quick: bool) -> int:
    """Rounds per buffer size: about the same bytes for large sizes, enough rounds for small."""
    total = (256 << 10) if quick else (2 << 20)
    return max(total // size, 200 if quick else 1000)


def build_echo(kernel: vmharness.Kernel) -> tuple[Path, Path]:
    sh(["make", "-s", "-C", "runtime/testsvc"])
    user = REPO / "runtime" / "build" / "user" / "kgen-testsvc"
    # The test module builds from a staged tree (its Makefile's `stage` target).
    stage = BUILD / f"testsvc-src-{kernel.version}"
    sh(["make", "-s", "-C", "runtime/testsvc/kernel", "stage", f"OUT={stage}", f"KDIR={kernel.kdir}"])
    ko = vmharness.build_module(stage, kernel, build_dir=BUILD / f"testsvc-{kernel.version}")
    return ko, user


def echo_script(ko: Path, user: Path, client: Path, quick: bool) -> str:
    lines = ["set -e", "out=$KGEN_RESULTS/echo.jsonl", ": > $out"]

    def runs(mode: str) -> None:
        for size in ECHO_SIZES:
            rounds = echo_bytes_per_size(size, quick)
            lines.append(
                f"{shlex.quote(str(client))} echo 127.0.0.1 9100 {size} {rounds}"
                f" | sed 's/^{{/{{\"mode\": \"{mode}\", /' >> $out")

    lines.append(f"insmod {shlex.quote(str(ko))} service=echo_raw port=9100")
    runs("kernel")
    lines.append(f"rmmod {ko.stem}")
    lines.append(f"{shlex.quote(str(user))} --service echo_raw --port 9100 > /tmp/u.out 2>&1 &")
    lines.append("pid=$!; for i in $(seq 100); do grep -q listening /tmp/u.out && break; sleep 0.1; done")
    runs("user")
    lines.append("kill $pid; wait $pid || true")
    return "\n".join(lines) + "\n"


def build_forwarder(kernel: vmharness.Kernel) -> tuple[Path, Path]:
    ex = REPO / "examples" / "forwarder"
    sh(["make", "-s", "-C", str(ex), "user"])
    ko = vmharness.build_module(ex, kernel, build_dir=BUILD / f"forwarder-{kernel.version}")
    return ko, ex / "forwarder_user"


def fwd_count(payload: int, quick: bool) -> int:
    total = (256 << 10) if quick else (2 << 20)
    return max(total // (payload + 30), 100)


def sink_share(count: int, client: int, backend: int) -> int:
    """Messages of one client that go to one backend: keys are (client + i) mod backends."""
    whole, rest = divmod(count, FWD_BACKENDS)
    return whole + (1 if (backend - client) % FWD_BACKENDS < rest else 0)


def forwarder_script(ko: Path, user: Path, client: Path, quick: bool) -> str:
    lines = ["set -e", "out=$KGEN_RESULTS/forwarder.jsonl", ": > $out"]
    q = shlex.quote(str(client))

    def runs(mode: str) -> None:
        for payload in FWD_PAYLOADS:
            count = fwd_count(payload, quick)
            # Bytes each sink expects: its share of every client's framed messages.
            msg = 4 + 12 + 3 + 7 + 7 + payload + 1
            lines.append("pids=''")
            for b in range(FWD_BACKENDS):
                share = sum(sink_share(count, c, b) for c in range(FWD_CLIENTS))
                lines.append(f"{q} sink {9300 + b} {share * msg} > /tmp/sink{b}.out & pids=\"$pids $!\"")
            # Every sink listens before the forwarder connects to it.
            lines.append(f"for b in $(seq 0 {FWD_BACKENDS - 1}); do"
                         " until grep -q listening /tmp/sink$b.out 2>/dev/null; do sleep 0.05; done; done")
            # connect() from the C client: Python would cost minutes of guest time to start.
            lines.append(f"{q} connect 127.0.0.1 9200 127.0.0.1 9300 {FWD_BACKENDS}")
            # Every client is started and connected, then all start sending at once.
            lines.append("rm -f /tmp/go; mkfifo /tmp/go; cpids=''")
            for c in range(FWD_CLIENTS):
                lines.append(f"KGEN_BENCH_GO=/tmp/go {q} fwd 127.0.0.1 9200 {payload} {count}"
                             f" {FWD_BACKENDS} {c} > /tmp/client{c}.out 2> /tmp/client{c}.err &"
                             " cpids=\"$cpids $!\"")
            lines.append(f"for c in $(seq 0 {FWD_CLIENTS - 1}); do"
                         " until grep -q ready /tmp/client$c.err 2>/dev/null; do sleep 0.05; done; done")
            # One byte each; the FIFO stays open until they are done, so none misses its byte.
            lines.append(f"exec 3<> /tmp/go; printf '%{FWD_CLIENTS}s' '' >&3")
            lines.append("wait $cpids; exec 3>&-; wait $pids")
            lines.append(f"for b in $(seq 0 {FWD_BACKENDS - 1}); do grep bytes /tmp/sink$b.out"
                         f" | sed 's/^{{/{{\"mode\": \"{mode}\", \"payload\": {payload},"
                         f" \"sink\": '$b', \"expected\": {count * FWD_CLIENTS},/' >> $out; done")

    lines.append(f"insmod {shlex.quote(str(ko))} port=9200 transport=framed")
    runs("kernel")
    lines.append(f"rmmod {ko.stem}")
    lines.append(f"{shlex.quote(str(user))} --port 9200 --transport framed > /tmp/u.out 2>&1 &")
    lines.append("upid=$!; until grep -q listening /tmp/u.out; do sleep 0.05; done")
    runs("user")
    lines.append("kill $upid; wait $upid || true")
    return "\n".join(lines) + "\n"


def table(title: str, key: str, rows: list[dict], value) -> list[dict]:
    by = {(r["mode"], r[key]): r for r in rows}
    keys = sorted({r[key] for r in rows})
    print(f"\n{title}")
    print(f"{key:>10} {'kernel Mbit/s':>14} {'user Mbit/s':>12} {'kernel/user':>12}")
    out = []
    for k in keys:
        kv, uv = value(by[("kernel", k)]), value(by[("user", k)])
        ratio = kv / uv if uv else float("nan")
        print(f"{k:>10} {kv:>14.2f} {uv:>12.2f} {ratio:>12.2f}")
        out.append({key: k, "kernel_mbps": kv, "user_mbps": uv, "ratio": ratio})
    return out


def plot(name: str, key: str, summary: list[dict], xlabel: str) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no plot)")
        return
    xs = [r[key] for r in summary]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(xs, [r["kernel_mbps"] for r in summary], "o-", label="kernel module")
    ax.plot(xs, [r["user_mbps"] for r in summary], "s-", label="user-space server")
    ax.set_xscale("log", base=2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("throughput, Mbit/s (guest time = instructions)")
    ax.set_title(f"thrift-kgen {name}: kernel vs user space (qemu -icount)")
    ax.legend()
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(RESULTS / f"{name}.png", dpi=100)
    print(f"plot: {RESULTS / (name + '.png')}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel", default="6.1", help="kernel series (default 6.1)")
    ap.add_argument("--bench", default="echo,forwarder")
    ap.add_argument("--quick", action="store_true", help="fewer bytes per point")
    args = ap.parse_args()
    kernel = vmharness.kernels().get(args.kernel)
    if kernel is None:
        print(f"kernel {args.kernel} not installed: run `make kernels`", file=sys.stderr)
        return 1
    RESULTS.mkdir(parents=True, exist_ok=True)
    client = build_client()
    benches = args.bench.split(",")
    script = ""
    if "echo" in benches:
        ko, user = build_echo(kernel)
        script += echo_script(ko, user, client, args.quick)
    if "forwarder" in benches:
        ko, user = build_forwarder(kernel)
        script += forwarder_script(ko, user, client, args.quick)
    res = vmharness.run_in_vm(kernel, script, timeout=3000, icount=True, memory="2G")
    res.assert_ok()
    if "echo" in benches:
        rows = [json.loads(x) for x in (res.results_dir / "echo.jsonl").read_text().splitlines()]
        summary = table("echo (thesis 3.2): bytes sent and echoed back per guest second", "size", rows,
                        lambda r: r["bytes"] * 8 / r["seconds"] / 1e6)
        (RESULTS / "echo.json").write_text(json.dumps({"kernel": kernel.version, "rows": rows,
                                                       "summary": summary}, indent=1))
        plot("echo", "size", summary, "buffer size, bytes")
    if "forwarder" in benches:
        sinks = [json.loads(x) for x in (res.results_dir / "forwarder.jsonl").read_text().splitlines()]
        rows = []
        for mode in ("kernel", "user"):
            for payload in FWD_PAYLOADS:
                mine = [s for s in sinks if s["mode"] == mode and s["payload"] == payload]
                got = sum(s["bytes"] for s in mine)
                count = fwd_count(payload, args.quick) * FWD_CLIENTS
                want = count * (4 + 12 + 3 + 7 + 7 + payload + 1)
                if len(mine) != FWD_BACKENDS or got != want:
                    print(f"forwarder {mode} payload {payload}: {len(mine)} sinks got {got}"
                          f" of {want} bytes", file=sys.stderr)
                    return 1
                rows.append({"mode": mode, "payload": payload, "messages": count, "sink_bytes": got,
                             "seconds": max(s["t1"] for s in mine) - min(s["t0"] for s in mine)})
        summary = table(f"forwarder (thesis 3.3): {FWD_CLIENTS} clients -> {FWD_BACKENDS} sinks,"
                        " bytes delivered per guest second", "payload", rows,
                        lambda r: r["sink_bytes"] * 8 / r["seconds"] / 1e6)
        (RESULTS / "forwarder.json").write_text(json.dumps({"kernel": kernel.version, "rows": rows,
                                                            "summary": summary}, indent=1))
        plot("forwarder", "payload", summary, "payload size, bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
