"""The one list of the server's parameters.

Each row becomes, in every generated `<prefix>_main.c`, a variable, a `module_param()`
with its `MODULE_PARM_DESC()`, and a row of the `struct kg_param` table that the
runtime turns into a `struct kg_server_config` (thrift_kgen/runtime/core/params.c) in the kernel
and parses as a flag (`--max-conns`: `-` for `_`) in user space (runtime/user/usermain.c).
The README's parameter table is made from it too (`python -m thrift_kgen.codegen.params`;
tests/codegen/test_params.py checks it is current).

To add a parameter: add a `struct kg_server_config` member the server uses, and one
row here. A choice parameter lists its words and the C value each stores, default first.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

DEFAULT_PORT = 9090


@dataclass(frozen=True)
class Param:
    name: str  # the module parameter; the user-space flag is --name with '-' for '_'
    kind: str  # uint (0 keeps the runtime's default) | uint_zero (0 is a value) | string | choice
    member: str  # in struct kg_server_config
    help: str  # MODULE_PARM_DESC and --help
    default: str = ""  # the variable's C initializer ("": 0, the runtime's default)
    shown_default: str = ""  # the README's default column
    doc: str = ""  # the README's meaning column (default: help)
    max: str = "U32_MAX"  # uint: the largest value accepted
    choices: tuple[tuple[str, str], ...] = ()  # choice: (word, C value), the default first
    kernel_only: bool = False
    c_name: str = ""  # the C variable, when the name would clash (listen() in user space)

    @property
    def var(self) -> str:
        return self.c_name or self.name

    @property
    def desc(self) -> str:
        """MODULE_PARM_DESC and --help: the help, and what 0 means for a limit."""
        return self.help + (" (0: default)" if self.kind == "uint" else "")

    @property
    def flag(self) -> str:
        return self.name.replace("_", "-")

    @property
    def c_type(self) -> str:
        return "char *" if self.kind in ("string", "choice") else "unsigned int "

    @property
    def param_type(self) -> str:
        """module_param()'s type."""
        return "charp" if self.kind in ("string", "choice") else "uint"

    @property
    def initializer(self) -> str:
        if self.kind == "choice":
            return f'"{self.choices[0][0]}"'
        return self.default

    @property
    def c_kind(self) -> str:
        return {"uint": "KG_PARAM_UINT_OR_DEFAULT", "uint_zero": "KG_PARAM_UINT"}.get(self.kind, "")

    @property
    def variant(self) -> str:
        """Which C/module/params/row/<variant>.j2 prints its table row."""
        return {"uint_zero": "uint"}.get(self.kind, self.kind)


def _limit(name, member, help, shown, doc="", zero_is_value=False, default=""):
    return Param(name=name, kind="uint_zero" if zero_is_value else "uint", member=member,
                 help=help, default=default, shown_default=shown, doc=doc)


