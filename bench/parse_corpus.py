#!/usr/bin/env python3
"""Benchmark: parse and resolve every file of the IDL corpus (not a test).

    python bench/parse_corpus.py [--corpus DIR] [--repeat N]

Prints a table: files, accepted/refused, total time, per-file mean, the five
slowest files.  The time of a file includes parsing and resolving its includes.
Target: the whole corpus well under 5 s.  The first pass is timed separately
(PLY table loading, imports); the table reports the best of --repeat passes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from thrift_kgen.frontend.diagnostics import Diagnostics  # noqa: E402
from thrift_kgen.frontend.resolver import load_program  # noqa: E402


def include_dirs(corpus: Path, rel: str) -> list[str]:
    dirs = [str(corpus / "apache-thrift" / "test")]
    if "lib/rs/test_recursive/src/" in rel:
        src = corpus / "apache-thrift" / "lib" / "rs" / "test_recursive" / "src"
        dirs += [str(src), str(src / "transit"), str(src / "transit" / "services"), str(src / "transit" / "light")]
    return dirs


def files(corpus: Path) -> list[str]:
    tsv = corpus / "REFERENCE.tsv"
    if tsv.is_file():
        return [line.split("\t", 1)[0] for line in tsv.read_text().splitlines() if line.strip()]
    return sorted(str(p.relative_to(corpus)) for p in corpus.rglob("*.thrift") if "expected" not in p.parts)


def one_pass(corpus: Path, rels: list[str]) -> tuple[float, list[tuple[float, str, bool]]]:
    times = []
    start = time.perf_counter()
    for rel in rels:
        t0 = time.perf_counter()
        prog = load_program(str(corpus / rel), include_dirs(corpus, rel), Diagnostics())
        times.append((time.perf_counter() - t0, rel, prog is not None))
    return time.perf_counter() - start, times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=os.environ.get("KGEN_IDL_CORPUS", str(REPO.parent / "shared" / "idl-corpus")))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"corpus not found: {corpus} (use --corpus or KGEN_IDL_CORPUS)", file=sys.stderr)
        return 1
    rels = files(corpus)
    first, _ = one_pass(corpus, rels)
    best_total, best = None, None
    for _ in range(max(1, args.repeat)):
        total, times = one_pass(corpus, rels)
        if best_total is None or total < best_total:
            best_total, best = total, times
    accepted = sum(1 for _t, _r, ok in best if ok)
    rows = [
        ("files", f"{len(rels)}"),
        ("accepted / refused", f"{accepted} / {len(rels) - accepted}"),
        ("first pass (cold)", f"{first:.3f} s"),
        (f"total (best of {max(1, args.repeat)})", f"{best_total:.3f} s"),
        ("per-file mean", f"{best_total / len(rels) * 1000:.2f} ms"),
        ("target", "< 5 s: " + ("met" if best_total < 5 else "MISSED")),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print("\nslowest five:")
    for t, rel, ok in sorted(best, reverse=True)[:5]:
        print(f"  {t * 1000:8.2f} ms  {'ok ' if ok else 'ERR'}  {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
