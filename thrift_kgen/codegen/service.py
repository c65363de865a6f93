"""Lowering of services: one `ServiceModel` per service, what `<prog>_<service>.h/.c` print.

For every function of a service this produces:

* the args and result structs (`<svc>_<fn>_args`, `<svc>_<fn>_result`): plain
  Thrift structs, lowered and rendered by the types half (model.py / types.py)
  like any struct of the IDL, so their encoders and decoders are the same code;
* the handler prototype the user implements (one C function per method), with
  kernel-doc from the IDL's doctext;
* a processor (`<svc>_do_<fn>`) that decodes the args, calls the handler through
  the service's ops table and writes the reply, the declared exception or a
  TApplicationException;
* a method table sorted by name (the binary search is the runtime's kg_dispatch(),
  thrift_kgen/runtime/core/dispatch.c) and the service's `process()`/`dispatch()` entry points,
  following `extends`;
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

from dataclasses import dataclass

from ..frontend import ast
from . import render
from .model import STRUCT_DERIVED, StaticSink, StructModel, TypesLowering
from .naming import RESERVED_PARAMS, TAG, file_prefix, safe_ident, snake

# A service whose snake name is one of these would write over another generated file.
FILE_CLASHES = ("types", "handler", "main", "module", "user", "fuzz")


@dataclass(frozen=True)
class Param:
    name: str  # C identifier
    decl: str  # "s32 num1", "const struct foo_work *w"
    arg: str  # what the processor passes: "args->num1", "&args->w"
    member: str  # its member in the args struct
    value: str  # what the client stub stores there: "num1", "*w"
    doc: str


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class StructRef:
    """A synthesized args/result struct, as its service named it."""

    model: StructModel
    c_type: str  # "struct foo_svc_fn_args"
    init: str
    encode: str  # a kg_encode_fn (C/struct/encode/message.j2)
    decode: str


# Most fields of an args or result struct the processor keeps on its stack
# rather than in the arena: each is at most 16 bytes (a scalar or a view).
STACK_STRUCT_FIELDS = 8


def _small_struct(ref: "StructRef") -> bool:
    fields = ref.model.fields
    return (len(fields) <= STACK_STRUCT_FIELDS
            and all(f.ctype.cat in ("scalar", "bytes") for f in fields))


@dataclass(frozen=True)
class Method:
    name: str  # as in the IDL (what travels on the wire)
    loc: ast.Location
    variant: str  # "call" or "oneway": the processor's and client's template variant
    c: str  # snake_case
    member: str  # member of the ops struct
    handler: str  # user's function
    do_fn: str  # processor
    send_fn: str
    recv_fn: str
    void: bool
    doc_summary: str
    doc: tuple[str, ...]
    params: tuple[Param, ...]
    result_decl: str | None  # "s32 *result"
    result_member: str | None  # the result struct's success member
    throws: tuple[Throw, ...]
    args: StructRef
    result: StructRef | None  # None for oneway
    signature: str  # "int fn(struct kg_call *call, ...)"
    ops_signature: str  # "int (*member)(struct kg_call *call, ...)"
    send_signature: str
    recv_signature: str
    call_args: tuple[str, ...]  # the processor's arguments to the handler

    @property
    def oneway(self) -> bool:
        return self.variant == "oneway"

    @property
    def args_on_stack(self) -> bool:
        """The processor's args struct is a local: scalars and views only (a few words)."""
        return _small_struct(self.args)

    @property
    def result_on_stack(self) -> bool:
        return self.result is not None and _small_struct(self.result)


@dataclass(frozen=True, eq=False)
class ServiceModel:
    service: ast.Service
    program: ast.Program
    name: str  # IDL name
    prefix: str  # "foo_calc"
    upper: str  # "FOO_CALC"
    header: str  # "foo_calc.h"
    source: str  # "foo_calc.c"
    ops_struct: str  # "foo_calc_ops"
    ops_var: str  # "foo_calc_handlers": the module's ops table
    serve_fn: str  # "foo_calc_serve": the module's process() for this service
    process_fn: str
    dispatch_fn: str
    table: str
    doc_summary: str
    doc: tuple[str, ...]
    methods: tuple[Method, ...]
    sorted_methods: tuple[Method, ...]
    base: "ServiceModel | None"
    includes: tuple[str, ...]  # headers this one includes
    structs: tuple[StructModel, ...]  # args (and results) of its methods, in order
    statics: tuple[str, ...]  # static data of the defaults of those structs

    @property
    def methods_by_len(self) -> tuple[tuple[int, tuple[Method, ...]], ...]:
        """The methods grouped by the byte length of their name (the dispatch switch)."""
        groups: dict[int, list[Method]] = {}
        for m in self.sorted_methods:
            groups.setdefault(len(m.name.encode()), []).append(m)
        return tuple((n, tuple(ms)) for n, ms in sorted(groups.items()))

    @property
    def inline_decode(self) -> frozenset[str]:
        """The args structs whose processor decodes them inline (args_on_stack): the
        protocol is chosen once per message and the struct can live in registers."""
        return frozenset(m.args.model.cname for m in self.methods if m.args_on_stack)

    @property
    def dispatch_variant(self) -> str:
        """C/service/dispatch/<variant>.j2: "extends" falls back to the base service."""
        return "extends" if self.base else "root"


