# SPDX-License-Identifier: GPL-2.0
"""The examples (examples/<name>) end to end, with the same client checks
(tests/examples/clients/<name>.py) against

  (a) the user-space server, built with SAN=1 (ASan + UBSan), on the host, and
  (b) the kernel module in a Debian 6.1 / 6.12 VM (marker `vm`): every example is
      built with W=1 (no warnings allowed), and one script in the worker's shared VM
      of each kernel series (thrift_kgen.testing.vm.VMPool, as the `vm` fixture) loads each
      module in turn (framed transport with the unbound workqueue, then buffered with
      the ordered one), runs `python -m clients.run` in the guest, and unloads it
      with rmmod; dmesg must stay clean.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
import shlex
import socket
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from clients.common import Target  # noqa: E402
from examples_util import REPO, SPECS, UserServer, generate, make  # noqa: E402
from thrift_kgen.testing.vm import SERIES, VENV_PYTHON, build_module, get_kernel  # noqa: E402

EXAMPLE_NAMES = ("echo", "forwarder", "thrifttest", "calculator")


def available():
    """Examples that exist (committed handler and client driver)."""
    out = []
    for name in EXAMPLE_NAMES:
        if (REPO / "examples" / name / "GNUmakefile").is_file() and (HERE / "clients" / f"{name}.py").is_file():
            out.append(name)
    return out


def checks(name):
    return importlib.import_module(f"clients.{name}").CHECKS


# --------------------------------------------------------------------------------------
# Generated trees, shared by the user-space and kernel tests of one pytest worker
# --------------------------------------------------------------------------------------

_lock = threading.Lock()
_gen: dict[str, Path] = {}
_base = Path(tempfile.mkdtemp(prefix="kgen-examples-"))


def generated(name: str) -> Path:
    with _lock:
        if name not in _gen:
            _gen[name] = generate(name, _base / "gen")
        return _gen[name]


# --------------------------------------------------------------------------------------
# (a) user space, ASan + UBSan
# --------------------------------------------------------------------------------------

class Servers:
    def __init__(self):
        self.built: dict[str, Path] = {}
        self.running: dict[tuple, UserServer] = {}

    def binary(self, name: str) -> Path:
        if name not in self.built:
            d = generated(name)
            make(d, "user", SAN="1")
            self.built[name] = d / f"{name}_user"
        return self.built[name]

    def get(self, name: str, transport: str) -> UserServer:
        key = (name, transport)
        if key not in self.running:
            self.running[key] = UserServer(self.binary(name), SPECS[name], transport)
        return self.running[key]

    def stop_all(self) -> list[str]:
        problems = []
        for (name, transport), s in self.running.items():
            rc = s.stop()
            err = "".join(s.stderr)
            if rc != 0 or re.search(r"Sanitizer|runtime error:|LeakSanitizer", err):
                problems.append(f"{name}_user ({transport}) exited {rc}:\n{err[-4000:]}")
        self.running.clear()
        return problems


@pytest.fixture(scope="session")
def user_servers():
    s = Servers()
    yield s
    problems = s.stop_all()
    assert not problems, "\n".join(problems)


def user_params():
    out = []
    for name in available():
        for transport in ("framed", "buffered"):
            for check in checks(name):
                out.append(pytest.param(name, transport, check.__name__,
                                        id=f"{name}-{transport}-{check.__name__}",
                                        marks=pytest.mark.xdist_group(f"examples-user-{name}")))
    return out


@pytest.mark.parametrize("name,transport,check", user_params())
def test_user(user_servers, tmp_path, name, transport, check):
    srv = user_servers.get(name, transport)
    assert srv.proc.poll() is None, f"{name}_user died: {''.join(srv.stderr)[-4000:]}"
    fn = next(c for c in checks(name) if c.__name__ == check)
    fn(Target(port=srv.port, transport=transport, extra=srv.extra, where="user"), tmp_path)
    assert srv.proc.poll() is None, f"{name}_user died: {''.join(srv.stderr)[-4000:]}"


@pytest.mark.xdist_group("examples-user-echo")
def test_user_ipv6_addresses_printed_in_brackets(user_servers):
    """A generated server on ::1 prints "serving Echo on [::1]:<port>" (the raw echo
    likewise), and the ports printed are the ones it serves on."""
    from clients.echo import ec
    if "echo" not in available():
        pytest.skip("echo example not available")
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("::1 not available")
    spec = dataclasses.replace(SPECS["echo"], user_env={"ECHO_RAW_PORT": "0", "ECHO_RAW_ADDR": "::1"})
    srv = UserServer(user_servers.binary("echo"), spec, "framed", args=("--addr", "::1"))
    try:
        c = Target(port=srv.port, host="::1").client(ec.Echo)
        try:
            assert c.echo(b"over v6") == b"over v6"
        finally:
            c.close()
    finally:
        rc = srv.stop()
    assert rc == 0, "".join(srv.stderr)
    out = "".join(srv.lines)
    assert f"raw echo on [::1]:{srv.extra['raw_port']}\n" in out, out
    assert f"serving Echo on [::1]:{srv.port}\n" in out, out


# --------------------------------------------------------------------------------------
# (b) kernel modules in the VM: one script per series for every example
# --------------------------------------------------------------------------------------

_vm_results: dict[str, dict] = {}


def vm_plan(modules: dict[str, Path]) -> list[dict]:
    """Each module with each of its runs, for `python -m clients.run --plan` in the guest."""
    plan = []
    for name, ko in modules.items():
        spec = SPECS[name]
        for transport, params in spec.runs:
            plan.append({"tag": f"{name}-{transport}", "example": name, "ko": str(ko),
                         "module": ko.stem, "transport": transport,
                         "params": f"port=9090 transport={transport} {params} {spec.module_params}".strip(),
                         "extra": spec.kernel_extra})
    return plan


def vm_script(plan: Path) -> str:
    return textwrap.dedent(f"""\
        set -u
        cd tests/examples
        {shlex.quote(str(VENV_PYTHON))} -m clients.run --plan {shlex.quote(str(plan))} --out "$KGEN_RESULTS"
        rc=$?
        lsmod > "$KGEN_RESULTS/lsmod"
        exit $rc
        """)


def vm_results(series: str, vm_pool) -> dict:
    """Build every example for `series` and run them all in one script (cached)."""
    if series in _vm_results:
        return _vm_results[series]
    kernel = get_kernel(series)
    res = {"build": {}, "modules": {}}
    for name in available():
        try:
            d = generated(name)
            res["modules"][name] = build_module(d, kernel, build_dir=_base / f"kbuild-{series}" / name)
        except Exception as e:  # noqa: BLE001 - reported by that example's test
            res["build"][name] = e
    if res["modules"]:
        rdir = _base / f"vm-{series}"
        rdir.mkdir(parents=True, exist_ok=True)
        (rdir / "plan.json").write_text(json.dumps(vm_plan(res["modules"]), indent=1))
        vm = vm_pool.get(kernel).run(vm_script(rdir / "plan.json"), timeout=1500)
        res["vm"] = vm
        res["logs"] = {p.stem: p.read_text(errors="replace")
                       for p in vm.results_dir.glob("*.log")}
    _vm_results[series] = res
    return res


def vm_params():
    # the group of the series' other VM tests: one worker, one VM per series
    return [pytest.param(s, name, id=f"{name}-linux-{s}",
                         marks=pytest.mark.xdist_group(f"vm-{s}"))
            for s in SERIES for name in available()]


@pytest.mark.vm
@pytest.mark.kernel_build
@pytest.mark.parametrize("series,name", vm_params())
def test_kernel(vm_pool, series, name):
    res = vm_results(series, vm_pool)
    if name in res["build"]:
        raise res["build"][name]
    vm = res["vm"]
    spec = SPECS[name]
    want = {c.__name__ for c in checks(name)}
    for transport, _ in spec.runs:
        tag = f"{name}-{transport}"
        log = res["logs"].get(tag, "")
        ctx = f"{tag} on {vm.kernel}:\n{log[-6000:]}\n{vm.describe()}"
        passed = set(re.findall(r"^PASS (\w+)", log, re.M))
        assert passed == want and "rc 0" in log, ctx
        assert "rmmod 0" in log and "still loaded" not in log, ctx
    vm.assert_clean_dmesg()
    mods = [ko.stem for ko in res["modules"].values()]
    lsmod = (vm.results_dir / "lsmod").read_text() if (vm.results_dir / "lsmod").exists() else ""
    assert not [m for m in mods if re.search(rf"^{m}\s", lsmod, re.M)], lsmod
    assert vm.timed_out is False and vm.returncode is not None, vm.describe()


def test_vm_plan_shape():
    """The guest plan loads every module with each transport (no VM needed)."""
    plan = vm_plan({"forwarder": Path("/x/forwarder.ko"), "echo": Path("/x/echo.ko")})
    assert [p["tag"] for p in plan] == ["forwarder-framed", "forwarder-buffered",
                                        "echo-framed", "echo-buffered"]
    assert plan[0]["params"] == "port=9090 transport=framed wq_mode=1"
    assert plan[3]["params"] == "port=9090 transport=buffered wq_mode=0 raw_port=9091"
    assert plan[3]["extra"] == {"raw_port": 9091} and plan[0]["module"] == "forwarder"
    assert "clients.run --plan /x/plan.json" in vm_script(Path("/x/plan.json"))


CHECKPATCH = REPO / ".cache" / "checkpatch" / "checkpatch.pl"


@pytest.mark.parametrize("handler", sorted(str(p.relative_to(REPO))
                                           for p in (REPO / "examples").glob("*/*_handler.c")))
def test_handler_checkpatch_strict_clean(handler):
    """Hand-written handlers are kernel code: checkpatch --strict clean."""
    if not CHECKPATCH.is_file():
        pytest.skip(f"{CHECKPATCH} missing (scripts/setup-kernels.sh extracts it)")
    import subprocess

    r = subprocess.run(["perl", str(CHECKPATCH), "--no-tree", "-f", "--strict", "--terse",
                        "--show-types", handler], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr
