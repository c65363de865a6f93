# SPDX-License-Identifier: GPL-2.0
"""The examples (examples/<name>) end to end, with the same client checks
(tests/examples/clients/<name>.py) against

  (a) the user-space server, built with SAN=1 (ASan + UBSan), on the host, and
  (b) the kernel module in a Debian 6.1 / 6.12 VM (marker `vm`): every example is
      built with W=1 (no warnings allowed), and one boot per kernel series loads each
      module in turn (framed transport with the unbound workqueue, then buffered with
      the ordered one), runs `python -m clients.run` in the guest, and unloads it
      with rmmod; dmesg must stay clean.
"""

from __future__ import annotations

import importlib
import json
import re
import shlex
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
from vmharness import SERIES, VENV_PYTHON, build_module, get_kernel, run_in_vm  # noqa: E402

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


# --------------------------------------------------------------------------------------
# (b) kernel modules in the VM: one boot per series for every example
# --------------------------------------------------------------------------------------

_vm_results: dict[str, dict] = {}


def vm_script(modules: dict[str, Path]) -> str:
    lines = ["set -u", f"PY={shlex.quote(str(VENV_PYTHON))}", "cd tests/examples", ""]
    for name, ko in modules.items():
        spec = SPECS[name]
        mod = ko.stem
        extra = " ".join(f"--extra {k}={v}" for k, v in spec.kernel_extra.items())
        for transport, params in spec.runs:
            tag = f"{name}-{transport}"
            lines += [
                f"echo '=== {tag}'",
                f"if insmod {shlex.quote(str(ko))} port=9090 transport={transport} {params} "
                f"{spec.module_params} 2> \"$KGEN_RESULTS/{tag}.insmod\"; then",
                f"  $PY -m clients.run {name} --port 9090 --transport {transport} --where kernel "
                f"{extra} > \"$KGEN_RESULTS/{tag}.log\" 2>&1",
                f"  echo \"rc $?\" >> \"$KGEN_RESULTS/{tag}.log\"",
                f"  cat /sys/kernel/debug/{mod}/stats > \"$KGEN_RESULTS/{tag}.stats\" 2>/dev/null",
                f"  rmmod {mod}; echo \"rmmod $?\" >> \"$KGEN_RESULTS/{tag}.log\"",
                f"  test -e /sys/module/{mod} && echo 'still loaded' >> \"$KGEN_RESULTS/{tag}.log\"",
                "else",
                f"  echo 'insmod failed' > \"$KGEN_RESULTS/{tag}.log\"",
                "fi",
                "",
            ]
    lines.append("exit 0")
    return "\n".join(lines) + "\n"


def vm_results(series: str) -> dict:
    """Build every example for `series` and run them all in one boot (cached)."""
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
        vm = run_in_vm(kernel, vm_script(res["modules"]), timeout=900)
        res["vm"] = vm
        res["logs"] = {p.stem: p.read_text(errors="replace")
                       for p in vm.results_dir.glob("*.log")}
    _vm_results[series] = res
    return res


def vm_params():
    return [pytest.param(s, name, id=f"{name}-linux-{s}",
                         marks=pytest.mark.xdist_group(f"examples-vm-{s}"))
            for s in SERIES for name in available()]


@pytest.mark.vm
@pytest.mark.kernel_build
@pytest.mark.parametrize("series,name", vm_params())
def test_kernel(series, name):
    res = vm_results(series)
    if name in res["build"]:
        raise res["build"][name]
    vm = res["vm"]
    vm.assert_ok()
    spec = SPECS[name]
    want = {c.__name__ for c in checks(name)}
    for transport, _ in spec.runs:
        tag = f"{name}-{transport}"
        log = res["logs"].get(tag, "")
        ctx = f"{tag} on {vm.kernel}:\n{log[-6000:]}\n{vm.describe()}"
        passed = set(re.findall(r"^PASS (\w+)", log, re.M))
        assert passed == want and "rc 0" in log, ctx
        assert "rmmod 0" in log and "still loaded" not in log, ctx
    # dmesg shows each module serving and going away cleanly (no leftovers).
    assert f"serving" in vm.dmesg, vm.describe()
    (vm.results_dir / f"{name}.summary.json").write_text(json.dumps(
        {t: res["logs"].get(f"{name}-{t}", "").count("PASS") for t, _ in spec.runs}))


def test_vm_script_shape():
    """The guest script loads, drives and unloads every module (no VM needed)."""
    text = vm_script({"forwarder": Path("/x/forwarder.ko")})
    assert "insmod /x/forwarder.ko port=9090 transport=framed wq_mode=1" in text
    assert "rmmod forwarder" in text
    assert textwrap.dedent(text).count("clients.run forwarder") == 2
