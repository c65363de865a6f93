# SPDX-License-Identifier: GPL-2.0
"""A backend sink for the forwarder (standard library only, so 20 of them start fast):

    python -m clients.sink --transport framed|buffered --out FILE [--port P]

Prints "port N" once listening, then appends one JSON line per whole Thrift message
received to FILE ({"name", "type", "key", "cid", "seq", "len"}: key is argument 1,
cid and seq come from the payload "cid:seq:..."), until SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import selectors
import signal
import socket
import sys
from pathlib import Path

from .wire import split_messages


def sink_main(transport: str, out: Path, port: int = 0, ready=None) -> int:
    """Accept connections, parse whole messages, append one JSON line per message to
    `out` ({"key", "cid", "seq", "len", "name"}), until SIGTERM.  The port goes to
    stdout ("port N") or, with `ready`, through that multiprocessing pipe."""
    framed = transport == "framed"
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(64)
    lsock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ, None)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    if ready is not None:
        ready.send(lsock.getsockname()[1])     # a multiprocessing pipe
        ready.close()
    else:
        print(f"port {lsock.getsockname()[1]}", flush=True)
    with open(out, "a", buffering=1) as f:
        while not stop:
            for key, _ in sel.select(timeout=0.2):
                if key.data is None:
                    try:
                        c, _ = lsock.accept()
                    except BlockingIOError:
                        continue
                    c.setblocking(False)
                    sel.register(c, selectors.EVENT_READ, bytearray())
                    continue
                buf = key.data
                try:
                    chunk = key.fileobj.recv(1 << 16)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionError:
                    chunk = b""
                if not chunk:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
                    if buf:
                        f.write(json.dumps({"error": f"{len(buf)} bytes left at close"}) + "\n")
                    continue
                buf += chunk
                try:
                    msgs, used = split_messages(buf, framed)
                except ValueError as e:
                    f.write(json.dumps({"error": f"bad message: {e}"}) + "\n")
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
                    continue
                del buf[:used]
                lines = []
                for (name, mtype, seqid, args), nbytes in msgs:
                    payload = args.get(2, b"")
                    parts = payload.split(b":", 2)
                    rec = {"name": name, "type": mtype, "key": args.get(1), "len": nbytes}
                    try:
                        rec["cid"], rec["seq"] = int(parts[0]), int(parts[1])
                    except (ValueError, IndexError):
                        rec["payload"] = payload[:64].decode("latin-1")
                    lines.append(json.dumps(rec))
                if lines:
                    f.write("\n".join(lines) + "\n")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="clients.sink")
    ap.add_argument("--transport", default="framed")
    ap.add_argument("--out", required=True)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args(argv)
    return sink_main(a.transport, Path(a.out), a.port)


if __name__ == "__main__":
    sys.exit(main())
