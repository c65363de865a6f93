# SPDX-License-Identifier: GPL-2.0
"""Proof that the VM harness works: build a module for each Debian kernel, boot, load it."""

import textwrap

import pytest

from vmharness import (VENV_PYTHON, BuildError, DmesgError, build_module, check_dmesg,
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


@pytest.mark.vm
@pytest.mark.kernel_build
def test_hello_module_in_vm(kernel, tmp_path):
    ko = build_module(write_hello(tmp_path / "hello"), kernel, sparse=True)
    assert ko.name == "kgen_hello.ko" and ko.stat().st_size > 0

    script = textwrap.dedent(f"""\
        set -eux
        test "$(uname -r)" = {kernel.version}
        insmod {ko} greeting_count=3
        grep -qx 3 /sys/module/kgen_hello/parameters/greeting_count
        test "$(stat -c %a /sys/module/kgen_hello/parameters/greeting_count)" = 444
        dmesg | grep -q 'kgen_hello: hello 2'
        {VENV_PYTHON} -c 'import sys, thriftpy2; print("guest-python", sys.prefix, thriftpy2.__version__)'
        ip -o link show lo | grep -q 'UP'
        echo marker > "$KGEN_RESULTS/from-guest"
        rmmod kgen_hello
        test ! -e /sys/module/kgen_hello
        dmesg | grep -q 'kgen_hello: goodbye'
        """)
    res = run_in_vm(kernel, script, timeout=300)
    res.assert_ok()
    assert "guest-python" in res.stdout and "0.7.1" in res.stdout, res.describe()
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
