# SPDX-License-Identifier: GPL-2.0
"""Fixtures for tests/runtime (the runtime core's C programs: see _kgcore.py)."""
import pytest

from _kgcore import build_programs


@pytest.fixture(scope="session")
def cbin(tmp_path_factory):
    """The core's C test programs, built once per session with ASan+UBSan."""
    return build_programs(tmp_path_factory.mktemp("cbin"))
