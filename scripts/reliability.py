#!/usr/bin/env python3
"""Reliability probe: attacks on a running release bizbot, one table of results.

Started by scripts/reliability.sh with the release binary. Standard library only.
It starts a back-end whose every answer takes 5 s and the bot (demo knowledge, real
model, identity required with a secret this probe signs tokens with, an agent desk
that never answers so hand-offs become dead letters) on loopback ports, with a 1 MiB
turn-log cap and an 8 s shutdown deadline. Attacks come from 127.0.0.2 (one
address); the customers measured during them from 127.0.0.1. Steps, in order (the
last one stops the bot):

  1. 20,000 idle sockets from one address: other customers' turns measured during;
  2. slow bodies (a byte every 2 s) on 600 connections from one address: other
     customers' turns measured during, no 503;
  3. 600 sessions from one address asking for their services while the CRM takes
     5 s: other customers' turns measured during, no 503;
  4. identity: a claimed user.id, a forged, an expired and another customer's token
     ask for services and an order: no customer data in any reply;
  5. personal data in text, user id, session id, channel and tags (mobiles, ID and
     card numbers as typed, e-mail, landlines, names, addresses, QQ, WeChat, plates,
     passports, IPs, birthdays): none may reach the turn log, the dead letters or
     stderr;
  6. 60 KB values in every string field: each must get a 4xx;
  7. thousands of long turns: every turn-log file stays under log.max_mb;
  8. 20,000 new sessions: resident memory grows by no more than the session
     budget (session.max_memory_mb) + 10 %;
  9. 600 concurrent turns on one session whose back-end takes 5 s: other sessions'
     p99 stays under 50 ms; then SIGTERM: the bot exits within
     server.shutdown_grace_secs (+1 s).
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
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
SESSION_BUDGET_MB = 16
SECRET = "reliability-probe-secret-0123456789"
ATTACKER = "127.0.0.2"

ROWS = []


def row(check, figure, ok):
    ROWS.append((check, figure, "PASS" if ok else "FAIL"))
    print(f"  {check}: {figure} -> {'PASS' if ok else 'FAIL'}", flush=True)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(sub, secret=SECRET, exp_in=3600):
    """An HS256 JWT, as the company's site would issue one."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"sub": sub, "exp": int(time.time()) + exp_in}).encode())
    signed = f"{header}.{claims}".encode()
    return f"{header}.{claims}.{b64(hmac.new(secret.encode(), signed, hashlib.sha256).digest())}"


async def connect(port, source=None, timeout=30):
    kwargs = {"local_addr": (source, 0)} if source else {}
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, **kwargs), timeout)


async def post(port, path, body, raw=None, timeout=30, source=None, full=False):
    """POST JSON; returns (status, seconds) or, with full, (status, seconds, body text)."""
    started = time.monotonic()
    try:
        reader, writer = await connect(port, source, timeout)
        data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
            f"Connection: close\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode()
        writer.write(head + data)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), timeout)
        writer.close()
    except (OSError, asyncio.TimeoutError):
        response = b""
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/") else 0
    if full:
        return status, time.monotonic() - started, response.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")
    return status, time.monotonic() - started


def chat(port, session, text, **extra):
    return post(port, "/v1/chat", {"session_id": session, "text": text, **extra})


async def customers_during(port, seconds, prefix):
    """Other customers' turns, one after another for `seconds`: (p50 ms, p99 ms, statuses)."""
    lat, statuses = [], {}
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        status, secs = await chat(port, f"{prefix}-{i}", "WIFI免费吗")
        statuses[status] = statuses.get(status, 0) + 1
        lat.append(secs * 1000 if status == 200 else float("inf"))
        i += 1
        await asyncio.sleep(0.02)
    lat.sort()
    return lat[len(lat) // 2], lat[max(0, int(len(lat) * 0.99) - 1)], statuses


def latency_row(check, attack, p50, p99, statuses):
    ok = p99 < 50 and set(statuses) == {200}
    row(check, f"{attack}; others: {sum(statuses.values())} turns p50 {p50:.1f} ms p99 {p99:.1f} ms {statuses}", ok)


def idle_sockets(port, total):
    """Hold `total` idle sockets from ATTACKER, in two processes (each has its own fd limit)."""
    code = (
        "import socket,sys,time\n"
        "s=[]\n"
        "for i in range(int(sys.argv[1])):\n"
        "  try:\n"
        "    c=socket.socket(); c.settimeout(5); c.bind((sys.argv[4],0)); c.connect(('127.0.0.1',int(sys.argv[2]))); s.append(c)\n"
        "  except OSError: pass\n"
        "print(len(s),flush=True); time.sleep(float(sys.argv[3]))\n"
    )
    half = total // 2
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(half), str(port), "12", ATTACKER],
                         stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    opened = sum(int(p.stdout.readline() or 0) for p in procs)
    return procs, opened


