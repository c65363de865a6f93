"""What the service half needs from the types half, in one place.

`TypesAPI` answers: the C type of a Thrift type, whether a handler takes it by
value, the member and isset expressions of a struct field, and renders the
synthesized args/result structs, by delegating to the types half
(model.py, types.py): the one place where Thrift types are lowered to C.

The contract the types half implements (thrift_kgen/codegen/types.py):

    generate_files(program) -> {"<prefix>_types.h": text, "<prefix>_types.c": text}
    service_api(ctx) -> an object with
        types_header(program) -> "<prefix>_types.h"
        c_type(t) -> "s32" / "struct kg_bytes" / "struct foo_point" / "struct kg_list_i32"
        by_value(t) -> bool        handler takes it by value (scalars, enums, kg_bytes)
        member(struct_ast, field_ast) -> C member name
        isset(struct_ast, field_ast, var) -> "<var>isset.<member>" (an lvalue)
        set_isset(struct_ast, field_ast, var) -> C statement, or "" when not needed
        struct_ref(struct_ast, cname, encode_fn) -> service.StructRef (init/encode/decode names)
        render_structs([struct_ast...]) -> (declarations for the .h, definitions for the .c)
            for the synthesized args/result structs, with the containers they need
            (guarded, as they may also be declared by a types header)

`ctx` is codegen.Context (program, prefix, all_programs...).
"""

from __future__ import annotations

from ..frontend import ast


class TypesAPI:
    def __init__(self, ctx):
        from . import types

        self.impl = types.service_api(ctx)

    def __getattr__(self, name):
        return getattr(self.impl, name)


def generate_types_files(program: ast.Program, ctx=None) -> dict[str, str]:
    from . import types

    return types.generate_files(program)
