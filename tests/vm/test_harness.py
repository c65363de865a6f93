# SPDX-License-Identifier: GPL-2.0
"""Proof that the VM harness works: build a module for each Debian kernel, boot, load it."""

import textwrap

import pytest

from thrift_kgen.testing.vm import (REPO, VENV_PYTHON, BuildError, DmesgError, build_module, check_dmesg,
                       dmesg_problems, run_in_vm)

HELLO_C = r"""
// SPDX-License-Identifier: GPL-2.0
#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>

static int greeting_count = 1;
module_param(greeting_count, int, 0444);
MODULE_PARM_DESC(greeting_count, "how many times to greet");

static int __init kgen_hello_init(void)
{
	int i;

	for (i = 0; i < greeting_count; i++)
		pr_info("kgen_hello: hello %d\n", i);
	return 0;
}

static void __exit kgen_hello_exit(void)
{
	pr_info("kgen_hello: goodbye\n");
}

module_init(kgen_hello_init);
module_exit(kgen_hello_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("thrift-kgen VM harness smoke test");
"""

KBUILD = "obj-m := kgen_hello.o\n"


def write_hello(d, extra=""):
    d.mkdir(parents=True, exist_ok=True)
    (d / "kgen_hello.c").write_text(HELLO_C + extra)
    (d / "Kbuild").write_text(KBUILD)
    return d


@pytest.mark.kernel_build
def test_build_fails_on_warning(kernel, tmp_path):
    """W=1 warnings (here: an unused static function, a missing prototype) fail the build."""
    src = write_hello(tmp_path / "warn", extra="\nint kgen_no_prototype(void) { return 1; }\n")
    with pytest.raises(BuildError, match="warning:"):
        build_module(src, kernel)


@pytest.mark.kernel_build
def test_sparse_findings_fail_build(kernel, tmp_path):
    """With sparse=True a sparse-only finding (dereferencing a __user pointer) fails."""
    extra = ("\nint kgen_peek(int __user *p);\n"
             "int kgen_peek(int __user *p) { return *p; }\nEXPORT_SYMBOL_GPL(kgen_peek);\n")
    src = write_hello(tmp_path / "sparse", extra=extra)
    build_module(src, kernel, build_dir=tmp_path / "b1")      # gcc alone is happy
    with pytest.raises(BuildError, match="dereference of noderef"):
        build_module(src, kernel, sparse=True, build_dir=tmp_path / "b2")


@pytest.mark.vm
@pytest.mark.kernel_build
def test_hello_module_in_vm(kernel, tmp_path):
    """One-shot run_in_vm: own boot, insmod with a parameter, guest python, rmmod."""
    ko = build_module(write_hello(tmp_path / "hello"), kernel, sparse=True,
                      build_dir=tmp_path / "build")
    assert ko.name == "kgen_hello.ko" and ko.stat().st_size > 0
    import thriftpy2
    thriftpy2_file = thriftpy2.__file__     # the guest sees the host's files at their paths

    script = textwrap.dedent(f"""\
        set -eux
        test "$(uname -r)" = {kernel.version}
        insmod {ko} greeting_count=3
        grep -qx 3 /sys/module/kgen_hello/parameters/greeting_count
        test "$(stat -c %a /sys/module/kgen_hello/parameters/greeting_count)" = 444
        dmesg | grep -q 'kgen_hello: hello 2'
        {VENV_PYTHON} - <<'PY'
        import sys
        import ply.yacc
        built = []
        class Counted(ply.yacc.LRGeneratedTable):   # PLY builds tables only without usable pickle
            def __init__(self, *a, **kw):
                built.append(1)
                super().__init__(*a, **kw)
        ply.yacc.LRGeneratedTable = Counted
        import thriftpy2
        fw = thriftpy2.load("{REPO}/idl/forwarder.thrift", module_name="forwarder_thrift")
        print("guest-python", sys.prefix, thriftpy2.__version__, "tables-built", len(built),
              "urllib.request", type(sys.modules["urllib.request"]).__name__, sorted(fw.Forwarder.thrift_services))
        from thriftpy2.protocol import TBinaryProtocolFactory
        print("bundle", type(thriftpy2.__loader__).__name__, type(sys.modules["json"].__loader__).__name__,
              thriftpy2.__file__ == "{thriftpy2_file}", TBinaryProtocolFactory.__module__)
        PY
        ip -o link show lo | grep -q 'UP'
        echo marker > "$KGEN_RESULTS/from-guest"
        rmmod kgen_hello
        test ! -e /sys/module/kgen_hello
        dmesg | grep -q 'kgen_hello: goodbye'
        """)
    res = run_in_vm(kernel, script, timeout=300, cpus=1)   # as the pool's guest
    res.assert_ok()
    assert "guest-python" in res.stdout and "0.7.1" in res.stdout, res.describe()
    # the guest's start-up savings (guest_site/sitecustomize.py): thriftpy2's parser tables
    # came from the host's pickle, urllib.request was not loaded, the IDL loaded in full
    assert "tables-built 0 urllib.request _Stub ['close_backends', 'connect', 'msg', 'stats']" \
        in res.stdout, res.describe()
    # thriftpy2 and the standard library came from the host's bundle (vm.guest_modules()),
    # at their own paths, and thriftpy2's C extension (cybin) was still found and used
    assert "bundle _Bundle _Bundle True thriftpy2.protocol.cybin.cybin" in res.stdout, res.describe()
    assert (res.results_dir / "from-guest").read_text().strip() == "marker"
    assert "kgen_hello: hello 0" in res.dmesg


