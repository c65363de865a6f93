# SPDX-License-Identifier: GPL-2.0
"""Build kernel modules against Debian's kernels and run them in a qemu VM (virtme-ng).

The kernels are installed by scripts/setup-kernels.sh (`make kernels`), which writes
.cache/kernels/kernels.json.  API:

    kernels() -> dict[str, Kernel]                       series -> Kernel, from the manifest
    build_module(src_dir, kernel, *, sparse=False, ...) -> Path   (the built .ko)
    run_in_vm(kernel, script, *, timeout=300, ...) -> VMResult
    check_dmesg(text, allow=()) -> None                  raises DmesgError on kernel trouble

Import it as `from thrift_kgen.testing.vm import ...` (tests, bench/, scripts/).
Fixtures (imported by tests/conftest.py): `kernel` (parametrized over SERIES, skips a
series only if the manifest lacks it), `kernels_info` (the whole dict).

The guest sees the host's file system read-only through 9p (with a throw-away overlay on
/tmp, /etc, /usr, ...), so modules built on the host and the repository's .venv (python,
thriftpy2) are usable in the guest at the same paths.  Results come back through a
directory shared read-write with --rwdir.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import fcntl
import fnmatch
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterable, Sequence

import pytest

REPO = Path(__file__).resolve().parents[2]  # the checkout: thrift_kgen/testing/vm.py
MANIFEST = Path(os.environ.get("KGEN_KERNELS_MANIFEST", REPO / ".cache" / "kernels" / "kernels.json"))
# The debug kernel (scripts/build-debug-kernel.sh: KASAN, lockdep, kmemleak...), series
# "6.1-debug"; `make test-debug` selects it with KGEN_VM_SERIES=6.1-debug.
DEBUG_MANIFEST = Path(os.environ.get("KGEN_DEBUG_KERNELS_MANIFEST",
                                     REPO / ".cache" / "kernels" / "debug-kernels.json"))
VENV = Path(os.environ.get("KGEN_VENV", REPO / ".venv"))
VENV_PYTHON = VENV / "bin" / "python"
# Every VM timeout (boot, script) is multiplied by this: the debug kernel (KASAN, lockdep)
# boots in 3-5 minutes under TCG where Debian's take 20-60 s; `make test-debug` sets 4.
TIMEOUT_SCALE = float(os.environ.get("KGEN_VM_TIMEOUT_SCALE", "1"))

# The kernel series the VM tests run on (the `kernel` fixture's parameters).
SERIES = tuple(os.environ.get("KGEN_VM_SERIES", "6.1 6.12").split())

# Modules udev would autoload at boot that only cost time under software emulation
# (crypto self-tests, kvm, AHCI/CD-ROM, watchdog, input...).  Blacklisting them takes the
# boot from ~25 s to ~17 s.  Only alias-based autoloading is affected: `modprobe <name>`
# still loads them.
# Boot options of every test VM that make the kernel catch more memory errors: SLUB
# sanity checks, red zones, poisoning and owner tracking on every slab cache (F Z P U),
# and KFENCE sampling one allocation every 100 ms (Debian 6.12 has KFENCE built in but off
# by default; Debian 6.1 has no KFENCE, it ignores the parameter; the debug kernel of
# scripts/build-debug-kernel.sh has it on).  Benchmarks boot without them
# (memory_debug=False): they slow allocation down.
MEMORY_DEBUG_BOOT = ("slub_debug=FZPU", "kfence.sample_interval=100")

BOOT_BLACKLIST = (
    "kvm,kvm_amd,kvm_intel,ccp,crct10dif_pclmul,crc32_pclmul,crc32c_intel,"
    "ghash_clmulni_intel,sha512_ssse3,sha256_ssse3,sha1_ssse3,aesni_intel,polyval_clmulni,"
    "sm4_aesni_avx_x86_64,sr_mod,sg,iTCO_wdt,ahci,psmouse,serio_raw,pcspkr,i2c_i801,lpc_ich,"
    "intel_pmc_bxt,powernow_k8,acpi_cpufreq,evdev,joydev,i6300esb"
)


# --------------------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Kernel:
    series: str          # "6.1", "6.12"
    version: str         # ABI name, e.g. "6.1.0-56-amd64" (= uname -r in the guest)
    vmlinuz: Path        # bootable image
    kdir: Path           # /lib/modules/<version>/build (kbuild tree from linux-headers)
    package_version: str = ""

    def __str__(self) -> str:
        return f"{self.series} ({self.version})"


def kernels(manifest: Path | None = None) -> dict[str, Kernel]:
    """The installed kernels, by series; {} when no manifest exists.  Without an explicit
    manifest: Debian's kernels (MANIFEST) and the debug kernel if built (DEBUG_MANIFEST)."""
    paths = [Path(manifest)] if manifest else [MANIFEST, DEBUG_MANIFEST]
    entries = []
    for path in paths:
        if path.is_file():
            entries += json.loads(path.read_text())
    out = {}
    for e in entries:
        out[e["series"]] = Kernel(series=e["series"], version=e["version"],
                                  vmlinuz=Path(e["vmlinuz"]), kdir=Path(e["kdir"]),
                                  package_version=e.get("package_version", ""))
    return out


def get_kernel(series: str) -> Kernel:
    """The Kernel for a series, or pytest.skip() with the reason if it is not installed."""
    ks = kernels()
    k = ks.get(series)
    if k is None:
        how = ("make test-debug builds it" if series.endswith("-debug")
               else "run `make kernels-rt`" if series.endswith("-rt") else "run `make kernels`")
        pytest.skip(f"kernel series {series} not in {MANIFEST} / {DEBUG_MANIFEST} ({how})")
    missing = [p for p in (k.vmlinuz, k.kdir / "Makefile") if not p.exists()]
    if missing:
        pytest.fail(f"kernel {k}: manifest lists it but {missing} missing; rerun `make kernels`")
    return k


# --------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------

class BuildError(AssertionError):
    """make failed, or printed a compiler/modpost warning or sparse diagnostic."""


