"""A generated module installs: `make modules_install` into a staging root, and DKMS.

One kernel (Debian 6.1's headers), one small IDL (idl/echo.thrift). Nothing is written
outside tmp_path: DKMS gets its own trees and signing key (Debian's dkms otherwise makes
/var/lib/dkms/mok.key), and only `dkms add/build/remove` run (install would run depmod
on the system's /lib/modules).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from codegen_util import REPO, gen
from thrift_kgen import __version__

from thrift_kgen.testing.vm import _kbuild_env, get_kernel

IDL = REPO / "idl" / "echo.thrift"

pytestmark = pytest.mark.kernel_build


def run(cmd, env=None, timeout=600):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                       env=env or _kbuild_env())
    assert r.returncode == 0, f"$ {' '.join(map(str, cmd))}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def test_modules_install_into_staging_root(tmp_path):
    k = get_kernel("6.1")
    out, root = tmp_path / "mod", tmp_path / "root"
    gen(IDL, out)
    # no `make` first: modules_install builds what it installs
    run(["make", "-C", out, "modules_install", f"KDIR={k.kdir}", f"INSTALL_MOD_PATH={root}"])
    ko = root / "lib" / "modules" / k.version / "extra" / "echo.ko"
    assert ko.is_file(), sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    vermagic = run(["modinfo", "-F", "vermagic", ko]).stdout
    assert vermagic.split()[0] == k.version, vermagic
    assert run(["modinfo", "-F", "parm", ko]).stdout.count("\n") >= 5  # addr, port, transport...
    # Kbuild's INSTALL_MOD_DIR reaches Kbuild too
    run(["make", "-C", out, "modules_install", f"KDIR={k.kdir}", f"INSTALL_MOD_PATH={root}",
         "INSTALL_MOD_DIR=kgen"])
    assert (root / "lib" / "modules" / k.version / "kgen" / "echo.ko").is_file()


def test_staging_path_and_depmod_on_6_12(tmp_path):
    """README: 6.12 installs updates/<module>.ko.xz; Debian's headers have no System.map, so
    modules_install skips depmod and modprobe finds the module only after `depmod`."""
    k = get_kernel("6.12")
    out, root = tmp_path / "mod", tmp_path / "root"
    gen(IDL, out)
    r = run(["make", "-C", out, "modules_install", f"KDIR={k.kdir}", f"INSTALL_MOD_PATH={root}"])
    assert "Skipping depmod" in r.stdout + r.stderr
    installed = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.ko*"))
    assert installed == [f"lib/modules/{k.version}/updates/echo.ko.xz"], installed
    modprobe = ["/sbin/modprobe", "-n", "-d", root, "-S", k.version, "echo"]
    before = subprocess.run([str(c) for c in modprobe], capture_output=True, text=True)
    assert before.returncode != 0 and "not found" in before.stderr, before
    run(["/sbin/depmod", "-b", root, k.version])
    run(modprobe)  # dry run: found, with its dependencies


def test_dkms_add_build_remove(tmp_path):
    dkms = shutil.which("dkms", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if dkms is None:
        pytest.skip("dkms is not installed (Debian package dkms; scripts/setup-apt.sh installs it)")
    k = get_kernel("6.1")
    out = tmp_path / "mod"
    gen(IDL, out)
    trees = tmp_path / "dkms"
    opts = [f"--dkmstree={trees / 'tree'}", f"--sourcetree={trees / 'src'}",
            f"--installtree={trees / 'installed'}"]
    for d in ("tree", "src", "installed", "keys"):
        (trees / d).mkdir(parents=True)
    env = dict(_kbuild_env(), mok_signing_key=str(trees / "keys" / "mok.key"),
               mok_certificate=str(trees / "keys" / "mok.pub"))
    mv = ["-m", "echo", "-v", __version__]
    run([dkms, "add", *opts, out], env)
    try:
        assert (trees / "src" / f"echo-{__version__}" / "dkms.conf").is_file()
        r = run([dkms, "build", *opts, *mv, "-k", k.version, f"--kernelsourcedir={k.kdir}"], env)
        built = sorted((trees / "tree" / "echo" / __version__ / k.version).glob("*/module/echo.ko"))
        assert len(built) == 1, r.stdout
        assert run(["modinfo", "-F", "vermagic", built[0]]).stdout.split()[0] == k.version
        status = run([dkms, "status", *opts, "echo"], env).stdout
        assert f"echo/{__version__}, {k.version}" in status and "built" in status, status
    finally:
        run([dkms, "remove", *opts, *mv, "--all"], env)
    assert not (trees / "tree" / "echo").exists()
    assert not os.path.exists(trees / "installed" / k.version)
