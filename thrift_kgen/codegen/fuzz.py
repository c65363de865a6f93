"""The libFuzzer harness (`--fuzz`): `<prefix>_fuzz.c` and `<prefix>_fuzz_targets.json`.

One harness per IDL covers every struct, union and exception of the file and of
the files it includes, every args and result struct of the served services, the
processor with the user's handler file, both protocols and both framings. The
first input byte selects what the rest is fed to (`kind * 2 + protocol`):

    kind 0  struct round trip: two more bytes (big-endian) pick the struct
            (index modulo the number of structs), the rest is its encoding
    kind 1  framed messages, served one by one by the processor
    kind 2  unframed messages, the same
    kind 3  framing alone, framed (kg_frame_next() and its promises)
    kind 4  framing alone, unframed

The JSON manifest lists the structs in harness order and the methods, so the
seed writer (`python -m thrift_kgen.fuzzseeds`) can encode values with thriftpy2
for each target. docs/fuzzing.md describes the properties checked.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from . import render
from .module import ModuleModel

KINDS = {"struct": 0, "framed": 1, "unframed": 2, "frame_framed": 3, "frame_unframed": 4}
PROTOCOLS = {"binary": 0, "compact": 1}


def _targets(mod: ModuleModel) -> list[dict]:
    """Every struct the harness round-trips, in table order: the IDL's, then args/results."""
    out = []
    for pm in mod.programs:
        for s in pm.structs:
            out.append(dict(model=s, program=pm.ast, name=s.ast.name, role="type", service=None,
                            union=s.is_union))
    for v in mod.services:
        for m in v.methods:
            for role, ref in (("args", m.args), ("result", m.result)):
                if ref is not None:
                    out.append(dict(model=ref.model, program=v.program, name=m.name,
                                    service=v.name, role=role, union=False))
    for i, t in enumerate(out):
        t["index"] = i
        t["fn"] = f"kg_fuzz_{i}"
        t["label"] = f"{t['service']}.{t['name']} {t['role']}" if t["service"] else t["name"]
    return out


def fuzz_files(mod: ModuleModel) -> dict[str, str]:
    structs = _targets(mod)
    text = render.render(
        "C/fuzz/harness/default.j2",
        banner=render.banner(mod.source_name),
        module=mod.module,
        mod=mod,
        module_header=mod.module_header,
        headers=[pm.types_h for pm in mod.programs],
        structs=structs,
        served=mod.served is not None,
        kinds=KINDS,
    )
    return {f"{mod.prefix}_fuzz.c": text, f"{mod.prefix}_fuzz_targets.json": _manifest(mod, structs)}


def _manifest(mod: ModuleModel, structs: list[dict]) -> str:
    out = Path(mod.out_dir).resolve()
    idl = {id(pm.ast): os.path.relpath(Path(pm.ast.path).resolve(), out) for pm in mod.programs}
    methods = []
    for v in mod.services:
        for m in v.methods:
            name = f"{v.name}:{m.name}" if mod.multiplexed else m.name
            methods.append(dict(service=v.name, idl=idl[id(v.program)], method=m.name,
                                wire_name=name, oneway=m.variant == "oneway"))
    doc = dict(
        source=mod.source_name,
        idl=idl[id(mod.program)],
        include_dirs=[os.path.relpath(Path(d).resolve(), out) for d in mod.include_dirs],
        selector=dict(kinds=KINDS, protocols=PROTOCOLS,
                      byte0="kind * 2 + protocol; kind struct: then the index, 2 bytes big-endian"),
        structs=[dict(index=t["index"], idl=idl[id(t["program"])], name=t["name"],
                      role=t["role"], union=t["union"], service=t.get("service"))
                 for t in structs],
        methods=methods,
    )
    return json.dumps(doc, indent=1) + "\n"
