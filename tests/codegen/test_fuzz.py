"""The generated libFuzzer harness (`thrift-kgen --fuzz`, `make fuzz`), as CI can afford it.

* smoke: for ThriftTest (with examples/thrifttest's handler) and a realworld IDL of
  the corpus (the handler skeleton), the harness builds with clang and
  -fsanitize=fuzzer,address,undefined, the thriftpy2 seeds decode (round trips,
  replies), and a bounded run from the seeds finds nothing;
* the harness can fail: a generated encoder that changes a byte, and a generated
  decoder that reads one byte past its input, are each reported at once;
* regressions: every input under tests/codegen/fuzz_regressions/<harness>/ (a past
  finding, see docs/fuzzing.md) is replayed and must pass.

The long runs are `make fuzz` (docs/fuzzing.md records them).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from codegen_util import REPO, gen, make

CORPUS = Path(os.environ.get("KGEN_IDL_CORPUS", REPO.parent / "shared" / "idl-corpus"))
THRIFT_TEST = REPO / "idl" / "ThriftTest.thrift"
HANDLER = REPO / "examples" / "thrifttest" / "thrift_test_handler.c"
REGRESSIONS = Path(__file__).resolve().parent / "fuzz_regressions"
SMOKE_RUNS = 30000

# Not one xdist group: each harness build (a minute or more) may run on either worker; the
# two planted-bug tests share one build (the module fixture), so they stay together.
PLANTED_GROUP = pytest.mark.xdist_group("fuzz-planted")


def _build(out: Path, idl: Path, handler: Path | None = None, **opts) -> Path:
    gen(idl, out, handler=handler, fuzz=True, **opts)
    r = make(out, "fuzz")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    r = make(out, "fuzz-seeds", f"PYTHON={sys.executable}")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    seeds = list((out / "fuzz-corpus").iterdir())
    assert len(seeds) > 50, f"only {len(seeds)} seeds"
    return next(p for p in out.glob("*_fuzz") if p.is_file())


def _fuzz(binary: Path, *args: str, timeout=300, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(["nice", "-n", "10", str(binary), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=binary.parent,
                          env={**os.environ, "KGEN_FUZZ_STATS": "1", **(env or {})})


def _stats(stderr: str) -> dict[str, int]:
    m = re.findall(r"kgen-fuzz: ((?:\w+ \d+ ?)+)", stderr)
    assert m, stderr[-3000:]
    words = m[-1].split()
    return {words[i]: int(words[i + 1]) for i in range(0, len(words), 2)}


def _realworld() -> Path:
    idl = CORPUS / "realworld" / "cassandra" / "cassandra.thrift"
    if not idl.is_file():
        pytest.skip(f"{idl} not found (set KGEN_IDL_CORPUS)")
    return idl


def test_fuzz_option_off_by_default(tmp_path):
    gen(REPO / "idl" / "forwarder.thrift", tmp_path)
    assert not list(tmp_path.glob("*_fuzz*"))
    assert "fuzz" not in (tmp_path / "Makefile").read_text()


@pytest.mark.long
@pytest.mark.parametrize("case", ["thrift_test", "cassandra"])
def test_fuzz_smoke(case, tmp_path):
    if case == "thrift_test":
        binary = _build(tmp_path, THRIFT_TEST, HANDLER, service="ThriftTest")
    else:
        binary = _build(tmp_path, _realworld())
    seeds = tmp_path / "fuzz-corpus"
    # The seeds alone: thriftpy2's encodings decode and round-trip, calls are answered.
    r = _fuzz(binary, *sorted(str(p) for p in seeds.iterdir()))
    assert r.returncode == 0, r.stderr[-5000:]
    st = _stats(r.stderr)
    assert st["round_trips"] > 100 and st["round_trips"] > 3 * st["undecodable"], st
    assert st["messages"] > 100, st
    if case == "thrift_test":
        assert st["replies"] > 0.8 * st["messages"], st  # the example handler answers
    else:
        assert st["app_exceptions"] >= st["messages"], st  # the skeleton: "not implemented"
    # A bounded run from the seeds.
    work = tmp_path / "corpus"
    work.mkdir()
    r = _fuzz(binary, f"-runs={SMOKE_RUNS}", "-print_final_stats=1", str(work), str(seeds))
    assert r.returncode == 0, r.stderr[-5000:]
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", r.stderr)
    assert m and int(m.group(1)) >= SMOKE_RUNS, r.stderr[-2000:]


def _plant(path: Path, func: str, old: str, new: str):
    text = path.read_text()
    start = text.index(func)
    at = text.index(old, start)
    path.write_text(text[:at] + new + text[at + len(old):])


# The planted bugs, each on only when its environment variable is set: one build of the
# harness serves both tests (a ThriftTest harness build is most of each test's time).
PLANT_SWITCH = ("#include <stdlib.h>\n\n"
                "static int kgen_planted(const char *bug)\n{\n\treturn getenv(bug) != NULL;\n}\n\n")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """ThriftTest generated with the harness and its seeds, built with two planted bugs:
    KGEN_PLANT_ENCODER=1 makes Xtruct's binary encoder write i32_thing + 1,
    KGEN_PLANT_READ_PAST=1 makes Xtruct's binary decoder read the byte after its input."""
    out = tmp_path_factory.mktemp("planted")
    gen(THRIFT_TEST, out, handler=HANDLER, service="ThriftTest", fuzz=True)
    types = out / "thrift_test_types.c"
    _plant(types, "int thrift_test_xtruct_encode_binary(",
           "kg_binary_write_field_i32(w, 9, v->i32_thing);",
           'kg_binary_write_field_i32(w, 9, v->i32_thing + kgen_planted("KGEN_PLANT_ENCODER"));')
    _plant(types, "int thrift_test_xtruct_decode_binary(",
           "v->isset.string_thing = true;",
           'if (kgen_planted("KGEN_PLANT_READ_PAST"))\n\t\t\t\t(void)*(const volatile u8 *)r->end;\n'
           "\t\t\tv->isset.string_thing = true;")
    types.write_text(PLANT_SWITCH + types.read_text())
    r = make(out, "fuzz")
    assert r.returncode == 0, r.stderr[-3000:]
    r = make(out, "fuzz-seeds", f"PYTHON={sys.executable}")
    assert r.returncode == 0, r.stderr[-3000:]
    return out