def test_check_dmesg_catches_warning():
    clean = "[    1.0] kgen_hello: hello 0\n[    1.1] loading out-of-tree module taints kernel.\n"
    check_dmesg(clean)
    planted = clean + ("[    2.000000] WARNING: CPU: 0 PID: 1 at kernel/foo.c:12 bar+0x1/0x2\n"
                       "[    2.000001] Call Trace:\n")
    with pytest.raises(DmesgError, match="WARNING: CPU: 0 PID: 1 at"):
        check_dmesg(planted)
    for line in ("BUG: kernel NULL pointer dereference, address: 0000000000000008",
                 "general protection fault, probably for non-canonical address",
                 "list_del corruption. prev->next should be ffff8880",
                 "refcount_t: underflow; use-after-free.",
                 "kernel BUG at mm/slub.c:123!",
                 "Oops: 0000 [#1] PREEMPT SMP NOPTI",
                 "BUG: KASAN: slab-use-after-free in foo+0x10/0x20"):
        assert dmesg_problems(f"[    3.0] {line}\n"), line
    # A deliberate warning can be allowed explicitly.
    check_dmesg(planted, allow=[r"WARNING: CPU: 0 PID: 1 at kernel/foo\.c", r"Call Trace"])


WARN_C = r"""
// SPDX-License-Identifier: GPL-2.0
#include <linux/bug.h>
#include <linux/module.h>

static int __init kgen_warn_init(void)
{
	WARN_ON(1);
	return 0;
}

static void __exit kgen_warn_exit(void)
{
}

module_init(kgen_warn_init);
module_exit(kgen_warn_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("thrift-kgen VM harness: provokes a kernel WARNING");
"""


@pytest.mark.vm
@pytest.mark.kernel_build
def test_vm_session_batches_scripts(kernel, vm, tmp_path):
    """The shared `vm`: several scripts in one boot, per-script dmesg, leftovers unloaded."""
    ko = build_module(write_hello(tmp_path / "hello"), kernel, build_dir=tmp_path / "build")
    boots = vm.boots
    r1 = vm.run(f"insmod {ko} greeting_count=2 && cat /sys/module/kgen_hello/parameters/greeting_count")
    r1.assert_ok()
    assert r1.stdout.strip() == "2"
    assert "kgen_hello: hello 1" in r1.dmesg
    assert r1.leftover_modules == ["kgen_hello"]      # the harness unloaded it
    r2 = vm.run("test ! -e /sys/module/kgen_hello && uname -r && echo x > $KGEN_RESULTS/f")
    r2.assert_ok()
    assert r2.stdout.strip() == kernel.version
    assert "kgen_hello: hello" not in r2.dmesg           # only this script's messages
    assert "kgen_hello: goodbye" in r2.dmesg or "kgen_hello: goodbye" in r1.dmesg
    assert (r2.results_dir / "f").read_text() == "x\n"
    r3 = vm.run("exit 7")
    assert r3.returncode == 7 and not r3.timed_out
    assert vm.boots == max(boots, 1)
    r4 = vm.run("nproc")                                 # the pool's one-vCPU guest
    r4.assert_ok()
    assert r4.stdout.strip() == "1"


@pytest.mark.vm
@pytest.mark.vm_smp
def test_vm_smp_guest_has_two_cpus(vm_smp):
    """The `vm_smp` guest: two vCPUs online, the module's paths can run on both at once."""
    res = vm_smp.run("nproc; cat /sys/devices/system/cpu/online")
    res.assert_ok()
    assert res.stdout.split() == ["2", "0-1"]


