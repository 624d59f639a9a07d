// The agent's live chat panel (desk/chats.html) on the agent socket /ws/chat/agent/
// (docs/chat-protocol.md, section 4). Every piece of text from the server goes in through
// textContent; the page's own words come from data-t-* attributes, in the page's language.
(function () {
  "use strict";
  var root = document.getElementById("chat-panel");
  if (!root) return;

  var PING_EVERY = 25000;
  var TYPING_EVERY = 3000; // resend typing:true while typing (the server keeps it 5 s)
  var TYPING_IDLE = 4000; // typing:false after this long without a key
  var TYPING_SHOWN = 6000; // hide the other side's indicator if no news
  var me = parseInt(root.dataset.me, 10);
  var storeKey = "walletdesk.chatpanel.pending." + me;

  function t(key, vars) {
    var attr = "t" + key.replace(/(^|-)([a-z])/g, function (_m, _d, c) { return c.toUpperCase(); });
    var text = root.dataset[attr] || key;
    Object.keys(vars || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(vars[name]));
    });
    return text;
  }
  function q(sel, el) { return (el || root).querySelector(sel); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  var LANGUAGES = { en: "English", "zh-hans": "简体中文", "zh-hant": "繁體中文" };

  // --- state --------------------------------------------------------------------------------
  var chats = {}; // reference -> chat
  var active = null; // the reference whose pane is shown
  var sock = null;
  var ready = false;
  var tries = 0;
  var pingTimer = null;
  var stopped = false;
  var counter = 0;
  var session = Math.random().toString(36).slice(2, 10);

  function loadPending() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "{}") || {}; } catch (_e) { return {}; }
  }
  function savePending() {
    var out = {};
    Object.keys(chats).forEach(function (ref) {
      var list = Object.keys(chats[ref].pending).map(function (id) {
        return { client_id: id, body: chats[ref].pending[id].body };
      });
      if (list.length) out[ref] = list;
    });
    try { window.localStorage.setItem(storeKey, JSON.stringify(out)); } catch (_e) { /* private mode */ }
  }

  function chat(ref) {
    ref = String(ref || "").toUpperCase();
    if (!ref) return null;
    if (!chats[ref]) {
      chats[ref] = {
        ref: ref, summary: { reference: ref }, lastSeq: 0, seqs: {}, pending: {}, pane: null,
        item: null, joined: false, unread: 0, readSent: 0, customerRead: 0, ended: null,
        typingTimer: null, sentTypingAt: 0, idleTimer: null, wasMine: false,
      };
    }
    return chats[ref];
  }

  // --- socket -------------------------------------------------------------------------------
  function setConn(text, state) {
    var badge = q("[data-conn]");
    badge.textContent = text;
    badge.dataset.state = state;
  }
  function send(frame) {
    if (sock && ready && sock.readyState === WebSocket.OPEN) {
      sock.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    sock = new WebSocket(scheme + window.location.host + root.dataset.wsPath);
    ready = false;
    sock.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (_e) { return; }
      if (frame && typeof frame.type === "string") handle(frame);
    };
    sock.onclose = function (event) {
      ready = false;
      window.clearInterval(pingTimer);
      Object.keys(chats).forEach(function (ref) { chats[ref].joined = false; });
      if (event.code === 4403 || event.code === 4401) {
        stopped = true;
        setConn(t("refused"), "refused");
        return;
      }
      if (stopped) return;
      setConn(t("reconnecting"), "down");
      var wait = Math.min(15000, 500 * Math.pow(2, tries));
      tries += 1;
      window.setTimeout(connect, wait);
    };
  }

  // --- frames -------------------------------------------------------------------------------
  function handle(frame) {
    switch (frame.type) {
      case "hello": return onHello(frame);
      case "presence": return showPresence(frame.status);
      case "chat": return onSummary(frame);
      case "message": return onMessage(frame);
      case "typing": return onTyping(frame);
      case "read": return onRead(frame);
      case "ended": return onEnded(frame);
      case "csat": return onCsat(frame);
      case "status": return null;
      case "error": return onError(frame);
      default: return null;
    }
  }

  function onHello(frame) {
    ready = true;
    tries = 0;
    setConn(t("connected"), "up");
    showPresence(frame.status);
    window.clearInterval(pingTimer);
    pingTimer = window.setInterval(function () { send({ type: "ping" }); }, PING_EVERY);
    (frame.chats || []).forEach(onSummary);
    // Re-watch every open chat from the last seq it shows, then send what is still unacked.
    Object.keys(chats).forEach(function (ref) {
      var c = chats[ref];
      if (c.pane) join(c);
    });
    var opening = root.dataset.open;
    if (opening) {
      root.dataset.open = "";
      try {
        var known = JSON.parse(root.dataset.openSummary || "null");
        if (known && known.reference === opening.toUpperCase()) onSummary(known);
      } catch (_e) { /* no summary: the chat opens by its reference alone */ }
      openChat(opening, true);
    }
  }

  function join(c) {
    send({ type: "join", reference: c.ref, after: c.lastSeq });
    c.joined = true;
    // The replay comes first (it acknowledges what was stored); a resend of a stored
    // client_id is stored once by the server.
    Object.keys(c.pending).forEach(function (id) {
      if (!c.pending[id].failed) send({ type: "message", reference: c.ref, client_id: id, body: c.pending[id].body });
    });
  }

  function showPresence(status) {
    root.querySelectorAll("[data-presence]").forEach(function (b) {
      var on = b.dataset.presence === status;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.classList.toggle("primary", on);
    });
    root.dataset.presenceNow = status || "";
  }

  function isMine(summary) { return summary.assignee_id === me && summary.status === "active"; }

  function onSummary(summary) {
    var c = chat(summary.reference);
    if (!c) return;
    var before = c.summary;
    c.summary = Object.assign({}, before, summary);
    var mine = isMine(c.summary);
    if (mine) c.wasMine = true;
    listItem(c);
    if (c.pane) fillPane(c);
    // A chat handed to me opens by itself (the hello's too: several at once).
    if (mine && !c.pane) openChat(c.ref, !active);
    if (c.wasMine && !mine && c.summary.status === "active" && c.summary.assignee_id !== me) {
      c.wasMine = false;
      if (c.pane) {
        var moved = q("[data-f=moved]", c.pane);
        moved.textContent = t("taken-by", { name: c.summary.assignee || "?" });
        moved.hidden = false;
      }
    }
  }

  function statusWord(status) { return t("status-" + (status || "waiting")); }

  function listItem(c) {
    var s = c.summary;
    var where = s.status === "ended" ? "others" : isMine(s) ? "mine" : s.status === "waiting" ? "waiting" : "others";
    if (!c.item) {
      c.item = el("li", "chat-item");
      var button = el("button", "chat-pick");
      button.type = "button";
      button.addEventListener("click", function () { openChat(c.ref, true); });
      button.appendChild(el("span", "who"));
      button.appendChild(el("span", "unread badge"));
      button.appendChild(el("span", "sub muted small"));
      c.item.appendChild(button);
    }
    c.item.dataset.reference = c.ref;
    c.item.dataset.status = s.status || "";
    q(".who", c.item).textContent = s.customer || t("customer");
    var unread = q(".unread", c.item);
    unread.textContent = c.unread ? String(c.unread) : "";
    unread.hidden = !c.unread;
    var sub = [c.ref, statusWord(s.status)];
    if (s.assignee && !isMine(s)) sub.push(s.assignee);
    q(".sub", c.item).textContent = sub.join(" · ");
    c.item.classList.toggle("current", active === c.ref);
    var list = q("[data-list=" + where + "]");
    if (c.item.parentNode !== list) list.appendChild(c.item);
  }

  function onMessage(frame) {
    var c = chat(frame.reference);
    if (!c || typeof frame.seq !== "number") return;
    if (frame.author === "agent" && frame.client_id && c.pending[frame.client_id]) {
      var held = c.pending[frame.client_id];
      if (held.node && held.node.parentNode) held.node.parentNode.removeChild(held.node);
      delete c.pending[frame.client_id];
      savePending();
    }
    // A closed chat keeps no transcript (a frame still in flight after "leave"): its next
    // join replays from the start.
    if (!c.pane) return;
    if (c.seqs[frame.seq]) return; // exactly once, whatever the server sends
    c.lastSeq = Math.max(c.lastSeq, frame.seq);
    var node = messageNode(frame);
    c.seqs[frame.seq] = node;
    // In seq order, whatever order frames come in.
    var list = q("[data-f=transcript]", c.pane);
    var next = null;
    Array.prototype.forEach.call(list.children, function (li) {
      var s = parseInt(li.dataset.seq || "0", 10);
      if (!next && s && s > frame.seq) next = li;
    });
    list.insertBefore(node, next || firstPending(list));
    if (frame.author === "customer") {
      hideTyping(c);
      if (active !== c.ref || document.hidden) {
        c.unread += 1;
        listItem(c);
      }
    }
    markRead(c);
    scrollDown(c);
  }

  function firstPending(list) { return q(".pending", list); }

  function messageNode(frame) {
    var who = frame.author === "customer" ? (frame.author_name || t("customer"))
      : frame.author === "system" ? t("system") : (frame.author_name || t("you"));
    var li = el("li", "msg " + (frame.author || ""));
    li.dataset.seq = String(frame.seq);
    li.dataset.author = frame.author || "";
    var time = "";
    if (frame.created_at) {
      var d = new Date(frame.created_at);
      if (!isNaN(d.getTime())) time = d.toLocaleTimeString(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit" });
    }
    li.appendChild(el("div", "meta", who + (time ? " · " + time : "")));
    li.appendChild(el("div", "body", frame.body || ""));
    if (frame.removed && frame.removed.length) li.appendChild(el("div", "flag secret", t("removed")));
    (frame.attachments || []).forEach(function (a) {
      if (typeof a.url !== "string" || a.url.charAt(0) !== "/") return;
      var link = el("a", "file", a.name || a.url);
      link.href = a.url;
      link.rel = "noopener";
      link.target = "_blank";
      li.appendChild(link);
    });
    if (frame.author === "agent") li.appendChild(el("div", "receipt small muted"));
    return li;
  }

  function scrollDown(c) {
    var list = q("[data-f=transcript]", c.pane);
    list.scrollTop = list.scrollHeight;
  }

  function markRead(c) {
    if (!c.pane || active !== c.ref || document.hidden || !c.joined) return;
    c.unread = 0;
    listItem(c);
    if (c.lastSeq > c.readSent && send({ type: "read", reference: c.ref, seq: c.lastSeq })) c.readSent = c.lastSeq;
  }

  function onTyping(frame) {
    var c = chat(frame.reference);
    if (!c || !c.pane || c.ended) return;
    var line = q("[data-f=typing]", c.pane);
    window.clearTimeout(c.typingTimer);
    if (!frame.typing) return hideTyping(c);
    var name = frame.author === "customer" ? (c.summary.customer || t("customer")) : (frame.name || "");
    line.textContent = t("typing", { name: name });
    line.dataset.author = frame.author || "";
    c.typingTimer = window.setTimeout(function () { hideTyping(c); }, TYPING_SHOWN);
  }
  function hideTyping(c) {
    if (!c.pane) return;
    window.clearTimeout(c.typingTimer);
    q("[data-f=typing]", c.pane).textContent = "";
  }

  function onRead(frame) {
    var c = chat(frame.reference);
    if (!c || frame.author !== "customer" || typeof frame.seq !== "number") return;
    c.customerRead = Math.max(c.customerRead, frame.seq);
    showReceipts(c);
  }
  function showReceipts(c) {
    if (!c.pane) return;
    var last = null;
    q("[data-f=transcript]", c.pane).querySelectorAll("li.msg.agent[data-seq]").forEach(function (li) {
      var r = q(".receipt", li);
      if (r) r.textContent = "";
      if (parseInt(li.dataset.seq, 10) <= c.customerRead) last = li;
    });
    if (last && q(".receipt", last)) q(".receipt", last).textContent = t("read");
  }

  function onEnded(frame) {
    var c = chat(frame.reference);
    if (!c) return;
    c.ended = frame;
    c.summary.status = "ended";
    hideTyping(c);
    listItem(c);
    if (c.pane) fillPane(c);
  }

  function onCsat(frame) {
    var c = chat(frame.reference);
    if (!c) return;
    c.csat = frame;
    if (c.pane) fillPane(c);
  }

  function onError(frame) {
    var c = frame.reference ? chat(frame.reference) : null;
    if (frame.client_id && c && c.pending[frame.client_id]) {
      var held = c.pending[frame.client_id];
      held.failed = true;
      held.node.classList.add("failed");
      q(".receipt", held.node).textContent = t("not-sent") + " " + (frame.message || frame.code || "");
      delete c.pending[frame.client_id]; // a refused message is not sent again
      savePending();
      return;
    }
    var text = frame.code === "not_found" ? t("not-found") : t("error", { message: frame.message || frame.code || "" });
    if (c && c.pane) {
      var moved = q("[data-f=moved]", c.pane);
      moved.textContent = text;
      moved.hidden = false;
    } else {
      setConn(text, "error");
    }
  }

  // --- panes --------------------------------------------------------------------------------
  function ticketUrl(ref) {
    return root.dataset.ticketUrl.replace(root.dataset.referenceSlot, encodeURIComponent(ref));
  }

  function openChat(ref, show) {
    var c = chat(ref);
    if (!c) return;
    if (!c.pane) {
      var pane = document.getElementById("chat-pane-template").content.firstElementChild.cloneNode(true);
      c.pane = pane;
      pane.dataset.reference = c.ref;
      pane.id = "chat-" + c.ref;
      var tab = el("button", "chat-tab");
      tab.type = "button";
      tab.setAttribute("role", "tab");
      tab.dataset.reference = c.ref;
      tab.addEventListener("click", function () { show_(c.ref); });
      c.tab = tab;
      q("[data-tabs]").appendChild(tab);
      q("[data-panes]").appendChild(pane);
      wirePane(c);
      fillPane(c);
      Object.keys(c.pending).forEach(function (id) { pendingNode(c, id); });
      if (ready) join(c);
    }
    if (show || !active) show_(c.ref);
  }

  function show_(ref) {
    active = ref;
    Object.keys(chats).forEach(function (r) {
      var c = chats[r];
      if (c.pane) c.pane.hidden = r !== ref;
      if (c.tab) c.tab.setAttribute("aria-selected", r === ref ? "true" : "false");
      if (c.item) c.item.classList.toggle("current", r === ref);
    });
    q("[data-empty]").hidden = !!ref;
    root.classList.toggle("showing-chat", !!ref);
    var c = chats[ref];
    if (c) {
      markRead(c);
      scrollDown(c);
    }
  }

  function closeChat(c) {
    send({ type: "leave", reference: c.ref });
    c.joined = false;
    if (c.pane) c.pane.parentNode.removeChild(c.pane);
    if (c.tab) c.tab.parentNode.removeChild(c.tab);
    c.pane = null;
    c.tab = null;
    c.seqs = {};
    c.lastSeq = 0;
    c.readSent = 0;
    var next = Object.keys(chats).filter(function (r) { return chats[r].pane; })[0] || null;
    if (active === c.ref) show_(next);
  }

  function fillPane(c) {
    var s = c.summary;
    var p = c.pane;
    var mine = isMine(s);
    q("[data-f=customer]", p).textContent = s.customer || t("customer");
    q("[data-f=reference]", p).textContent = c.ref;
    q("[data-f=side-customer]", p).textContent = s.customer || t("customer");
    q("[data-f=side-language]", p).textContent = LANGUAGES[s.language] || s.language || t("none");
    var link = q("[data-f=side-ticket]", p);
    link.textContent = c.ref;
    link.href = ticketUrl(c.ref);
    q("[data-f=side-subject]", p).textContent = s.subject || t("none");
    q("[data-f=side-status]", p).textContent = statusWord(s.status);
    q("[data-f=side-assignee]", p).textContent = s.assignee || t("nobody");
    var ended = s.status === "ended" || !!c.ended;
    var take = q("[data-act=take]", p);
    take.hidden = ended || mine;
    if (!take.dataset.label) take.dataset.label = take.textContent;
    take.textContent = s.assignee_id ? take.dataset.label : t("take");
    q("[data-act=end]", p).hidden = ended;
    if (mine) q("[data-f=moved]", p).hidden = true;
    var box = q("[data-f=ended]", p);
    box.hidden = !ended;
    if (ended) {
      var answered = c.ended ? c.ended.answered : true;
      q("[data-f=ended-text]", p).textContent = answered ? t("ended-answered") : t("ended-unanswered");
      // The survey is the customer's: the agent sees that it went, never its links.
      var csat = q("[data-f=csat]", p);
      csat.textContent = c.csat ? t("survey-sent") : "";
      if (c.csat && c.csat.rating !== undefined && c.csat.rating !== null) {
        csat.textContent += " " + t("rated", { rating: c.csat.rating });
      }
    }
    var form = q("[data-f=reply]", p);
    form.hidden = ended;
    if (c.tab) {
      c.tab.textContent = "";
      c.tab.appendChild(el("span", "", s.customer || c.ref));
      if (ended) c.tab.appendChild(el("span", "muted small", " · " + statusWord("ended")));
    }
  }

  function wirePane(c) {
    var p = c.pane;
    var form = q("[data-f=reply]", p);
    var area = q("textarea", form);
    var labelId = "reply-" + c.ref;
    area.id = labelId;
    q("[data-f=reply-label]", p).setAttribute("for", labelId);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = area.value.trim();
      if (!body) return;
      counter += 1;
      var id = "p-" + session + "-" + Date.now().toString(36) + "-" + counter;
      c.pending[id] = { body: body };
      savePending();
      pendingNode(c, id);
      area.value = "";
      stopTyping(c);
      if (c.joined) send({ type: "message", reference: c.ref, client_id: id, body: body });
      area.focus();
    });
    area.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    area.addEventListener("input", function () {
      var now = Date.now();
      if (area.value && now - c.sentTypingAt > TYPING_EVERY && c.joined) {
        c.sentTypingAt = now;
        send({ type: "typing", reference: c.ref, typing: true });
      }
      window.clearTimeout(c.idleTimer);
      c.idleTimer = window.setTimeout(function () { stopTyping(c); }, TYPING_IDLE);
    });
    area.addEventListener("blur", function () { stopTyping(c); });
    q("[data-act=take]", p).addEventListener("click", function () { send({ type: "take", reference: c.ref }); });
    q("[data-act=end]", p).addEventListener("click", function () { send({ type: "end", reference: c.ref }); });
    q("[data-act=close]", p).addEventListener("click", function () { closeChat(c); });
    q("[data-act=back]", p).addEventListener("click", function () {
      root.classList.remove("showing-chat");
    });
  }

  function stopTyping(c) {
    window.clearTimeout(c.idleTimer);
    if (c.sentTypingAt) {
      c.sentTypingAt = 0;
      send({ type: "typing", reference: c.ref, typing: false });
    }
  }

  function pendingNode(c, id) {
    var held = c.pending[id];
    var li = el("li", "msg agent pending");
    li.dataset.clientId = id;
    li.appendChild(el("div", "meta", t("you")));
    li.appendChild(el("div", "body", held.body));
    li.appendChild(el("div", "receipt small muted", t("sending")));
    held.node = li;
    q("[data-f=transcript]", c.pane).appendChild(li);
    scrollDown(c);
  }

  // --- page controls ------------------------------------------------------------------------
  root.querySelectorAll("[data-presence]").forEach(function (b) {
    b.addEventListener("click", function () { send({ type: "presence", status: b.dataset.presence }); });
  });
  q("[data-open-form]").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = q("input", event.target);
    var ref = input.value.trim().toUpperCase();
    if (/^[A-Z0-9-]{3,40}$/.test(ref)) {
      openChat(ref, true);
      input.value = "";
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && active && chats[active]) markRead(chats[active]);
  });

  // Messages left unacknowledged by a previous page (a reload): their chats open, and they
  // are sent again after the join's replay.
  var held = loadPending();
  Object.keys(held).forEach(function (ref) {
    var c = chat(ref);
    if (!c) return;
    (held[ref] || []).forEach(function (m) {
      if (m && typeof m.client_id === "string" && typeof m.body === "string") c.pending[m.client_id] = { body: m.body };
    });
    openChat(ref, false);
  });

  setConn(t("connecting"), "connecting");
  connect();
})();
