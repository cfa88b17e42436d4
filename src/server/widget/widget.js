/* bizbot chat widget: plain JS, no build step.
 * <script src="https://bot.example.com/widget.js" data-endpoint="https://bot.example.com"
 *         data-title="在线客服" data-channel="web" data-user-id="" data-user-token="" async></script>
 * data-user-token: a JWT the site's server signed for the logged-in customer (see
 * the README, "Customer identity"); window.bizbotSetUser(id, token) replaces both,
 * e.g. after a login or when the token is renewed.
 * Answers are rendered from a small, safe Markdown subset: all text is escaped
 * first, so no HTML from the knowledge or the customer ever runs. Agents' messages
 * are shown as plain text.
 * Once the conversation exists the widget follows its events
 * (GET /v1/sessions/{id}/events, Server-Sent Events read with fetch so the
 * customer's token can go in a header): an agent's messages and typing, the
 * conversation waiting for or held by a person, and a close, after which it asks
 * for a rating. It resumes after the last event it showed (Last-Event-ID). */
(function () {
  "use strict";
  var me = document.currentScript;
  var cfg = {
    endpoint: ((me && me.getAttribute("data-endpoint")) || (me ? new URL(me.src, location.href).origin : "")).replace(/\/$/, ""),
    title: (me && me.getAttribute("data-title")) || "在线客服",
    channel: (me && me.getAttribute("data-channel")) || "web",
    userId: (me && me.getAttribute("data-user-id")) || "",
    userToken: (me && me.getAttribute("data-user-token")) || "",
    open: me && me.hasAttribute("data-open")
  };
  var KEY = "bizbot:" + cfg.endpoint;
  var store = window.sessionStorage;
  var state = load() || { session: newId(), log: [], rated: false };
  var el = {};

  function newId() {
    var a = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return "w-" + Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function load() { try { return JSON.parse(store.getItem(KEY)); } catch (e) { return null; } }
  function save() { try { store.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode */ } }

  function esc(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  /* Markdown subset on escaped text: **bold**, `code`, [label](http(s) url), line breaks. */
  function md(text) {
    var out = esc(text);
    out = out.replace(/\*\*([^*\n]+)\*\*/g, "<strong>$1</strong>");
    out = out.replace(/`([^`\n]+)`/g, "<code>$1</code>");
    out = out.replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, function (_, label, url) {
      return '<a href="' + url + '" target="_blank" rel="noopener noreferrer">' + label + "</a>";
    });
    return out.replace(/\n/g, "<br>");
  }

  function h(tag, attrs, children) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") n.textContent = attrs[k];
      else if (k === "html") n.innerHTML = attrs[k];
      else if (k.slice(0, 2) === "on") n.addEventListener(k.slice(2), attrs[k]);
      else n.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) n.appendChild(c); });
    return n;
  }

  var CSS = [
    ".bzb-launch{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;padding:12px 18px;background:#1565c0;color:#fff;font:15px/1.2 system-ui,sans-serif;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer}",
    ".bzb-panel{position:fixed;right:20px;bottom:20px;z-index:2147483001;width:370px;height:560px;max-height:calc(100vh - 40px);display:flex;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);font:14px/1.5 system-ui,'Noto Sans CJK SC',sans-serif;color:#222;overflow:hidden}",
    ".bzb-panel[hidden]{display:none}",
    ".bzb-head{display:flex;align-items:center;gap:8px;padding:10px 12px;background:#1565c0;color:#fff}",
    ".bzb-head h2{flex:1;margin:0;font-size:16px}",
    ".bzb-head button{background:transparent;color:#fff;border:1px solid rgba(255,255,255,.6);border-radius:6px;padding:3px 8px;cursor:pointer;font-size:13px}",
    ".bzb-log{flex:1;overflow-y:auto;padding:12px;background:#f4f6f8}",
    ".bzb-msg{max-width:85%;margin:6px 0;padding:8px 11px;border-radius:10px;white-space:normal;word-wrap:break-word}",
    ".bzb-bot{background:#fff;border:1px solid #e0e4e8}",
    ".bzb-agent{background:#e8f5e9;border:1px solid #a5d6a7}",
    ".bzb-name{font-size:12px;color:#2e7d32;margin-bottom:2px}",
    ".bzb-status{padding:6px 12px;font-size:13px;background:#e8f5e9;color:#1b5e20;border-bottom:1px solid #c8e6c9}",
    ".bzb-status[hidden]{display:none}",
    ".bzb-me{margin-left:auto;background:#1565c0;color:#fff}",
    ".bzb-note{margin:8px auto;text-align:center;font-size:13px;color:#555;background:#fff3cd;border-radius:8px;padding:6px 10px}",
    ".bzb-row{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0 8px}",
    ".bzb-choice,.bzb-chip,.bzb-act,.bzb-fb,.bzb-star{cursor:pointer;font:inherit;border-radius:16px;border:1px solid #1565c0;background:#fff;color:#1565c0;padding:3px 10px;text-decoration:none}",
    ".bzb-chip{border-color:#90a4ae;color:#37474f}",
    ".bzb-act{background:#1565c0;color:#fff}",
    ".bzb-fb{border-color:#ccc;color:#555;padding:1px 8px}",
    ".bzb-fb[aria-pressed=true]{background:#e3f2fd}",
    ".bzb-star{border-color:#f9a825;color:#f57f17;min-width:34px}",
    ".bzb-typing{font-size:13px;color:#777;padding:0 12px 6px}",
    ".bzb-form{display:flex;gap:6px;padding:8px;border-top:1px solid #e0e4e8}",
    ".bzb-form input{flex:1;font:inherit;padding:8px;border:1px solid #cfd8dc;border-radius:8px}",
    ".bzb-form button{font:inherit;border:0;border-radius:8px;background:#1565c0;color:#fff;padding:8px 14px;cursor:pointer}",
    ".bzb-panel :focus-visible{outline:2px solid #ff9800;outline-offset:2px}",
    ".bzb-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}",
    "@media (max-width:480px){.bzb-panel{right:0;bottom:0;width:100vw;height:100vh;max-height:100vh;border-radius:0}}"
  ].join("\n");

  function build() {
    document.head.appendChild(h("style", { text: CSS }));
    el.launch = h("button", { "class": "bzb-launch", type: "button", "aria-haspopup": "dialog", text: cfg.title, onclick: open });
    el.log = h("div", { "class": "bzb-log", role: "log", "aria-live": "polite", "aria-label": "对话记录" });
    el.typing = h("div", { "class": "bzb-typing", hidden: "", text: "客服正在输入…" });
    el.status = h("div", { "class": "bzb-status", role: "status", hidden: "" });
    el.input = h("input", { id: "bzb-input", type: "text", maxlength: "500", autocomplete: "off", placeholder: "请输入您的问题" });
    el.form = h("form", { "class": "bzb-form", onsubmit: function (e) { e.preventDefault(); send(el.input.value); } }, [
      h("label", { "for": "bzb-input", "class": "bzb-sr", text: "您的问题" }), el.input,
      h("button", { type: "submit", text: "发送" })
    ]);
    el.panel = h("section", { "class": "bzb-panel", role: "dialog", "aria-label": cfg.title, hidden: "" }, [
      h("div", { "class": "bzb-head" }, [
        h("h2", { text: cfg.title }),
        h("button", { type: "button", "class": "bzb-end", text: "结束对话", onclick: askRating }),
        h("button", { type: "button", "aria-label": "关闭", text: "✕", onclick: close })
      ]),
      el.status, el.log, el.typing, el.form
    ]);
    el.panel.addEventListener("keydown", function (e) { if (e.key === "Escape") close(); });
    document.body.appendChild(el.launch);
    document.body.appendChild(el.panel);
    state.log.forEach(function (item) { render(item, true); });
    showOwner();
    if (state.log.length) follow();
    if (cfg.open) open();
  }

  function open() {
    el.panel.hidden = false;
    el.launch.hidden = true;
    el.input.focus();
    if (!state.log.length) welcome();
  }
  function close() { el.panel.hidden = true; el.launch.hidden = false; el.launch.focus(); }

  function user() {
    if (!cfg.userId && !cfg.userToken) return undefined;
    var u = {};
    if (cfg.userId) u.id = cfg.userId;
    if (cfg.userToken) u.token = cfg.userToken;
    return u;
  }
  window.bizbotSetUser = function (id, token) { cfg.userId = id || ""; cfg.userToken = token || ""; };
  /* POST JSON; a request the server does not answer in 15 s fails like a network error. */
  function post(path, body) {
    var abort = window.AbortController ? new AbortController() : null;
    var timer = abort && setTimeout(function () { abort.abort(); }, 15000);
    return fetch(cfg.endpoint + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: abort && abort.signal })
      .then(function (r) { return r.json().then(function (j) { return { status: r.status, body: j }; }); })
      .finally(function () { if (timer) clearTimeout(timer); });
  }

  function push(item) { state.log.push(item); save(); render(item, false); }

  function welcome() {
    post("/v1/welcome", { session_id: state.session, channel: cfg.channel, user: user() }).then(function (r) {
      if (r.status === 200) push({ kind: "welcome", text: r.body.text, suggestions: r.body.suggestions || [] });
      follow();
    }).catch(function () { push({ kind: "note", text: "暂时连接不上客服，请稍后再试。" }); });
  }

  /* Server-Sent Events over fetch: calls onEvent(type, data, id) for each event,
   * reconnects (1 s, then up to 15 s apart) with Last-Event-ID = lastId(), until
   * stopped or the server refuses for good (401/403/404/422: onEnd(status)). */
  function sse(url, headers, onEvent, lastId, onEnd) {
    var wait = 1000, stopped = false, abort = null;
    function connect() {
      if (stopped) return;
      var hs = {};
      Object.keys(headers()).forEach(function (k) { hs[k] = headers()[k]; });
      if (lastId()) hs["Last-Event-ID"] = lastId();
      abort = window.AbortController ? new AbortController() : null;
      fetch(url, { headers: hs, cache: "no-store", signal: abort && abort.signal }).then(function (r) {
        if ([401, 403, 404, 422].indexOf(r.status) >= 0) { stopped = true; onEnd(r.status); return "stop"; }
        if (!r.ok || !r.body) throw new Error("HTTP " + r.status);
        wait = 1000;
        var reader = r.body.getReader(), decoder = new TextDecoder(), buf = "";
        function pump() {
          return reader.read().then(function (x) {
            if (x.done) throw new Error("stream closed");
            buf += decoder.decode(x.value, { stream: true }).replace(/\r\n/g, "\n");
            var i;
            while ((i = buf.indexOf("\n\n")) >= 0) { dispatch(buf.slice(0, i)); buf = buf.slice(i + 2); }
            return pump();
          });
        }
        return pump();
      }).then(function (how) { if (how !== "stop") retry(); }, retry);
    }
    function retry() { if (!stopped) { setTimeout(connect, wait); wait = Math.min(wait * 2, 15000); } }
    function dispatch(block) {
      var ev = { type: "message", data: "", id: "" };
      block.split("\n").forEach(function (line) {
        if (!line || line.charAt(0) === ":") return;
        var k = line.indexOf(":"), f = k < 0 ? line : line.slice(0, k), v = k < 0 ? "" : line.slice(k + 1).replace(/^ /, "");
        if (f === "data") ev.data += (ev.data ? "\n" : "") + v;
        else if (f === "event") ev.type = v;
        else if (f === "id") ev.id = v;
      });
      if (ev.data && !stopped) { try { onEvent(ev.type, JSON.parse(ev.data), ev.id); } catch (e) { /* a bad event is skipped */ } }
    }
    connect();
    return { stop: function () { stopped = true; if (abort) abort.abort(); } };
  }

  var stream = null, waitTimer = null, typingTimer = null;
  function follow() {
    if (stream || !window.fetch || !window.ReadableStream) return;
    stream = sse(cfg.endpoint + "/v1/sessions/" + encodeURIComponent(state.session) + "/events", function () {
      var hs = {};
      if (cfg.userId) hs["X-Bizbot-User-Id"] = cfg.userId;
      if (cfg.userToken) hs["X-Bizbot-User-Token"] = cfg.userToken;
      return hs;
    }, onEvent, function () { return state.lastEvent || ""; }, function () {
      // The conversation is gone (expired) or not ours: nobody is waiting in it.
      stream = null;
      state.owner = null;
      save();
      showOwner();
    });
  }
  /* A new conversation: forget the old one's stream, owner and rating. */
  function restart() {
    if (stream) stream.stop();
    stream = null;
    state.session = newId();
    state.lastEvent = "";
    state.owner = null;
    state.rated = false;
    save();
    showOwner();
  }

  function onEvent(type, e, id) {
    if (id) state.lastEvent = id;
    if (type === "message" && e.from === "agent") {
      el.typing.hidden = true;
      push({ kind: "agent", name: e.agent || "人工客服", text: e.text });
    } else if (type === "message" && e.from === "system") {
      push({ kind: "note", text: e.text });
    } else if (type === "state") {
      state.owner = { owner: e.owner, agent: e.agent || "", queued_ms: e.queued_ms || state.owner && state.owner.queued_ms || 0 };
      save();
      showOwner();
      if (e.closed) askRating();
    } else if (type === "typing") {
      el.typing.textContent = (e.agent || "客服") + " 正在输入…";
      el.typing.hidden = false;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { el.typing.hidden = true; el.typing.textContent = "客服正在输入…"; }, 4000);
    }
    save();
  }

  /* The line under the title: waiting for a person (and how long), or who answers. */
  function showOwner() {
    var o = state.owner;
    clearInterval(waitTimer);
    if (!o || o.owner === "bot") { el.status.hidden = true; return; }
    el.status.hidden = false;
    if (o.owner === "agent") { el.status.textContent = "人工客服 " + (o.agent || "") + " 正在为您服务"; return; }
    var tick = function () {
      var s = Math.max(0, Math.round((Date.now() - (o.queued_ms || Date.now())) / 1000));
      el.status.textContent = "正在为您转接人工客服，已等待 " + Math.floor(s / 60) + " 分 " + (s % 60) + " 秒";
    };
    tick();
    waitTimer = setInterval(tick, 1000);
  }

  function send(text) {
    text = (text || "").trim();
    if (!text) return;
    el.input.value = "";
    push({ kind: "me", text: text });
    el.typing.hidden = false;
    post("/v1/chat", { session_id: state.session, text: text, channel: cfg.channel, user: user() }).then(function (r) {
      el.typing.hidden = true;
      if (r.status === 200) {
        if (r.body.owner && (!state.owner || state.owner.owner !== r.body.owner)) {
          state.owner = { owner: r.body.owner, agent: "", queued_ms: Date.now() };
          save();
          showOwner();
        }
        // While a person holds the conversation the bot says nothing.
        if (r.body.text) push({ kind: "bot", reply: r.body });
        follow();
      }
      else if (r.status === 429 || r.status === 503) push({ kind: "note", text: "消息较多，请稍后再发。" });
      else if (r.body && r.body.code === "session_of_another_customer") {
        // The conversation was a logged-in customer's and this page has another
        // (or no longer a valid) token: start a new conversation.
        restart();
        push({ kind: "note", text: "登录状态已变化，已为您开始新的对话，请重新发送。" });
      }
      else push({ kind: "note", text: (r.body && r.body.message) || "发送失败，请重试。" });
    }).catch(function () { el.typing.hidden = true; push({ kind: "note", text: "网络异常，请稍后重试。" }); });
  }

  function feedback(turn, helpful, row) {
    post("/v1/feedback", { session_id: state.session, turn: turn, helpful: helpful, user: user() }).then(function () {
      Array.prototype.forEach.call(row.querySelectorAll(".bzb-fb"), function (b) { b.setAttribute("aria-pressed", "false"); b.disabled = true; });
      row.querySelector(helpful ? ".bzb-up" : ".bzb-down").setAttribute("aria-pressed", "true");
      var item = state.log.filter(function (i) { return i.kind === "bot" && i.reply.turn === turn; })[0];
      if (item) { item.rated = helpful ? "up" : "down"; save(); }
    });
  }

  function askRating() { if (!state.rated && !el.log.querySelector(".bzb-rate")) push({ kind: "rate" }); }

  function rate(score) {
    post("/v1/rating", { session_id: state.session, score: score, user: user() }).then(function (r) {
      state.rated = r.status === 200;
      push({ kind: "note", text: state.rated ? "感谢您的评价！" : "评价未能提交，请稍后再试。" });
    });
  }

  function buttons(list, cls, onpick) {
    if (!list || !list.length) return null;
    return h("div", { "class": "bzb-row" }, list.map(function (s) {
      return h("button", { type: "button", "class": cls, text: s.question, onclick: function () { onpick(s); } });
    }));
  }

  function render(item, restoring) {
    var log = el.log;
    if (item.kind === "me") log.appendChild(h("div", { "class": "bzb-msg bzb-me", text: item.text }));
    else if (item.kind === "agent") {
      log.appendChild(h("div", { "class": "bzb-msg bzb-agent" }, [
        h("div", { "class": "bzb-name", text: item.name }), h("div", { "class": "bzb-text", text: item.text })
      ]));
    }
    else if (item.kind === "note") log.appendChild(h("div", { "class": "bzb-note", role: "status", text: item.text }));
    else if (item.kind === "welcome") {
      log.appendChild(h("div", { "class": "bzb-msg bzb-bot", html: md(item.text) }));
      if (item.suggestions.length) {
        log.appendChild(h("div", { "class": "bzb-note", text: "您可能想问：" }));
        log.appendChild(buttons(item.suggestions, "bzb-chip bzb-suggest", function (s) { send(s.question); }));
      }
    } else if (item.kind === "rate") {
      var stars = h("div", { "class": "bzb-row bzb-rate", role: "group", "aria-label": "请为本次服务打分" }, [1, 2, 3, 4, 5].map(function (n) {
        return h("button", { type: "button", "class": "bzb-star", "data-score": String(n), "aria-label": n + " 分", text: n + "★",
          onclick: function () { Array.prototype.forEach.call(stars.children, function (b) { b.disabled = true; }); rate(n); } });
      }));
      log.appendChild(h("div", { "class": "bzb-note", text: "请为本次服务打分：" }));
      log.appendChild(stars);
      if (state.rated) Array.prototype.forEach.call(stars.children, function (b) { b.disabled = true; });
    } else if (item.kind === "bot") {
      var r = item.reply;
      log.appendChild(h("div", { "class": "bzb-msg bzb-bot", "data-action": r.action, html: md(r.text) }));
      if (r.candidates && r.candidates.length) log.appendChild(buttons(r.candidates, "bzb-choice", function (s) { send(s.question); }));
      if (r.action === "answer") {
        var fb = h("div", { "class": "bzb-row bzb-feedback", role: "group", "aria-label": "这个回答有帮助吗" }, [
          h("button", { type: "button", "class": "bzb-fb bzb-up", "aria-pressed": String(item.rated === "up"), "aria-label": "有帮助", text: "有用" }),
          h("button", { type: "button", "class": "bzb-fb bzb-down", "aria-pressed": String(item.rated === "down"), "aria-label": "没帮助", text: "没用" })
        ]);
        fb.firstChild.addEventListener("click", function () { feedback(r.turn, true, fb); });
        fb.lastChild.addEventListener("click", function () { feedback(r.turn, false, fb); });
        if (item.rated) Array.prototype.forEach.call(fb.children, function (b) { b.disabled = true; });
        log.appendChild(fb);
      }
      if (r.actions && r.actions.length) {
        log.appendChild(h("div", { "class": "bzb-row" }, r.actions.filter(function (a) { return /^https?:\/\//.test(a.url); }).map(function (a) {
          return h("a", { "class": "bzb-act", href: a.url, target: "_blank", rel: "noopener noreferrer", text: a.label });
        })));
      }
      if (r.related && r.related.length) {
        log.appendChild(h("div", { "class": "bzb-note", text: "猜您可能还想了解：" }));
        log.appendChild(buttons(r.related, "bzb-chip bzb-related", function (s) { send(s.question); }));
      }
      if (r.action === "handoff") {
        log.appendChild(h("div", { "class": "bzb-note bzb-handoff", role: "status", text: "已为您转接人工客服（" + (r.handoff && r.handoff.queue || "人工") + "），请稍候。" }));
        // Nobody takes hand-offs in this window: the conversation ends here.
        // Otherwise the rating comes when the agent closes it.
        if (!restoring && (!r.owner || r.owner === "bot")) askRating();
      }
    }
    log.scrollTop = log.scrollHeight;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", build);
  else build();
  window.bizbotWidget = { send: send, open: open, session: function () { return state.session; } };
})();