@pytest.mark.vm
@pytest.mark.vm_breaks_guest
@pytest.mark.kernel_build
def test_vm_detects_real_kernel_warning(kernel, vm, tmp_path):
    """A module that WARN_ON(1)s in init: the harness must flag the guest's dmesg."""
    d = tmp_path / "warn"
    d.mkdir()
    (d / "kgen_warn.c").write_text(WARN_C)
    (d / "Kbuild").write_text("obj-m := kgen_warn.o\n")
    ko = build_module(d, kernel, build_dir=tmp_path / "build")
    res = vm.run(f"insmod {ko} && rmmod kgen_warn")
    res.check()
    with pytest.raises(DmesgError, match=r"WARNING: CPU: \d+ PID: \d+ at .*kgen_warn"):
        res.assert_clean_dmesg()
    # The session reboots before the next script: the new kernel is clean again.
    boots = vm.boots
    vm.run("true").assert_ok()
    assert vm.boots == boots + 1


def test_check_dmesg_catches_memory_lock_and_oom_reports():
    """The reports of slub_debug, KFENCE, KASAN, lockdep, kmemleak and the OOM killer."""
    for line in ("BUG kmalloc-64 (Tainted: G           O      ): Right Redzone overwritten",
                 "BUG skbuff_head_cache (Not tainted): Poison overwritten",
                 "FIX kmalloc-64: Restoring Right Redzone 0xffff888003f1c040-0xffff888003f1c047=0xcc",
                 "Object padding overwritten. First byte 0x0 instead of 0x5a",
                 "BUG: KFENCE: out-of-bounds write in kgen_x+0x10/0x20",
                 "BUG: KASAN: slab-out-of-bounds in kg_bsock_fill+0x1/0x2",
                 "WARNING: possible circular locking dependency detected",
                 "WARNING: inconsistent lock state",
                 "BUG: sleeping function called from invalid context at mm/slab.h:123",
                 "kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
                 "unreferenced object 0xffff888005c1a000 (size 4096):",
                 "python invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
                 "Out of memory: Killed process 123 (python) total-vm:1234kB",
                 "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0"):
        assert dmesg_problems(f"[    3.0] {line}\n"), line
    for line in ("kfence: initialized - using 2097152 bytes for 255 objects at 0x(____ptrval____)",
                 "kmemleak: Kernel memory leak detector initialized (mem pool available: 15000)",
                 "thrifttest: listening on 0.0.0.0:9090 (framed, binary)"):
        assert not dmesg_problems(f"[    3.0] {line}\n"), line


SLAB_OOB_C = r"""
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include <linux/slab.h>

/* A runtime offset, so the compiler cannot see the write is out of bounds. */
static int offset = 64;
module_param(offset, int, 0444);
MODULE_PARM_DESC(offset, "byte written past a 64-byte kmalloc object");

static int __init kgen_oob_init(void)
{
	u8 *p = kmalloc(64, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	((volatile u8 *)p)[offset] = 0x55;
	kfree(p);
	return 0;
}

static void __exit kgen_oob_exit(void)
{
}

module_init(kgen_oob_init);
module_exit(kgen_oob_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("thrift-kgen VM harness: writes one byte past a slab object");
"""


@pytest.mark.vm
@pytest.mark.vm_breaks_guest
@pytest.mark.kernel_build
def test_vm_boots_with_memory_debugging(kernel, vm, tmp_path):
    """Every test VM boots with slub_debug=FZPU (red zones, poison, owner tracking, checks
    on every cache) and KFENCE sampling where the kernel has KFENCE; a one-byte write past
    a kmalloc object is then reported, and the harness flags it."""
    from thrift_kgen.testing.vm import MEMORY_DEBUG_BOOT
    script = textwrap.dedent("""\
        cat /proc/cmdline
        for f in sanity_checks red_zone poison store_user; do
            echo "$f=$(cat /sys/kernel/slab/kmalloc-64/$f)"
        done
        echo "kfence=$(cat /sys/module/kfence/parameters/sample_interval 2>/dev/null || echo absent)"
        """)
    res = vm.run(script)
    res.assert_ok()
    out = res.stdout
    print(out)
    for arg in MEMORY_DEBUG_BOOT:
        assert arg in out.splitlines()[0].split(), out
    for f in ("sanity_checks", "red_zone", "poison", "store_user"):
        assert f"{f}=1" in out, out
    config = (kernel.vmlinuz.parent / "config")
    has_kfence = config.is_file() and "CONFIG_KFENCE=y" in config.read_text().splitlines()
    assert ("kfence=100" if has_kfence else "kfence=absent") in out, out

    d = tmp_path / "oob"
    d.mkdir()
    (d / "kgen_oob.c").write_text(SLAB_OOB_C)
    (d / "Kbuild").write_text("obj-m := kgen_oob.o\n")
    ko = build_module(d, kernel, build_dir=tmp_path / "build")
    res = vm.run(f"insmod {ko} && rmmod kgen_oob")
    res.check()
    with pytest.raises(DmesgError, match=r"Redzone overwritten|BUG kmalloc-64 |BUG: KASAN"):
        res.assert_clean_dmesg()


