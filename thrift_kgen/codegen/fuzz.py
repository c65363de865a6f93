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
from .model import ProgramModel

KINDS = {"struct": 0, "framed": 1, "unframed": 2, "frame_framed": 3, "frame_unframed": 4}
PROTOCOLS = {"binary": 0, "compact": 1}


class FuzzGenerator:
    def __init__(self, ctx, sgen):
        self.ctx = ctx
        self.sgen = sgen

    def structs(self) -> list[dict]:
        """Every struct the harness round-trips, in table order: the IDL's, then args/results."""
        c = self.ctx
        out = []
        for p in c.all_programs:
            pm = ProgramModel.of(p)
            for s in pm.structs:
                out.append(dict(model=s, program=p, name=s.ast.name, role="type", service=None,
                                union=s.is_union))
        for v in c.chain:
            for m in v.methods:
                parts = [("args", m.args)] + ([] if m.oneway else [("result", m.result)])
                for role, ref in parts:
                    out.append(dict(model=self.sgen.tm._model(ref.ast), program=v.program,
                                    name=m.name, service=v.name, role=role, union=False))
        for i, t in enumerate(out):
            t["index"] = i
            t["fn"] = f"kg_fuzz_{i}"
            t["label"] = (f"{t['service']}.{t['name']} {t['role']}" if t["service"]
                          else t["name"])
        return out

    def generate(self) -> dict[str, str]:
        c = self.ctx
        structs = self.structs()
        services = c.chain
        for v in services:
            v.ops_var = f"{v.prefix}_handlers"
            v.base_ops_var = f"{v.base.prefix}_handlers" if v.base else None
            v.process_fn_glue = f"{v.prefix}_serve"
        mux = sorted(c.mux_services, key=lambda v: v.name.encode())
        svc_rows = [dict(ops_struct=v.ops_struct, ops_var=v.ops_var, base_ops_var=v.base_ops_var,
                         methods=v.methods, process_fn=v.process_fn_glue, dispatch_fn=v.process_fn)
                    for v in services]
        mux_rows = [dict(name=v.name, name_len=len(v.name.encode()), process_fn=v.process_fn_glue,
                         dispatch_fn=v.process_fn, ops_var=v.ops_var) for v in mux]
        headers = [ProgramModel.of(p).types_h for p in c.all_programs]
        text = render.render(
            "C/fuzz/harness/default.j2",
            banner=render.banner(c.source_name),
            module=c.module,
            prefix=c.prefix,
            module_header=f"{c.prefix}_module.h",
            headers=headers,
            structs=structs,
            served=c.served is not None,
            services=svc_rows,
            multiplexed=c.multiplexed,
            mux=mux_rows,
            default_process=c.served.process_fn if c.served else "",
            default_ops=c.served.ops_var if c.served else "",
            init_fn=f"{c.prefix}_handler_init",
            exit_fn=f"{c.prefix}_handler_exit",
            kinds=KINDS,
        )
        return {f"{c.prefix}_fuzz.c": text, f"{c.prefix}_fuzz_targets.json": self.manifest(structs)}

    def manifest(self, structs: list[dict]) -> str:
        c = self.ctx
        out = Path(c.out_dir).resolve()
        idl = {id(p): os.path.relpath(Path(p.path).resolve(), out) for p in c.all_programs}
        methods = []
        for v in c.chain:
            for m in v.methods:
                name = m.name
                if c.multiplexed:
                    name = f"{v.name}:{m.name}"
                methods.append(dict(service=v.name, idl=idl[id(v.program)], method=m.name,
                                    wire_name=name, oneway=m.oneway))
        doc = dict(
            source=c.source_name,
            idl=idl[id(c.program)],
            include_dirs=[os.path.relpath(Path(d).resolve(), out) for d in c.include_dirs],
            selector=dict(kinds=KINDS, protocols=PROTOCOLS,
                          byte0="kind * 2 + protocol; kind struct: then the index, 2 bytes big-endian"),
            structs=[dict(index=t["index"], idl=idl[id(t["program"])], name=t["name"],
                          role=t["role"], union=t["union"], service=t.get("service"))
                     for t in structs],
            methods=methods,
        )
        return json.dumps(doc, indent=1) + "\n"
