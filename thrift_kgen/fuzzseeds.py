"""Seed inputs for a generated fuzz harness, encoded by thriftpy2.

    python -m thrift_kgen.fuzzseeds MODULE_DIR CORPUS_DIR

MODULE_DIR was generated with `thrift-kgen --fuzz`; its `<prefix>_fuzz_targets.json`
lists the harness's structs (in its order) and methods. The IDL files are loaded
with thriftpy2 (an independent implementation of Thrift), and for every struct a
few values are built: the defaults, every field filled with ordinary values, every
field filled with extreme ones (a union: each member alone). Each value is
encoded in the binary and compact protocols and written prefixed with the
harness's selector bytes; every method gets CALL messages of its args, framed and
unframed, for the processor and for the framing checks. Files are named after
their content, so writing twice changes nothing.

thriftpy2 0.7 has no `uuid` type: a file it refuses is loaded again without the
lines that mention uuid, and what is then missing gets no seeds.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import sys
from pathlib import Path

# Must agree with thrift_kgen/codegen/fuzz.py (the manifest carries them too).
KINDS = {"struct": 0, "framed": 1, "unframed": 2, "frame_framed": 3, "frame_unframed": 4}
PROTOCOLS = {"binary": 0, "compact": 1}
MAX_DEPTH = 4  # of nested values built for a seed


def _load(path: Path, include_dirs: list[Path], name: str):
    import thriftpy2

    dirs = [str(path.parent)] + [str(d) for d in include_dirs]
    try:
        return thriftpy2.load(str(path), module_name=name, include_dirs=dirs)
    except Exception:  # noqa: BLE001 - thriftpy2's own limits (uuid): try without them
        text = "\n".join(line for line in path.read_text().splitlines() if "uuid" not in line)
        try:
            return thriftpy2.load_fp(io.StringIO(text), module_name=name)
        except Exception:  # noqa: BLE001
            return None


class Values:
    """Values of thriftpy2 types: variant 0 the defaults, 1 ordinary, 2 extreme."""

    def __init__(self, unions: set[type]):
        self.unions = unions

    def scalar(self, ttype: int, variant: int, spec=None):
        from thriftpy2.thrift import TType

        if spec is not None and hasattr(spec, "_VALUES_TO_NAMES"):  # an enum
            vals = sorted(spec._VALUES_TO_NAMES) or [0]
            return vals[-1] if variant == 2 else vals[0]
        ordinary = {TType.BOOL: True, TType.BYTE: 7, TType.I16: 300, TType.I32: 70000,
                    TType.I64: 1 << 40, TType.DOUBLE: 1.5, TType.STRING: "hello",
                    TType.BINARY: b"\x00\x01\xfe\xff"}
        extreme = {TType.BOOL: False, TType.BYTE: -128, TType.I16: -32768, TType.I32: -(1 << 31),
                   TType.I64: (1 << 63) - 1, TType.DOUBLE: -0.0, TType.STRING: "\u00e9t\u00e9" * 20,
                   TType.BINARY: bytes(range(256))}
        return (extreme if variant == 2 else ordinary).get(ttype)

    def value(self, ttype: int, spec, variant: int, depth: int):
        from thriftpy2.thrift import TType

        if ttype == TType.STRUCT:
            return self.struct(spec, variant, depth + 1)
        if ttype in (TType.LIST, TType.SET):
            et, es = (spec if isinstance(spec, tuple) else (spec, None))
            if depth >= MAX_DEPTH:
                return [] if ttype == TType.LIST else set()
            items = [self.value(et, es, v, depth + 1) for v in (1, 2)]
            items = [x for x in items if x is not None]
            if ttype == TType.SET:
                try:
                    return set(items)
                except TypeError:  # unhashable elements: thriftpy2 takes a list
                    return items[:1]
            return items
        if ttype == TType.MAP:
            (kt, ks), (vt, vs) = [(s if isinstance(s, tuple) else (s, None)) for s in spec]
            if depth >= MAX_DEPTH:
                return {}
            out = {}
            for v in (1, 2):
                k = self.value(kt, ks, v, depth + 1)
                try:
                    out[k] = self.value(vt, vs, v, depth + 1)
                except TypeError:  # unhashable key
                    break
            return out
        return self.scalar(ttype, variant, spec)

    def struct(self, cls, variant: int, depth: int = 0, only: int | None = None):
        """An instance of cls: defaults (variant 0), or every field set (1, 2);
        a union gets one member (`only`, or its first)."""
        obj = cls()
        if variant == 0 or depth > MAX_DEPTH:
            return obj
        fids = sorted(cls.thrift_spec)
        if cls in self.unions:
            fids = [only if only is not None else fids[0]] if fids else []
        for fid in fids:
            sp = cls.thrift_spec[fid]
            ttype, name = sp[0], sp[1]
            sub = sp[2] if len(sp) == 4 else None
            val = self.value(ttype, sub, variant, depth)
            if val is not None:
                setattr(obj, name, val)
        return obj

    def variants(self, cls):
        if cls in self.unions:
            return [self.struct(cls, 1, only=f) for f in sorted(cls.thrift_spec)] + [
                self.struct(cls, 2)]
        return [self.struct(cls, v) for v in (0, 1, 2)]


def _encode(obj, proto: str, message: tuple[str, int, int] | None = None) -> bytes | None:
    from thriftpy2.protocol import TBinaryProtocol, TCompactProtocol
    from thriftpy2.transport import TMemoryBuffer

    buf = TMemoryBuffer()
    p = (TBinaryProtocol if proto == "binary" else TCompactProtocol)(buf)
    try:
        if message:
            p.write_message_begin(*message)
        p.write_struct(obj)
        if message:
            p.write_message_end()
    except Exception:  # noqa: BLE001 - a value thriftpy2 cannot write: no seed
        return None
    return buf.getvalue()


def _struct_class(module, t: dict):
    if t["role"] == "type":
        return getattr(module, t["name"], None)
    svc = getattr(module, t["service"], None)
    return getattr(svc, f"{t['name']}_{t['role']}", None) if svc is not None else None


def write_seeds(module_dir: Path, corpus: Path) -> int:
    try:
        import thriftpy2  # noqa: F401
    except ImportError:
        raise SystemExit("thrift_kgen.fuzzseeds needs thriftpy2 (pip install thriftpy2, or "
                         "the test extra of thrift-kgen); the harness also runs without seeds")
    manifests = sorted(module_dir.glob("*_fuzz_targets.json"))
    if not manifests:
        raise SystemExit(f"{module_dir}: no *_fuzz_targets.json (generate with thrift-kgen --fuzz)")
    man = json.loads(manifests[0].read_text())
    include_dirs = [(module_dir / d).resolve() for d in man.get("include_dirs", [])]
    modules: dict[str, object] = {}
    for i, rel in enumerate(sorted({t["idl"] for t in man["structs"]} | {m["idl"] for m in man["methods"]})):
        path = (module_dir / rel).resolve()
        modules[rel] = _load(path, include_dirs, f"kgen_seed{i}_thrift")
    unions: set[type] = set()
    for m in modules.values():
        if m is not None:
            unions.update(getattr(m, "__thrift_meta__", {}).get("unions", []))
    values = Values(unions)
    corpus.mkdir(parents=True, exist_ok=True)
    seeds: set[bytes] = set()

    for t in man["structs"]:
        mod = modules.get(t["idl"])
        cls = _struct_class(mod, t) if mod is not None else None
        if cls is None:
            continue
        sel = struct.pack(">H", t["index"])
        for obj in values.variants(cls):
            for proto, pid in PROTOCOLS.items():
                data = _encode(obj, proto)
                if data is not None:
                    seeds.add(bytes([KINDS["struct"] * 2 + pid]) + sel + data)

    seqid = 1
    for m in man["methods"]:
        mod = modules.get(m["idl"])
        svc = getattr(mod, m["service"], None) if mod is not None else None
        cls = getattr(svc, f"{m['method']}_args", None) if svc is not None else None
        if cls is None:
            continue
        mtype = 4 if m["oneway"] else 1  # ONEWAY / CALL
        for obj in values.variants(cls):
            for proto, pid in PROTOCOLS.items():
                data = _encode(obj, proto, (m["wire_name"], mtype, seqid))
                seqid += 1
                if data is None:
                    continue
                framed = struct.pack(">I", len(data)) + data
                seeds.add(bytes([KINDS["framed"] * 2 + pid]) + framed)
                seeds.add(bytes([KINDS["unframed"] * 2 + pid]) + data)
                seeds.add(bytes([KINDS["frame_framed"] * 2 + pid]) + framed + framed)
                seeds.add(bytes([KINDS["frame_unframed"] * 2 + pid]) + data + data)
    for s in seeds:
        (corpus / hashlib.sha1(s).hexdigest()).write_bytes(s)
    return len(seeds)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m thrift_kgen.fuzzseeds MODULE_DIR CORPUS_DIR", file=sys.stderr)
        return 2
    n = write_seeds(Path(args[0]), Path(args[1]))
    print(f"{n} seeds in {args[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
