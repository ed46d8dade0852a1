#!/usr/bin/env python3
"""hostile.py: clients that misbehave, for test/hostile.bats and
scripts/torture. Each pattern opens COUNT connections (CONCURRENCY at a
time), misbehaves in its own way and records how each connection ended:

  answered  an HTTP status line came back
  closed    the server ended the connection (EOF or reset)
  open      the connection was still open when the client gave up
            (after WAIT seconds): the server sat on it past its deadlines

Prints one line, "pattern=P connections=N answered=A closed=C open=O
errors=E", and exits 0 when no connection was left open, 1 otherwise,
2 on a usage error. Every wait is bounded by WAIT seconds.

Patterns:
  flood      connect COUNT sockets at once, then close them all at once,
             half with a FIN and half with a reset; a socket that
             connected counts as closed, one that did not as an error
  reset      request PATH, read the head and a little of the body, then
             close with a reset (SO_LINGER 0) while the server still sends
  random     send 1-4096 random bytes, half of them followed by an empty
             line, half-close and read until the server closes
  trickle    send two keep-alive requests one byte per write, then one with
             Connection: close, and read the three answers
  halfclose  send a partial head (or a whole request) and half-close
  slowloris  send a request line, then one header byte every 0.5 s
             until the server gives up (needs a short header_timeout)
  stall      request PATH and never read (needs a small send_timeout)
"""
import argparse
import os
import random
import socket
import struct
import sys
import threading
import time


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = {"answered": 0, "closed": 0, "open": 0, "errors": 0}

    def add(self, key):
        with self.lock:
            self.n[key] += 1


def connect(args):
    fam = socket.AF_INET6 if args.ipv6 else socket.AF_INET
    host = "::1" if args.ipv6 else "127.0.0.1"
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(args.wait)
    s.connect((host, args.port))
    return s


def read_until_closed(s, deadline):
    """Reads until EOF or reset; returns (data, True) then, or
    (data, False) if the connection is still open at the deadline."""
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, False
        s.settimeout(left)
        try:
            b = s.recv(65536)
        except socket.timeout:
            return data, False
        except (ConnectionResetError, BrokenPipeError):
            return data, True
        if not b:
            return data, True
        if len(data) < 65536:
            data += b


def finish(s, counts, deadline):
    data, closed = read_until_closed(s, deadline)
    s.close()
    if not closed:
        counts.add("open")
    elif data.startswith(b"HTTP/1."):
        counts.add("answered")
    else:
        counts.add("closed")


def reset_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def one_reset(args, counts, i):
    s = connect(args)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: h\r\n\r\n" % args.path.encode())
    s.settimeout(args.wait)
    got = b""
    try:
        while len(got) < 4096:
            b = s.recv(4096)
            if not b:
                break
            got += b
    except socket.timeout:
        s.close()
        counts.add("open")
        return
    except ConnectionResetError:
        pass
    reset_close(s)
    counts.add("answered" if got.startswith(b"HTTP/1.") else "closed")


def one_random(args, counts, i):
    rnd = random.Random(args.seed + i)
    s = connect(args)
    junk = rnd.randbytes(rnd.randint(1, 4096))
    if i % 2:
        junk += b"\r\n\r\n"
    try:
        s.sendall(junk)
        s.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        pass
    finish(s, counts, time.monotonic() + args.wait)


def one_trickle(args, counts, i):
    s = connect(args)
    req = b"GET %s HTTP/1.1\r\nHost: h\r\n\r\n" % args.path.encode()
    last = b"GET %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n" % \
        args.path.encode()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        for b in req + req + last:
            s.send(bytes([b]))
    except (BrokenPipeError, ConnectionResetError):
        pass
    deadline = time.monotonic() + args.wait
    data, closed = read_until_closed(s, deadline)
    s.close()
    if not closed:
        counts.add("open")
    elif data.count(b"HTTP/1.1 200 ") == 3:
        counts.add("answered")
    else:
        counts.add("closed")