async def slow_body(port, drip_secs, out):
    """One request whose body comes a byte every `drip_secs`; records how it ended."""
    try:
        reader, writer = await connect(port, ATTACKER, 10)
        writer.write(b"POST /v1/chat HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100000\r\n\r\n")
        await writer.drain()
        for _ in range(60):
            writer.write(b" ")
            await writer.drain()
            try:
                first = await asyncio.wait_for(reader.read(64), drip_secs)
                out.append(first.split(b" ")[1].decode() if first.startswith(b"HTTP/") else "closed")
                writer.close()
                return
            except asyncio.TimeoutError:
                pass
        out.append("never cut")
    except (OSError, asyncio.TimeoutError, IndexError):
        out.append("refused")


PII = [
    "13812345678", "138 1234 5678", "138-1234-5678", "138.1234.5678", "+86 138 1234 5678",
    "+8613812345678", "86-13812345678", "１３８１２３４５６７８", "１３８ １２３４ ５６７８", "13８12345６78",
    "(+86)13812345678", "138　1234　5678", "110101199003071234", "11010119900307123X", "11010119900307123x",
    "110101 19900307 1234", "110101-19900307-123X", "１１０１０１１９９００３０７１２３４", "110101900307123",
    "6222021234567890", "6222 0212 3456 7890", "6222-0212-3456-7890", "６２２２０２１２３４５６７８９０",
    "6222021234567890123", "62220212345678901234", "622202123456789012345", "6222 0212 3456 7890 123",
    "6222.0212.3456.7890", "4000 1234 5678 9010", "15900001111",
    "138/1234/5678", "138_1234_5678", "(138) 1234 5678", "138  1234  5678", "138\t1234\t5678",
    "1\u200b3\u200b8\u200b1\u200b2\u200b3\u200b4\u200b5\u200b6\u200b7\u200b8", "138,1234,5678",
]
# (typed, the part that must not reach the disk): formats that are not one long number.
WORDED = [
    ("手机一三八一二三四五六七八", "一二三四五六七八"),
    ("邮箱 zhang.san@example.com", "zhang.san@example"),
    ("座机010-62345678", "62345678"),
    ("家里电话(0755)87654321", "87654321"),
    ("住在北京市朝阳区建国路88号院3号楼2单元301室", "建国路88号"),
    ("地址：幸福小区5栋2单元601", "5栋2单元601"),
    ("我叫张三丰，帮我查一下", "张三丰"),
    ("收件人：王小芳", "王小芳"),
    ("QQ 123456789", "123456789"),
    ("微信号 zhangsan_1990", "zhangsan_1990"),
    ("车牌京A12345被拍了", "A12345"),
    ("护照号E12345678", "E12345678"),
    ("我家IP是 192.168.1.23", "192.168.1.23"),
    ("生日1990年1月1日", "1990年1月1日"),
    ("出生日期：1988-12-31", "1988-12-31"),
]


def digits(s):
    table = {ord("０") + i: str(i) for i in range(10)}
    return re.sub(r"[^0-9Xx]", "", s.translate(table)).upper()