_WARNING_RE = re.compile(r"\bwarning:", re.IGNORECASE)
# sparse diagnostics: "file.c:12:5: warning: ..." / "error: ..." (also covered above).
_SPARSE_RE = re.compile(r"^\S+:\d+:\d+: (warning|error|note):|^\S+: (warning|error):")
_ERROR_RE = re.compile(r"\berror:|\*\*\*", re.IGNORECASE)


def _kbuild_env() -> dict[str, str]:
    env = dict(os.environ)
    env["LC_ALL"] = "C"          # untranslated "warning:" from gcc
    env.pop("MAKEFLAGS", None)
    env.pop("MFLAGS", None)
    return env


def build_module(src_dir: Path | str, kernel: Kernel, *, sparse: bool = False,
                 build_dir: Path | str | None = None, name: str | None = None,
                 make_args: Sequence[str] = (), jobs: int = 2, timeout: float = 900,
                 allow_warnings: Iterable[str] = ()) -> Path:
    """Build the out-of-tree module in src_dir (a Kbuild/Makefile with obj-m) for kernel.

    Runs `make -C <kdir> M=<dir> W=1 modules` (plus C=1 with sparse=True) on a copy of
    src_dir in build_dir (default: a fresh temp dir), so one source tree can be built for
    several kernels, also concurrently.  Identical builds in one test session are made
    once (see _BuildCache): later ones get a copy of the first one's build directory.  Raises BuildError if make fails or prints any
    `warning:` (compiler, modpost) or, with sparse, any sparse diagnostic, except lines
    matching a regex in allow_warnings.  Returns the path of the .ko: the one called
    <name>.ko if name is given, else the only (or first in modules.order) module.
    """
    src = Path(src_dir).resolve()
    if build_dir is None:
        base = Path(tempfile.mkdtemp(prefix=f"kgen-kbuild-{kernel.series}-"))
        build = base / src.name
    else:
        build = Path(build_dir).resolve()
    t0 = time.monotonic()
    cache = _BuildCache(src, kernel, sparse=sparse, name=name, make_args=make_args,
                        allow_warnings=allow_warnings) if build != src else None
    if cache is not None:
        with cache.lock():
            waited = time.monotonic() - t0
            hit = cache.lookup()
            if hit is not None:
                ko = cache.restore(hit, build, src)
                harness_log("build", src=str(src), series=kernel.series, sparse=sparse,
                            key=cache.key, hit=True, waited=waited,
                            seconds=time.monotonic() - t0)
                return ko
            t1 = time.monotonic()
            ko = _build_module(src, build, kernel, sparse=sparse, name=name, make_args=make_args,
                               jobs=jobs, timeout=timeout, allow_warnings=allow_warnings)
            cache.store(build, ko)
            harness_log("build", src=str(src), series=kernel.series, sparse=sparse,
                        key=cache.key, hit=False, waited=waited, seconds=time.monotonic() - t1)
            return ko
    return _build_module(src, build, kernel, sparse=sparse, name=name, make_args=make_args,
                         jobs=jobs, timeout=timeout, allow_warnings=allow_warnings)


def harness_log(event: str, **facts) -> None:
    """One JSON line per module build and VM boot in $KGEN_HARNESS_LOG, if set: where a test
    session's time goes (build cache hits and misses, boots), without a profiler."""
    path = os.environ.get("KGEN_HARNESS_LOG")
    if not path:
        return
    facts = {"event": event, "time": time.time(), "pid": os.getpid(),
             "worker": os.environ.get("PYTEST_XDIST_WORKER", ""),
             "test": os.environ.get("PYTEST_CURRENT_TEST", ""), **facts}
    with open(path, "a") as f:
        f.write(json.dumps(facts) + "\n")


_BUILD_IGNORE = ("*.o", "*.ko", "*.mod", "*.mod.c", ".*.cmd", "modules.order", "Module.symvers",
                 ".tmp_*")

# Module builds are cached for the test session, keyed on everything that decides their
# outcome: the source tree's content, the kernel, sparse, make_args, name, allow_warnings.
# The cache directory is made by the first process that imports this module (the pytest
# controller under xdist) and inherited by the workers through the environment, so a
# module that two tests build (a W=1+sparse build test and the VM test loading the same
# module) is compiled once; a build still running in another worker is waited for.  A
# request without sparse is also served by the same build made with sparse (sparse only
# adds checks).  Failed builds are never cached.  KGEN_KBUILD_CACHE=off disables it.
_CACHE_ENV = "KGEN_KBUILD_CACHE"
if _CACHE_ENV not in os.environ:
    _cache_dir = tempfile.mkdtemp(prefix="kgen-kbuild-cache-")
    os.environ[_CACHE_ENV] = _cache_dir
    import atexit
    atexit.register(shutil.rmtree, _cache_dir, True)


