# SPDX-License-Identifier: GPL-2.0
"""Fixtures for tests/runtime (the runtime core's C programs: see _kgcore.py)."""
import pytest

# the forwarder tests' shared checks (no pytest import: the VM drivers use them too)
pytest.register_assert_rewrite("_forwarding")

from _kgcore import build_programs  # noqa: E402


@pytest.fixture(scope="session")
def cbin(tmp_path_factory):
    """The core's C test programs, built once per session with ASan+UBSan."""
    return build_programs(tmp_path_factory.mktemp("cbin"))
