#!/usr/bin/env python3
"""Live-agent event streams under load: N customers follow their conversations
while agents write to all of them at once. Standard library only.

Started by scripts/streams.sh with the release binary. It starts the bot (demo
knowledge, real model, agents in the window) on a loopback port — with
--redis, sessions and events in a redis-server started on another port, and two
replicas: customers follow on one, agents write on the other — then:

  1. N sessions are handed to a person (one turn each) and claimed;
  2. N customer event streams are opened and held (one thread each);
  3. agents send M messages to every conversation, 8 senders at once;
     every stream must receive its M messages in order, none lost or doubled;
     delivery time = from the send's start to the line read by the customer;
  4. a tenth of the streams are dropped and reopened with Last-Event-ID while
     more messages are sent: they must get exactly what they missed.

Prints one table: streams held, messages, losses/reorders, delivery p50/p99,
resident memory of the bot before and with the streams open.
"""

import argparse
import http.client
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TOKEN = "streams-probe-agent"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_bot(binary, tmp, name, extra_env):
    port = free_port()
    env = dict(os.environ)
    env.update({
        "BIZBOT__DESK__LIVE_AGENTS": "true",
        "BIZBOT__DESK__AGENT_TOKEN": TOKEN,
        "BIZBOT__DESK__MAX_WAIT_SECS": "0",
        "BIZBOT__LOG__PATH": os.path.join(tmp, f"{name}.jsonl"),
        "BIZBOT__SERVER__MAX_CONNECTIONS_PER_ADDRESS": "4096",
    })
    env.update(extra_env)
    stderr = open(os.path.join(tmp, f"{name}.stderr"), "w")
    bot = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}"], env=env, stderr=stderr)
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return bot, port
        except OSError:
            if bot.poll() is not None:
                sys.exit(f"bizbot exited with {bot.returncode}; see {stderr.name}")
            time.sleep(0.1)
    sys.exit("bizbot did not come up in 60 s")