def test_build_cache_key_ignores_files_no_build_reads(tmp_path, monkeypatch):
    """Two generations of one IDL into different folders differ only in kgen.mk (it names the
    folder): they share one cached build.  A make file naming kgen.mk keeps it in the key;
    a .gitignore naming it does not; a changed source always changes the key."""
    from pathlib import Path

    from thrift_kgen.testing.vm import Kernel, _BuildCache
    monkeypatch.setenv("KGEN_KBUILD_CACHE", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    k = Kernel(series="6.1", version="6.1.0-0-amd64", vmlinuz=Path("/x/vmlinuz"), kdir=Path("/x/build"))

    def tree(name, mk, kbuild=KBUILD, c=HELLO_C):
        d = write_hello(tmp_path / name)
        (d / "Kbuild").write_text(kbuild)
        (d / "kgen.mk").write_text(mk)
        (d / ".gitignore").write_text("/kgen.mk\n")
        (d / "kgen_hello.c").write_text(c)
        return d

    def key(d):
        return _BuildCache(d, k, sparse=True, name=None, make_args=(), allow_warnings=()).key

    assert key(tree("a", "-include a/kgen.mk\n")) == key(tree("b", "-include deeper/b/kgen.mk\n"))
    including = KBUILD + "include $(src)/kgen.mk\n"
    assert key(tree("c", "X := 1\n", including)) != key(tree("d", "X := 2\n", including))
    assert key(tree("e", "")) != key(tree("f", "", c=HELLO_C + "\n/* changed */\n"))


def test_vm_cpus_knob_keeps_icount_at_one(tmp_path, monkeypatch):
    """KGEN_VM_CPUS sets every guest's vCPUs; an icount guest (the benchmarks') keeps one."""
    from thrift_kgen.testing.vm import Kernel, vng_command
    k = Kernel("6.1", "6.1.0-0-amd64", tmp_path / "vmlinuz", tmp_path / "build")

    def cpus(**kw):
        cmd = vng_command(k, tmp_path, "true", **kw)
        return cmd[cmd.index("--cpus") + 1]

    monkeypatch.delenv("KGEN_VM_CPUS", raising=False)
    assert cpus() == "2" and cpus(cpus=3) == "3" and cpus(icount=True) == "1"
    monkeypatch.setenv("KGEN_VM_CPUS", "1")
    assert cpus() == "1" and cpus(cpus=3) == "1"
    monkeypatch.setenv("KGEN_VM_CPUS", "4")
    assert cpus() == "4" and cpus(icount=True) == "1"


class _FakeItem:
    """What the ordering hook reads of a pytest item: markers and the kernel parameter."""

    def __init__(self, name, series=None, *marks):
        self.name = name
        self.marks = {m: getattr(pytest.mark, m).mark for m in marks}
        if series:
            self.marks["xdist_group"] = pytest.mark.xdist_group(f"vm-{series}").mark

    def get_closest_marker(self, name):
        return self.marks.get(name)


def test_guest_order_one_switch_of_guest_per_series():
    """Per series: the one-vCPU guest's tests, its breaking ones, then the vm_smp tests,
    theirs last; the other tests keep their order, before them."""
    from thrift_kgen.testing.vm import _guest_order
    items = [_FakeItem("a", "6.1", "vm", "vm_smp"), _FakeItem("host1"),
             _FakeItem("b", "6.1", "vm", "vm_breaks_guest"), _FakeItem("c", "6.1", "vm"),
             _FakeItem("d", "6.12", "vm", "vm_smp"), _FakeItem("e", "6.12", "vm"),
             _FakeItem("f", "6.1", "vm", "vm_smp", "vm_breaks_guest"), _FakeItem("g", "6.1", "vm", "vm_smp"),
             _FakeItem("host2")]
    _guest_order(items)
    assert [i.name for i in items] == ["host1", "host2", "c", "b", "a", "g", "f", "e", "d"]


def test_vm_pool_keeps_one_guest_per_worker(tmp_path, monkeypatch):
    """vm_pool.get: a one-vCPU session, a two-vCPU one with smp=True, each reused; getting
    one closes the other (one guest's CPU per worker)."""
    from thrift_kgen.testing import vm as vmmod
    closed = []
    monkeypatch.setattr(vmmod.VMSession, "close", lambda self: closed.append(self))
    k = vmmod.Kernel("6.1", "6.1.0-0-amd64", tmp_path / "vmlinuz", tmp_path / "build")
    pool = vmmod.VMPool()
    up = pool.get(k)
    assert up.opts["cpus"] == 1 and pool.get(k) is up and closed == []
    smp = pool.get(k, smp=True)
    assert smp.opts["cpus"] == 2 and closed == [up]
    assert pool.get(k, smp=True) is smp and pool.get(k) is up and closed[-1] is smp
