# SPDX-License-Identifier: GPL-2.0
"""`make demo`: the forwarder of the Slick paper (section 3.3) as a kernel module.

    python -m scripts.demo [--series 6.1] [--backends 20] [--clients 8] [--messages 250]

After `make setup` (Debian packages, kernels, venv) this

  1. generates examples/forwarder from idl/forwarder.thrift with thrift-kgen and builds
     forwarder.ko against the Debian kernel's headers listed in .cache/kernels/kernels.json,
  2. boots that kernel in a VM (qemu + virtme-ng; the guest sees this directory),
  3. in the guest: loads the module (unbound workqueue: connections in parallel), starts
     the backend sinks (processes reading the forwarded Thrift messages) and the client
     processes (thriftpy2, oneway msg(key, payload)), tells the forwarder where the
     backends are (connect()), waits for every message, unloads the module,
  4. prints what arrived where (backend, messages, bytes, first/last key), the
     forwarder's counters, and whether the kernel log stayed clean.

Every message must arrive exactly once, at backend (key mod N), in order per client:
the demo fails (exit 1) otherwise.  The guest side is `python -m scripts.demo --guest`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "examples"))  # the example clients (tests/examples/clients)

EXAMPLE = REPO / "examples" / "forwarder"
PORT = 9090


def say(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------------------
# Guest side
# --------------------------------------------------------------------------------------

def guest(args) -> int:
    from clients.common import Target
    from clients.forwarder import fw, run_fanout

    out = Path(os.environ.get("KGEN_RESULTS", "/tmp")) / "demo.json"
    t = Target(port=PORT, transport="framed", where="kernel")
    result = {"ok": False}
    try:
        s = run_fanout(t, Path("/tmp/kgen-demo"), nsinks=args.backends, nclients=args.clients,
                       per_client=args.messages, pad=args.pad)
        result.update(s, ok=True)
    except AssertionError as e:
        result["error"] = str(e)[:3000]
    c = t.client(fw.Forwarder)
    try:
        st = c.stats()
        result["stats"] = {"forwarded": st.forwarded, "dropped": st.dropped}
    finally:
        c.close()
    out.write_text(json.dumps(result))
    return 0 if result["ok"] else 1


# --------------------------------------------------------------------------------------
# Host side
# --------------------------------------------------------------------------------------

def build(kernel) -> Path:
    env = dict(os.environ, LC_ALL="C")
    env.pop("MAKEFLAGS", None)
    kgen = REPO / ".venv" / "bin" / "thrift-kgen"
    cmd = ["make", "-C", str(EXAMPLE), f"KGEN={kgen}", f"KDIR={kernel.kdir}", "module"]
    say(f"$ {shlex.join(cmd)}")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode:
        say(r.stdout[-3000:] + r.stderr[-3000:])
        raise SystemExit(f"demo: building the forwarder failed (exit {r.returncode})")
    ko = EXAMPLE / "forwarder.ko"
    if not ko.is_file():
        raise SystemExit(f"demo: {ko} was not built")
    return ko


def table(rows: list[dict]) -> str:
    head = ("backend", "messages", "bytes", "first key", "last key")
    lines = [f"{head[0]:>7}  {head[1]:>8}  {head[2]:>8}  {head[3]:>9}  {head[4]:>8}"]
    for r in rows:
        fk = "-" if r["first_key"] is None else r["first_key"]
        lk = "-" if r["last_key"] is None else r["last_key"]
        lines.append(f"{r['backend']:>7}  {r['messages']:>8}  {r['bytes']:>8}  {fk:>9}  {lk:>8}")
    lines.append(f"{'total':>7}  {sum(r['messages'] for r in rows):>8}  "
                 f"{sum(r['bytes'] for r in rows):>8}")
    return "\n".join(lines)


def host(args) -> int:
    from thrift_kgen.testing.vm import dmesg_problems, get_kernel, run_in_vm

    t0 = time.monotonic()
    kernel = get_kernel(args.series)
    say(f"== thrift-kgen demo: the Slick forwarder in Linux {kernel.version}")
    say(f"== 1. generate examples/forwarder from idl/forwarder.thrift and build forwarder.ko")
    ko = build(kernel)
    say(f"   built {ko.relative_to(REPO)} ({ko.stat().st_size} bytes) in {time.monotonic() - t0:.0f} s")

    py = shlex.quote(str(REPO / ".venv" / "bin" / "python"))
    mod_args = f"port={PORT} transport=framed wq_mode=1"
    script = f"""set -u
