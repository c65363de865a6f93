"""The service half of the generator: `<prog>_<service>.h/.c` for each service.

For every function of a service this produces:

* the args and result structs (`<svc>_<fn>_args`, `<svc>_<fn>_result`): plain
  Thrift structs, lowered and rendered by the types half (model.py / types.py)
  like any struct of the IDL, so their encoders and decoders are the same code;
* the handler prototype the user implements (one C function per method), with
  kernel-doc from the IDL's doctext;
* a processor (`<svc>_do_<fn>`) that decodes the args, calls the handler through
  the service's ops table and writes the reply, the declared exception or a
  TApplicationException;
* a dispatch table sorted by method name (binary search, computed here) and the
  service's `process()`/`dispatch()` entry points, following `extends`;
* client stubs (`<svc>_send_<fn>`, `<svc>_recv_<fn>`) to call other servers.

Handler API (documented in the generated header too)::

    int foo_calc_divide(struct kg_call *call, s32 a, s32 b, s32 *result,
                        struct foo_div_by_zero *ouch);

Arguments come first (scalars and `struct kg_bytes` by value, everything else
by const pointer into the decoded message), then `result` (a pointer to fill,
unless the function is void), then one pointer per declared exception (a
zeroed struct to fill).  The handler returns 0 (success), the positive
`FOO_CALC_DIVIDE_OUCH` constant after filling `*ouch` (the declared exception
is sent), or a negative errno (an INTERNAL_ERROR TApplicationException is
sent; -EOPNOTSUPP says "not implemented").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..frontend import ast
from . import render

C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto
if inline int long register restrict return short signed sizeof static struct switch
typedef union unsigned void volatile while _Bool _Complex _Imaginary bool true false
asm typeof NULL
""".split())

# Names the handler signature and the processor use for themselves.
RESERVED_PARAMS = frozenset({"call", "result", "ops", "args", "res", "ret", "conn", "seqid",
                             "in", "msg_type"})

# Parameter names that would clash with kernel macros (min, max...) or types.
KERNEL_CLASHES = frozenset({"min", "max", "clamp", "current", "jiffies", "u8", "u16", "u32",
                            "u64", "s8", "s16", "s32", "s64", "errno", "abs", "swap",
                            "likely", "unlikely", "container_of", "offsetof"})


