#!/usr/bin/env python3
"""Scrapers against one /metrics endpoint, for tools/scrape-bench.sh and the tests.

  scrape_load.py burst HOST:PORT N [--rounds R] [--gzip] [--pid PID] [--out DIR]
      N threads, each doing R sequential scrapes (HTTP/1.0, body read to EOF).
      Prints one JSON object: latencies (p50, p99, max, seconds), failures,
      distinct bodies (sha256), and with --pid the tracer's VmHWM and VmRSS
      (kB) sampled every 50 ms. --out writes each distinct body to DIR.
  scrape_load.py slow HOST:PORT N [--hold S]
      N connections that ask for /metrics and then read one byte per second
      (a 4 KiB receive buffer), for at most S seconds. Prints JSON: how many
      the server closed (TCP left ESTABLISHED: a FIN or a reset came), and
      after how long (max, seconds).
  scrape_load.py hold HOST:PORT N --until FILE
      N connections that send a request's headers one byte every 0.5 s (busy,
      never complete) until FILE exists. Prints "holding N" once connected.
"""
import argparse
import hashlib
import json
import os
import socket
import threading
import time


TCP_ESTABLISHED = 1


def rss(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def request(path, gzip):
    enc = "Accept-Encoding: gzip\r\n" if gzip else ""
    return f"GET {path} HTTP/1.0\r\nHost: x\r\n{enc}\r\n".encode()


def scrape(addr, gzip, keep):
    s = socket.create_connection(addr, timeout=60)
    try:
        s.sendall(request("/metrics", gzip))
        h = hashlib.sha256()
        chunks = [] if keep else None
        buf = b""
        head = None
        while True:
            d = s.recv(1 << 20)
            if not d:
                break
            if head is None:
                buf += d
                i = buf.find(b"\r\n\r\n")
                if i < 0:
                    continue
                head, d = buf[:i], buf[i + 4:]
            h.update(d)
            if keep:
                chunks.append(d)
        status = int(head.split(b" ", 2)[1]) if head else 0
        return status, h.hexdigest(), (b"".join(chunks) if keep else None)
    finally:
        s.close()


def pct(v, p):
    if not v:
        return None
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))]


def burst(a):
    host, port = a.addr.rsplit(":", 1)
    addr = (host, int(port))
    lat, fails, bodies = [], [], {}
    lock = threading.Lock()
    go = threading.Event()
    peak = {}
    done = threading.Event()

    def sampler():
        while not done.wait(0.05):
            for k, v in rss(a.pid).items():
                peak[k] = max(peak.get(k, 0), v)

    def worker():
        go.wait()
        for _ in range(a.rounds):
            t0 = time.monotonic()
            try:
                st, digest, body = scrape(addr, a.gzip, a.out is not None)
            except OSError as e:
                with lock:
                    fails.append(str(e))
                continue
            dt = time.monotonic() - t0
            with lock:
                if st != 200:
                    fails.append(f"status {st}")
                    continue
                lat.append(dt)
                if digest not in bodies:
                    bodies[digest] = 0
                    if a.out:
                        with open(os.path.join(a.out, digest[:16]), "wb") as f:
                            f.write(body)
                bodies[digest] += 1

    ts = [threading.Thread(target=worker) for _ in range(a.n)]
    for t in ts:
        t.start()
    if a.pid:
        st = threading.Thread(target=sampler)
        st.start()
    t0 = time.monotonic()
    go.set()
    for t in ts:
        t.join()
    wall = time.monotonic() - t0
    done.set()
    if a.pid:
        st.join()
    r = {"scrapes": len(lat), "failures": len(fails), "first_failure": fails[0] if fails else None,
         "p50": pct(lat, 50), "p99": pct(lat, 99), "max": max(lat) if lat else None,
         "wall": wall, "bodies": bodies}
    if a.pid:
        r["rss_peak_kb"] = peak.get("VmRSS")
        r["rss_now_kb"] = rss(a.pid).get("VmRSS")
    print(json.dumps(r))


def slow(a):
    host, port = a.addr.rsplit(":", 1)
    socks = []
    for _ in range(a.n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect((host, int(port)))
        s.sendall(request("/metrics", False))
        s.setblocking(False)
        socks.append(s)
    t0 = time.monotonic()
    closed = {}
    got = 0
    while len(closed) < len(socks) and time.monotonic() - t0 < a.hold:
        for i, s in enumerate(socks):
            if i in closed:
                continue
            # the server's FIN waits behind the bytes still unread: ask TCP
            if s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] != TCP_ESTABLISHED:
                closed[i] = time.monotonic() - t0
                continue
            try:
                got += len(s.recv(1))
            except BlockingIOError:
                pass
            except OSError:
                closed[i] = time.monotonic() - t0
        time.sleep(1)
    for s in socks:
        s.close()
    print(json.dumps({"connections": a.n, "closed_by_server": len(closed),
                      "max_closed_after": max(closed.values()) if closed else None,
                      "bytes_read": got}))


def hold(a):
    host, port = a.addr.rsplit(":", 1)
    socks = [socket.create_connection((host, int(port))) for _ in range(a.n)]
    for s in socks:
        s.sendall(b"GET /metrics HTTP/1.0\r\nX-Slow: ")
    print(f"holding {a.n}", flush=True)
    while not os.path.exists(a.until):
        for s in socks:
            s.sendall(b"x")
        time.sleep(0.5)
    for s in socks:
        s.close()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("burst")
    b.add_argument("addr")
    b.add_argument("n", type=int)
    b.add_argument("--rounds", type=int, default=1)
    b.add_argument("--gzip", action="store_true")
    b.add_argument("--pid", type=int, default=0)
    b.add_argument("--out")
    s = sub.add_parser("slow")
    s.add_argument("addr")
    s.add_argument("n", type=int)
    s.add_argument("--hold", type=float, default=60)
    h = sub.add_parser("hold")
    h.add_argument("addr")
    h.add_argument("n", type=int)
    h.add_argument("--until", required=True)
    a = p.parse_args()
    {"burst": burst, "slow": slow, "hold": hold}[a.cmd](a)


if __name__ == "__main__":
    main()