def _synth_field(f: ast.Field, requiredness: str) -> ast.Field:
    return ast.Field(id=f.id, name=f.name, type=f.type, requiredness=requiredness,
                     default=f.default, default_evaluated=f.default_evaluated,
                     doc=f.doc, loc=f.loc)


def _param_name(name: str, taken: set[str]) -> str:
    """A parameter: keywords, kernel macros and the processor's own names get a `_` suffix."""
    n = safe_ident(snake(name))
    while n in taken:
        n = safe_ident(n + "_")
    taken.add(n)
    return n


class ServiceLowering:
    """Builds the ServiceModel of each service, claiming its names in the module's table."""

    def __init__(self, types: TypesLowering):
        self.types = types
        self.names = types.names
        self._models: dict[int, ServiceModel] = {}  # by id(); each model holds its service

    def chain(self, service: ast.Service) -> list[ServiceModel]:
        """The service's bases (outermost first) and the service itself."""
        out = []
        s = service
        seen = set()
        while s is not None and id(s) not in seen:
            seen.add(id(s))
            out.append(self.model(s))
            s = s.extends_target
        return list(reversed(out))

    def model(self, service: ast.Service) -> ServiceModel:
        v = self._models.get(id(service))
        if v is not None:
            return v
        base = self.model(service.extends_target) if service.extends_target is not None else None
        program = service.program
        pm = self.types.program(program)
        want = f"{file_prefix(program)}_{snake(service.name)}"
        if snake(service.name) in FILE_CLASHES:
            want += "_svc"  # keep clear of the files the module writes for this program
        prefix = self.names.claim(want, ("_ops" + TAG, "_process", "_dispatch", "_methods",
                                         "_handlers", "_serve"),
                                  what=f"service {service.name}", loc=service.loc)
        methods, structs, statics = [], [], []
        for fn in service.functions:
            m, sinks = self._method(prefix, service, fn, pm)
            methods.append(m)
            structs += [ref.model for ref in (m.args, m.result) if ref is not None]
            statics += [d for sink in sinks for d in sink.defs]
        includes = [pm.types_h] + ([base.header] if base else [])
        v = ServiceModel(
            service=service, program=program, name=service.name, prefix=prefix,
            upper=prefix.upper(), header=f"{prefix}.h", source=f"{prefix}.c",
            ops_struct=f"{prefix}_ops", ops_var=f"{prefix}_handlers", serve_fn=f"{prefix}_serve",
            process_fn=f"{prefix}_process", dispatch_fn=f"{prefix}_dispatch",
            table=f"{prefix}_methods",
            doc_summary=render.kdoc_oneline(service.doc, f"service {service.name}"),
            doc=tuple(render.comment_text(service.doc)),
            methods=tuple(methods),
            sorted_methods=tuple(sorted(methods, key=lambda m: m.name.encode())),
            base=base, includes=tuple(includes), structs=tuple(structs), statics=tuple(statics),
        )
        self._models[id(service)] = v
        return v

    def _struct(self, pm, s: ast.Struct, want: str, what: str, loc, sinks) -> StructRef:
        cname = self.names.claim(want, STRUCT_DERIVED, what=what, loc=loc)
        sink = StaticSink(f"{cname}_default", self.names)
        sinks.append(sink)
        sm = pm.struct_model(s, cname=cname, sink=sink)
        return StructRef(model=sm, c_type=sm.c, init=sm.init_fn, encode=sm.encode_fn,
                         decode=sm.decode_fn)

    def _method(self, prefix: str, service: ast.Service, fn: ast.Function,
                pm) -> tuple[Method, list[StaticSink]]:
        """The method, and the static data its structs' defaults need."""
        sinks: list[StaticSink] = []
        c = snake(fn.name)
        where = f"{service.name}.{fn.name}"
        base = self.names.claim(f"{prefix}_{c}", what=f"the handler of {where}", loc=fn.loc)
        do_fn = self.names.claim(f"{prefix}_do_{c}", what=f"the processor of {where}", loc=fn.loc)
        send_fn = self.names.claim(f"{prefix}_send_{c}", what=f"the client of {where}", loc=fn.loc)
        recv_fn = self.names.claim(f"{prefix}_recv_{c}", what=f"the client of {where}", loc=fn.loc)
        program = service.program

        args_ast = ast.Struct(
            name=f"{service.name}.{fn.name} args", kind=ast.STRUCT, program=program, loc=fn.loc,
            fields=[_synth_field(f, ast.DEFAULT if f.requiredness != ast.REQUIRED else ast.REQUIRED)
                    for f in fn.args],
        )
        void = fn.return_type is None or fn.oneway
        res_fields = []
        if not void:
            res_fields.append(ast.Field(id=0, name="success", type=fn.return_type,
                                        requiredness=ast.OPTIONAL, loc=fn.loc))
        for f in fn.throws:
            res_fields.append(_synth_field(f, ast.OPTIONAL))
        args = self._struct(pm, args_ast, f"{base}_args", f"the args struct of {where}", fn.loc,
                            sinks)
        result = None
        if not fn.oneway:
            res_ast = ast.Struct(name=f"{service.name}.{fn.name} result", kind=ast.STRUCT,
                                 program=program, loc=fn.loc, fields=res_fields)
            result = self._struct(pm, res_ast, f"{base}_result", f"the result struct of {where}",
                                  fn.loc, sinks)

        taken = set(RESERVED_PARAMS)
        params = []
        for f, fm in zip(fn.args, args.model.fields):
            name = _param_name(f.name, taken)
            ctype = fm.ctype.c
            if fm.ctype.cat in ("scalar", "bytes"):  # by value: scalars, enums, kg_bytes views
                decl, arg, value = f"{ctype} {name}", f"args->{fm.member}", name
            else:
                decl, arg, value = f"const {ctype} *{name}", f"&args->{fm.member}", f"*{name}"
            params.append(Param(name=name, decl=decl, arg=arg, member=fm.member, value=value,
                                doc=render.kdoc_oneline(f.doc, f"argument {f.id}: {f.name}")))
        result_decl = result_member = None
        res_models = list(result.model.fields) if result else []
        if not void:
            result_decl = f"{res_models[0].ctype.c} *result"
            result_member = res_models[0].member
        throws = []
        res_taken = taken | {"result"}
        for i, (f, rf) in enumerate(zip(fn.throws, res_models[(0 if void else 1):]), start=1):
            name = _param_name(f.name, res_taken)
            ctype = rf.ctype.c
            const = self.names.claim(f"{base}_{snake(f.name)}".upper(), upper=True,
                                     what=f"exception {f.name} of {where}", loc=f.loc).upper()
            throws.append(Throw(
                id=f.id, name=name, const=const, value=i, c_type=ctype, decl=f"{ctype} *{name}",
                member=rf.member, isset=f"res->isset.{rf.member}",
                doc=render.kdoc_oneline(None, f"exception {f.id}: {f.name}"),
            ))
        member = safe_ident(c)
        handler_params = ["struct kg_call *call"] + [p.decl for p in params]
        if result_decl:
            handler_params.append(result_decl)
        handler_params += [t.decl for t in throws]
        recv_params = ["struct kg_reader *in", "u8 msg_type"]
        if result_decl:
            recv_params.append(result_decl)
        recv_params += [t.decl for t in throws]
        call_args = ["call"] + [p.arg for p in params]
        if result_decl:
            call_args.append(f"&res->{result_member}")
        call_args += [f"&res->{t.member}" for t in throws]
        return Method(
            name=fn.name, loc=fn.loc, variant="oneway" if fn.oneway else "call", c=c,
            member=member, handler=base, do_fn=do_fn, send_fn=send_fn, recv_fn=recv_fn, void=void,
            doc_summary=render.kdoc_oneline(fn.doc, f"handle {service.name}.{fn.name}"),
            doc=tuple(render.comment_text(fn.doc)) if fn.doc and "\n" in fn.doc.strip() else (),
            params=tuple(params), result_decl=result_decl, result_member=result_member,
            throws=tuple(throws), args=args, result=result,
            signature=render.wrap(f"int {base}(", handler_params, ")"),
            ops_signature=render.wrap(f"int (*{member})(", handler_params, ")", indent=1),
            send_signature=render.wrap(f"int {send_fn}(",
                                ["struct kg_conn *conn", "s32 seqid"] + [p.decl for p in params], ")"),
            recv_signature=render.wrap(f"int {recv_fn}(", recv_params, ")"),
            call_args=tuple(call_args),
        ), sinks