insmod {shlex.quote(str(ko))} {mod_args} || exit 10
$PYBIN -m scripts.demo --guest --backends {args.backends} --clients {args.clients} \\
    --messages {args.messages} --pad {args.pad}
rc=$?
cat /sys/kernel/debug/forwarder/stats > "$KGEN_RESULTS/stats" 2>/dev/null
rmmod forwarder || exit 11
test ! -e /sys/module/forwarder || exit 12
exit $rc
""".replace("$PYBIN", py)
    say(f"== 2. boot Linux {kernel.version} in a VM (qemu, no KVM), insmod forwarder.ko {mod_args}")
    say(f"== 3. in the guest: {args.backends} backend sinks, {args.clients} client processes x "
        f"{args.messages} oneway msg(key, payload), then rmmod")
    t1 = time.monotonic()
    res = run_in_vm(kernel, script, timeout=args.timeout, cwd=REPO)
    say(f"   VM done in {time.monotonic() - t1:.0f} s")
    demo = res.results_dir / "demo.json"
    data = json.loads(demo.read_text()) if demo.exists() else {}
    ok = res.returncode == 0 and data.get("ok")

    say("")
    say("== 4. what arrived where (as counted by the backend sinks)")
    if data.get("table"):
        say(table(data["table"]))
        say(f"{data['messages']} messages from {args.clients} clients forwarded to "
            f"{args.backends} backends in {data['seconds']} s: each exactly once, at backend "
            f"(key mod {args.backends}), in order per client")
    if data.get("stats"):
        say(f"forwarder counters: forwarded {data['stats']['forwarded']}, "
            f"dropped {data['stats']['dropped']}")
    stats = res.results_dir / "stats"
    if stats.exists() and stats.read_text().strip():
        say("debugfs /sys/kernel/debug/forwarder/stats: " + " ".join(stats.read_text().split()))
    if data.get("error"):
        say(f"ERROR: {data['error']}")

    say("")
    problems = dmesg_problems(res.dmesg)
    ours = [line for line in res.dmesg.splitlines()
            if re.search(r"\] (forwarder|kgen-server): ", line)]
    say("== kernel log (module lines):")
    for line in ours[-12:]:
        say(f"   {line}")
    if problems:
        say(f"dmesg: {len(problems)} PROBLEM line(s), first: {problems[0]}")
        ok = False
    else:
        say("dmesg: clean (no warning, BUG, oops or sanitizer report); module unloaded"
            if res.returncode == 0 else "dmesg: no kernel problem reported")
    if not ok:
        say(f"demo FAILED: guest exit {res.returncode}, timed out {res.timed_out}; "
            f"details in {res.results_dir}")
        say(res.stderr[-3000:])
        return 1
    say(f"demo OK in {time.monotonic() - t0:.0f} s")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="scripts.demo", description=__doc__.split("\n\n")[0])
    ap.add_argument("--series", default="6.1", help="kernel series from the manifest (6.1, 6.12)")
    ap.add_argument("--backends", type=int, default=20)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--messages", type=int, default=250, help="per client")
    ap.add_argument("--pad", type=int, default=32, help="payload padding bytes")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--guest", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    return guest(a) if a.guest else host(a)


if __name__ == "__main__":
    sys.exit(main())