def one_halfclose(args, counts, i):
    s = connect(args)
    head = b"GET %s HTTP/1.1\r\nHost: h\r\n\r\n" % args.path.encode()
    cut = [len(head), 5, len(head) - 2, 1][i % 4]
    s.sendall(head[:cut])
    s.shutdown(socket.SHUT_WR)
    finish(s, counts, time.monotonic() + args.wait)


def one_slowloris(args, counts, i):
    s = connect(args)
    deadline = time.monotonic() + args.wait
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n")
        while time.monotonic() < deadline:
            s.send(b"X")
            s.settimeout(0.5)
            try:
                s.recv(1, socket.MSG_PEEK)
                break   # an answer (408), EOF or a reset: see below
            except socket.timeout:
                pass
    except (BrokenPipeError, ConnectionResetError):
        pass
    finish(s, counts, deadline)


def one_stall(args, counts, i):
    fam = socket.AF_INET6 if args.ipv6 else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(args.wait)
    s.connect(("::1" if args.ipv6 else "127.0.0.1", args.port))
    s.sendall(b"GET %s HTTP/1.1\r\nHost: h\r\n\r\n" % args.path.encode())
    time.sleep(args.wait)
    finish(s, counts, time.monotonic() + args.wait)


def flood(args, counts):
    fam = socket.AF_INET6 if args.ipv6 else socket.AF_INET
    host = "::1" if args.ipv6 else "127.0.0.1"
    socks = []
    for _ in range(args.count):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((host, args.port))
        socks.append(s)
    # Connected once writable; give the kernel at most WAIT seconds.
    import selectors
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_WRITE)
    pending = len(socks)
    deadline = time.monotonic() + args.wait
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(deadline - time.monotonic()):
            sel.unregister(key.fileobj)
            pending -= 1
    sel.close()
    for i, s in enumerate(socks):
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        counts.add("closed" if err == 0 else "errors")
        if i % 2:
            reset_close(s)
        else:
            s.close()


PATTERNS = {
    "reset": one_reset,
    "random": one_random,
    "trickle": one_trickle,
    "halfclose": one_halfclose,
    "slowloris": one_slowloris,
    "stall": one_stall,
}


def main():
    ap = argparse.ArgumentParser(description="misbehaving HTTP clients")
    ap.add_argument("pattern", choices=sorted(list(PATTERNS) + ["flood"]))
    ap.add_argument("-p", "--port", type=int, required=True)
    ap.add_argument("-6", dest="ipv6", action="store_true")
    ap.add_argument("-n", "--count", type=int, default=100)
    ap.add_argument("-c", "--concurrency", type=int, default=10)
    ap.add_argument("-u", "--path", default="/")
    ap.add_argument("-w", "--wait", type=float, default=10.0)
    ap.add_argument("-s", "--seed", type=int, default=1)
    args = ap.parse_args()
    if not (1 <= args.count <= 20000 and 1 <= args.concurrency <= 1000 and
            0 < args.wait <= 120):
        ap.error("count 1..20000, concurrency 1..1000, wait 0..120 s")
    counts = Counts()
    if args.pattern == "flood":
        flood(args, counts)
    else:
        fn = PATTERNS[args.pattern]
        todo = list(range(args.count))
        lock = threading.Lock()

        def run():
            while True:
                with lock:
                    if not todo:
                        return
                    i = todo.pop(0)
                try:
                    fn(args, counts, i)
                except OSError:
                    counts.add("errors")

        threads = [threading.Thread(target=run)
                   for _ in range(min(args.concurrency, args.count))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    n = counts.n
    print("pattern=%s connections=%d answered=%d closed=%d open=%d "
          "errors=%d" % (args.pattern, args.count, n["answered"],
                         n["closed"], n["open"], n["errors"]))
    sys.exit(1 if n["open"] else 0)


if __name__ == "__main__":
    main()
