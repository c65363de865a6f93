"""pytest plugin: with KGEN_NO_SKIPS=1 every skipped test is reported as failed.

`make test` installs every tool, kernel and library the tests use (and CI always has the IDL
corpus), so there a skip means a missing part: a set-up step that broke, a corpus not found.
Developers' partial runs (`make test-fast`, plain pytest) keep their skips.
"""

import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("KGEN_NO_SKIPS") == "1" and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under KGEN_NO_SKIPS=1 (make test sets up everything): {reason}"
