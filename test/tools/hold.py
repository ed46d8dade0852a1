#!/usr/bin/env python3
"""hold.py: holds connections to a server open in one of several ways,
for the pool tests, until killed (or for at most --max seconds).

  hold.py PORT MODE N READY [--path P] [--max S]

MODE
  keepalive  each connection sends one GET, reads the whole response, and
             then stays idle; a connection the server closes is counted
  half       each connection sends half a request head and stalls
  pipehalf   each connection sends a whole GET and, pipelined behind it,
             half a second head, reads the first response, and stalls
  slowread   each connection GETs P with a small receive buffer and reads
             it 1 KiB at a time, 10 times a second
READY is created once every connection is set up (keepalive: answered).
On SIGTERM, prints one line per fact:
  answered=N   responses read completely (keepalive, pipehalf)
  closed=N     connections the server closed with no response pending
  bad=N        responses that were not 200, or cut short
  timeouts=N   408 responses received (half, pipehalf)
"""
import os, select, signal, socket, sys, time

port, mode, n, ready = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), \
    sys.argv[4]
path, limit = "/", 60.0
args = sys.argv[5:]
while args:
    if args[0] == "--path":
        path = args[1]
    elif args[0] == "--max":
        limit = float(args[1])
    args = args[2:]

stats = {"answered": 0, "closed": 0, "bad": 0, "timeouts": 0}
stop = False

def on_term(sig, frame):
    global stop
    stop = True

signal.signal(signal.SIGTERM, on_term)

def report():
    for k in ("answered", "closed", "bad", "timeouts"):
        print("%s=%d" % (k, stats[k]))
    sys.stdout.flush()

def connect(rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    return s

def read_response(s, deadline):
    """One whole response (Content-Length framed), or None if the
    connection ended first. Returns the status code."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        left = deadline - time.time()
        if left <= 0 or stop:
            return None
        r, _, _ = select.select([s], [], [], min(left, 0.2))
        if not r:
            continue
        b = s.recv(65536)
        if not b:
            return None
        buf += b
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for l in lines[1:]:
        k, v = l.split(":", 1)
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    while len(body) < length:
        left = deadline - time.time()
        if left <= 0 or stop:
            return None
        r, _, _ = select.select([s], [], [], min(left, 0.2))
        if not r:
            continue
        b = s.recv(65536)
        if not b:
            return None
        body += b
    return status

def watch(socks, on_bytes):
    """Until stopped: hands what each connection receives (b"" when the
    server closed it) to on_bytes, which says whether it is done."""
    live = list(socks)
    while live and not stop and time.time() < end:
        r, _, _ = select.select(live, [], [], 0.2)
        for s in r:
            try:
                b = s.recv(65536)
            except OSError:
                b = b""
            if on_bytes(b):
                live.remove(s)

def on_idle_bytes(b):
    """keepalive: an idle connection should receive nothing."""
    if not b:
        stats["closed"] += 1
        return True
    stats["bad"] += 1
    return False

def on_half_bytes(b):
    """half: only a 408 (or a plain close) may end a stalled head."""
    if b.startswith(b"HTTP/1.1 408"):
        stats["timeouts"] += 1
        return True
    if b:
        stats["bad"] += 1
    return not b

end = time.time() + limit
socks = []
if mode == "keepalive":
    req = ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode()
    for i in range(n):
        s = connect()
        s.sendall(req)
        socks.append(s)
    for s in socks:
        st = read_response(s, end)
        if st == 200:
            stats["answered"] += 1
        else:
            stats["bad"] += 1
    open(ready, "w").close()
    watch(socks, on_idle_bytes)
elif mode == "half":
    for i in range(n):
        s = connect()
        s.sendall(b"GET / HTTP/1.1\r\nHo")
        socks.append(s)
    open(ready, "w").close()
    watch(socks, on_half_bytes)
elif mode == "pipehalf":
    req = ("GET %s HTTP/1.1\r\nHost: x\r\n\r\nGET %s HTTP/1.1\r\nHo" %
           (path, path)).encode()
    for i in range(n):
        s = connect()
        s.sendall(req)
        socks.append(s)
    for s in socks:
        if read_response(s, end) == 200:
            stats["answered"] += 1
        else:
            stats["bad"] += 1
    open(ready, "w").close()
    watch(socks, on_half_bytes)
elif mode == "slowread":
    req = ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode()
    for i in range(n):
        s = connect(rcvbuf=4096)
        s.sendall(req)
        socks.append(s)
    # Wait until each has its first bytes: its worker is sending.
    for s in socks:
        r, _, _ = select.select([s], [], [], max(0, end - time.time()))
        if r:
            s.recv(1024)
    open(ready, "w").close()
    while not stop and time.time() < end:
        for s in socks:
            try:
                s.recv(1024, socket.MSG_DONTWAIT)
            except OSError:
                pass
        time.sleep(0.1)
else:
    sys.exit("hold.py: unknown mode " + mode)
while not stop and time.time() < end:
    time.sleep(0.1)
report()
