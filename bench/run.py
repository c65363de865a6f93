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
instructions and does not depend on the host's load: echo figures repeat to
within about 1% from run to run. The forwarder's eight clients and twenty sinks
sometimes all wait on a TCP timer at once, and the idle guest clock jumps to it,
so each forwarder point is the median of FWD_REPS rounds.  Absolute numbers are
those of an emulated CPU; the ratios are what to read (a floor for real
hardware, where system-call costs are higher).
Prints a table per benchmark and writes bench/results/<bench>.json and .png.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

from thrift_kgen.testing import vm as vmharness

REPO = Path(__file__).resolve().parent.parent

BUILD = REPO / "bench" / "build"
RESULTS = REPO / "bench" / "results"
ECHO_SIZES = (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
FWD_PAYLOADS = (32, 64, 128, 256, 512, 1024, 2048, 4096)
FWD_CLIENTS = 8
# Forwarder rounds per point; the median is reported. Eight clients and twenty
# sinks on one vCPU sometimes all wait on a TCP timer at once, and the idle
# guest clock jumps to it: a round then reads far slower than the others.
FWD_REPS = 3
FWD_BACKENDS = 20


def sh(cmd: list[str], cwd: Path = REPO) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def build_client() -> Path:
    BUILD.mkdir(parents=True, exist_ok=True)
    out = BUILD / "kgen-bench"
    # Static: in the VM it runs from tmpfs without touching 9p (see GUEST_PREAMBLE).
    sh(["gcc", "-O2", "-static", "-Wall", "-Wextra", "-Werror", "-o", str(out),
        str(REPO / "bench" / "clients" / "kgen_bench.c")])
    return out


# Under -icount with sleep=off the guest clock jumps ahead whenever the vCPU
# waits, and it waits for every file read over 9p: starting a program from the
# host's tree can cost seconds to minutes of guest time. So the rounds run
# nothing from 9p: the (static) load generator and the user-space servers are
# copied to a tmpfs (the module is in kernel memory once loaded), output
# goes to the tmpfs, and waiting is a bash builtin (read -t on a FIFO that
# never gets data) rather than sleep(1) and grep(1).
GUEST_PREAMBLE = """\
set -e
B=/run/kgen-bench; mkdir -p $B; mountpoint -q $B || mount -t tmpfs tmpfs $B
cp {client} $B/kgen-bench; rm -f $B/tick; mkfifo $B/tick; exec 9<> $B/tick
nap() {{ read -t 0.05 -u 9 || true; }}
# wait_for FILE WORD: until FILE contains WORD
wait_for() {{ until [[ -s $1 && $(< $1) == *$2* ]]; do nap; done; }}
last_line() {{ local l x; while IFS= read -r x; do l=$x; done < $1; printf '%s' "$l"; }}
rm -f $B/go; mkfifo $B/go
"""


def echo_bytes_per_size(size: int, quick: bool) -> int:
    """Rounds per buffer size: about the same bytes for large sizes, enough rounds for small."""
    total = (256 << 10) if quick else (2 << 20)
    return max(total // size, 200 if quick else 1000)


def build_echo(kernel: vmharness.Kernel) -> tuple[Path, Path]:
    sh(["make", "-s", "-C", "tests/testsvc"])
    user = REPO / "tests" / "testsvc" / "build" / "user" / "kgen-testsvc"
    # The test module builds from a staged tree (its Makefile's `stage` target).
    stage = BUILD / f"testsvc-src-{kernel.version}"
    sh(["make", "-s", "-C", "tests/testsvc/kernel", "stage", f"OUT={stage}", f"KDIR={kernel.kdir}"])
    ko = vmharness.build_module(stage, kernel, build_dir=BUILD / f"testsvc-{kernel.version}")
    return ko, user


def echo_script(ko: Path, user: Path, quick: bool) -> str:
    lines = ["out=$KGEN_RESULTS/echo.jsonl", ": > $out"]

    def runs(mode: str) -> None:
        for size in ECHO_SIZES:
            rounds = echo_bytes_per_size(size, quick)
            lines.append(f"$B/kgen-bench echo 127.0.0.1 9100 {size} {rounds} > $B/echo.out")
            lines.append(f"echo \"{mode} $(< $B/echo.out)\" >> $out")

    lines.append(f"insmod {shlex.quote(str(ko))} service=echo_raw port=9100")
    runs("kernel")
    lines.append(f"rmmod {ko.stem}")
    # The server too runs from the tmpfs, so neither side pages code in over 9p.
    lines.append(f"cp {shlex.quote(str(user))} $B/{user.name}")
    lines.append(f"$B/{user.name} --service echo_raw --port 9100 > $B/u.out 2>&1 &")
    lines.append("pid=$!; wait_for $B/u.out listening")
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


def forwarder_script(ko: Path, user: Path, quick: bool) -> str:
    lines = ["out=$KGEN_RESULTS/forwarder.jsonl", ": > $out"]

    def runs(mode: str) -> None:
        for payload in FWD_PAYLOADS:
            for rep in range(FWD_REPS):
                one_round(mode, payload, rep)

    def one_round(mode: str, payload: int, rep: int) -> None:
        count = fwd_count(payload, quick)
        # Bytes each sink expects: its share of every client's framed messages.
        msg = 4 + 12 + 3 + 7 + 7 + payload + 1
        lines.append("pids=''")
        for b in range(FWD_BACKENDS):
            share = sum(sink_share(count, c, b) for c in range(FWD_CLIENTS))
            lines.append(f"$B/kgen-bench sink {9300 + b} {share * msg} > $B/sink{b}.out & pids=\"$pids $!\"")
        # Every sink listens before the forwarder connects to it.
        lines.append(f"for b in {{0..{FWD_BACKENDS - 1}}}; do wait_for $B/sink$b.out listening; done")
        # connect() from the C client: Python would cost minutes of guest time to start.
        lines.append(f"$B/kgen-bench connect 127.0.0.1 9200 127.0.0.1 9300 {FWD_BACKENDS}")
        # Every client is started and connected, then all start sending at once.
        lines.append("cpids=''")
        for c in range(FWD_CLIENTS):
            lines.append(f"KGEN_BENCH_GO=$B/go $B/kgen-bench fwd 127.0.0.1 9200 {payload} {count}"
                         f" {FWD_BACKENDS} {c} > $B/client{c}.out 2> $B/client{c}.err &"
                         " cpids=\"$cpids $!\"")
        lines.append(f"for c in {{0..{FWD_CLIENTS - 1}}}; do wait_for $B/client$c.err ready; done")
        # One byte each; the FIFO stays open until they are done, so none misses its byte.
        lines.append(f"exec 3<> $B/go; printf '%{FWD_CLIENTS}s' '' >&3")
        lines.append("wait $cpids; exec 3>&-; wait $pids")
        # "<mode> <payload> <rep> <sink> <the sink's JSON>", parsed on the host.
        lines.append(f"for b in {{0..{FWD_BACKENDS - 1}}}; do"
                     f" echo \"{mode} {payload} {rep} $b $(last_line $B/sink$b.out)\" >> $out; done")

    lines.append(f"insmod {shlex.quote(str(ko))} port=9200 transport=framed")
    runs("kernel")
    lines.append(f"rmmod {ko.stem}")
    lines.append(f"cp {shlex.quote(str(user))} $B/{user.name}")
    lines.append(f"$B/{user.name} --port 9200 --transport framed > $B/u.out 2>&1 &")
    lines.append("upid=$!; wait_for $B/u.out listening")
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
    script = GUEST_PREAMBLE.format(client=shlex.quote(str(client)))
    if "echo" in benches:
        ko, user = build_echo(kernel)
        script += echo_script(ko, user, args.quick)
    if "forwarder" in benches:
        ko, user = build_forwarder(kernel)
        script += forwarder_script(ko, user, args.quick)
    # memory_debug=False: no slub_debug/KFENCE, they would slow the allocations measured.
    res = vmharness.run_in_vm(kernel, script, timeout=3000, icount=True, memory="2G",
                              memory_debug=False)
    res.assert_ok()
    if "echo" in benches:
        rows = []
        for line in (res.results_dir / "echo.jsonl").read_text().splitlines():
            mode, js = line.split(" ", 1)
            rows.append({"mode": mode, **json.loads(js)})
        summary = table("echo (thesis 3.2): bytes sent and echoed back per guest second", "size", rows,
                        lambda r: r["bytes"] * 8 / r["seconds"] / 1e6)
        (RESULTS / "echo.json").write_text(json.dumps({"kernel": kernel.version, "rows": rows,
                                                       "summary": summary}, indent=1))
        plot("echo", "size", summary, "buffer size, bytes")
    if "forwarder" in benches:
        sinks = []
        for line in (res.results_dir / "forwarder.jsonl").read_text().splitlines():
            mode, payload, rep, sink, js = line.split(" ", 4)
            sinks.append({"mode": mode, "payload": int(payload), "rep": int(rep), "sink": int(sink),
                          **json.loads(js)})
        rows, medians = [], []
        for mode in ("kernel", "user"):
            for payload in FWD_PAYLOADS:
                count = fwd_count(payload, args.quick) * FWD_CLIENTS
                want = count * (4 + 12 + 3 + 7 + 7 + payload + 1)
                reps = []
                for rep in range(FWD_REPS):
                    mine = [s for s in sinks if (s["mode"], s["payload"], s["rep"]) == (mode, payload, rep)]
                    got = sum(s["bytes"] for s in mine)
                    # Every message exactly once: each sink got exactly its share.
                    if len(mine) != FWD_BACKENDS or got != want:
                        print(f"forwarder {mode} payload {payload} round {rep}: {len(mine)} sinks"
                              f" got {got} of {want} bytes", file=sys.stderr)
                        return 1
                    reps.append({"mode": mode, "payload": payload, "rep": rep, "messages": count,
                                 "sink_bytes": got,
                                 "seconds": max(s["t1"] for s in mine) - min(s["t0"] for s in mine)})
                rows += reps
                medians.append(sorted(reps, key=lambda r: r["seconds"])[len(reps) // 2])
        summary = table(f"forwarder (thesis 3.3): {FWD_CLIENTS} clients -> {FWD_BACKENDS} sinks,"
                        f" bytes delivered per guest second (median of {FWD_REPS} rounds)",
                        "payload", medians, lambda r: r["sink_bytes"] * 8 / r["seconds"] / 1e6)
        (RESULTS / "forwarder.json").write_text(json.dumps({"kernel": kernel.version, "rows": rows,
                                                            "summary": summary}, indent=1))
        plot("forwarder", "payload", summary, "payload size, bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
