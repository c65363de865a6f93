"""KGEN_NO_SKIPS=1 (make test): a skipped test fails (thrift_kgen/testing/noskips.py)."""

import os
import subprocess
import sys


def run(tmp_path, no_skips):
    (tmp_path / "test_some.py").write_text(
        "import pytest\n\n"
        "def test_skips():\n    pytest.skip('a tool is missing')\n\n"
        "@pytest.fixture\ndef needs_tool():\n    pytest.skip('no tool')\n\n"
        "def test_fixture_skips(needs_tool):\n    pass\n\n"
        "@pytest.mark.xfail(reason='known')\ndef test_xfail():\n    assert False\n\n"
        "def test_passes():\n    pass\n")
    env = dict(os.environ, KGEN_NO_SKIPS="1" if no_skips else "0")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "thrift_kgen.testing.noskips",
                           "-p", "no:cacheprovider", "-n", "0", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_skips_fail_under_kgen_no_skips(tmp_path):
    p = run(tmp_path, True)
    assert p.returncode == 1, p.stdout
    # A skip in a fixture fails the test's set-up: pytest counts that as an error.
    assert "1 failed, 1 passed, 1 xfailed, 1 error" in p.stdout, p.stdout
    assert "skipped under KGEN_NO_SKIPS=1" in p.stdout and "a tool is missing" in p.stdout


def test_skips_stay_skips_otherwise(tmp_path):
    p = run(tmp_path, False)
    assert p.returncode == 0, p.stdout
    assert "1 passed, 2 skipped, 1 xfailed" in p.stdout, p.stdout