def snake(name: str) -> str:
    """`ThriftTest` -> `thrift_test`, `getHTTPStatus` -> `get_http_status`."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"[^A-Za-z0-9_]", "_", s)
    return re.sub(r"_+", "_", s).lower().strip("_") or "x"


def c_ident(name: str, taken: set[str] | None = None) -> str:
    """A C identifier for an IDL name: keywords and reserved names get a `_` suffix."""
    n = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if n[0].isdigit():
        n = "_" + n
    while n in C_KEYWORDS or n in RESERVED_PARAMS or n in KERNEL_CLASHES or (taken and n in taken):
        n += "_"
    if taken is not None:
        taken.add(n)
    return n


@dataclass
class Param:
    name: str  # C identifier
    decl: str  # "s32 num1", "const struct foo_work *w"
    arg: str  # what the processor passes: "args->num1", "&args->w"
    store: str  # client stub: how to put it into the args struct ("args->x = x;")
    doc: str


@dataclass
class Throw:
    id: int
    name: str  # C identifier of the out-parameter
    const: str  # FOO_SVC_FN_NAME
    value: int  # the handler's positive return value
    c_type: str  # "struct foo_bad"
    decl: str
    member: str  # member in the result struct
    isset: str  # C expression (lvalue) of its isset flag in the result struct, with `res->`
    doc: str


@dataclass
class Method:
    name: str  # as in the IDL (what travels on the wire)
    name_len: int
    c: str  # snake_case
    member: str  # member of the ops struct
    handler: str  # user's function
    do_fn: str  # processor
    send_fn: str
    recv_fn: str
    oneway: bool
    void: bool
    doc_summary: str
    doc: list[str]
    params: list[Param]
    result_decl: str | None  # "s32 *result"
    result_type: str | None  # "s32"
    result_assign_out: str | None  # "*result = res->success;"
    success_isset: str | None  # "res->__isset.success" style expression
    throws: list[Throw]
    args: "StructRef"
    result: "StructRef"
    signature: str = ""  # "int fn(struct kg_call *call, ...)"
    ops_signature: str = ""  # "int (*member)(struct kg_call *call, ...)"
    send_signature: str = ""
    recv_signature: str = ""


@dataclass
class StructRef:
    """A synthesized struct as the types half names it."""

    ast: ast.Struct
    c_type: str  # "struct foo_svc_fn_args"
    init: str
    encode: str
    decode: str
    encode_fn: str  # a kg_encode_fn-compatible function (generated here)


@dataclass
class ServiceView:
    service: ast.Service
    program: ast.Program
    name: str  # IDL name
    prefix: str  # "foo_calc"
    upper: str  # "FOO_CALC"
    header: str  # "foo_calc.h"
    source: str  # "foo_calc.c"
    ops_struct: str  # "foo_calc_ops"
    process_fn: str
    dispatch_fn: str
    method_struct: str
    table: str
    doc_summary: str
    doc: list[str]
    methods: list[Method] = field(default_factory=list)
    sorted_methods: list[Method] = field(default_factory=list)
    base: "ServiceView | None" = None
    includes: list[str] = field(default_factory=list)  # headers this one includes


def file_prefix(program: ast.Program) -> str:
    return snake(program.name) if not re.fullmatch(r"[a-z0-9_]+", program.name) else program.name


def service_prefix(program: ast.Program, service: ast.Service) -> str:
    p = f"{file_prefix(program)}_{snake(service.name)}"
    # keep clear of the files the other generators write for this program
    if snake(service.name) in ("types", "handler", "main", "module", "user"):
        p += "_svc"
    return p


def _synth_field(f: ast.Field, requiredness: str) -> ast.Field:
    return ast.Field(id=f.id, name=f.name, type=f.type, requiredness=requiredness,
                     default=f.default, default_evaluated=f.default_evaluated,
                     doc=f.doc, loc=f.loc)


class ServiceGenerator:
    """Builds a ServiceView per service and renders its header and source."""

    def __init__(self, ctx, types_api=None):
        self.ctx = ctx
        if types_api is None:
            from .typesapi import TypesAPI

            types_api = TypesAPI(ctx)
        self.tm = types_api
        self._views: dict[int, ServiceView] = {}

    # -- structure ---------------------------------------------------------

    def chain(self, service: ast.Service) -> list[ServiceView]:
        """The service's bases (outermost first) and the service itself."""
        out = []
        s = service
        seen = set()
        while s is not None and id(s) not in seen:
            seen.add(id(s))
            out.append(self.view(s))
            s = s.extends_target
        return list(reversed(out))

    def view(self, service: ast.Service) -> ServiceView:
        v = self._views.get(id(service))
        if v is not None:
            return v
        program = service.program or self.ctx.program
        prefix = service_prefix(program, service)
        v = ServiceView(
            service=service,
            program=program,
            name=service.name,
            prefix=prefix,
            upper=prefix.upper(),
            header=f"{prefix}.h",
            source=f"{prefix}.c",
            ops_struct=f"{prefix}_ops",
            process_fn=f"{prefix}_process",
            dispatch_fn=f"{prefix}_dispatch",
            method_struct=f"{prefix}_method",
            table=f"{prefix}_methods",
            doc_summary=render.kdoc_oneline(service.doc, f"service {service.name}"),
            doc=render.comment_text(service.doc),
        )
        self._views[id(service)] = v
        if service.extends_target is not None:
            v.base = self.view(service.extends_target)
        v.includes = [self.tm.types_header(program)]
        if v.base is not None:
            v.includes.append(v.base.header)
        for fn in service.functions:
            v.methods.append(self.method(v, fn))
        v.sorted_methods = sorted(v.methods, key=lambda m: m.name.encode())
        return v

    def method(self, v: ServiceView, fn: ast.Function) -> Method:
        tm = self.tm
        c = snake(fn.name)
        base = f"{v.prefix}_{c}"
        program = v.program

        args_ast = ast.Struct(
            name=f"{v.name}_{fn.name}_args", kind=ast.STRUCT, program=program, loc=fn.loc,
            fields=[_synth_field(f, ast.DEFAULT if f.requiredness != ast.REQUIRED else ast.REQUIRED)
                    for f in fn.args],
        )
        res_fields = []
        if fn.return_type is not None and not fn.oneway:
            res_fields.append(ast.Field(id=0, name="success", type=fn.return_type,
                                        requiredness=ast.OPTIONAL, loc=fn.loc))
        for f in fn.throws:
            res_fields.append(_synth_field(f, ast.OPTIONAL))
        res_ast = ast.Struct(name=f"{v.name}_{fn.name}_result", kind=ast.STRUCT, program=program,
                             loc=fn.loc, fields=res_fields)
        args = tm.struct_ref(args_ast, f"{base}_args", f"{base}_args_encode_fn")
        result = tm.struct_ref(res_ast, f"{base}_result", f"{base}_result_encode_fn")

        taken: set[str] = set()
        params = []
        sends = []
        for f, sf in zip(fn.args, args_ast.fields):
            name = c_ident(snake(f.name), taken)
            member = tm.member(args_ast, sf)
            ctype = tm.c_type(f.type)
            if tm.by_value(f.type):
                decl, arg, store = f"{ctype} {name}", f"args->{member}", f"args.{member} = {name};"
            else:
                decl, arg, store = (f"const {ctype} *{name}", f"&args->{member}",
                                    f"args.{member} = *{name};")
            sets = tm.set_isset(args_ast, sf, "args.")
            params.append(Param(name=name, decl=decl, arg=arg, store=store,
                                doc=render.kdoc_oneline(f.doc, f"argument {f.id}: {f.name}")))
            sends.append(store)
            if sets:
                sends.append(sets)
        void = fn.return_type is None or fn.oneway
        result_decl = result_type = result_assign = success_isset = None
        res_taken = set(taken) | {"result"}
        if not void:
            result_type = tm.c_type(fn.return_type)
            result_decl = f"{result_type} *result"
            succ = res_fields[0]
            success_isset = tm.isset(res_ast, succ, "res->")
            result_assign = f"*result = res->{tm.member(res_ast, succ)};"
        throws = []
        for i, (f, rf) in enumerate(zip(fn.throws, res_fields[(0 if void else 1):]), start=1):
            name = c_ident(snake(f.name), res_taken)
            ctype = tm.c_type(f.type)
            throws.append(Throw(
                id=f.id, name=name, const=f"{base}_{snake(f.name)}".upper(), value=i,
                c_type=ctype, decl=f"{ctype} *{name}", member=tm.member(res_ast, rf),
                isset=tm.isset(res_ast, rf, "res->"),
                doc=render.kdoc_oneline(None, f"exception {f.id}: {f.name}"),
            ))
        m = Method(
            name=fn.name, name_len=len(fn.name.encode()), c=c, member=c_ident(c),
            handler=base, do_fn=f"{v.prefix}_do_{c}", send_fn=f"{v.prefix}_send_{c}",
            recv_fn=f"{v.prefix}_recv_{c}", oneway=fn.oneway, void=void,
            doc_summary=render.kdoc_oneline(fn.doc, f"handle {v.name}.{fn.name}"),
            doc=render.comment_text(fn.doc) if fn.doc and "\n" in fn.doc.strip() else [],
            params=params, result_decl=result_decl, result_type=result_type,
            result_assign_out=result_assign, success_isset=success_isset, throws=throws,
            args=args, result=result,
        )
        handler_params = ["struct kg_call *call"] + [p.decl for p in params]
        if result_decl:
            handler_params.append(result_decl)
        handler_params += [t.decl for t in throws]
        m.signature = _wrap(f"int {m.handler}(", handler_params, ")")
        m.ops_signature = _wrap(f"int (*{m.member})(", handler_params, ")", indent=1)
        m.send_signature = _wrap(f"int {m.send_fn}(",
                                 ["struct kg_conn *conn", "s32 seqid"] + [p.decl for p in params], ")")
        recv_params = ["struct kg_reader *in", "u8 msg_type"]
        if result_decl:
            recv_params.append(result_decl)
        recv_params += [t.decl for t in throws]
        m.recv_signature = _wrap(f"int {m.recv_fn}(", recv_params, ")")
        call_args = ["call"] + [p.arg for p in params]
        if result_decl:
            call_args.append(f"&res->{tm.member(res_ast, res_fields[0])}")
        call_args += [f"&res->{t.member}" for t in throws]
        m.call_args = ", ".join(call_args)
        m.sends = sends
        return m

    # -- output ------------------------------------------------------------

    def files(self, v: ServiceView) -> dict[str, str]:
        structs = [s for m in v.methods for s in ((m.args, m.result) if not m.oneway else (m.args,))]
        decl, defs = self.tm.render_structs([s.ast for s in structs])
        banner = render.banner(Path_name(v.program))
        ctx = dict(svc=v, banner=banner, handler_file=self.ctx.handler_file)
        return {
            v.header: render.render("C/service/file/header.j2", guard=f"_{v.upper}_H",
                                    structs_decl=decl, **ctx),
            v.source: render.render("C/service/file/source.j2", structs_def=defs, **ctx),
        }


def Path_name(program: ast.Program) -> str:
    from pathlib import Path

    return Path(program.path).name


def _wrap(head: str, params: list[str], tail: str, indent: int = 0, width: int = 100) -> str:
    """`head` + params joined by ", " + `tail`, wrapped kernel style (aligned to the paren).

    `indent`: tabs the template puts before the first line (continuation lines
    carry their own full alignment).
    """
    one = head + ", ".join(params) + tail
    if len(one) + 8 * indent <= width:
        return one
    col = len(head) + 8 * indent
    pad = "\t" * (col // 8) + " " * (col % 8)
    lines: list[str] = []
    cur = head
    cur_width = col
    for i, p in enumerate(params):
        piece = p + (", " if i < len(params) - 1 else tail)
        if cur not in (head, pad) and cur_width + len(piece.rstrip()) > width:
            lines.append(cur.rstrip())
            cur, cur_width = pad, col
        cur += piece
        cur_width += len(piece)
    lines.append(cur.rstrip())
    return "\n".join(lines)
