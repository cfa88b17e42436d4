#!/usr/bin/env python3
"""Reliability probe: attacks on a running release bizbot, one table of results.

Started by scripts/reliability.sh with the release binary. Standard library only.
It starts a back-end whose every answer takes 5 s and the bot (demo knowledge, real
model) on loopback ports, with a 1 MiB turn-log cap and an 8 s shutdown deadline.
Steps, in order (the last one stops the bot):

  1. 20,000 idle sockets (two client processes), then a normal request must answer;
  2. 30 personal-data formats in text, user id, session id and channel: none may
     reach the turn log or the bot's stderr;
  3. 60 KB values in every string field: each must get a 4xx;
  4. thousands of long turns: every turn-log file stays under log.max_mb;
  5. 600 concurrent turns on one session whose back-end takes 5 s: other sessions'
     p99 stays under 50 ms; then SIGTERM: the bot exits within
     server.shutdown_grace_secs (+1 s).
"""

import argparse
import asyncio
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

GRACE_SECS = 8
LOG_MAX_MB = 1

ROWS = []


def row(check, figure, ok):
    ROWS.append((check, figure, "PASS" if ok else "FAIL"))
    print(f"  {check}: {figure} -> {'PASS' if ok else 'FAIL'}", flush=True)


async def post(port, path, body, raw=None, timeout=30):
    """POST JSON; returns (status, seconds)."""
    started = time.monotonic()
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        f"Connection: close\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode()
    writer.write(head + data)
    await writer.drain()
    response = await asyncio.wait_for(reader.read(), timeout)
    writer.close()
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/") else 0
    return status, time.monotonic() - started


def chat(port, session, text, **extra):
    return post(port, "/v1/chat", {"session_id": session, "text": text, **extra})


def idle_sockets(port, total):
    """Hold `total` idle sockets from two processes (each has its own fd limit)."""
    code = (
        "import socket,sys,time\n"
        "s=[]\n"
        "for i in range(int(sys.argv[1])):\n"
        "  try: s.append(socket.create_connection(('127.0.0.1',int(sys.argv[2])),timeout=5))\n"
        "  except OSError: break\n"
        "print(len(s),flush=True); time.sleep(float(sys.argv[3]))\n"
    )
    half = total // 2
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(half), str(port), "8"], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    opened = sum(int(p.stdout.readline() or 0) for p in procs)
    return procs, opened


PII = [
    "13812345678", "138 1234 5678", "138-1234-5678", "138.1234.5678", "+86 138 1234 5678",
    "+8613812345678", "86-13812345678", "１３８１２３４５６７８", "１３８ １２３４ ５６７８", "13８12345６78",
    "(+86)13812345678", "138　1234　5678", "110101199003071234", "11010119900307123X", "11010119900307123x",
    "110101 19900307 1234", "110101-19900307-123X", "１１０１０１１９９００３０７１２３４", "110101900307123",
    "6222021234567890", "6222 0212 3456 7890", "6222-0212-3456-7890", "６２２２０２１２３４５６７８９０",
    "6222021234567890123", "62220212345678901234", "622202123456789012345", "6222 0212 3456 7890 123",
    "6222.0212.3456.7890", "4000 1234 5678 9010", "15900001111",
]


def digits(s):
    table = {ord("０") + i: str(i) for i in range(10)}
    return re.sub(r"[^0-9Xx]", "", s.translate(table)).upper()


class SlowBackend(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(5)
        body = json.dumps({"status": "运输中", "item": "测试", "eta": "明天", "services": [], "monthly_fee": 0}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # the bot gave up waiting (its timeout): expected

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, tmp):
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowBackend)
    backend.daemon_threads = True
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{backend.server_address[1]}"
    port = free_port()
    env = dict(os.environ)
    env.update({
        "BIZBOT__BACKENDS__SHOP__BASE_URL": url,
        "BIZBOT__BACKENDS__CRM__BASE_URL": url,
        "BIZBOT__BACKENDS__SHOP__TIMEOUT_MS": "8000",
        "BIZBOT__LOG__PATH": os.path.join(tmp, "turns.jsonl"),
        "BIZBOT__LOG__MAX_MB": str(LOG_MAX_MB),
        "BIZBOT__LOG__KEEP": "3",
        "BIZBOT__SERVER__SHUTDOWN_GRACE_SECS": str(GRACE_SECS),
    })
    stderr = open(os.path.join(tmp, "bot.stderr"), "w")
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


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the release bizbot binary")
    ap.add_argument("--slow-order", default="123456789012")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bizbot-reliability-")
    bot, port = start(args.bin, tmp)
    a = argparse.Namespace(
        log=os.path.join(tmp, "turns.jsonl"),
        stderr=os.path.join(tmp, "bot.stderr"),
        max_mb=LOG_MAX_MB,
        grace=GRACE_SECS,
        slow_order=args.slow_order,
    )
    try:
        return await attacks(bot, port, a)
    finally:
        if bot.poll() is None:
            bot.kill()


