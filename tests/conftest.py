"""Shared pytest fixtures (keep small: several developers add fixtures here)."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def idl_corpus() -> Path:
    """The reference IDL corpus: $KGEN_IDL_CORPUS, default <repo>/../shared/idl-corpus."""
    path = Path(os.environ.get("KGEN_IDL_CORPUS", REPO.parent / "shared" / "idl-corpus"))
    if not (path / "REFERENCE.tsv").is_file():
        pytest.skip(f"IDL corpus not found at {path} (set KGEN_IDL_CORPUS)")
    return path


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite tests/golden/<name>/ from the generator's current output")


@pytest.fixture(scope="session")
def update_goldens(request) -> bool:
    """True under `pytest --update-goldens`: golden tests rewrite their expected files."""
    return bool(request.config.getoption("--update-goldens"))


# VM / kernel-build harness (thrift_kgen/testing/vm.py): `kernel` (6.1/6.12), `kernels_info`, `vm`, `vm_smp`
# (shared VMSession), and a hook putting VM tests in xdist groups vm-<series>.
from thrift_kgen.testing.vm import kernel, kernels_info, vm, vm_pool, vm_smp  # noqa: E402,F401
from thrift_kgen.testing.vm import pytest_collection_modifyitems, pytest_runtest_teardown  # noqa: E402,F401
# The session's cache of `make user`'s runtime library (made here, in the xdist controller,
# so the workers share it).
import thrift_kgen.testing.userbuild  # noqa: E402,F401

# Under `make test` (KGEN_NO_SKIPS=1) a skipped test is a failure: thrift_kgen/testing/noskips.py.
from thrift_kgen.testing.noskips import pytest_runtest_makereport  # noqa: E402,F401
