// walletdesk live chat widget (docs/chat-protocol.md). No build step, no framework, no CDN.
//
// Embed:  <div data-wd-chat data-lang="zh-hans" data-start-url="/api/v1/chat/conversations"></div>
//         <script src=".../walletdesk/chat/widget.js" defer></script>
// or bind to an existing conversation (the wallet app's webview):
//         <div data-wd-chat data-lang="en" data-ws-url="/ws/chat/WD-…/?t=…" data-fullscreen></div>
//
// Attributes: data-lang (en | zh-hans | zh-hant), data-start-url (POST to start a conversation),
// data-ws-url (resume this one), data-signed-in ("1": no name/email fields), data-fullscreen.
//
// Every text from the network or the user goes in with textContent: nothing is parsed as markup.
(function () {
  "use strict";

  var STRINGS = {
    en: {
      title: "Chat with support",
      notice: "Support is free. We never ask for your recovery phrase or private key.",
      name: "Your name (optional)",
      email: "Email (optional): where we answer if nobody is online",
      question: "How can we help?",
      start: "Start chat",
      starting: "Starting…",
      placeholder: "Type a message",
      send: "Send",
      attach: "Attach a file",
      end: "End chat",
      endConfirm: "End this chat?",
      you: "You",
      agent: "Support",
      system: "walletdesk",
      sending: "Sending…",
      read: "Read",
      online: "Connected",
      connecting: "Connecting…",
      offline: "Disconnected: your messages will be sent when the connection is back",
      liveUnavailable:
        "Live chat is unavailable for a moment. We keep trying to reconnect, and your messages are " +
        "kept until they can be sent. You can also write to us from the contact form.",
      queued: "You are number {n} in the queue. An agent will be with you soon.",
      queuedNoPos: "You are in the queue. An agent will be with you soon.",
      assigned: "You are chatting with {name}.",
      noAgent: "No agent is online: we will answer by email by {time}.",
      noAgentNoTime: "No agent is online: we will answer by email.",
      typing: "{name} is typing…",
      removed:
        "We removed what looked like a recovery phrase or private key from your message. " +
        "Support never asks for it: never share it with anyone, and if you already did, " +
        "move your funds to a new wallet.",
      ended: "This chat has ended. Your reference is {ref}.",
      endedUnanswered:
        "This chat has ended. Your request {ref} stays open and we will answer it by email.",
      rate: "Rate this chat",
      csatAsk: "How did we do?",
      faIntro: "This article may answer your question:",
      faSolved: "This solved it",
      faPerson: "Talk to a person",
      faThanks: "Glad it helped. We marked your request as solved.",
      faWaiting: "An agent will answer you here.",
      good: "Good",
      bad: "Not good",
      endedShort: "This chat has ended. Your reference is {ref}.",
      newChat: "Start a new chat",
      badLink: "This chat link is no longer valid.",
      closed: "This conversation is closed. Please start a new one.",
      tooBig: "This message is too long to send.",
      uploading: "Uploading {name}…",
      failed: "Not sent",
      errorGeneric: "Something went wrong. Please try again.",
      rateLimited: "Too many attempts. Please wait a moment and try again.",
      tooLong: "This message is too long. Please shorten it.",
      required: "Write a message first."
    },
    "zh-hans": {
      title: "在线客服",
      notice: "客服是免费的。我们绝不会索要您的助记词或私钥。",
      name: "您的称呼（选填）",
      email: "邮箱（选填）：无人在线时我们通过邮件回复",
      question: "请问有什么可以帮您？",
      start: "开始对话",
      starting: "正在连接…",
      placeholder: "输入消息",
      send: "发送",
      attach: "添加附件",
      end: "结束对话",
      endConfirm: "确定结束本次对话？",
      you: "我",
      agent: "客服",
      system: "walletdesk",
      sending: "发送中…",
      read: "已读",
      online: "已连接",
      connecting: "正在连接…",
      offline: "连接已断开：恢复连接后会自动发送您的消息",
      liveUnavailable: "在线聊天暂时不可用。我们会持续尝试重新连接，您的消息会保留到可以发送为止。您也可以通过联系表单给我们留言。",
      queued: "您前面还有 {n} 位，客服将很快为您服务。",
      queuedNoPos: "正在排队，客服将很快为您服务。",
      assigned: "{name} 正在为您服务。",
      noAgent: "当前没有客服在线：我们将在 {time} 前通过邮件回复您。",
      noAgentNoTime: "当前没有客服在线：我们将通过邮件回复您。",
      typing: "{name} 正在输入…",
      removed:
        "您的消息中疑似包含助记词或私钥，我们已将其删除。客服绝不会索要它们：请不要告诉任何人；" +
        "如果已经泄露，请尽快将资产转移到新钱包。",
      ended: "对话已结束。您的工单编号是 {ref}。",
      endedUnanswered: "对话已结束。您的工单 {ref} 仍在处理中，我们会通过邮件回复您。",
      rate: "评价本次服务",
      csatAsk: "您对本次服务满意吗？",
      faIntro: "这篇文章也许能解答您的问题：",
      faSolved: "问题已解决",
      faPerson: "转人工客服",
      faThanks: "很高兴帮到您，我们已将您的请求标记为已解决。",
      faWaiting: "客服人员会在这里回复您。",
      good: "满意",
      bad: "不满意",
      endedShort: "对话已结束。您的工单编号是 {ref}。",
      newChat: "开始新对话",
      badLink: "该对话链接已失效。",
      closed: "该对话已关闭，请开始新的对话。",
      tooBig: "消息太长，无法发送。",
      uploading: "正在上传 {name}…",
      failed: "未发送",
      errorGeneric: "出错了，请重试。",
      rateLimited: "操作过于频繁，请稍后再试。",
      tooLong: "消息太长，请缩短后再发送。",
      required: "请先输入消息。"
    },
    "zh-hant": {
      title: "線上客服",
      notice: "客服是免費的。我們絕不會索取您的助記詞或私鑰。",
      name: "您的稱呼（選填）",
      email: "電郵（選填）：無人在線時我們透過電郵回覆",
      question: "請問有什麼可以幫您？",
      start: "開始對話",
      starting: "正在連線…",
      placeholder: "輸入訊息",
      send: "傳送",
      attach: "加入附件",
      end: "結束對話",
      endConfirm: "確定結束本次對話？",
      you: "我",
      agent: "客服",
      system: "walletdesk",
      sending: "傳送中…",
      read: "已讀",
      online: "已連線",
      connecting: "正在連線…",
      offline: "連線已中斷：恢復連線後會自動傳送您的訊息",
      liveUnavailable: "線上聊天暫時不可用。我們會持續嘗試重新連線，您的訊息會保留到可以傳送為止。您也可以透過聯絡表單給我們留言。",
      queued: "您前面還有 {n} 位，客服將很快為您服務。",
      queuedNoPos: "正在排隊，客服將很快為您服務。",
      assigned: "{name} 正在為您服務。",
      noAgent: "目前沒有客服在線：我們將在 {time} 前透過電郵回覆您。",
      noAgentNoTime: "目前沒有客服在線：我們將透過電郵回覆您。",
      typing: "{name} 正在輸入…",
      removed:
        "您的訊息中疑似包含助記詞或私鑰，我們已將其刪除。客服絕不會索取它們：請不要告訴任何人；" +
        "如果已經外洩，請盡快將資產轉移到新錢包。",
      ended: "對話已結束。您的工單編號是 {ref}。",
      endedUnanswered: "對話已結束。您的工單 {ref} 仍在處理中，我們會透過電郵回覆您。",
      rate: "評價本次服務",
      csatAsk: "您對本次服務滿意嗎？",
      faIntro: "這篇文章也許能解答您的問題：",
      faSolved: "問題已解決",
      faPerson: "轉人工客服",
      faThanks: "很高興幫到您，我們已將您的請求標記為已解決。",
      faWaiting: "客服人員會在這裡回覆您。",
      good: "滿意",
      bad: "不滿意",
      endedShort: "對話已結束。您的工單編號是 {ref}。",
      newChat: "開始新對話",
      badLink: "該對話連結已失效。",
      closed: "該對話已關閉，請開始新的對話。",
      tooBig: "訊息太長，無法傳送。",
      uploading: "正在上傳 {name}…",
      failed: "未傳送",
      errorGeneric: "發生錯誤，請重試。",
      rateLimited: "操作過於頻繁，請稍後再試。",
      tooLong: "訊息太長，請縮短後再傳送。",
      required: "請先輸入訊息。"
    }
  };
  var LOCALES = { en: "en", "zh-hans": "zh-Hans-CN", "zh-hant": "zh-Hant-TW" };
  var BACKOFF = [500, 1000, 2000, 4000, 8000, 15000];
  var TYPING_EVERY = 3000;
  var TYPING_SHOWN = 6000; // the other side repeats within 5 s while typing
  var PING_EVERY = 25000;
  var MAX_FRAME = 60000; // the server closes on a frame over 64 KiB; never resend one forever
  var WS_PATH = /^\/ws\/chat\/[A-Za-z0-9-]+\/\?/;
  var STORE = "wd-chat:";

  function lang(value) {
    value = (value || "").toLowerCase();
    if (value === "zh-hant" || value === "zh-tw" || value === "zh-hk") return "zh-hant";
    if (value.indexOf("zh") === 0) return "zh-hans";
    return "en";
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, key) {
      return values && values[key] != null ? String(values[key]) : all;
    });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split(";") : [];
    for (var i = 0; i < parts.length; i++) {
      var kv = parts[i].trim();
      if (kv.indexOf(name + "=") === 0) return decodeURIComponent(kv.slice(name.length + 1));
    }
    return null;
  }

  function safeHref(url) {
    // Attachment links come from the server; still, only http(s) on a real host may be a link.
    try {
      var parsed = new URL(String(url), window.location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function size(bytes) {
    if (typeof bytes !== "number") return "";
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1048576) return Math.round(bytes / 1024) + " KB";
    return (bytes / 1048576).toFixed(1) + " MB";
  }

  function referenceOf(wsUrl) {
    var m = /^\/ws\/chat\/([A-Za-z0-9-]+)\//.exec(wsUrl || "");
    return m ? m[1] : null;
  }

  function credentialOf(wsUrl) {
    try {
      return new URL(wsUrl, window.location.href).searchParams.get("t");
    } catch (e) {
      return null;
    }
  }

  function storage() {
    try {
      var probe = STORE + "probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      return null; // private mode or blocked: the chat still works, a reload just forgets
    }
  }

  function Chat(root) {
    this.root = root;
    this.lang = lang(root.getAttribute("data-lang") || document.documentElement.lang);
    this.t = STRINGS[this.lang];
    this.startUrl = root.getAttribute("data-start-url") || "/api/v1/chat/conversations";
    this.signedIn = root.getAttribute("data-signed-in") === "1";
    this.store = storage();
    this.state = null; // {reference, ws_url, last_seq, outbox: [{client_id, body}]}
    this.shown = {}; // seq -> element
    this.pending = {}; // client_id -> element
    this.lastSeq = 0;
    this.socket = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.deadTimer = null;
    this.typingSentAt = 0;
    this.typingOn = false;
    this.theirTypingTimer = null;
    this.readSent = 0;
    this.theirSeq = 0; // the highest seq written by the other side
    this.agentRead = 0; // the highest seq the agent has read
    this.replayUntil = 0;
    this.flushed = false;
    this.ended = false;
    this.stopped = false;
    this.counter = 0;
    this.build();
    var wsUrl = root.getAttribute("data-ws-url");
    if (wsUrl && WS_PATH.test(wsUrl)) {
      this.resume(wsUrl);
    } else {
      var current = this.store && this.store.getItem(STORE + "current");
      var saved = current && this.load(current);
      if (saved) this.resume(saved.ws_url);
      else this.showStart();
    }
  }

  Chat.prototype.build = function () {
    var t = this.t;
    var root = this.root;
    root.classList.add("wd-chat");
    if (root.hasAttribute("data-fullscreen")) root.classList.add("wd-fullscreen");
    root.setAttribute("lang", this.lang === "en" ? "en" : this.lang === "zh-hant" ? "zh-Hant" : "zh-Hans");
    while (root.firstChild) root.removeChild(root.firstChild);

    var head = el("div", "wd-head");
    var title = el("div", "wd-title");
    title.appendChild(el("strong", null, t.title));
    this.dot = el("span", "wd-conn wd-conn-off");
    this.dot.setAttribute("role", "status");
    this.dot.setAttribute("data-testid", "chat-connection");
    this.dotText = el("span", "wd-conn-text", t.connecting);
    this.dot.appendChild(el("span", "wd-dot"));
    this.dot.appendChild(this.dotText);
    title.appendChild(this.dot);
    head.appendChild(title);
    this.endButton = el("button", "wd-end", t.end);
    this.endButton.type = "button";
    this.endButton.hidden = true;
    this.endButton.setAttribute("data-testid", "chat-end");
    head.appendChild(this.endButton);
    root.appendChild(head);

    var notice = el("p", "wd-notice", t.notice);
    notice.setAttribute("data-testid", "chat-notice");
    root.appendChild(notice);

    this.statusLine = el("p", "wd-status");
    this.statusLine.setAttribute("data-testid", "chat-status");
    this.statusLine.setAttribute("aria-live", "polite");
    this.statusLine.hidden = true;
    root.appendChild(this.statusLine);

    this.body = el("div", "wd-body");
    this.log = el("ol", "wd-log");
    this.log.setAttribute("data-testid", "chat-log");
    this.log.setAttribute("aria-live", "polite");
    this.pendingList = el("ol", "wd-log wd-pending-list");
    this.body.appendChild(this.log);
    this.body.appendChild(this.pendingList);
    this.typingLine = el("p", "wd-typing");
    this.typingLine.setAttribute("data-testid", "chat-typing");
    this.typingLine.hidden = true;
    this.body.appendChild(this.typingLine);
    this.endBox = el("div", "wd-ended");
    this.endBox.setAttribute("data-testid", "chat-ended");
    this.endBox.hidden = true;
    this.body.appendChild(this.endBox);
    root.appendChild(this.body);

    this.alert = el("p", "wd-alert");
    this.alert.setAttribute("role", "alert");
    this.alert.setAttribute("data-testid", "chat-alert");
    this.alert.hidden = true;
    root.appendChild(this.alert);

    // The start form (help centre, no conversation yet).
    this.startForm = el("form", "wd-start");
    this.startForm.setAttribute("data-testid", "chat-start");
    this.startForm.hidden = true;
    this.nameInput = this.field(this.startForm, "text", t.name, "name", 120);
    this.nameInput.setAttribute("autocomplete", "name");
    this.emailInput = this.field(this.startForm, "email", t.email, "email", 254);
    this.emailInput.setAttribute("autocomplete", "email");
    if (this.signedIn) {
      this.nameInput.parentNode.hidden = true;
      this.emailInput.parentNode.hidden = true;
    }
    var qLabel = el("label", "wd-field");
    qLabel.appendChild(el("span", null, t.question));
    this.questionInput = el("textarea");
    this.questionInput.name = "question";
    this.questionInput.rows = 3;
    this.questionInput.required = true;
    qLabel.appendChild(this.questionInput);
    this.startForm.appendChild(qLabel);
    this.startButton = el("button", "wd-primary", t.start);
    this.startButton.type = "submit";
    this.startForm.appendChild(this.startButton);
    root.appendChild(this.startForm);

    // The composer.
    this.composer = el("form", "wd-composer");
    this.composer.setAttribute("data-testid", "chat-composer");
    this.composer.hidden = true;
    this.fileInput = el("input");
    this.fileInput.type = "file";
    this.fileInput.className = "wd-file";
    this.fileInput.setAttribute("aria-label", t.attach);
    this.fileInput.setAttribute("data-testid", "chat-file");
    var attach = el("label", "wd-attach");
    attach.title = t.attach;
    attach.appendChild(el("span", "wd-clip", "+"));
    attach.appendChild(el("span", "wd-sr", t.attach));
    attach.appendChild(this.fileInput);
    this.composer.appendChild(attach);
    this.input = el("textarea", "wd-input");
    this.input.rows = 1;
    this.input.placeholder = t.placeholder;
    this.input.setAttribute("aria-label", t.placeholder);
    this.input.setAttribute("data-testid", "chat-input");
    this.composer.appendChild(this.input);
    this.sendButton = el("button", "wd-primary wd-send", t.send);
    this.sendButton.type = "submit";
    this.sendButton.setAttribute("data-testid", "chat-send");
    this.composer.appendChild(this.sendButton);
    root.appendChild(this.composer);

    var self = this;
    this.startForm.addEventListener("submit", function (e) {
      e.preventDefault();
      self.start();
    });
    this.composer.addEventListener("submit", function (e) {
      e.preventDefault();
      self.sendText();
    });
    this.input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        self.sendText();
      }
    });
    this.input.addEventListener("input", function () {
      self.typed();
    });
    this.input.addEventListener("blur", function () {
      self.stopTyping();
    });
    this.fileInput.addEventListener("change", function () {
      var file = self.fileInput.files && self.fileInput.files[0];
      if (file) self.upload(file);
      self.fileInput.value = "";
    });
    this.endButton.addEventListener("click", function () {
      if (window.confirm(t.endConfirm)) self.frame({ type: "end" });
    });
    window.addEventListener("online", function () {
      self.reconnectNow();
    });
    window.addEventListener("offline", function () {
      self.connection("off");
    });
    document.addEventListener("visibilitychange", function () {
      self.markRead();
    });
    window.addEventListener("focus", function () {
      self.markRead();
    });
    window.addEventListener("resize", function () {
      self.scroll(); // a phone's keyboard or rotation must not hide the latest message
    });
  };

  Chat.prototype.field = function (form, type, label, name, max) {
    var wrap = el("label", "wd-field");
    wrap.appendChild(el("span", null, label));
    var input = el("input");
    input.type = type;
    input.name = name;
    input.maxLength = max;
    wrap.appendChild(input);
    form.appendChild(wrap);
    return input;
  };

  // ---- storage ------------------------------------------------------------------------------

  Chat.prototype.load = function (reference) {
    if (!this.store || !reference) return null;
    try {
      var saved = JSON.parse(this.store.getItem(STORE + reference) || "null");
      if (saved && saved.ws_url && WS_PATH.test(saved.ws_url)) {
        if (!Array.isArray(saved.outbox)) saved.outbox = [];
        return saved;
      }
    } catch (e) {
      /* a damaged entry is forgotten */
    }
    return null;
  };

  Chat.prototype.save = function () {
    if (!this.store || !this.state) return;
    try {
      this.state.last_seq = this.lastSeq;
      this.store.setItem(STORE + this.state.reference, JSON.stringify(this.state));
    } catch (e) {
      /* full: the chat goes on without it */
    }
  };

  Chat.prototype.forget = function () {
    if (!this.store || !this.state) return;
    this.store.removeItem(STORE + this.state.reference);
    if (this.store.getItem(STORE + "current") === this.state.reference) {
      this.store.removeItem(STORE + "current");
    }
  };

  // ---- start / resume -----------------------------------------------------------------------

  Chat.prototype.showStart = function () {
    this.root.classList.add("wd-starting");
    this.startForm.hidden = false;
    this.composer.hidden = true;
    this.endButton.hidden = true;
    this.connection("idle");
  };

  Chat.prototype.start = function () {
    var self = this;
    var t = this.t;
    var question = this.questionInput.value.trim();
    if (!question) {
      this.questionInput.focus();
      return;
    }
    var payload = { language: this.lang };
    var name = this.nameInput.value.trim();
    var email = this.emailInput.value.trim();
    if (name && !this.signedIn) payload.name = name;
    if (email && !this.signedIn) payload.email = email;
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    var csrf = cookie("csrftoken");
    if (csrf) headers["X-CSRFToken"] = csrf;
    this.startButton.disabled = true;
    this.startButton.textContent = t.starting;
    this.say(null);
    fetch(this.startUrl, {
      method: "POST",
      headers: headers,
      credentials: "same-origin",
      body: JSON.stringify(payload)
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            return { ok: response.status === 201, status: response.status, data: data };
          });
      })
      .then(function (r) {
        self.startButton.disabled = false;
        self.startButton.textContent = t.start;
        if (!r.ok || !r.data.ws_url || !WS_PATH.test(r.data.ws_url)) {
          self.say(r.status === 429 ? t.rateLimited : r.data.message || t.errorGeneric);
          return;
        }
        self.questionInput.value = "";
        self.resume(r.data.ws_url, r.data);
        self.queue(question);
      })
      .catch(function () {
        self.startButton.disabled = false;
        self.startButton.textContent = t.start;
        self.say(t.errorGeneric);
      });
  };

  Chat.prototype.resume = function (wsUrl, created) {
    var reference = referenceOf(wsUrl);
    var saved = this.load(reference);
    // A new credential for the same conversation keeps what is still waiting to be sent.
    this.state = saved || { reference: reference, ws_url: wsUrl, last_seq: 0, outbox: [] };
    this.state.ws_url = wsUrl;
    if (this.store && !this.root.hasAttribute("data-ws-url")) this.store.setItem(STORE + "current", reference);
    this.save();
    this.root.classList.remove("wd-starting");
    this.startForm.hidden = true;
    this.composer.hidden = false;
    this.endButton.hidden = false;
    this.root.setAttribute("data-reference", reference);
    if (created) this.showStatus(created);
    for (var i = 0; i < this.state.outbox.length; i++) this.showPending(this.state.outbox[i]);
    this.connect();
  };

  // ---- the socket ---------------------------------------------------------------------------

  Chat.prototype.connect = function () {
    if (this.stopped || !this.state) return;
    clearTimeout(this.retryTimer);
    var proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    var url = proto + "//" + window.location.host + this.state.ws_url;
    // The page starts with an empty transcript: the first socket replays all of it; later ones
    // what came after the highest seq this page shows, or after the seq it showed when the
    // oldest unacknowledged message was written: if that message was stored and only its
    // acknowledgement lost, the replay carries it (with its client_id) and acknowledges it.
    var after = this.lastSeq;
    for (var i = 0; i < this.state.outbox.length; i++) {
      var base = this.state.outbox[i].after;
      if (typeof base === "number" && base < after) after = base;
    }
    if (after > 0) url += (url.indexOf("?") >= 0 ? "&" : "?") + "after=" + after;
    this.socketSeq = after; // the highest seq this socket has brought (its replay starts above)
    this.connection("connecting");
    var socket;
    try {
      socket = new WebSocket(url);
    } catch (e) {
      this.retry();
      return;
    }
    this.socket = socket;
    this.flushed = false;
    var self = this;
    socket.onmessage = function (event) {
      if (socket !== self.socket) return;
      self.alive();
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (data && typeof data.type === "string") self.receive(data);
    };
    socket.onclose = function (event) {
      if (socket !== self.socket) return;
      self.socket = null;
      clearInterval(self.pingTimer);
      clearTimeout(self.deadTimer);
      if (event.code === 4401 || event.code === 4404) {
        self.stopped = true;
        self.connection("off");
        self.composer.hidden = true;
        self.endButton.hidden = true;
        self.say(self.t.badLink);
        if (!self.root.hasAttribute("data-ws-url")) {
          self.forget();
          self.offerNew();
        }
        return;
      }
      self.connection("off");
      self.theyType({ typing: false }); // nobody is known to be typing over a dead socket
      self.retry();
    };
    socket.onerror = function () {
      /* onclose follows */
    };
  };

  Chat.prototype.retry = function () {
    if (this.stopped) return;
    var wait = BACKOFF[Math.min(this.attempt, BACKOFF.length - 1)];
    this.attempt += 1;
    var self = this;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(function () {
      self.connect();
    }, wait);
  };

  Chat.prototype.reconnectNow = function () {
    if (this.stopped || !this.state) return;
    if (this.socket && this.socket.readyState <= 1) return;
    this.attempt = 0;
    this.connect();
  };

  Chat.prototype.alive = function () {
    // Any frame proves the socket; silence after a ping means a dead one (a sleeping phone,
    // a proxy that dropped it): close it and reconnect rather than wait for TCP to notice.
    clearTimeout(this.deadTimer);
  };

  Chat.prototype.keepAlive = function () {
    var self = this;
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(function () {
      var socket = self.socket;
      if (!socket || socket.readyState !== 1) return;
      socket.send(JSON.stringify({ type: "ping" }));
      clearTimeout(self.deadTimer);
      self.deadTimer = setTimeout(function () {
        if (socket === self.socket) socket.close();
      }, 10000);
    }, PING_EVERY);
  };

  Chat.prototype.frame = function (data) {
    var socket = this.socket;
    if (!socket || socket.readyState !== 1) return false;
    socket.send(JSON.stringify(data));
    return true;
  };

  Chat.prototype.receive = function (data) {
    switch (data.type) {
      case "hello":
        this.attempt = 0;
        this.connection("on");
        if (this.liveDown) {
          this.liveDown = false; // live chat is back: the "unavailable" notice goes
          this.say("");
        }
        this.keepAlive();
        this.showStatus(data);
        if (typeof data.customer_read_seq === "number" && data.customer_read_seq > this.readSent) {
          this.readSent = data.customer_read_seq;
        }
        if (typeof data.agent_read_seq === "number") this.theyRead(data.agent_read_seq);
        if (data.status === "ended" && !this.ended) this.showEnded({ reference: data.reference });
        // Resend only once the replay is in: a message whose ack was lost comes back in it.
        this.replayUntil = typeof data.last_seq === "number" ? data.last_seq : 0;
        if (this.socketSeq >= this.replayUntil) this.flush();
        else this.flushLater();
        break;
      case "message":
        this.showMessage(data);
        if (typeof data.seq === "number" && data.seq > this.socketSeq) this.socketSeq = data.seq;
        if (!this.flushed && this.socketSeq >= this.replayUntil) this.flush();
        break;
      case "typing":
        if (data.author !== "customer") this.theyType(data);
        break;
      case "read":
        if (data.author !== "customer") this.theyRead(data.seq);
        break;
      case "status":
        this.showStatus(data);
        if (data.status === "ended" && !this.ended) this.showEnded({});
        break;
      case "csat":
        this.showSurvey(data);
        break;
      case "first_answer":
        this.answered(data.seq, data.state);
        break;
      case "error":
        this.showError(data);
        break;
      case "ended":
        this.showEnded(data);
        break;
      default:
        break; // pong and frames a later server adds
    }
  };

  // ---- sending ------------------------------------------------------------------------------

  Chat.prototype.newId = function () {
    this.counter += 1;
    var rand = Math.floor(Math.random() * 0x7fffffff).toString(36);
    return "c-" + Date.now() + "-" + this.counter + "-" + rand;
  };

  Chat.prototype.sendText = function () {
    var body = this.input.value.trim();
    if (!body || this.ended) return;
    this.stopTyping();
    if (this.queue(body)) this.input.value = "";
    this.input.focus();
  };

  Chat.prototype.queue = function (body) {
    var item = { client_id: this.newId(), body: body, after: this.lastSeq };
    var frame = JSON.stringify({ type: "message", client_id: item.client_id, body: body });
    if (new TextEncoder().encode(frame).length > MAX_FRAME) {
      this.say(this.t.tooBig);
      return false;
    }
    this.say(null);
    this.state.outbox.push(item);
    this.save();
    this.showPending(item);
    // Sent now if the socket is up and replayed; otherwise flush() sends it after reconnecting.
    if (this.flushed) this.frame({ type: "message", client_id: item.client_id, body: body });
    return true;
  };

  Chat.prototype.flush = function () {
    // After the replay: whatever the replay did not acknowledge is sent again, same client_id.
    this.flushed = true;
    var outbox = this.state.outbox.slice();
    for (var i = 0; i < outbox.length; i++) {
      this.frame({ type: "message", client_id: outbox[i].client_id, body: outbox[i].body });
    }
    this.markRead();
  };

  Chat.prototype.flushLater = function () {
    // Should the replay stop short of hello's last_seq, the outbox still goes out.
    var self = this;
    var socket = this.socket;
    setTimeout(function () {
      if (socket === self.socket && !self.flushed) self.flush();
    }, 3000);
  };

  Chat.prototype.typed = function () {
    if (!this.input.value.trim()) return;
    var now = Date.now();
    if (now - this.typingSentAt >= TYPING_EVERY && this.frame({ type: "typing", typing: true })) {
      this.typingSentAt = now;
      this.typingOn = true;
    }
  };

  Chat.prototype.stopTyping = function () {
    if (this.typingOn) this.frame({ type: "typing", typing: false });
    this.typingOn = false;
    this.typingSentAt = 0;
  };

  Chat.prototype.markRead = function () {
    if (document.visibilityState !== "visible" || !this.flushed) return;
    // Only what the other side wrote needs a receipt; "read up to" names the highest seq shown.
    if (this.theirSeq > this.readSent && this.frame({ type: "read", seq: this.lastSeq })) {
      this.readSent = this.lastSeq;
    }
  };

  Chat.prototype.upload = function (file) {
    if (!this.state || this.ended) return;
    var self = this;
    var t = this.t;
    var credential = credentialOf(this.state.ws_url);
    var url =
      "/api/v1/chat/conversations/" + encodeURIComponent(this.state.reference) +
      "/attachments?t=" + encodeURIComponent(credential || "");
    var form = new FormData();
    var clientId = this.newId();
    form.append("file", file);
    form.append("client_id", clientId);
    var row = el("li", "wd-msg wd-mine wd-pending");
    row.appendChild(el("div", "wd-bubble", fill(t.uploading, { name: file.name })));
    this.pendingList.appendChild(row);
    this.scroll();
    var headers = { Accept: "application/json" };
    var csrf = cookie("csrftoken");
    if (csrf) headers["X-CSRFToken"] = csrf;
    fetch(url, { method: "POST", body: form, headers: headers, credentials: "same-origin" })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            return { ok: response.status === 201, status: response.status, data: data };
          });
      })
      .then(function (r) {
        if (row.parentNode) row.parentNode.removeChild(row);
        if (r.ok && r.data && r.data.type === "message") {
          self.showMessage(r.data);
        } else {
          self.say(r.status === 429 ? t.rateLimited : (r.data && r.data.message) || t.errorGeneric);
        }
      })
      .catch(function () {
        if (row.parentNode) row.parentNode.removeChild(row);
        self.say(t.errorGeneric);
      });
  };

  // ---- showing ------------------------------------------------------------------------------

  Chat.prototype.connection = function (state) {
    var t = this.t;
    this.dot.className = "wd-conn wd-conn-" + state;
    this.dot.setAttribute("data-state", state);
    this.dotText.textContent =
      state === "on" ? t.online : state === "off" ? t.offline : state === "idle" ? "" : t.connecting;
    this.root.setAttribute("data-connection", state);
  };

  Chat.prototype.say = function (text) {
    this.alert.textContent = text || "";
    this.alert.hidden = !text;
  };

  Chat.prototype.time = function (iso, withDate) {
    var when = new Date(iso);
    if (isNaN(when.getTime())) return "";
    var opts = withDate
      ? { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }
      : { hour: "2-digit", minute: "2-digit" };
    try {
      return new Intl.DateTimeFormat(LOCALES[this.lang], opts).format(when);
    } catch (e) {
      return when.toLocaleString();
    }
  };

  Chat.prototype.showStatus = function (data) {
    var t = this.t;
    var text = "";
    if (data.status === "queued") {
      text = typeof data.queue_position === "number" ? fill(t.queued, { n: data.queue_position }) : t.queuedNoPos;
    } else if (data.status === "assigned") {
      var name = (data.agent && data.agent.name) || t.agent;
      text = fill(t.assigned, { name: name });
    } else if (data.status === "offline") {
      text = data.reply_by ? fill(t.noAgent, { time: this.time(data.reply_by, true) }) : t.noAgentNoTime;
    }
    this.statusLine.textContent = text;
    this.statusLine.hidden = !text;
    this.statusLine.setAttribute("data-status", data.status || "");
  };

  Chat.prototype.showPending = function (item) {
    if (this.pending[item.client_id]) return;
    var row = el("li", "wd-msg wd-mine wd-pending");
    row.setAttribute("data-client-id", item.client_id);
    row.appendChild(el("div", "wd-bubble", item.body));
    row.appendChild(el("div", "wd-meta", this.t.sending));
    this.pending[item.client_id] = row;
    this.pendingList.appendChild(row);
    this.scroll();
  };

  Chat.prototype.showMessage = function (m) {
    if (typeof m.seq !== "number") return;
    var t = this.t;
    var mine = m.author === "customer";
    if (mine && m.client_id) this.acked(m.client_id);
    if (this.shown[m.seq]) return; // already shown: a replay overlap, or a resend's answer
    var row = el("li", "wd-msg " + (mine ? "wd-mine" : m.author === "system" ? "wd-system" : "wd-theirs"));
    row.setAttribute("data-seq", String(m.seq));
    row.setAttribute("data-author", String(m.author || ""));
    if (m.client_id) row.setAttribute("data-client-id", String(m.client_id));
    if (!mine && m.author !== "system") {
      row.appendChild(el("div", "wd-who", m.author_name || t.agent));
    }
    var bubble = m.first_answer ? this.firstAnswer(m) : el("div", "wd-bubble", m.body || "");
    var files = Array.isArray(m.attachments) ? m.attachments : [];
    if (files.length) {
      var list = el("ul", "wd-files");
      for (var i = 0; i < files.length; i++) {
        var f = files[i] || {};
        var li = el("li");
        var href = safeHref(f.url);
        var label = (f.name || "file") + (f.size != null ? " (" + size(f.size) + ")" : "");
        if (href) {
          var a = el("a", null, label);
          a.href = href;
          a.rel = "noopener noreferrer";
          a.target = "_blank";
          li.appendChild(a);
        } else {
          li.textContent = label;
        }
        list.appendChild(li);
      }
      bubble.appendChild(list);
    }
    row.appendChild(bubble);
    if (Array.isArray(m.removed) && m.removed.length) {
      var warn = el("div", "wd-removed", t.removed);
      warn.setAttribute("data-testid", "chat-removed");
      row.appendChild(warn);
    }
    var meta = el("div", "wd-meta", this.time(m.created_at));
    row.appendChild(meta);
    this.shown[m.seq] = row;
    // In seq order: replays come oldest first, so this is nearly always an append.
    var after = null;
    for (var node = this.log.lastChild; node; node = node.previousSibling) {
      if (Number(node.getAttribute("data-seq")) < m.seq) break;
      after = node;
    }
    this.log.insertBefore(row, after);
    if (m.seq > this.lastSeq) {
      this.lastSeq = m.seq;
      this.save();
    }
    if (mine && m.seq <= this.agentRead) this.theyRead(this.agentRead);
    if (!mine) {
      this.theyType({ typing: false });
      if (m.seq > this.theirSeq) this.theirSeq = m.seq;
    }
    this.markRead();
    this.scroll();
  };

  Chat.prototype.firstAnswer = function (m) {
    // The bot's line: our article's passage as written, its title linked, two buttons that
    // send a first_answer frame on this socket (only this conversation's credential can).
    var t = this.t;
    var self = this;
    var fa = m.first_answer;
    var bubble = el("div", "wd-bubble wd-first-answer");
    bubble.setAttribute("data-testid", "chat-first-answer");
    bubble.appendChild(el("p", "wd-fa-intro", t.faIntro));
    // Plain text (textContent): the Markdown's emphasis markers would only be noise.
    bubble.appendChild(el("blockquote", "wd-fa-passage", String(fa.passage || "").replace(/\*\*/g, "")));
    var href = safeHref(fa.url);
    var cite = el("p", "wd-fa-cite", "— ");
    if (href) {
      var a = el("a", null, fa.title || href);
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.setAttribute("data-testid", "chat-first-answer-link");
      cite.appendChild(a);
    } else {
      cite.appendChild(document.createTextNode(fa.title || ""));
    }
    bubble.appendChild(cite);
    var buttons = el("div", "wd-fa-buttons");
    var pairs = [["solved", t.faSolved, "wd-primary wd-button"], ["person", t.faPerson, "wd-button"]];
    for (var i = 0; i < pairs.length; i++) {
      var b = el("button", pairs[i][2], pairs[i][1]);
      b.type = "button";
      b.setAttribute("data-testid", "chat-first-answer-" + pairs[i][0]);
      b.addEventListener("click", (function (choice) {
        return function () {
          if (self.frame({ type: "first_answer", seq: m.seq, choice: choice })) {
            var all = buttons.querySelectorAll("button");
            for (var j = 0; j < all.length; j++) all[j].disabled = true;
          }
        };
      })(pairs[i][0]));
      buttons.appendChild(b);
    }
    bubble.appendChild(buttons);
    var done = el("p", "wd-fa-done");
    done.setAttribute("data-testid", "chat-first-answer-done");
    done.hidden = true;
    bubble.appendChild(done);
    this.faRows = this.faRows || {};
    this.faRows[m.seq] = { buttons: buttons, done: done };
    if (fa.state && fa.state !== "pending") {
      var row = this.faRows[m.seq];
      setTimeout(function () { self.answered(m.seq, fa.state); }, 0);
      row.buttons.hidden = true;
    }
    return bubble;
  };

  Chat.prototype.answered = function (seq, state) {
    var row = (this.faRows || {})[seq];
    if (!row) return;
    row.buttons.hidden = true;
    row.done.textContent = state === "solved" ? this.t.faThanks : this.t.faWaiting;
    row.done.hidden = false;
  };

  Chat.prototype.acked = function (clientId) {
    var row = this.pending[clientId];
    if (row && row.parentNode) row.parentNode.removeChild(row);
    delete this.pending[clientId];
    var outbox = this.state.outbox;
    for (var i = outbox.length - 1; i >= 0; i--) {
      if (outbox[i].client_id === clientId) outbox.splice(i, 1);
    }
    this.save();
  };

  Chat.prototype.showError = function (e) {
    var t = this.t;
    // Known codes in the widget's language; the server's own words for anything newer.
    var known = {
      too_long: t.tooLong,
      required: t.required,
      rate_limited: t.rateLimited,
      ticket_closed: t.closed,
      live_unavailable: t.liveUnavailable,
    };
    var text = known[e.code] || e.message || t.errorGeneric;
    if (e.client_id && this.pending[e.client_id]) {
      // Refused: nothing stored, never resent. The text stays on screen with the reason.
      var row = this.pending[e.client_id];
      delete this.pending[e.client_id];
      var outbox = this.state.outbox;
      for (var i = outbox.length - 1; i >= 0; i--) {
        if (outbox[i].client_id === e.client_id) outbox.splice(i, 1);
      }
      this.save();
      row.className = "wd-msg wd-mine wd-failed";
      var meta = row.querySelector(".wd-meta");
      if (meta) meta.textContent = t.failed;
      var why = el("div", "wd-error", text);
      why.setAttribute("data-testid", "chat-error");
      row.appendChild(why);
    } else {
      this.say(text);
    }
    if (e.code === "ticket_closed") this.closeComposer();
    if (e.code === "live_unavailable") this.liveDown = true; // the socket closes (1013); retried
  };

  Chat.prototype.theyType = function (data) {
    var self = this;
    clearTimeout(this.theirTypingTimer);
    if (data.typing) {
      this.typingLine.textContent = fill(this.t.typing, { name: data.name || this.t.agent });
      this.typingLine.hidden = false;
      this.theirTypingTimer = setTimeout(function () {
        self.typingLine.hidden = true;
      }, TYPING_SHOWN);
      this.scroll();
    } else {
      this.typingLine.hidden = true;
    }
  };

  Chat.prototype.theyRead = function (seq) {
    if (typeof seq !== "number" || seq < this.agentRead) return;
    this.agentRead = seq;
    var old = this.log.querySelectorAll(".wd-read");
    for (var i = 0; i < old.length; i++) old[i].parentNode.removeChild(old[i]);
    var rows = this.log.querySelectorAll(".wd-mine[data-seq]");
    for (var j = rows.length - 1; j >= 0; j--) {
      if (Number(rows[j].getAttribute("data-seq")) <= seq) {
        var mark = el("div", "wd-read", this.t.read);
        mark.setAttribute("data-testid", "chat-read");
        rows[j].appendChild(mark);
        return;
      }
    }
  };

  Chat.prototype.closeComposer = function () {
    this.composer.hidden = true;
    this.endButton.hidden = true;
    this.stopTyping();
  };

  Chat.prototype.showEnded = function (data) {
    var t = this.t;
    this.ended = true;
    this.closeComposer();
    this.statusLine.hidden = true;
    this.typingLine.hidden = true;
    var survey = this.endBox.querySelector(".wd-survey");
    while (this.endBox.firstChild) this.endBox.removeChild(this.endBox.firstChild);
    var ref = data.reference || (this.state && this.state.reference) || "";
    var text = data.answered === false ? t.endedUnanswered : data.answered === true ? t.ended : t.endedShort;
    var p = el("p");
    var parts = text.split("{ref}");
    p.appendChild(document.createTextNode(parts[0]));
    var strong = el("strong", "wd-ref", ref);
    strong.setAttribute("data-testid", "chat-reference");
    p.appendChild(strong);
    p.appendChild(document.createTextNode(parts.slice(1).join("")));
    this.endBox.appendChild(p);
    var csat = data.csat_url ? safeHref(data.csat_url) : null;
    if (csat) {
      var a = el("a", "wd-primary wd-button", t.rate);
      a.href = csat;
      a.setAttribute("data-testid", "chat-csat");
      this.endBox.appendChild(a);
    }
    if (survey) this.endBox.appendChild(survey);
    this.endBox.hidden = false;
    // Unacknowledged messages of an ended chat can never be stored: drop them.
    if (this.state) {
      this.state.outbox = [];
      this.save();
    }
    if (!this.root.hasAttribute("data-ws-url")) this.offerNew();
    this.scroll();
  };

  Chat.prototype.showSurvey = function (data) {
    // The survey follows an answered chat as its own frame: two links, one click each.
    var t = this.t;
    var good = safeHref(data.good_url);
    var bad = safeHref(data.bad_url);
    if ((!good && !bad) || this.endBox.querySelector(".wd-survey")) return;
    var box = el("div", "wd-survey");
    box.setAttribute("data-testid", "chat-csat");
    box.appendChild(el("p", null, t.csatAsk));
    var row = el("div", "wd-survey-links");
    var pairs = [
      [good, t.good, "wd-primary wd-button", "chat-csat-good"],
      [bad, t.bad, "wd-button", "chat-csat-bad"]
    ];
    for (var i = 0; i < pairs.length; i++) {
      if (!pairs[i][0]) continue;
      var a = el("a", pairs[i][2], pairs[i][1]);
      a.href = pairs[i][0];
      a.rel = "noopener noreferrer";
      a.setAttribute("data-testid", pairs[i][3]);
      row.appendChild(a);
    }
    box.appendChild(row);
    var again = this.endBox.querySelector(".wd-new");
    this.endBox.insertBefore(box, again);
    this.endBox.hidden = false;
    this.scroll();
  };

  Chat.prototype.offerNew = function () {
    var self = this;
    if (this.endBox.querySelector(".wd-new")) return;
    var again = el("button", "wd-new wd-button", this.t.newChat);
    again.type = "button";
    again.addEventListener("click", function () {
      self.forget();
      self.stopped = true;
      if (self.socket) self.socket.close();
      window.location.reload();
    });
    this.endBox.appendChild(again);
    this.endBox.hidden = false;
  };

  Chat.prototype.scroll = function () {
    var box = this.body;
    box.scrollTop = box.scrollHeight;
  };

  function init() {
    var roots = document.querySelectorAll("[data-wd-chat]");
    for (var i = 0; i < roots.length; i++) {
      if (!roots[i].wdChat) roots[i].wdChat = new Chat(roots[i]);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