async def attacks(bot, port, a):
    print("1. 20,000 idle sockets")
    procs, opened = idle_sockets(port, 20000)
    status, secs = await chat(port, "probe-idle", "WIFI免费吗")
    row("20,000 idle sockets", f"{opened} open; a normal turn: HTTP {status} in {secs * 1000:.0f} ms", status == 200)
    for p in procs:
        p.kill()

    print("2. personal data in every logged field")
    for i, v in enumerate(PII):
        await chat(port, f"pii-{v}", f"我的号码是{v}，帮我查下", channel=f"sms:{v}", user={"id": v})
        await chat(port, f"pii-plain-{i}", f"卡号{v}")
    await asyncio.sleep(0.5)
    log_digits = digits(open(a.log, encoding="utf-8").read())
    err_digits = digits(open(a.stderr, encoding="utf-8", errors="replace").read())
    leaked = [v for v in PII if digits(v) in log_digits or digits(v) in err_digits]
    row("30 personal-data formats", f"{len(leaked)} of {len(PII)} reach the log or stderr {leaked[:3]}", not leaked)

    print("3. 60 KB fields")
    big = "长" * 20000  # 60 KB of UTF-8
    cases = {
        "text": {"session_id": "f", "text": big},
        "session_id": {"session_id": big, "text": "退货"},
        "channel": {"session_id": "f", "text": "退货", "channel": big},
        "user.id": {"session_id": "f", "text": "退货", "user": {"id": big}},
        "user.tags": {"session_id": "f", "text": "退货", "user": {"tags": [big]}},
        "user.profile": {"session_id": "f", "text": "退货", "user": {"profile": {"name": big}}},
    }
    statuses = {}
    for field, body in cases.items():
        statuses[field], _ = await post(port, "/v1/chat", body)
    fb, _ = await post(port, "/v1/feedback", {"session_id": big, "turn": 1, "helpful": True})
    statuses["feedback.session_id"] = fb
    ok = all(400 <= s < 500 for s in statuses.values())
    row("60 KB in each string field", " ".join(f"{k}={v}" for k, v in statuses.items()), ok)

    print("4. the turn log under its size cap")
    long_text = "我想问一下" + "为什么我的宽带总是断线" * 40
    sem = asyncio.Semaphore(16)

    async def one(i):
        async with sem:
            await chat(port, f"log-{i % 50}", long_text[:480])

    await asyncio.gather(*(one(i) for i in range(6000)))
    folder = os.path.dirname(a.log) or "."
    base = os.path.basename(a.log)
    files = sorted(f for f in os.listdir(folder) if f == base or f.startswith(base + "."))
    sizes = [os.path.getsize(os.path.join(folder, f)) for f in files]
    cap = a.max_mb * (1 << 20)
    row("turn log size cap", f"{len(files)} files, largest {max(sizes) / 1024:.0f} KiB, cap {cap / 1024:.0f} KiB",
        max(sizes) <= cap)

    print("5. same-session flood with a 5 s back-end, then SIGTERM")
    await chat(port, "flood", "我的订单到哪了")
    slow = asyncio.create_task(chat(port, "flood", a.slow_order, timeout=60))
    await asyncio.sleep(0.3)
    flood = [asyncio.create_task(chat(port, "flood", f"第{i}条：订单呢", timeout=60)) for i in range(600)]
    lat = []
    for i in range(200):
        status, secs = await chat(port, f"other-{i}", "WIFI免费吗")
        lat.append(secs * 1000 if status == 200 else float("inf"))
    flood_status = [status for status, _ in await asyncio.gather(*flood)]
    lat.sort()
    p99 = lat[int(len(lat) * 0.99) - 1]
    counts = {s: flood_status.count(s) for s in set(flood_status)}
    row("same-session flood: other sessions", f"p50 {lat[len(lat) // 2]:.1f} ms, p99 {p99:.1f} ms; flood {counts}",
        p99 < 50)
    # SIGTERM while the slow turn still waits on the back-end.
    if slow.done():
        await chat(port, "flood2", "我的订单到哪了")
        slow = asyncio.create_task(chat(port, "flood2", a.slow_order, timeout=60))
        await asyncio.sleep(0.3)
    half = socket.create_connection(("127.0.0.1", port))
    half.sendall(b"POST /v1/chat HTTP/1.1\r\nHost: bot\r\n")
    started = time.monotonic()
    bot.send_signal(signal.SIGTERM)
    while bot.poll() is None and time.monotonic() - started < a.grace + 30:
        await asyncio.sleep(0.05)
    exited = time.monotonic() - started
    slow_status = (await slow)[0] if slow.done() or exited < 60 else None
    row("SIGTERM under flood", f"exited in {exited:.1f} s (deadline {a.grace:.0f} s); slow turn HTTP {slow_status}",
        exited <= a.grace + 1)

    print()
    print(f"| {'attack':<36} | {'measured':<70} | result |")
    print(f"|{'-' * 38}|{'-' * 72}|--------|")
    for check, figure, result in ROWS:
        print(f"| {check:<36} | {figure:<70} | {result:<6} |")
    return 0 if all(r[2] == "PASS" for r in ROWS) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