class SlowBackend(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(5)
        body = json.dumps({"status": "运输中", "item": "测试", "eta": "明天", "services": [], "monthly_fee": 0,
                           "customer_id": "u1001"}).encode()
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
    backend.request_queue_size = 1024
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{backend.server_address[1]}"
    port = free_port()
    env = dict(os.environ)
    env.update({
        "BIZBOT__BACKENDS__SHOP__BASE_URL": url,
        "BIZBOT__BACKENDS__CRM__BASE_URL": url,
        "BIZBOT__BACKENDS__SHOP__TIMEOUT_MS": "8000",
        "BIZBOT__BACKENDS__CRM__TIMEOUT_MS": "8000",
        "BIZBOT__IDENTITY__REQUIRED": "true",
        "BIZBOT__IDENTITY__SECRET": SECRET,
        "BIZBOT__DESK__WEBHOOK_URL": "http://127.0.0.1:9/never-answers",
        "BIZBOT__DESK__RETRIES": "0",
        "BIZBOT__DESK__TIMEOUT_MS": "200",
        "BIZBOT__DESK__DEAD_LETTER": os.path.join(tmp, "dead.jsonl"),
        "BIZBOT__LOG__PATH": os.path.join(tmp, "turns.jsonl"),
        "BIZBOT__LOG__MAX_MB": str(LOG_MAX_MB),
        "BIZBOT__LOG__KEEP": "3",
        "BIZBOT__SESSION__MAX_MEMORY_MB": str(SESSION_BUDGET_MB),
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


def resident_bytes(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    found = re.search(r"^bizbot_process_resident_bytes (\d+)", text, re.M)
    return int(found.group(1)) if found else 0


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the release bizbot binary")
    ap.add_argument("--slow-order", default="100112345678")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bizbot-reliability-")
    bot, port = start(args.bin, tmp)
    a = argparse.Namespace(
        log=os.path.join(tmp, "turns.jsonl"),
        dead=os.path.join(tmp, "dead.jsonl"),
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
    # Warm the query cache for the measured customers' text.
    await chat(port, "warm", "WIFI免费吗")

    print("1. 20,000 idle sockets from one address")
    procs, opened = idle_sockets(port, 20000)
    p50, p99, statuses = await customers_during(port, 6, "idle")
    latency_row("idle sockets from one address", f"{opened} of 20,000 connected (the bot keeps 256)", p50, p99, statuses)
    for p in procs:
        p.kill()

    print("2. slow bodies from one address")
    ended = []
    drips = [asyncio.create_task(slow_body(port, 2.0, ended)) for _ in range(600)]
    await asyncio.sleep(1)
    p50, p99, statuses = await customers_during(port, 12, "slowbody")
    await asyncio.gather(*drips)
    counts = {k: ended.count(k) for k in sorted(set(ended))}
    latency_row("slow bodies (600, a byte per 2 s)", f"ended {counts}", p50, p99, statuses)

    print("3. a slow back-end asked by 600 sessions from one address")
    user = {"id": "u1001", "token": token("u1001")}
    asks = [asyncio.create_task(post(port, "/v1/chat", {"session_id": f"crm-{i}", "text": "我开通了什么业务", "user": user},
                                     timeout=60, source=ATTACKER, full=True)) for i in range(600)]
    await asyncio.sleep(0.5)
    p50, p99, statuses = await customers_during(port, 8, "crm-other")
    done = await asyncio.gather(*asks)
    slow = sum(1 for _, secs, _ in done if secs > 4)
    fast_fail = sum(1 for st, secs, b in done if st == 200 and secs < 1 and "暂时无法查询" in b)
    refused = sum(1 for st, _, _ in done if st == 0)
    latency_row("slow back-end (CRM 5 s, 600 sessions)",
                f"{slow} waited on it, {fast_fail} failed fast, {refused} connections refused", p50, p99, statuses)

    print("4. identity")
    leaks = []
    forged = token("u1001", secret="not-the-secret-not-the-secret-000")
    expired = token("u1001", exp_in=-600)
    for name, u in [("claimed", {"id": "u1001"}), ("forged", {"id": "u1001", "token": forged}),
                    ("expired", {"id": "u1001", "token": expired}),
                    ("another's", {"id": "u1001", "token": token("u2002")})]:
        for text in ["我开通了什么业务", f"订单{a.slow_order}到哪了"]:
            status, _, body = await post(port, "/v1/chat", {"session_id": f"id-{name}-{len(text)}", "text": text,
                                                            "user": u}, full=True)
            if status != 200 or "运输中" in body or "您当前开通的业务" in body or "登录" not in body:
                leaks.append(f"{name}:{status}")
    row("unverified user.id", f"{len(leaks)} of 8 replies show customer data or no login request {leaks[:3]}",
        not leaks)

    print("5. personal data in every field written to disk")
    for i, v in enumerate(PII):
        await chat(port, f"pii-{v}", f"我的号码是{v}，帮我查下", channel=f"sms:{v}", user={"id": v, "tags": [v]})
        await chat(port, f"pii-plain-{i}", f"卡号{v}")
    for i, (typed, _) in enumerate(WORDED):
        await chat(port, f"pii-w-{i}", f"{typed} 你们太差了我要投诉")  # a hand-off: a dead letter too
        await chat(port, f"pii-w2-{i}", typed, channel="web", user={"id": f"cust-{i}", "tags": [typed[:30]]})
    await asyncio.sleep(1.5)
    disk = open(a.log, encoding="utf-8").read()
    disk += open(a.dead, encoding="utf-8").read() if os.path.exists(a.dead) else ""
    disk += open(a.stderr, encoding="utf-8", errors="replace").read()
    disk_digits = digits(disk)
    leaked = [v for v in PII if digits(v) in disk_digits] + [t for t, secret in WORDED if secret in disk]
    total = len(PII) + len(WORDED)
    dead_lines = sum(1 for _ in open(a.dead, encoding="utf-8")) if os.path.exists(a.dead) else 0
    row(f"{total} personal-data formats", f"{len(leaked)} of {total} reach the log, {dead_lines} dead letters "
        f"or stderr {leaked[:3]}", not leaked)

    print("6. 60 KB fields")
    big = "长" * 20000  # 60 KB of UTF-8
    cases = {
        "text": {"session_id": "f", "text": big},
        "session_id": {"session_id": big, "text": "退货"},
        "channel": {"session_id": "f", "text": "退货", "channel": big},
        "user.id": {"session_id": "f", "text": "退货", "user": {"id": big}},
        "user.token": {"session_id": "f", "text": "退货", "user": {"token": big}},
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

    print("7. the turn log under its size cap")
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

    print("8. sessions within their memory budget")
    before = resident_bytes(port)
    sem = asyncio.Semaphore(16)

    async def session(i):
        async with sem:
            await chat(port, f"mem-{i:06d}-{'x' * 40}", "WIFI免费吗")

    await asyncio.gather(*(session(i) for i in range(20000)))
    grown = resident_bytes(port) - before
    budget = SESSION_BUDGET_MB * (1 << 20)
    row("20,000 sessions, 16 MiB budget", f"resident memory grew {grown / (1 << 20):.1f} MiB "
        f"(budget + 10 % = {budget * 1.1 / (1 << 20):.1f} MiB)", grown <= budget * 1.1)

    print("9. same-session flood with a 5 s back-end, then SIGTERM")
    flood_user = {"id": "u1001", "token": token("u1001")}
    await chat(port, "flood", "我的订单到哪了", user=flood_user)
    slow = asyncio.create_task(post(port, "/v1/chat", {"session_id": "flood", "text": a.slow_order,
                                                       "user": flood_user}, timeout=60))
    await asyncio.sleep(0.3)
    flood = [asyncio.create_task(post(port, "/v1/chat", {"session_id": "flood", "text": f"第{i}条：订单呢",
                                                         "user": flood_user}, timeout=60, source=ATTACKER))
             for i in range(200)]
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
        await chat(port, "flood2", "我的订单到哪了", user=flood_user)
        slow = asyncio.create_task(post(port, "/v1/chat", {"session_id": "flood2", "text": a.slow_order,
                                                           "user": flood_user}, timeout=60))
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
    print(f"| {'attack':<38} | {'measured':<100} | result |")
    print(f"|{'-' * 40}|{'-' * 102}|--------|")
    for check, figure, result in ROWS:
        print(f"| {check:<38} | {figure:<100} | {result:<6} |")
    return 0 if all(r[2] == "PASS" for r in ROWS) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
