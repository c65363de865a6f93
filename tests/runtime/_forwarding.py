"""The forwarder tests' clients, backend sinks and delivery check, shared by
tests/runtime/test_user_forwarder.py, test_user_inplace.py and the VM drivers
(tests/vm/runtime_kernel_driver.py, inplace_driver.py).  No pytest here: the drivers run
in the guest, where every imported module costs seconds (tests/runtime/conftest.py has
pytest rewrite its asserts on the host)."""

import multiprocessing
import random
import selectors
import socket
import struct
import threading
import time

from _testsvc import STOP, T_ONEWAY, field_i32, field_string, framed, message, parse_header

NBACKENDS = 20
NCLIENTS = 8


def msg_bytes(key, client, seq, pad):
    payload = b"%d:%d:" % (client, seq) + pad
    return message("msg", T_ONEWAY, seq, field_i32(1, key) + field_string(2, payload) + STOP)


def parse_msg(m):
    name, mtype, seqid, off = parse_header(m)
    assert (name, mtype) == ("msg", T_ONEWAY)
    ftype, fid, key = struct.unpack_from(">bhi", m, off)
    assert (ftype, fid) == (8, 1)
    ftype, fid, n = struct.unpack_from(">bhI", m, off + 7)
    assert (ftype, fid) == (11, 2)
    payload = m[off + 14: off + 14 + n]
    assert m[off + 14 + n:] == STOP
    client, seq, _ = payload.split(b":", 2)
    return key, int(client), int(seq), seqid


class Sinks:
    """NBACKENDS listening sockets served by one selector thread; records
    each framed message as (backend, raw bytes) in arrival order."""

    def __init__(self, n, stall=0.0, addr="127.0.0.1"):
        self.sel = selectors.DefaultSelector()
        self.listeners = []
        self.received = [[] for _ in range(n)]
        self.count = 0
        self.stall_until = time.monotonic() + stall
        self.stop = threading.Event()
        for i in range(n):
            ls = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
            ls.bind((addr, 0))
            ls.listen(16)
            ls.setblocking(False)
            self.sel.register(ls, selectors.EVENT_READ, ("listen", i))
            self.listeners.append(ls)
        self.ports = [ls.getsockname()[1] for ls in self.listeners]
        self.addr = addr
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def release(self):
        """End the stall now: the sinks start reading."""
        self.stall_until = 0.0

    def run(self):
        bufs = {}
        while not self.stop.is_set():
            if time.monotonic() < self.stall_until:
                time.sleep(0.01)     # a slow backend: the forwarder must hold back
                continue
            for key, _ in self.sel.select(0.05):
                kind, i = key.data
                if kind == "listen":
                    c, _ = key.fileobj.accept()
                    c.setblocking(False)
                    bufs[c] = bytearray()
                    self.sel.register(c, selectors.EVENT_READ, ("conn", i))
                    continue
                try:
                    data = key.fileobj.recv(1 << 20)
                except BlockingIOError:
                    continue
                if not data:
                    self.sel.unregister(key.fileobj)
                    key.fileobj.close()
                    continue
                buf = bufs[key.fileobj]
                buf += data
                while len(buf) >= 4:
                    (n,) = struct.unpack_from(">I", buf)
                    if len(buf) < 4 + n:
                        break
                    self.received[i].append(bytes(buf[4:4 + n]))
                    del buf[:4 + n]
                    self.count += 1

    def wait_for(self, total, timeout=90):
        deadline = time.monotonic() + timeout
        while self.count < total and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.count

    def close(self):
        self.stop.set()
        self.thread.join(10)
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        self.sel.close()

    def backends_arg(self):
        host = f"[{self.addr}]" if ":" in self.addr else self.addr
        return ",".join(f"{host}:{p}" for p in self.ports)


def client_messages(rnd, count, client):
    """The messages client `client` sends, drawn from rnd (expected_messages() redraws them)."""
    out = []
    for seq in range(count):
        key = rnd.randrange(1000) - 200          # negative keys too
        out.append(msg_bytes(key, client, seq, rnd.randbytes(rnd.choice([0, 10, 300, 5000]))))
    return out


def client_process(port, client, count, seed, chunked):
    rnd = random.Random(seed)
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    wire = b"".join(framed(m) for m in client_messages(rnd, count, client))
    if chunked:
        step = 0
        while step < len(wire):
            n = rnd.randint(1, 3000)
            s.sendall(wire[step:step + n])
            step += n
    else:
        s.sendall(wire)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)       # wait for the forwarder to close after serving everything
    s.close()


def forward_from_clients(srv, sinks, per_client, seeds, chunked):
    """NCLIENTS client processes send per_client messages each (client_process); waits
    until the sinks have them all and nothing more arrives. Returns the total."""
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=client_process,
                         args=(srv.port, c, per_client, seeds[c], chunked))
             for c in range(NCLIENTS)]
    for p in procs:
        p.start()
    total = NCLIENTS * per_client
    assert sinks.wait_for(total) == total
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    time.sleep(0.2)     # nothing more may arrive
    assert sinks.count == total
    return total


def expected_messages(count, seed, client):
    return client_messages(random.Random(seed), count, client)


def check_delivery(sinks, per_client, seeds):
    seen = {}
    for backend, msgs in enumerate(sinks.received):
        last = {}
        for raw in msgs:
            key, client, seq, seqid = parse_msg(raw)
            assert seqid == seq
            assert abs(key) % NBACKENDS == backend, (key, backend)
            assert (client, seq) not in seen, "delivered twice"
            seen[(client, seq)] = raw
            # In order per client and key (hence per client and backend).
            assert last.get(client, -1) < seq
            last[client] = seq
    for client, seed in enumerate(seeds):
        for seq, want in enumerate(expected_messages(per_client, seed, client)):
            assert seen.get((client, seq)) == want, f"client {client} message {seq} lost or altered"