class _BuildCache:
    def __init__(self, src: Path, kernel: Kernel, *, sparse: bool, name, make_args, allow_warnings):
        root = os.environ.get(_CACHE_ENV, "off")
        self.root = None if root == "off" or not Path(root).is_dir() else Path(root)
        if self.root is None:
            return
        h = hashlib.sha256()
        content = _tree_content(src)
        self.unread = _unread_by_kbuild(content)
        for rel, kind, data in content:
            if rel in self.unread:
                continue
            h.update(f"{rel}\0{kind}\0{len(data)}\0".encode())
            h.update(data)
        tree = h.hexdigest()

        def key(sp: bool) -> str:
            what = json.dumps([tree, kernel.version, str(kernel.kdir), sp, name,
                               list(make_args), sorted(allow_warnings)])
            return hashlib.sha256(what.encode()).hexdigest()[:32]
        self.key = key(sparse)
        # Without sparse: a sparse build of the same tree passed a superset of the checks.
        self.keys = [key(True), self.key] if not sparse else [self.key]

    @contextlib.contextmanager
    def lock(self):
        if self.root is None:
            yield
            return
        with open(self.root / f"{self.key}.lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def lookup(self) -> Path | None:
        if self.root is None:
            return None
        for k in self.keys:
            entry = self.root / k
            if (entry / ".kgen-ko").is_file():
                return entry
        return None

    def restore(self, entry: Path, build: Path, src: Path) -> Path:
        if build.exists():
            shutil.rmtree(build)
        shutil.copytree(entry, build, symlinks=True)
        ko = build / (entry / ".kgen-ko").read_text()
        (build / ".kgen-ko").unlink()
        for rel in self.unread:      # this request's own copies, as an uncached build has them
            shutil.copyfile(src / rel, build / rel)
        return ko

    def store(self, build: Path, ko: Path) -> None:
        if self.root is None:
            return
        tmp = Path(tempfile.mkdtemp(prefix=f"{self.key}.", dir=self.root))
        shutil.rmtree(tmp)
        shutil.copytree(build, tmp, symlinks=True)
        (tmp / ".kgen-ko").write_text(str(ko.relative_to(build)))
        entry = self.root / self.key
        if entry.exists():
            shutil.rmtree(tmp)
        else:
            tmp.rename(entry)


# Files of a generated module directory that no build reads: kgen.mk (the regeneration rule
# for the user's Makefile; it names the output folder as given on the command line, so two
# generations of one IDL into different folders differ only there) and dkms.conf.  They are
# left out of the cache key unless a make file of the tree (Kbuild, Makefile, *.mk, *.inc)
# names them, i.e. might include them; other mentions (.gitignore) do not count.
_KBUILD_UNREAD = ("kgen.mk", "dkms.conf")
_MAKE_FILE = re.compile(r"^(Kbuild|Makefile|GNUmakefile|makefile)$|\.(mk|inc)$")


def _unread_by_kbuild(content) -> set[str]:
    out = set()
    for rel, kind, _ in content:
        name = Path(rel).name
        if kind == "f" and name in _KBUILD_UNREAD and \
                not any(name.encode() in data for r, _, data in content
                        if r != rel and _MAKE_FILE.search(Path(r).name)):
            out.add(rel)
    return out


def _tree_content(src: Path):
    """(relative path, kind, bytes) of every file and symlink a build copies, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(src):
        d = Path(dirpath)
        dirnames[:] = sorted(x for x in dirnames
                             if not any(fnmatch.fnmatch(x, pat) for pat in _BUILD_IGNORE))
        for fn in filenames + [x for x in dirnames if (d / x).is_symlink()]:
            p = d / fn
            rel = str(p.relative_to(src))
            if any(fnmatch.fnmatch(fn, pat) for pat in _BUILD_IGNORE) or fn == "kbuild.log":
                continue
            if p.is_symlink():
                out.append((rel, "l", os.readlink(p).encode()))
            elif p.is_file():
                out.append((rel, "f", p.read_bytes()))
    return sorted(out)


def _build_module(src: Path, build: Path, kernel: Kernel, *, sparse: bool, name, make_args,
                  jobs: int, timeout: float, allow_warnings) -> Path:
    if build != src:
        if build.exists():
            shutil.rmtree(build)
        shutil.copytree(src, build, symlinks=True, ignore=shutil.ignore_patterns(*_BUILD_IGNORE))
    cmd = ["make", "-C", str(kernel.kdir), f"M={build}", "W=1", f"-j{jobs}"]
    if sparse:
        cmd.append("C=1")
    cmd += list(make_args) + ["modules"]
    proc = subprocess.run(cmd, cwd=build, env=_kbuild_env(), capture_output=True, text=True,
                          timeout=timeout)
    output = proc.stdout + proc.stderr
    (build / "kbuild.log").write_text(f"$ {shlex.join(cmd)}\n{output}\nexit {proc.returncode}\n")
    allow = [re.compile(a) for a in allow_warnings]
    bad = []
    for line in output.splitlines():
        if any(a.search(line) for a in allow):
            continue
        if _WARNING_RE.search(line) or (sparse and _SPARSE_RE.search(line)):
            bad.append(line)
    if proc.returncode != 0 or bad:
        what = f"make exited {proc.returncode}" if proc.returncode else f"{len(bad)} diagnostic line(s)"
        shown = "\n".join(bad[:40]) if bad else "\n".join(output.splitlines()[-60:])
        raise BuildError(f"building {src} for {kernel}: {what}\n$ {shlex.join(cmd)}\n{shown}\n"
                         f"(full log: {build / 'kbuild.log'})")
    if name is not None:
        ko = build / f"{name}.ko"
    else:
        order = build / "modules.order"
        mods = [line.strip() for line in order.read_text().splitlines() if line.strip()] \
            if order.exists() else []
        if mods:
            ko = build / (mods[0][:-2] + ".ko" if mods[0].endswith(".o") else mods[0])
        else:
            kos = sorted(build.glob("*.ko"))
            if not kos:
                raise BuildError(f"building {src} for {kernel}: no .ko produced\n{output[-3000:]}")
            ko = kos[0]
    if not ko.is_file():
        raise BuildError(f"building {src} for {kernel}: {ko} not produced")
    return ko


# --------------------------------------------------------------------------------------
# dmesg checking
# --------------------------------------------------------------------------------------

class DmesgError(AssertionError):
    """The guest kernel log shows a warning, oops, BUG, sanitizer report..."""


DMESG_BAD_PATTERNS = [
    r"WARNING:",
    r"\bBUG:",
    r"kernel BUG at",
    r"\bOops\b",
    r"general protection fault",
    r"\bKASAN\b",
    r"\bUBSAN\b",
    r"\bKFENCE\b",
    r"list_(del|add) corruption",
    r"\brefcount_t\b",
    r"Call Trace",
    r"Kernel panic",
    r"Unable to handle kernel",
    r"invalid opcode",
    r"\bRIP: ",
    r"soft lockup",
    r"hard LOCKUP",
    r"rcu.*(stall|detected stalls)",
    r"INFO: task .* blocked for more than",
    r"unreferenced object",                 # kmemleak
    r"scheduling while atomic",
    r"sleeping function called from invalid context",
    r"stack-protector",
    r"Poison overwritten|double free|use-after-free|out-of-bounds",
    r"kobject.*(already|not initialized)",
    # SLUB debugging (slub_debug=FZPU): "BUG kmalloc-64 (Not tainted): Redzone overwritten",
    # "FIX kmalloc-64: Restoring ...", "Object padding overwritten"
    r"\bBUG kmalloc-",
    r"\bBUG [\w.:-]+ \((Not t|T)ainted",
    r"\bFIX [\w.:-]+: ",
    r"Redzone|Object padding|Padding overwritten|Freepointer corrupt",
    # KFENCE and KASAN reports ("BUG: KFENCE: out-of-bounds read ...", "BUG: KASAN: ...")
    r"BUG: KFENCE|BUG: KASAN",
    # lockdep (PROVE_LOCKING in the debug kernel)
    r"possible circular locking|possible recursive locking|inconsistent lock state",
    r"possible irq lock inversion|suspicious RCU usage|lock held when returning",
    # kmemleak ("kmemleak: 3 new suspected memory leaks")
    r"kmemleak: .*suspected memory leak",
    # the OOM killer, global or of a cgroup
    r"Out of memory|out of memory: Kill|oom-kill|invoked oom-killer",
]
_DMESG_BAD = re.compile("|".join(f"(?:{p})" for p in DMESG_BAD_PATTERNS))


def dmesg_problems(text: str, allow: Iterable[str] = ()) -> list[str]:
    """The lines of a kernel log that indicate trouble (see DMESG_BAD_PATTERNS)."""
    allow_re = [re.compile(a) for a in allow]
    return [line for line in text.splitlines()
            if _DMESG_BAD.search(line) and not any(a.search(line) for a in allow_re)]


def check_dmesg(text: str, allow: Iterable[str] = ()) -> None:
    """Raise DmesgError if the kernel log shows a WARNING, BUG, Oops, sanitizer report etc.

    allow: regexes for lines a test deliberately provokes."""
    bad = dmesg_problems(text, allow)
    if bad:
        lines = text.splitlines()
        first = lines.index(bad[0])
        context = "\n".join(lines[max(0, first - 5):first + 40])
        raise DmesgError(f"kernel log shows {len(bad)} problem line(s), first: {bad[0]!r}\n"
                         f"--- context ---\n{context}")


# --------------------------------------------------------------------------------------
# Running in a VM
# --------------------------------------------------------------------------------------

class VMError(AssertionError):
    pass


@dataclasses.dataclass
class VMResult:
    kernel: Kernel
    returncode: int | None     # the script's exit status; None if it never finished
    stdout: str
    stderr: str
    dmesg: str                 # guest `dmesg` after the script (or the console log if none)
    console: str               # vng/qemu output on the host (kernel console, warnings+)
    duration: float            # wall-clock seconds, boot included
    results_dir: Path          # the shared directory (files the script wrote there stay)
    timed_out: bool = False
    leftover_modules: list = dataclasses.field(default_factory=list)  # VMSession: unloaded after the script
    dmesg_captured: bool = True  # False: the guest died before `dmesg` ran (dmesg = console)

    def describe(self) -> str:
        return (f"VM on {self.kernel}: returncode={self.returncode} timed_out={self.timed_out} "
                f"({self.duration:.1f} s), results in {self.results_dir}\n"
                f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}\n"
                f"--- console (tail) ---\n{self.console[-3000:]}")

    def check(self) -> "VMResult":
        """Assert the script exited 0."""
        if self.returncode != 0:
            raise VMError(self.describe())
        return self

    def assert_clean_dmesg(self, allow: Iterable[str] = ()) -> "VMResult":
        """Assert the guest kernel log (and console) show no warning/oops/BUG."""
        if not self.dmesg_captured:
            raise DmesgError(f"the guest did not get to capture dmesg\n{self.describe()}")
        check_dmesg(self.dmesg, allow)
        return self

    def assert_ok(self, allow: Iterable[str] = ()) -> "VMResult":
        """check() + assert_clean_dmesg()."""
        return self.check().assert_clean_dmesg(allow)


# Every guest Python imports GUEST_SITE/sitecustomize.py (on the guest's PYTHONPATH): it
# reads thriftpy2's parser tables from the pickle ply_tables() writes into the results
# directory and loads urllib.request on first use only, ~15 s less per guest process that
# loads an IDL under TCG (docs/vm-testing.md, "Guest Python").
GUEST_SITE = Path(__file__).resolve().parent / "guest_site"
PLY_TABLES = "ply-thriftpy2.pickle"


def ply_tables(path: Path) -> bool:
    """Write thriftpy2's PLY parser tables to `path` (a pickle); False if that failed (the
    guest then builds them itself, as thriftpy2 always does)."""
    try:
        import ply.yacc
        import thriftpy2.parser.parser as grammar
        tmp = path.with_name(path.name + ".tmp")
        ply.yacc.yacc(module=grammar, debug=False, picklefile=str(tmp), errorlog=ply.yacc.NullLogger())
        tmp.replace(path)
        return True
    except Exception:  # noqa: BLE001 - an optimisation only
        return False


# The pure-Python modules the guest scripts import (thriftpy2 and the standard library
# modules of tests/vm's drivers and clients), compiled by the host into one file the guest
# reads at once (guest_site/sitecustomize.py serves them from it, at their own paths): a
# guest process then spends no 9p look-ups, stats and reads on them. A module not in the
# bundle is imported as before, so a stale list costs time, never behaviour.
GUEST_MODULES = "guest-modules.marshal"
GUEST_MODULE_ROOTS = (
    "thriftpy2", "thriftpy2.rpc", "thriftpy2.protocol", "thriftpy2.transport",
    "thriftpy2.transport.memory", "thriftpy2.protocol.binary", "thriftpy2.protocol.compact",
    "thriftpy2.thrift", "thriftpy2.parser", "ply.yacc", "ply.lex",
    "argparse", "json", "socket", "selectors", "threading", "subprocess", "random", "struct",
    "re", "traceback", "pathlib", "multiprocessing", "multiprocessing.pool", "resource",
    "signal", "fcntl", "errno", "hashlib", "base64", "tempfile", "shutil", "dataclasses",
    "contextlib", "collections", "itertools", "functools", "statistics", "queue", "ipaddress",
    "concurrent.futures", "typing", "types", "string", "textwrap", "enum", "copy", "pickle",
)

# Run by the venv's Python on the host (the guest runs the same interpreter over 9p):
# import the roots, then write {name: (origin, is_package, marshalled code)} for every
# module loaded from a .py file, with the interpreter's magic number.
_BUNDLE_SCRIPT = r"""
import importlib, importlib.util, marshal, os, sys
out, roots = sys.argv[1], sys.argv[2:]
for name in roots:
    try:
        importlib.import_module(name)
    except Exception:
        pass