PARAMS: tuple[Param, ...] = (
    Param(name="addr", kind="string", member="addr", default='"127.0.0.1"',
          shown_default="`127.0.0.1`",
          help="Address to listen on, IPv4 or IPv6 literal (default 127.0.0.1)",
          doc="address to listen on (IPv4 or IPv6 literal)"),
    Param(name="port", kind="uint_zero", member="port", default=str(DEFAULT_PORT), max="65535",
          shown_default="`9090`",
          help=f"Port, TCP and/or UDP (see listen; default {DEFAULT_PORT}; 0 picks a free one)",
          doc="port (TCP, UDP or both: see `listen`; 0 picks a free one)"),
    Param(name="transport", kind="choice", member="transport", shown_default="`framed`",
          choices=(("framed", "KG_TRANSPORT_FRAMED"), ("buffered", "KG_TRANSPORT_BUFFERED"),
                   ("auto", "KG_TRANSPORT_AUTO")),
          help="Thrift transport: framed (default), buffered or auto (per client)",
          doc="`framed`, `buffered` (unframed), or `auto`: each client's, from its first bytes"),
    Param(name="protocol", kind="choice", member="proto", shown_default="`auto`",
          choices=(("auto", "KG_PROTO_AUTO"), ("binary", "KG_PROTO_BINARY"),
                   ("compact", "KG_PROTO_COMPACT")),
          help="Thrift protocol: auto (default, per client), binary or compact",
          doc="`auto`: each client's, binary (strict or old) or compact, from its first byte, and "
              "replies in it; `binary` or `compact` refuse the other (see "
              "[docs/runtime-networking.md](docs/runtime-networking.md), Protocol detection)"),
    Param(name="listen", kind="choice", member="listen", shown_default="`tcp`", c_name="listen_on",
          choices=(("tcp", "KG_LISTEN_TCP"), ("udp", "KG_LISTEN_UDP"), ("both", "KG_LISTEN_BOTH")),
          help="tcp (default), udp or both; UDP: oneway-only services, a message per datagram",
          doc="`tcp`, `udp` or `both` (one port number): UDP serves services whose methods are all "
              "oneway, one unframed message per datagram, no reply; refused (the module does not "
              "load) for any other service, naming the first two-way method"),
    _limit("max_conns", "max_conns", "Connections served at once; more are accepted and closed",
           "1024", "accepted connections open at once (`live`); further ones are closed at once, "
           "after retiring those whose peer already left"),
    _limit("idle_timeout_ms", "idle_timeout_ms",
           "Close a connection that sends and takes nothing this long (ms; 0: never)",
           "300000", "close a connection that sends nothing and takes none of its output this "
           "long; 0: never", zero_is_value=True, default="KG_DEFAULT_IDLE_TIMEOUT_MS"),
    _limit("message_timeout_ms", "message_timeout_ms",
           "Close a connection whose message stays incomplete this long (ms; 0: never)",
           "30000", "close a connection whose request message stays incomplete this long "
           "(slowloris); 0: never", zero_is_value=True, default="KG_DEFAULT_MESSAGE_TIMEOUT_MS"),
    _limit("max_frame", "limits.max_frame", "Bytes in one message", "4194304 (4 MiB)",
           "largest message received (Apache's 16 MB default is more than a kernel service "
           "needs)"),
    _limit("max_string", "limits.max_string", "Bytes in one string or binary", "4194304",
           "largest string or binary (raise it with `max_frame` for bigger strings)"),
    _limit("max_container", "limits.max_container", "Elements in one list, set or map", "1048576",
           "most elements in one list, set or map"),
    _limit("max_depth", "limits.max_depth", "Nesting of structs and containers (at most 64)",
           "64", "nesting of structs and containers"),
    _limit("arena_size", "limits.arena_size", "Bytes of decoded data per message", "1048576",
           "bytes of decoded data per message (allocated in chunks as the message needs them)"),
    _limit("rcvbuf_max", "rcvbuf_max", "Bytes buffered for reading per connection",
           "`max_frame` + 4", "most bytes buffered for reading per connection (one whole message)"),
    _limit("sndbuf_max", "sndbuf_max",
           "Bytes queued for sending per connection; more stops its reading", "1048576",
           "bytes queued for sending before the connection stops reading new requests"),
    _limit("max_reply", "max_reply", "Largest reply; a larger one closes the connection",
           "`max_frame` + 4", "largest reply; it waits in the send buffer for a slow reader; a "
           "larger one closes the connection (after a TApplicationException)"),
    _limit("mem_budget", "mem_budget", "Bytes of buffers and arenas for all connections together",
           "67108864 (64 MiB)", "bytes of connections, buffers and arenas for the whole module "
           "(see Limits)"),
    _limit("budget", "budget", "Messages served per connection per turn, for fairness", "64",
           "messages served per connection per turn, for fairness"),
    Param(name="wq_mode", kind="uint_zero", member="wq_mode", max="2", shown_default="0 (ordered)",
          help="Workqueue: 0 ordered (default), 1 unbound, 2 per-cpu", kernel_only=True,
          doc="`0` one event loop thread, handlers never concurrent (as Slick); "
              "`1` unbound, `2` per-CPU: connections served in parallel, handlers must lock "
              "shared state (user space: one event loop, accepted and ignored)"),
)


def readme_table() -> str:
    """The README's parameter table."""
    rows = ["| parameter | flag | default | meaning |", "| --- | --- | --- | --- |"]
    for p in PARAMS:
        meaning = p.doc or p.help
        if p.kind == "uint" and "0" not in p.shown_default.split()[:1]:
            meaning += " (0: the default)"
        rows.append(f"| `{p.name}` | `--{p.flag}` | {p.shown_default} | {meaning} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.stdout.write(readme_table())