def call(port, method, path, body=None, token=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, (json.loads(data) if data else None)


def resident_bytes(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    found = re.search(r"^bizbot_process_resident_bytes (\d+)", text, re.M)
    return int(found.group(1)) if found else 0


class Follower(threading.Thread):
    """One customer's event stream: agent messages are put on `got` with the time read."""

    def __init__(self, port, session, last_id=None):
        super().__init__(daemon=True)
        self.port, self.session, self.last_id = port, session, last_id
        self.got = queue.Queue()
        self.opened = threading.Event()
        self.conn = None

    def run(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"last-event-id": self.last_id} if self.last_id else {}
        self.conn.request("GET", f"/v1/sessions/{self.session}/events", headers=headers)
        r = self.conn.getresponse()
        assert r.status == 200, r.status
        self.opened.set()
        event = {}
        try:
            while True:
                line = r.fp.readline()
                if not line:
                    return
                line = line.decode().rstrip("\n")
                if line.startswith("id:"):
                    event["id"] = line[3:].strip()
                elif line.startswith("data:"):
                    event["data"] = json.loads(line[5:].strip())
                elif line == "" and "data" in event:
                    data = event["data"]
                    if data.get("type") == "message" and data.get("from") == "agent":
                        self.got.put((time.perf_counter(), data["text"], event["id"]))
                    event = {}
        except (OSError, ValueError):
            return

    def drop(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def send_all(port, sessions, texts, senders=8):
    """Send each text to every session (per session in order), `senders` at once; the
    start time of each send."""
    started = {}
    work = queue.Queue()
    for s in sessions:
        work.put(s)
    errors = []

    def sender():
        while True:
            try:
                s = work.get_nowait()
            except queue.Empty:
                return
            for text in texts:
                started[(s, text)] = time.perf_counter()
                status, body = call(port, "POST", f"/v1/agent/sessions/{s}/messages", {"text": text}, TOKEN)
                if status != 200:
                    errors.append((s, status, body))

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return started, errors


def collect(follower, n, timeout=60):
    out = []
    deadline = time.time() + timeout
    while len(out) < n and time.time() < deadline:
        try:
            out.append(follower.got.get(timeout=max(0.01, deadline - time.time())))
        except queue.Empty:
            break
    return out


def pct(values, q):
    values = sorted(values)
    return values[max(0, int(len(values) * q + 0.999999) - 1)] if values else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--streams", type=int, default=100)
    ap.add_argument("--messages", type=int, default=20)
    ap.add_argument("--redis", action="store_true", help="two replicas sharing a redis-server")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bizbot-streams-")
    procs = []
    try:
        extra = {}
        if args.redis:
            server = shutil.which("redis-server") or sys.exit("redis-server missing: run scripts/setup-system.sh")
            rport = free_port()
            procs.append(subprocess.Popen([server, "--port", str(rport), "--save", "", "--appendonly", "no"],
                                          stdout=subprocess.DEVNULL))
            time.sleep(0.5)
            extra = {"BIZBOT__SESSION__STORE": "redis", "BIZBOT__SESSION__REDIS_URL": f"redis://127.0.0.1:{rport}/0",
                     "BIZBOT__SESSION__REDIS_PREFIX": "probe:"}
        bot, port = start_bot(args.bin, tmp, "a", extra)
        procs.append(bot)
        agent_port = port
        if args.redis:
            bot_b, agent_port = start_bot(args.bin, tmp, "b", extra)
            procs.append(bot_b)
        sessions = [f"stream-{i}" for i in range(args.streams)]
        for s in sessions:
            status, r = call(port, "POST", "/v1/chat", {"session_id": s, "text": "转人工"})
            assert status == 200 and r["owner"] == "queued", r
            status, r = call(agent_port, "POST", f"/v1/agent/sessions/{s}/claim", {"agent": "王芳"}, TOKEN)
            assert status == 200, r
        rss_before = resident_bytes(port)
        t0 = time.perf_counter()
        followers = {s: Follower(port, s) for s in sessions}
        for f in followers.values():
            f.start()
        for f in followers.values():
            assert f.opened.wait(30), "a stream did not open"
        opened_in = time.perf_counter() - t0
        rss_open = resident_bytes(port)

        texts = [f"m{i:03d}" for i in range(args.messages)]
        started, errors = send_all(agent_port, sessions, texts)
        lost = reordered = 0
        latencies = []
        for s, f in followers.items():
            got = collect(f, len(texts))
            seen = [t for _, t, _ in got]
            lost += len(texts) - len(seen)
            reordered += int(seen != texts[:len(seen)])
            latencies += [(at - started[(s, t)]) * 1000 for at, t, _ in got]
            f.last = got[-1][2] if got else None
        # Drop a tenth of the streams, send more, reopen after the last id seen.
        dropped = sessions[: max(1, args.streams // 10)]
        for s in dropped:
            followers[s].drop()
        more = [f"n{i:03d}" for i in range(5)]
        _, errors2 = send_all(agent_port, dropped, more)
        resumed_ok = 0
        for s in dropped:
            f = Follower(port, s, last_id=followers[s].last)
            f.start()
            f.opened.wait(30)
            got = [t for _, t, _ in collect(f, len(more), timeout=20)]
            time.sleep(0.2)
            extra_got = f.got.qsize()
            resumed_ok += int(got == more and extra_got == 0)
        store = "redis, 2 replicas" if args.redis else "memory, 1 replica"
        print(f"| event streams ({store}) | value |")
        print("|---|---|")
        print(f"| customer streams held open | {args.streams} (opened in {opened_in:.2f} s) |")
        print(f"| agent messages sent | {len(texts) * args.streams} ({len(errors) + len(errors2)} refused) |")
        print(f"| lost / out of order | {lost} / {reordered} streams |")
        print(f"| delivery p50 / p99 | {pct(latencies, 0.5):.1f} ms / {pct(latencies, 0.99):.1f} ms |")
        print(f"| dropped and resumed with Last-Event-ID, exactly what was missed | {resumed_ok} of {len(dropped)} |")
        print(f"| bot resident memory before / with streams | {rss_before / 2**20:.0f} MiB / {rss_open / 2**20:.0f} MiB |")
        ok = lost == 0 and reordered == 0 and not errors and not errors2 and resumed_ok == len(dropped)
        sys.exit(0 if ok else 1)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