mods = {}
for name, mod in list(sys.modules.items()):
    spec = getattr(mod, "__spec__", None)
    origin = getattr(spec, "origin", None)
    if spec is None or not origin or not origin.endswith(".py") or not os.path.isfile(origin) \
            or type(spec.loader).__name__ != "SourceFileLoader" or name == "sitecustomize" \
            or name.startswith("__editable__"):
        continue
    with open(origin, "rb") as f:
        code = compile(f.read(), origin, "exec", dont_inherit=True)
    mods[name] = (origin, spec.submodule_search_locations is not None, marshal.dumps(code))
with open(out + ".tmp", "wb") as f:
    marshal.dump((importlib.util.MAGIC_NUMBER, sys.version, mods), f)
os.replace(out + ".tmp", out)
"""


_guest_modules_bytes: list[bytes] = []     # this process's bundle, written again at each boot


def guest_modules(path: Path) -> bool:
    """Write the guest's module bundle to `path` (see GUEST_MODULES); False if that failed
    (the guest then imports everything from 9p, as without it)."""
    try:
        if not _guest_modules_bytes:
            subprocess.run([str(VENV_PYTHON), "-I", "-c", _BUNDLE_SCRIPT, str(path),
                            *GUEST_MODULE_ROOTS],
                           cwd="/", check=True, timeout=120, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _guest_modules_bytes.append(path.read_bytes())
        else:
            path.write_bytes(_guest_modules_bytes[0])
        return True
    except (OSError, subprocess.SubprocessError):
        return False


def guest_env(results: Path) -> str:
    """The guest shell's environment line (results is $R there), after writing the parser
    tables and the module bundle its Python reads."""
    ply_tables(results / PLY_TABLES)
    guest_modules(results / GUEST_MODULES)
    return ("export HOME=/root LC_ALL=C PYTHONDONTWRITEBYTECODE=1 KGEN_GUEST=1 "
            f"PYTHONPATH={shlex.quote(str(GUEST_SITE))} KGEN_PLY_TABLES=$R/{PLY_TABLES} "
            f"KGEN_GUEST_MODULES=$R/{GUEST_MODULES}")


_WRAPPER = r"""#!/bin/bash
# Guest side of thrift_kgen/testing/vm.py: run script.sh, capture everything into $R.
R={results}
export PATH={venv_bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
{guest_env} KGEN_RESULTS=$R
ip link set lo up 2>/dev/null
uname -r > "$R/uname"
cd {cwd}
timeout -k 5 {guest_timeout} bash "$R/script.sh" > "$R/stdout" 2> "$R/stderr" < /dev/null
echo $? > "$R/rc.tmp" && mv "$R/rc.tmp" "$R/rc"
dmesg > "$R/dmesg.tmp" 2>&1 && mv "$R/dmesg.tmp" "$R/dmesg"
sync
"""


def _vng_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{VENV / 'bin'}:{env.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')}"
    home = env.get("HOME", "")
    if not home or not os.access(home, os.W_OK):
        env["HOME"] = tempfile.mkdtemp(prefix="kgen-vng-home-")
    return env


def vng_command(kernel: Kernel, results: Path, wrapper_cmd: str, *, cpus: int = 2,
                memory: str = "1G", icount: bool = False, rwdirs: Sequence[Path | str] = (),
                append: Sequence[str] = (), fast_boot: bool = True,
                memory_debug: bool = True) -> list[str]:
    cmd = [str(VENV / "bin" / "vng"), "--run", str(kernel.vmlinuz), "--disable-kvm", "--force-9p",
           "--verbose", f"--rwdir={results}"]
    for d in rwdirs:
        cmd.append(f"--rwdir={d}")
    # KGEN_VM_CPUS: every guest's vCPUs (an experiment's knob); icount always has one.
    cpus = 1 if icount else int(os.environ.get("KGEN_VM_CPUS", cpus))
    cmd += ["--cpus", str(cpus), "--memory", memory]
    if icount:
        cmd.append("--qemu-opts=-icount shift=0,sleep=off")
    # --verbose puts the kernel console (loglevel=7) on stdout; keep warnings and worse.
    kargs = ["loglevel=5"]
    if fast_boot:
        kargs.append(f"modprobe.blacklist={BOOT_BLACKLIST}")
    if memory_debug:
        kargs += MEMORY_DEBUG_BOOT
    for a in list(kargs) + list(append):
        cmd += ["--append", a]
    cmd += ["--", wrapper_cmd]
    return cmd


BOOT_ATTEMPTS = 3


def _boot_crashed(console_path: Path) -> bool:
    text = console_path.read_text(errors="replace") if console_path.exists() else ""
    return "Kernel panic" in text or "Oops:" in text


def _boot_and_wait(cmd: list[str], cwd: Path | str, console_path: Path, timeout: float) -> bool:
    """Run one VM to its end (or kill it after timeout); True if it timed out."""
    timed_out = False
    with open(console_path, "wb") as console:
        proc = subprocess.Popen(cmd, cwd=str(cwd), env=_vng_env(), stdin=subprocess.DEVNULL,
                                stdout=console, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            proc.wait(timeout=max(timeout, 1))
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            # vng -> virtme-run -> qemu share the new session: never leave a VM behind.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    return timed_out


def run_in_vm(kernel: Kernel, script: str, *, timeout: float = 300, cpus: int = 2,
              memory: str = "1G", icount: bool = False, rwdirs: Sequence[Path | str] = (),
              append: Sequence[str] = (), cwd: Path | str = REPO, fast_boot: bool = True,
              results_dir: Path | str | None = None, memory_debug: bool = True) -> VMResult:
    """Boot kernel under qemu (no KVM) and run the bash `script` as root in the guest.

    The guest sees the host's files (read-only, with throw-away overlays on /tmp, /etc,
    /usr, /var...), so build products and .venv/bin/python work there at the same paths;
    .venv/bin is first on the guest's PATH and lo is up.  Directories in rwdirs (and the
    results directory, $KGEN_RESULTS in the guest) are shared read-write.  The script
    runs with `timeout` minus a margin, so dmesg is still collected when it hangs.

    icount=True: one vCPU and `-icount shift=0,sleep=off` (deterministic, repeatable
    timing).  memory_debug=False boots without MEMORY_DEBUG_BOOT (benchmarks).  Returns a
    VMResult; call .assert_ok() (exit 0 and clean dmesg).
    """
    timeout *= TIMEOUT_SCALE
    base = Path(results_dir) if results_dir else Path(tempfile.mkdtemp(prefix="kgen-vm-"))
    base.mkdir(parents=True, exist_ok=True)
    results = base.resolve()
    for f in ("rc", "stdout", "stderr", "dmesg", "uname"):
        (results / f).unlink(missing_ok=True)
    (results / "script.sh").write_text(script)
    guest_timeout = max(10, int(timeout) - 60)
    (results / "wrapper.sh").write_text(_WRAPPER.format(
        results=shlex.quote(str(results)), venv_bin=shlex.quote(str(VENV / "bin")),
        guest_env=guest_env(results),
        cwd=shlex.quote(str(cwd)), guest_timeout=guest_timeout))
    cmd = vng_command(kernel, results, f"bash {shlex.quote(str(results / 'wrapper.sh'))}",
                      cpus=cpus, memory=memory, icount=icount, rwdirs=rwdirs, append=append,
                      fast_boot=fast_boot, memory_debug=memory_debug)
    (results / "vng.cmd").write_text(shlex.join(cmd) + "\n")
    console_path = results / "console.log"
    t0 = time.monotonic()
    for attempt in range(BOOT_ATTEMPTS):
        timed_out = _boot_and_wait(cmd, cwd, console_path, timeout - (time.monotonic() - t0))
        # qemu's TCG on SMP guests sometimes oopses while the kernel patches its own text at
        # boot (int3 in an idle path), long before the script (and our modules) ran: boot again.
        if timed_out or (results / "uname").exists() or not _boot_crashed(console_path):
            break
        (results / f"boot-crash-{attempt}.log").write_bytes(console_path.read_bytes())
    duration = time.monotonic() - t0

    def read(name: str) -> str:
        p = results / name
        return p.read_text(errors="replace") if p.exists() else ""

    rc_text = read("rc").strip()
    console_text = read("console.log")
    captured = (results / "dmesg").exists()
    dmesg = read("dmesg") if captured else console_text
    return VMResult(kernel=kernel, returncode=int(rc_text) if rc_text else None,
                    stdout=read("stdout"), stderr=read("stderr"), dmesg=dmesg,
                    console=console_text, duration=duration, results_dir=results,
                    timed_out=timed_out or rc_text in ("124", "137"), dmesg_captured=captured)


# --------------------------------------------------------------------------------------
# Batched runs: one boot, many scripts
# --------------------------------------------------------------------------------------

_SERVER = r"""#!/bin/bash
# Guest side of thrift_kgen.testing.vm.VMSession: run $R/cmd-<n>/script.sh as they appear.
# Few processes per command and none while idle: under TCG every exec over 9p is slow.
R={results}
export PATH={venv_bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
{guest_env}
ip link set lo up 2>/dev/null
uname -r > "$R/uname"
dmesg -c > "$R/boot-dmesg" 2>&1
# read -t on a fifo nobody writes = a sleep without an exec
if mkfifo /run/kgen-idle && exec 3<> /run/kgen-idle; then IDLE="read -r -t 0.1 -u 3 _"; else IDLE="sleep 0.1"; fi
mods() {{ local m _; MODS=(); while read -r m _; do MODS+=("$m"); done < /proc/modules; }}
: > "$R/ready"
n=0
while [ ! -e "$R/stop" ]; do
	C="$R/cmd-$n"
	if [ ! -e "$C/go" ]; then
		$IDLE
		continue
	fi
	mods; declare -A before=(); for m in "${{MODS[@]}}"; do before[$m]=1; done
	read -r cwd < "$C/cwd"; read -r tmo < "$C/timeout"
	dmesg -c > "$C/dmesg.0" 2>&1
	(cd "$cwd" && KGEN_RESULTS="$C" exec timeout -k 5 "$tmo" \
		bash "$C/script.sh" > "$C/stdout" 2> "$C/stderr" < /dev/null)
	rc=$?
	# Unload what the script left loaded, newest first, so the next script starts clean.
	mods; left=(); for m in "${{MODS[@]}}"; do [ -n "${{before[$m]}}" ] || left+=("$m"); done
	unset before
	if [ ${{#left[@]}} -gt 0 ]; then
		printf '%s\n' "${{left[@]}}" > "$C/leftover"
		for m in "${{left[@]}}"; do rmmod "$m" 2>> "$C/rmmod.err"; done
	fi
	dmesg -c > "$C/dmesg.1" 2>&1
	echo $rc > "$C/rc"
	: > "$C/done"
	n=$((n + 1))
done
sync
"""


class VMSession:
    """One VM kept running for many scripts (boots cost ~15-30 s, a script ~0.1 s).

        with VMSession(kernel) as vm:
            vm.run("insmod x.ko && ...").assert_ok()
            vm.run("...").assert_ok()

    Each run() returns a VMResult whose dmesg holds only the kernel messages logged since
    the previous run (the ring buffer is cleared with dmesg -c), and whose results_dir is
    $KGEN_RESULTS of that script.  Modules the script leaves loaded are unloaded after it
    (listed in result.leftover_modules).  The VM is rebooted before the next run() after a
    run that timed out, crashed the guest, logged a kernel problem or left a module that
    could not be unloaded.  Same options as run_in_vm.
    """

    def __init__(self, kernel: Kernel, *, cpus: int = 2, memory: str = "1G",
                 icount: bool = False, rwdirs: Sequence[Path | str] = (),
                 append: Sequence[str] = (), fast_boot: bool = True,
                 boot_timeout: float = 300, cwd: Path | str = REPO, memory_debug: bool = True):
        self.kernel = kernel
        self.opts = dict(cpus=cpus, memory=memory, icount=icount, rwdirs=rwdirs,
                         append=append, fast_boot=fast_boot, memory_debug=memory_debug)
        self.boot_timeout = boot_timeout * TIMEOUT_SCALE
        self.cwd = Path(cwd)
        self.proc: subprocess.Popen | None = None
        self.results: Path | None = None
        self.boots = 0
        self.boot_seconds: list[float] = []
        self._n = 0
        self._console = None
        self._needs_reboot = False

    # -- lifecycle --
    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> "VMSession":
        for attempt in range(BOOT_ATTEMPTS):
            try:
                return self._boot()
            except VMError as e:
                # A crash while booting, before any script or module of ours ran, is qemu's
                # TCG (see run_in_vm): boot again; anything else is a real failure.
                if "exited during boot" not in str(e) or not _boot_crashed(self.results / "console.log") \
                        or attempt == BOOT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _boot(self) -> "VMSession":
        self.close()
        self.results = Path(tempfile.mkdtemp(prefix="kgen-vmsession-")).resolve()
        (self.results / "server.sh").write_text(_SERVER.format(
            results=shlex.quote(str(self.results)), venv_bin=shlex.quote(str(VENV / "bin")),
            guest_env=guest_env(self.results)))
        cmd = vng_command(self.kernel, self.results,
                          f"bash {shlex.quote(str(self.results / 'server.sh'))}", **self.opts)
        (self.results / "vng.cmd").write_text(shlex.join(cmd) + "\n")
        self._console = open(self.results / "console.log", "wb")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=str(self.cwd), env=_vng_env(), stdin=subprocess.DEVNULL,
                                     stdout=self._console, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self._n = 0
        self._needs_reboot = False
        self.boots += 1
        ready = self.results / "ready"
        while not ready.exists():
            if not self.alive:
                raise VMError(f"VM on {self.kernel} exited during boot:\n{self._console_text()[-4000:]}")
            if time.monotonic() - t0 > self.boot_timeout:
                self.close()
                raise VMError(f"VM on {self.kernel} did not boot in {self.boot_timeout} s:\n"
                              f"{self._console_text()[-4000:]}")
            time.sleep(0.1)
        self.boot_seconds.append(time.monotonic() - t0)
        harness_log("boot", series=self.kernel.series, seconds=self.boot_seconds[-1])
        boot_dmesg = (self.results / "boot-dmesg").read_text(errors="replace")
        check_dmesg(boot_dmesg)
        return self

    def close(self) -> None:
        """Stop the VM (asks the guest loop to exit, then kills qemu's process group)."""
        if self.proc is not None:
            if self.alive and self.results is not None:
                (self.results / "stop").touch()
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    pass
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None
        if self._console is not None:
            self._console.close()
            self._console = None

    def __enter__(self) -> "VMSession":
        return self.start() if not self.alive else self

    def __exit__(self, *exc) -> None:
        self.close()

    def _console_text(self) -> str:
        p = self.results / "console.log" if self.results else None
        return p.read_text(errors="replace") if p and p.exists() else ""

    # -- running --
    def run(self, script: str, *, timeout: float = 120, cwd: Path | str | None = None) -> VMResult:
        """Run the bash script as root in the guest (booting first if needed)."""
        timeout *= TIMEOUT_SCALE
        if not self.alive or self._needs_reboot:
            self.start()
        assert self.results is not None
        c = self.results / f"cmd-{self._n}"
        self._n += 1
        c.mkdir()
        (c / "script.sh").write_text(script)
        (c / "timeout").write_text(f"{int(timeout)}\n")
        (c / "cwd").write_text(f"{cwd or self.cwd}\n")
        console_off = len(self._console_text())
        t0 = time.monotonic()
        (c / "go").touch()
        done_file = c / "done"
        timed_out = False
        while not done_file.exists():
            if not self.alive:
                break
            if time.monotonic() - t0 > timeout + 30:
                timed_out = True
                break
            time.sleep(0.05)
        duration = time.monotonic() - t0

        def read(name: str) -> str:
            p = c / name
            return p.read_text(errors="replace") if p.exists() else ""

        rc_text = read("rc").strip() if done_file.exists() else ""
        console = self._console_text()[console_off:]
        crashed = not rc_text
        dmesg = read("dmesg.0") + (read("dmesg.1") if not crashed else console)
        res = VMResult(kernel=self.kernel, returncode=int(rc_text) if rc_text else None,
                       stdout=read("stdout"), stderr=read("stderr"), dmesg=dmesg,
                       console=console, duration=duration, results_dir=c,
                       timed_out=timed_out or rc_text in ("124", "137"),
                       dmesg_captured=not crashed)
        res.leftover_modules = read("leftover").split()
        unload_failed = bool(read("rmmod.err").strip())
        if crashed or res.timed_out or unload_failed or dmesg_problems(dmesg):
            self._needs_reboot = True
            if crashed:
                self.close()
        return res


# vCPUs of the pool's guests.  Two 2-vCPU guests (one per series, side by side) put four
# TCG threads on CI's two cores: test_runtime_kernel plus test_inplace on 6.1 and 6.12 took
# 644 s with two vCPUs per guest and 392 s with one (docs/vm-testing.md).  So a test gets a one-vCPU
# guest unless it is marked `vm_smp`: those (the hostile suite, the workqueue modes, the
# races of vanishing clients and rmmod) need the module's paths running on two CPUs at once.
POOL_CPUS = 1
POOL_SMP_CPUS = 2


class VMPool:
    """At most one live VMSession in this process (pytest worker): per kernel series, a
    one-vCPU guest and, for the tests marked `vm_smp`, a two-vCPU one."""

    def __init__(self):
        self.sessions: dict[tuple[str, bool], VMSession] = {}

    def get(self, kernel: Kernel, *, smp: bool = False) -> VMSession:
        # One idle guest still costs CPU: stop the other guest when switching.  The
        # collection hook orders each series' tests so that this happens once.
        key = (kernel.series, smp)
        for k, other in self.sessions.items():
            if k != key:
                other.close()
        s = self.sessions.get(key)
        if s is None:
            s = self.sessions[key] = VMSession(kernel, cpus=POOL_SMP_CPUS if smp else POOL_CPUS)
        return s

    def close(self) -> None:
        for s in self.sessions.values():
            s.close()


# --------------------------------------------------------------------------------------
# Fixtures (imported into tests/conftest.py)
# --------------------------------------------------------------------------------------

@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Put VM tests in the xdist group vm-<series> (unless they chose a group), so that
    with `--dist loadgroup` each series' VM tests run on one worker, sharing one boot of
    the `vm` fixture, and at most one guest runs per worker.  After every other hook
    (pytest's own reordering by fixture included): `_guest_order` puts the tests marked
    `vm_smp` and `vm_breaks_guest` after the others, so each worker boots a series' guests
    once and no test pays for a reboot left by another."""
    for item in items:
        if item.get_closest_marker("vm") is None and "vm" not in getattr(item, "fixturenames", ()):
            continue
        callspec = getattr(item, "callspec", None)
        series = callspec.params.get("kernel") if callspec else None
        if series and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(f"vm-{series}"))
    if getattr(config.option, "loadgroup", False):     # set in xdist workers
        _apply_xdist_groups(items)
    yield
    if hasattr(config, "workerinput"):               # an xdist worker: the order is the schedule
        _long_tests_first(items)
    _guest_order(items)


def _guest_order(items) -> None:
    """Order the VM tests for the pool's guests (a stable sort: fixtures keep their tests
    together, the other tests keep their order before them): per series, the one-vCPU
    guest's tests, then those marked `vm_breaks_guest` (the reboot they leave needing is
    the switch to the other guest), then the tests marked `vm_smp` on the two-vCPU guest,
    its breaking ones last."""
    series_order: dict[str, int] = {}

    def key(item) -> tuple[int, int, int]:
        if item.get_closest_marker("vm") is None:
            return (0, 0, 0)
        group = item.get_closest_marker("xdist_group")
        callspec = getattr(item, "callspec", None)
        series = str(group.args[0]) if group and group.args else \
            str(callspec.params.get("kernel", "")) if callspec else ""
        smp = item.get_closest_marker("vm_smp") is not None
        breaks = item.get_closest_marker("vm_breaks_guest") is not None
        return (1, series_order.setdefault(series, len(series_order)), 2 * smp + breaks)
    items.sort(key=key)


def _long_tests_first(items) -> None:
    """Put the ungrouped tests marked `long` or `kernel_build` (a minute or more each on CI's
    2 cores) before the other ungrouped ones.  `--dist loadgroup` hands out the groups first
    (largest first), then single tests in this order: the long ones then start while the
    short ones can still fill the gaps, and the run does not end on one worker with a long
    test left.  Tests using a module- or class-scoped fixture keep their place (moving one
    would set that fixture up twice); VM tests are in groups and keep theirs."""
    def movable(item) -> bool:
        if item.get_closest_marker("xdist_group") is not None or item.get_closest_marker("vm"):
            return False
        if item.get_closest_marker("long") is None and item.get_closest_marker("kernel_build") is None:
            return False
        defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
        return not any(d.scope in ("module", "class", "package") for ds in defs.values() for d in ds)
    first = [i for i in items if movable(i)]
    if first:
        ids = {id(i) for i in first}
        items[:] = first + [i for i in items if id(i) not in ids]


def _apply_xdist_groups(items) -> None:
    """Suffix each grouped item's node id with `@<group>`, which is how `--dist loadgroup`
    finds groups.  pytest-xdist 3.8 does it by assigning `item._nodeid`, which pytest 9
    no longer reads (the id lives in `item._id`): without this every group is ignored and
    grouped tests scatter over the workers (each worker then boots its own VMs)."""
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if not names:
            continue
        suffix = "@" + "_".join(names)
        if item.nodeid.endswith(suffix):
            continue
        if hasattr(item, "_id"):           # pytest >= 9: a NodeId that caches its string
            from _pytest.nodeid import NodeId
            item._id = NodeId.parse(item.nodeid + suffix)
        # older pytest: xdist's own hook (after this one) appends the suffix


@pytest.fixture(scope="session")
def kernels_info() -> dict[str, Kernel]:
    """All installed kernels by series (may be empty)."""
    return kernels()


@pytest.fixture(scope="session", params=SERIES, ids=lambda s: f"linux-{s}")
def kernel(request) -> Kernel:
    """Each wanted Debian kernel series; skipped only if setup-kernels.sh did not list it.

    Session-scoped, so pytest groups the tests by kernel (one VM boot per series and
    worker with the `vm` fixture)."""
    return get_kernel(request.param)


_POOLS: list[VMPool] = []


@pytest.fixture(scope="session")
def vm_pool():
    pool = VMPool()
    _POOLS.append(pool)
    yield pool
    _POOLS.remove(pool)
    pool.close()


def pytest_runtest_teardown(item, nextitem):
    """Stop this worker's VMs once its next test is not a VM test: the VM tests of a
    series come as one xdist group, so no VM test follows, and an idle guest still
    costs CPU that the rest of the suite can use (a later VM test would boot again)."""
    if _POOLS and (nextitem is None or nextitem.get_closest_marker("vm") is None):
        for pool in _POOLS:
            pool.close()


@pytest.fixture
def vm(vm_pool, kernel) -> VMSession:
    """A running VM with `kernel`, shared by the tests of this worker: vm.run(script)."""
    return vm_pool.get(kernel)


@pytest.fixture
def vm_smp(vm_pool, kernel, request) -> VMSession:
    """As `vm`, with two vCPUs: for tests marked `vm_smp` (the order of the tests, one
    switch of guest per series, depends on the marker)."""
    assert request.node.get_closest_marker("vm_smp"), f"{request.node.nodeid} uses vm_smp: mark it vm_smp"
    return vm_pool.get(kernel, smp=True)
