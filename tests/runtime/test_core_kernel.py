# SPDX-License-Identifier: GPL-2.0
"""The runtime core in the kernel: it compiles with W=1 and sparse (C=1)
without a single diagnostic against Debian's 6.1 and 6.12 headers, both as
the core self-test module and through thrift_kgen/runtime/Kbuild.inc with the whole
runtime; and the self-test module's in-kernel checks pass in a VM."""
import re
import shutil
from pathlib import Path

import pytest

from thrift_kgen.testing.vm import build_module

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RUNTIME = REPO / "thrift_kgen" / "runtime"


def copy_runtime(dst, parts=("include", "core", "kernel", "user", "Kbuild.inc")):
    """A runtime/ copy as generated module directories hold (no build output)."""
    rt = dst / "runtime"
    rt.mkdir(parents=True)
    for part in parts:
        src = RUNTIME / part
        if src.is_dir():
            shutil.copytree(src, rt / part)
        elif src.exists():
            shutil.copy(src, rt / part)


def selftest_dir(tmp_path):
    src = tmp_path / "kgcore_selftest"
    src.mkdir()
    for f in ("Kbuild", "selftest_main.c"):
        shutil.copy(HERE / "kmod" / f, src / f)
    shutil.copy(HERE / "c" / "msgs.h", src / "msgs.h")
    copy_runtime(src, parts=("include", "core"))
    return src


@pytest.mark.kernel_build
def test_core_selftest_module_builds_clean(kernel, tmp_path):
    ko = build_module(selftest_dir(tmp_path), kernel, sparse=True,
                      build_dir=tmp_path / "build", name="kgcore_selftest")
    assert ko.stat().st_size > 0


@pytest.mark.kernel_build
def test_kbuild_inc_builds_whole_runtime(kernel, tmp_path):
    """A module as the generator lays it out: its Kbuild includes
    runtime/Kbuild.inc and links $(kgen-runtime-y)."""
    src = tmp_path / "kgfoo"
    src.mkdir()
    copy_runtime(src)
    (src / "Kbuild").write_text(
        "include $(src)/runtime/Kbuild.inc\n"
        "obj-m += kgfoo.o\n"
        "kgfoo-y := kgfoo_main.o $(kgen-runtime-y)\n")
    (src / "kgfoo_main.c").write_text(
        "// SPDX-License-Identifier: GPL-2.0\n"
        "#include <linux/module.h>\n"
        "#include \"kgen/frame.h\"\n\n"
        "static int __init kgfoo_init(void)\n{\n"
        "\tstruct kg_frame f;\n\tstatic const u8 b[4] = { 0, 0, 0, 1 };\n\n"
        "\treturn kg_frame_next(KG_TRANSPORT_FRAMED, KG_PROTO_BINARY, NULL, b, 4, &f)"
        " == -EAGAIN ? 0 : -EINVAL;\n}\n\n"
        "static void __exit kgfoo_exit(void)\n{\n}\n\n"
        "module_init(kgfoo_init);\nmodule_exit(kgfoo_exit);\n"
        "MODULE_LICENSE(\"GPL\");\nMODULE_DESCRIPTION(\"Kbuild.inc test\");\n")
    build = tmp_path / "build"
    build_module(src, kernel, sparse=True, build_dir=build, name="kgfoo")
    # Every core/ and kernel/ source was built (wildcards), no user/ one.
    for sub in ("core", "kernel"):
        for c in (RUNTIME / sub).glob("*.c"):
            assert (build / "runtime" / sub / (c.stem + ".o")).is_file(), c
    assert not list((build / "runtime" / "user").glob("*.o"))


@pytest.mark.vm
def test_core_selftest_in_vm(kernel, vm, tmp_path):
    # sparse=True: the same build as test_core_selftest_module_builds_clean (cached)
    ko = build_module(selftest_dir(tmp_path), kernel, sparse=True, build_dir=tmp_path / "build",
                      name="kgcore_selftest")
    res = vm.run(f"""
set -e
insmod {ko}
dmesg | grep 'kgcore_selftest: all .* checks passed'
rmmod kgcore_selftest
""", timeout=300)
    res.assert_ok()
    m = re.search(r"all (\d+) checks passed", res.dmesg)
    assert m and int(m.group(1)) >= 30, res.dmesg[-2000:]
