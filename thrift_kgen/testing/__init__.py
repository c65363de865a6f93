"""The project's own test harness, importable by tests, bench/ and scripts/ alike.

`thrift_kgen.testing.vm`: build modules against Debian's kernels and run them in qemu
(virtme-ng); its pytest fixtures are imported by tests/conftest.py.  It works in a
checkout (it reads the checkout's .cache/kernels and .venv); nothing in `thrift_kgen`
itself imports it.
"""
