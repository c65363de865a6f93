"""Run in the VM guest (or anywhere): thriftpy2 clients of every protocol and transport at once.

    python protocol_auto_client.py PORT CALLS

Six clients (strict binary, old binary, compact; framed and buffered), each on its own thread
and connection, all connected before any call, against one forwarder server loaded with
transport=auto (protocol auto, the default): CALLS rounds each of a oneway msg (dropped, no
backends) and a stats() call, whose reply the client must decode in its own protocol. Prints
"OK <clients> <calls>" at the end, or the errors and exits 1.
"""

import sys
import threading
from pathlib import Path

import thriftpy2
from thriftpy2.protocol import TBinaryProtocolFactory, TCompactProtocolFactory
from thriftpy2.rpc import make_client
from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

REPO = Path(__file__).resolve().parents[2]
fw = thriftpy2.load(str(REPO / "idl" / "forwarder.thrift"), module_name="forwarder_thrift")

PROTOCOLS = {
    "binary": lambda: TBinaryProtocolFactory(),
    "binary-old": lambda: TBinaryProtocolFactory(strict_read=False, strict_write=False),
    "compact": lambda: TCompactProtocolFactory(),
}
TRANSPORTS = {"framed": TFramedTransportFactory, "buffered": TBufferedTransportFactory}


def main():
    port, calls = int(sys.argv[1]), int(sys.argv[2])
    combos = [(p, t) for p in PROTOCOLS for t in TRANSPORTS]
    clients = [make_client(fw.Forwarder, "127.0.0.1", port, proto_factory=PROTOCOLS[p](),
                           trans_factory=TRANSPORTS[t](), timeout=60000) for p, t in combos]
    errors, barrier = [], threading.Barrier(len(clients))

    def work(c, name):
        try:
            barrier.wait(60)
            for i in range(calls):
                c.msg(i, f"{name} {i}")
                st = c.stats()
                assert st.backends == 0 and st.dropped >= i + 1, st
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"{name}: {e!r}")

    threads = [threading.Thread(target=work, args=(c, f"{p}/{t}"))
               for c, (p, t) in zip(clients, combos)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    if not errors:
        dropped = clients[0].stats().dropped
        if dropped != len(combos) * calls:
            errors.append(f"dropped {dropped}, expected {len(combos) * calls}")
    for c in clients:
        c.close()
    if errors:
        print("ERRORS", errors)
        sys.exit(1)
    print(f"OK {len(clients)} {calls}")


if __name__ == "__main__":
    main()
