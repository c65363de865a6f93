"""Agreement with the reference compiler over the whole IDL corpus.

For every file REFERENCE.tsv marks `accept`: our front end accepts it, and our JSON
dump (`thrift_kgen.frontend.dump.to_json`) agrees with the reference's
`expected/<path>.json` (Apache `thrift --gen json`) on every struct, union and
exception (field ids, names, requiredness, types with nested containers, defaults),
enum (names and values), typedef, constant (type and value), service (functions,
arguments, return types, oneway, throws, extends), include and namespace; and on
the doc comments and annotations of all of these.

For every `reject` file: our front end refuses it with a diagnostic located in a
file and at a line, and `thrift-kgen check` exits 1.

Both views are mapped to one comparable form by the normalizers below.  The
reference JSON is not always valid JSON (a map keyed by a list or a map is written
`{[1, 2]: 3}`), hence the small tolerant parser.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from thrift_kgen.cli import cli
from thrift_kgen.frontend.diagnostics import Diagnostics
from thrift_kgen.frontend.dump import to_json
from thrift_kgen.frontend.resolver import load_program

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("KGEN_IDL_CORPUS", REPO.parent / "shared" / "idl-corpus"))


def _reference() -> list[tuple[str, str, str]]:
    tsv = CORPUS / "REFERENCE.tsv"
    if not tsv.is_file():
        return []
    rows = []
    for line in tsv.read_text().splitlines():
        if not line.strip():
            continue
        parts = line.split("\t", 2)
        rows.append((parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
    return rows


ROWS = _reference()
ACCEPT = [r[0] for r in ROWS if r[1] == "accept"]
REJECT = [r[0] for r in ROWS if r[1] == "reject"]


def include_dirs(corpus: Path, rel: str) -> list[str]:
    """The -I dirs the reference used (README.md, apache-thrift/MANIFEST.md)."""
    dirs = [str(corpus / "apache-thrift" / "test")]
    if "lib/rs/test_recursive/src/" in rel:
        src = corpus / "apache-thrift" / "lib" / "rs" / "test_recursive" / "src"
        dirs += [str(src), str(src / "transit"), str(src / "transit" / "services"), str(src / "transit" / "light")]
    return dirs


# --------------------------------------------------------------------------
# A JSON reader that tolerates non-string object keys (the reference writes them)
# --------------------------------------------------------------------------


class Obj(list):
    """A JSON object as a list of (key, value) pairs, keys of any JSON type."""

    def get(self, key, default=None):
        for k, v in self:
            if k == key:
                return v
        return default

    def __getitem__(self, key):
        if isinstance(key, (int, slice)):
            return list.__getitem__(self, key)
        for k, v in self:
            if k == key:
                return v
        raise KeyError(key)


class _Reader:
    def __init__(self, text: str):
        self.s = text
        self.i = 0

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1

    def value(self):
        self.ws()
        c = self.s[self.i]
        if c == "{":
            self.i += 1
            out = Obj()
            self.ws()
            if self.s[self.i] == "}":
                self.i += 1
                return out
            while True:
                k = self.value()
                self.ws()
                assert self.s[self.i] == ":", self.where()
                self.i += 1
                v = self.value()
                out.append((k, v))
                self.ws()
                if self.s[self.i] == ",":
                    self.i += 1
                    continue
                assert self.s[self.i] == "}", self.where()
                self.i += 1
                return out
        if c == "[":
            self.i += 1
            arr = []
            self.ws()
            if self.s[self.i] == "]":
                self.i += 1
                return arr
            while True:
                arr.append(self.value())
                self.ws()
                if self.s[self.i] == ",":
                    self.i += 1
                    continue
                assert self.s[self.i] == "]", self.where()
                self.i += 1
                return arr
        if c == '"':
            return self.string()
        for word, val in (("true", True), ("false", False), ("null", None)):
            if self.s.startswith(word, self.i):
                self.i += len(word)
                return val
        j = self.i
        while j < len(self.s) and self.s[j] in "+-0123456789.eE" or (j < len(self.s) and self.s[j:j + 3] in ("inf", "nan")):
            j += 3 if self.s[j:j + 3] in ("inf", "nan") else 1
        text = self.s[self.i:j]
        assert text, self.where()
        self.i = j
        try:
            return int(text)
        except ValueError:
            return float(text)

    def string(self) -> str:
        assert self.s[self.i] == '"'
        self.i += 1
        out = []
        esc = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/", "\\": "\\", '"': '"'}
        while True:
            c = self.s[self.i]
            if c == '"':
                self.i += 1
                return "".join(out)
            if c == "\\":
                n = self.s[self.i + 1]
                if n == "u":
                    out.append(chr(int(self.s[self.i + 2:self.i + 6], 16)))
                    self.i += 6
                    continue
                out.append(esc.get(n, n))
                self.i += 2
                continue
            out.append(c)  # the reference writes other control characters raw
            self.i += 1

    def where(self) -> str:
        return f"bad reference JSON at offset {self.i}: {self.s[max(0, self.i - 40):self.i + 40]!r}"


def read_reference_json(path: Path):
    r = _Reader(path.read_text(encoding="utf-8", errors="surrogateescape"))
    v = r.value()
    r.ws()
    assert r.i == len(r.s), r.where()
    return v


# --------------------------------------------------------------------------
# Normal form
# --------------------------------------------------------------------------
#
# type:  "i32" ... | ("list", T) | ("set", T) | ("map", K, V) | ("struct"|"union"|"exception"|"enum", "qualified.Name")
# value: int | float (15 significant digits, as the reference prints) | str | [values]
#        | ("map", sorted ((key, value), ...)) where a scalar key is written as the reference does (a string)
#        | EMPTY (an empty list, set or map: the reference shows `{}` for `set<x> s = {}`)
# field: (id, name, "required"|"optional"|"default", type, value or "<no default>", doc, annotations)
# Definitions, functions and enum values also carry their doc comment and (except
# constants and enum values, which the reference dumps without) their annotations.
# Annotations on types (`list<i32> (cpp.template = "x")`) are not compared.

BASE = {"bool", "i8", "i16", "i32", "i64", "double", "string", "binary", "uuid", "void"}
REQ = {"required": "required", "req_out": "default", "optional": "optional"}
NO_DEFAULT = "<no default>"


def num(x):
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, int):
        return x
    if x != x or x in (float("inf"), float("-inf")):
        return repr(x)
    if x.is_integer() and abs(x) < 2**53:
        return int(x)
    return float("%.15g" % x)


class Dbl(float):
    """A double of ours, equal to what the reference prints for it: the reference
    writes a double constant written as an integer literal as that integer
    (9223372036854775807), ours is the double it denotes."""

    def __eq__(self, other):
        if isinstance(other, bool) or not isinstance(other, (int, float)):
            return False
        return float("%.15g" % float(other)) == float("%.15g" % float(self))

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = float.__hash__

    def __repr__(self):
        return "%.15g" % float(self)


def key_text(k):
    """A scalar map key as the reference writes it (forced to a string)."""
    if isinstance(k, str):
        return k
    if isinstance(k, (bool, int)):
        return str(int(k))
    if isinstance(k, float):
        return "%.15g" % k
    return k


EMPTY = "<empty collection>"


def _sorted_pairs(pairs):
    pairs = tuple(sorted(pairs, key=repr))
    return ("map", pairs) if pairs else EMPTY


def _list(items: list):
    # The reference prints a literal as written: `set<string> s = {}` shows `{}`.
    # For a given (separately compared) type an empty collection has one meaning.
    return items if items else EMPTY


# -- the reference ----------------------------------------------------------


def ref_type(type_id: str, spec) -> object:
    if type_id in BASE:
        return type_id
    if type_id in ("list", "set"):
        return (type_id, ref_type(spec["elemTypeId"], spec.get("elemType")))
    if type_id == "map":
        return ("map", ref_type(spec["keyTypeId"], spec.get("keyType")), ref_type(spec["valueTypeId"], spec.get("valueType")))
    if type_id in ("struct", "union", "exception", "enum"):
        return (type_id, spec["class"])
    raise AssertionError(f"unknown typeId {type_id}")


def ref_value(v):
    if isinstance(v, Obj):
        return _sorted_pairs((ref_value(k) if not isinstance(k, str) else k, ref_value(x)) for k, x in v)
    if isinstance(v, list):
        return _list([ref_value(i) for i in v])
    if isinstance(v, (int, float)):
        return num(v)
    return v


def ref_ann(x) -> list:
    return sorted((k, v) for k, v in (x.get("annotations") or []))


def ref_field(f) -> tuple:
    return (
        f["key"],
        f["name"],
        REQ[f["required"]],
        ref_type(f["typeId"], f.get("type")),
        ref_value(f["default"]) if "default" in dict(f) else NO_DEFAULT,
        f.get("doc"),
        ref_ann(f),
    )


def normalize_reference(doc) -> dict:
    return {
        "doc": doc.get("doc"),
        "namespaces": dict(doc.get("namespaces") or []),
        "includes": list(doc.get("includes", [])),
        "enums": {
            e["name"]: ([(m["name"], m["value"], m.get("doc")) for m in e["members"]], e.get("doc"), ref_ann(e))
            for e in doc["enums"]
        },
        "typedefs": {t["name"]: (ref_type(t["typeId"], t.get("type")), t.get("doc"), ref_ann(t)) for t in doc["typedefs"]},
        "structs": {
            s["name"]: (
                "exception" if s["isException"] else "union" if s["isUnion"] else "struct",
                [ref_field(f) for f in s["fields"]],
                s.get("doc"),
                ref_ann(s),
            )
            for s in doc["structs"]
        },
        "consts": {
            c["name"]: (ref_type(c["typeId"], c.get("type")), ref_value(c["value"]), c.get("doc"))
            for c in doc["constants"]
        },
        "services": {
            s["name"]: (
                s.get("extends"),
                [
                    (
                        fn["name"],
                        ref_type(fn["returnTypeId"], fn.get("returnType")),
                        fn["oneway"],
                        [ref_field(a) for a in fn["arguments"]],
                        [ref_field(x) for x in fn["exceptions"]],
                        fn.get("doc"),
                        ref_ann(fn),
                    )
                    for fn in s["functions"]
                ],
                s.get("doc"),
                ref_ann(s),
            )
            for s in doc["services"]
        },
    }


# -- ours ---------------------------------------------------------------------


class Ours:
    """Normalizes our dumps.  `structs` maps (program, struct name) to the dumped
    fields of every struct of the whole include tree (to type struct literals)."""

    def __init__(self, root_name: str, dumps: list[dict]):
        self.root = root_name
        self.structs = {}
        for d in dumps:
            for s in d["structs"]:
                self.structs.setdefault((d["name"], s["name"]), s["fields"])

    def qualified(self, t: dict) -> str:
        bare = t["name"].rsplit(".", 1)[-1] if t["program"] != self.root else t["name"]
        return bare if t["program"] == self.root else f"{t['program']}.{bare}"

    def type(self, t: dict | None):
        if t is None:
            return "void"
        k = t["kind"]
        if k == "base":
            return t["name"]
        if k in ("list", "set"):
            return (k, self.type(t["elem"]))
        if k == "map":
            return ("map", self.type(t["key"]), self.type(t["value"]))
        if k == "typedef":
            return self.type(t["type"])
        if k in ("struct", "union", "exception", "enum"):
            return (k, self.qualified(t))
        raise AssertionError(f"unexpected type in our dump: {t}")

    def value(self, v, t: dict):
        k = t["kind"]
        if k == "typedef":
            return self.value(v, t["type"])
        if k == "base":
            if t["name"] in ("string", "binary", "uuid") or (t["name"] == "double" and isinstance(v, str)):
                assert isinstance(v, str), (v, t)
                return v
            assert isinstance(v, (int, float)) and not isinstance(v, str), (v, t)
            if t["name"] == "double":
                return Dbl(v) if isinstance(v, float) else v  # "nan"/"inf" strings stay
            return num(v)
        if k == "enum":
            assert isinstance(v, int) and not isinstance(v, bool), (v, t)
            return v
        if k in ("list", "set"):
            assert isinstance(v, list), (v, t)
            return _list([self.value(i, t["elem"]) for i in v])
        if k == "map":
            assert isinstance(v, list), (v, t)
            return _sorted_pairs((key_text(self.value(p["key"], t["key"])), self.value(p["value"], t["value"])) for p in v)
        if k in ("struct", "union", "exception"):
            assert isinstance(v, dict), (v, t)
            fields = {f["name"]: f["type"] for f in self.structs[(t["program"], t["name"].rsplit(".", 1)[-1])]}
            return _sorted_pairs((name, self.value(x, fields[name])) for name, x in v.items())
        raise AssertionError(f"unexpected type {t}")

    @staticmethod
    def ann(x: dict) -> list:
        # A bare annotation `(name)` is None in our AST, "1" in the reference's.
        return sorted((k, "1" if v is None else v) for k, v in (x.get("annotations") or {}).items())

    def field(self, f: dict) -> tuple:
        return (
            f["id"],
            f["name"],
            f["requiredness"],
            self.type(f["type"]),
            self.value(f["default"], f["type"]) if "default" in f else NO_DEFAULT,
            f.get("doc"),
            self.ann(f),
        )

    def normalize(self, d: dict) -> dict:
        return {
            "doc": d.get("doc"),
            "namespaces": {n["scope"]: n["name"] for n in d["namespaces"]},  # the last one wins, as in Apache
            "includes": [i["name"] for i in d["includes"] if i["name"] is not None],
            "enums": {
                e["name"]: ([(v["name"], v["value"], v.get("doc")) for v in e["values"]], e.get("doc"), self.ann(e))
                for e in d["enums"]
            },
            "typedefs": {t["name"]: (self.type(t["type"]), t.get("doc"), self.ann(t)) for t in d["typedefs"]},
            "structs": {
                s["name"]: (s["kind"], [self.field(f) for f in s["fields"]], s.get("doc"), self.ann(s))
                for s in d["structs"]
            },
            "consts": {
                c["name"]: (self.type(c["type"]), self.value(c["value"], c["type"]), c.get("doc")) for c in d["consts"]
            },
            "services": {
                s["name"]: (
                    s["extends"],
                    [
                        (
                            fn["name"],
                            self.type(fn["return_type"]),
                            fn["oneway"],
                            [self.field(a) for a in fn["args"]],
                            [self.field(x) for x in fn["throws"]],
                            fn.get("doc"),
                            self.ann(fn),
                        )
                        for fn in s["functions"]
                    ],
                    s.get("doc"),
                    self.ann(s),
                )
                for s in d["services"]
            },
        }


def tree(program) -> list:
    out, seen, todo = [], set(), [program]
    while todo:
        p = todo.pop()
        if id(p) in seen:
            continue
        seen.add(id(p))
        out.append(p)
        todo.extend(i.program for i in p.includes if i.program is not None)
    return out


def expected_path(corpus: Path, rel: str, suffix: str) -> Path:
    return corpus / "expected" / (rel[: -len(".thrift")] + suffix)


# --------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------


def _ids(rel: str) -> str:
    return rel


@pytest.mark.parametrize("rel", ACCEPT, ids=_ids)
def test_accepted_file_agrees_with_reference(idl_corpus: Path, rel: str) -> None:
    diags = Diagnostics()
    program = load_program(str(idl_corpus / rel), include_dirs(idl_corpus, rel), diags)
    assert program is not None, "refused a file the reference accepts:\n" + "\n".join(
        diags.render(d) for d in diags.errors
    )
    ours = Ours(program.name, [to_json(p) for p in tree(program)]).normalize(to_json(program))
    ref = normalize_reference(read_reference_json(expected_path(idl_corpus, rel, ".json")))
    # Compare category by category, definition by definition, for readable failures.
    for what in ("doc", "namespaces", "includes", "enums", "typedefs", "structs", "consts", "services"):
        if what in ("doc", "namespaces", "includes"):
            assert ours[what] == ref[what], what
            continue
        assert list(ours[what]) == list(ref[what]), f"{what}: names differ"
        for name in ref[what]:
            assert ours[what][name] == ref[what][name], f"{what} {name}"


@pytest.mark.parametrize("rel", REJECT, ids=_ids)
def test_rejected_file_is_refused_with_location(idl_corpus: Path, rel: str) -> None:
    diags = Diagnostics()
    program = load_program(str(idl_corpus / rel), include_dirs(idl_corpus, rel), diags)
    assert program is None, "accepted a file the reference refuses: " + expected_path(idl_corpus, rel, ".error").read_text()
    located = [d for d in diags.errors if d.loc.line > 0 and Path(d.loc.file).is_file()]
    assert located, f"no located error: {[str(d.loc) + ' ' + d.message for d in diags.errors]}"
    args = ["check"]
    for d in include_dirs(idl_corpus, rel):
        args += ["-I", d]
    result = CliRunner().invoke(cli, [*args, str(idl_corpus / rel)])
    assert result.exit_code == 1, result.output
    first = located[0]
    assert f"{first.loc.file}:{first.loc.line}:{first.loc.col}: error: " in result.output


def test_corpus_is_complete(idl_corpus: Path) -> None:
    """Every .thrift file of the corpus is listed (so none is silently skipped) and
    every listed file has its expected outcome."""
    listed = {r[0] for r in _reference()}
    on_disk = {
        str(p.relative_to(idl_corpus))
        for p in idl_corpus.rglob("*.thrift")
        if "expected" not in p.relative_to(idl_corpus).parts
    }
    assert on_disk == listed
    for rel, verdict, _ in _reference():
        suffix = ".json" if verdict == "accept" else ".error"
        assert expected_path(idl_corpus, rel, suffix).is_file(), rel
