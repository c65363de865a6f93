"""Build hook: ship the C runtime inside the package (thrift_kgen/runtime).

Generated module directories get a copy of the runtime (thrift_kgen.codegen.glue
.copy_runtime), found in a checkout's runtime/ or, once installed, in the package.
This copies the repository's runtime/ sources (not its build products) into the
built package; pyproject.toml's package-data lists thrift_kgen/runtime/**.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PARTS = ("include", "core", "kernel", "user", "Kbuild.inc", "Makefile")
SKIP = (".o", ".ko", ".cmd", ".mod", ".a", ".d")


class BuildPyWithRuntime(build_py):
    def run(self):
        super().run()
        src = ROOT / "runtime"
        if not src.is_dir():  # building from an sdist that already holds it
            return
        dest = Path(self.build_lib) / "thrift_kgen" / "runtime"
        for part in PARTS:
            p = src / part
            if p.is_file():
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, dest / part)
            elif p.is_dir():
                for f in sorted(p.rglob("*")):
                    if f.is_file() and not f.is_symlink() and not f.name.endswith(SKIP) \
                            and not f.name.startswith("."):
                        t = dest / f.relative_to(src)
                        t.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(f, t)


setup(cmdclass={"build_py": BuildPyWithRuntime})