@PLANTED_GROUP
def test_fuzz_detects_encoder_bug(planted):
    """Xtruct's binary encoder writes i32_thing + 1: decode/encode no longer reaches a fixed point."""
    r = _fuzz(planted / "thrifttest_fuzz", "-runs=2000", str(planted / "fuzz-corpus"),
              env={"KGEN_PLANT_ENCODER": "1"})
    assert r.returncode != 0
    assert re.search(r"kgen-fuzz: \S*Xtruct\S*( args| result)?: property broken", r.stderr), r.stderr[-3000:]
    assert "crash-" in r.stderr  # libFuzzer saved the input


@PLANTED_GROUP
def test_fuzz_detects_read_past_input(planted):
    """Xtruct's binary decoder reads the byte after its input: ASan must see it (inputs are copied
    to buffers of their exact size)."""
    r = _fuzz(planted / "thrifttest_fuzz", "-runs=2000", str(planted / "fuzz-corpus"),
              env={"KGEN_PLANT_READ_PAST": "1"})
    assert r.returncode != 0
    assert "heap-buffer-overflow" in r.stderr and "thrift_test_xtruct_decode" in r.stderr, r.stderr[-3000:]


def _regression_cases():
    if not REGRESSIONS.is_dir():
        return []
    return sorted(p for p in REGRESSIONS.iterdir() if p.is_dir() and any(p.iterdir()))


# No findings yet means no cases: then nothing is collected (not a skipped test).
if _regression_cases():
    @pytest.mark.parametrize("case", _regression_cases(), ids=lambda p: p.name)
    def test_fuzz_regressions(case, tmp_path):
        """Past findings: tests/codegen/fuzz_regressions/<harness>/ holds the inputs; the harness
        is thrift_test (ThriftTest with the example handler) or realworld_<path> (the corpus)."""
        if case.name == "thrift_test":
            binary = _build(tmp_path, THRIFT_TEST, HANDLER, service="ThriftTest")
        else:
            rw = CORPUS / "realworld"
            named = {"realworld_" + re.sub(r"[^A-Za-z0-9]+", "_", str(f.relative_to(rw).with_suffix(""))).lower(): f
                     for f in (sorted(rw.rglob("*.thrift")) if rw.is_dir() else [])}
            assert case.name in named, f"{case.name}: no such IDL under {rw}"
            binary = _build(tmp_path, named[case.name])
        inputs = sorted(str(p) for p in case.iterdir() if p.is_file() and p.suffix != ".md")
        r = _fuzz(binary, *inputs)
        assert r.returncode == 0, r.stderr[-5000:]
