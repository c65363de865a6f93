# SPDX-License-Identifier: GPL-2.0
# thrift-kgen top-level Makefile.
#
#   make demo   set up, generate the forwarder module, boot it in a VM and call it
#   make test   set up and run every test (user space, kernel builds, VM tests)
#   make setup  install Debian packages, Debian kernels for the VM tests and the venv
#   make fuzz   generate, build and run the libFuzzer harness of ThriftTest and of the
#               corpus' realworld/ IDLs (FUZZ_RUNS executions or FUZZ_TIME seconds each)
#   make test-debug  build (once, cached) the debug kernel, run the VM tests and the
#               hostile-client suite on it (KASAN, lockdep, kmemleak); not part of `test`
#   make test-all    every test on every Debian series: 6.1, 6.12 and their PREEMPT_RT
#               builds 6.1-rt, 6.12-rt (`make kernels-rt`); the debug kernel stays in test-debug
#   make bench  the VM benchmarks against Apache C++, libevent and a kthread echo
#               (BENCH_FLAGS: bench/run.py's flags), then BENCHMARKS.md
#   make bench-codec  the codec benchmark on the host, then BENCHMARKS.md

VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest

.PHONY: all setup venv apt kernels kernels-rt debug-kernel test test-all test-fast test-debug demo bench \
	bench-codec fuzz clean

all: venv

setup: apt venv kernels

apt:
	scripts/setup-apt.sh

venv: $(VENV)/.stamp

$(VENV)/.stamp: pyproject.toml
	scripts/setup-venv.sh $(VENV)
	touch $@

kernels: apt
	scripts/setup-kernels.sh

# Debian's PREEMPT_RT kernels (spinlocks sleep, softirqs run in threads), added to the same
# manifest; only `make test-all` boots them (docs/vm-testing.md: what they cost).
RT_SERIES := 6.1-rt 6.12-rt
kernels-rt: apt
	KGEN_KERNEL_SERIES="$(RT_SERIES)" scripts/setup-kernels.sh

# xdist workers of `make test` and `make test-all`: each kernel series' VM tests are one
# group on one worker. TEST_WORKERS=3 fills the CPU the guests leave idle with the other
# tests, but on a loaded 2-core host it pushed the hostile suite's good-client latency past
# its bounds (docs/vm-testing.md), so the default stays 2.
TEST_WORKERS ?= 2

# KGEN_NO_SKIPS=1: everything is set up, so a skipped test fails (tests/conftest.py);
# --durations: the slowest tests in CI's log, where the suite's time goes.
test: setup
	KGEN_NO_SKIPS=1 $(PYTEST) -n $(TEST_WORKERS) --dist loadgroup --durations=40 tests

debug-kernel: venv
	scripts/build-debug-kernel.sh

# The VM tests (hostile suite included) on the debug kernel only: ~15 min to build it
# once per machine (2 cores), then slower guests: too long for CI's budget.
test-debug: setup debug-kernel
	KGEN_VM_SERIES=6.1-debug KGEN_VM_TIMEOUT_SCALE=4 $(PYTEST) -n 2 --dist loadgroup -m vm tests

test-all: setup kernels-rt
	KGEN_VM_SERIES="6.1 6.12 $(RT_SERIES)" $(PYTEST) -n $(TEST_WORKERS) --dist loadgroup tests

# Everything but the VM tests: quick inner loop for developers.
test-fast: venv
	$(PYTEST) -n 2 --dist loadgroup -m 'not vm' tests

demo: setup
	$(PY) -m scripts.demo

# BENCHMARKS.md: every figure comes from bench/results/*.json (bench/report.py).
BENCH_FLAGS ?= --quick
bench: setup
	$(PY) bench/run.py $(BENCH_FLAGS)
	$(PY) bench/report.py

bench-codec: venv
	$(PY) bench/codec/run.py
	$(PY) bench/report.py

# docs/fuzzing.md. FUZZ_ONLY=thrift_test picks harnesses (python -m scripts.fuzz --list).
FUZZ_RUNS ?= 200000
FUZZ_TIME ?= 0
FUZZ_ONLY ?=
fuzz: venv
	$(PY) -m scripts.fuzz --runs $(FUZZ_RUNS) --time $(FUZZ_TIME) $(foreach n,$(FUZZ_ONLY),--only $(n))

clean:
	rm -rf build out .pytest_cache
