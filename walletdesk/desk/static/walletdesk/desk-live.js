// The live desk: the inbox and the ticket page follow ticket changes without a reload, and the
// ticket page says who else is viewing it or typing a reply. Every page works without this file.
//
// One websocket (/ws/desk/, desk.consumers) brings small nudges ("WD-… changed"), never a
// ticket's text; the page then fetches what it shows through the ordinary views.
// - Inbox: the list is fetched again (at most every 0.5 s while nudges keep coming) and its rows
//   swapped in. Ticked rows stay ticked, with the version they were ticked at, so a bulk
//   action on a row that changed since is refused by the server and named; the keyboard's
//   current row stays where it was.
// - Ticket page: the header, thread, history and the properties' values are refreshed; the reply
//   form never is, and no form's hidden `version` is touched: a save made from what the agent saw
//   before is refused by the server ("changed by Bob 20 s ago: status Solved") as without this
//   script. A banner says who changed what.
// - Presence: "Alice is viewing" / "Alice is typing a reply…". Typing sends a flag only, never
//   the draft.
// Reconnects with backoff (0.5 s doubling to 15 s); stops after a 4401/4403 refusal.
(function () {
  "use strict";

  var host = document.querySelector("[data-desk-live]");
  if (!host || !window.WebSocket || !window.fetch || !window.DOMParser) return;
  var inbox = document.querySelector("table[data-inbox]");
  var page = document.querySelector("[data-ticket-page]");
  if (!inbox && !page) return;
  var reference = page ? page.getAttribute("data-ticket-page") : null;

  function label(name, values) {
    var text = host.getAttribute("data-label-" + name) || "";
    Object.keys(values || {}).forEach(function (key) {
      text = text.split("{" + key + "}").join(values[key]);
    });
    return text;
  }

  function setStatus(offline) {
    var status = document.querySelector("[data-live-status]");
    if (!status) return;
    status.hidden = !offline;
    status.textContent = offline ? label("offline") : "";
  }

  function fetchText(url) {
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } }).then(function (r) {
      if (!r.ok || r.redirected) throw new Error("status " + r.status);
      return r.text();
    });
  }

  // --- refreshing, at most one fetch at a time ---------------------------------------------------
  var timer = null;
  var busy = false;
  var again = false;
  function schedule(delay) {
    if (busy) { again = true; return; }
    if (timer) return;  // already due: a steady stream of nudges still refreshes every `delay`
    timer = window.setTimeout(run, delay);
  }
  function run() {
    timer = null;
    if (document.hidden) { again = true; return; }  // on return to the tab
    busy = true;
    again = false;
    (inbox ? refreshInbox() : refreshTicket()).catch(function () { /* next nudge tries again */ }).then(function () {
      busy = false;
      if (again) schedule(500);
    });
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && again) schedule(0);
  });

  // --- the inbox -------------------------------------------------------------------------------
  function refreshInbox() {
    return fetchText(location.href).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var table = document.querySelector("table[data-inbox]");
      var oldBody = table && table.tBodies[0];
      var fresh = doc.querySelector("table[data-inbox]");
      var newBody = fresh && fresh.tBodies[0];
      if (!oldBody || !newBody) return;

      var picked = {};  // reference -> the old row, ticked
      Array.prototype.forEach.call(oldBody.querySelectorAll("input[name=t]:checked"), function (box) {
        picked[box.value.split(":")[0]] = box.closest("tr");
      });
      var known = {};
      Array.prototype.forEach.call(oldBody.querySelectorAll("tr[data-ticket]"), function (row) {
        known[row.getAttribute("data-ticket")] = true;
      });
      var current = oldBody.querySelector("tr.kb-current");
      var currentRef = current ? current.getAttribute("data-ticket") : null;
      var focused = document.activeElement;
      var focusRow = focused && oldBody.contains(focused) ? focused.closest("tr[data-ticket]") : null;
      var focusRef = focusRow ? focusRow.getAttribute("data-ticket") : null;
      var focusName = focusRow ? (focused.getAttribute("name") || (focused.tagName === "A" ? "a" : "")) : "";

      var rows = Array.prototype.slice.call(newBody.querySelectorAll("tr[data-ticket]"));
      rows.forEach(function (row) {
        var ref = row.getAttribute("data-ticket");
        if (!known[ref]) row.classList.add("live-new");
        var old = picked[ref];
        if (!old) return;
        // Still ticked, still from the version the agent ticked it at.
        var box = row.querySelector("input[name=t]");
        var oldBox = old.querySelector("input[name=t]");
        var pageInput = row.querySelector("input[name=page]");
        var oldPage = old.querySelector("input[name=page]");
        if (box && oldBox) { box.value = oldBox.value; box.checked = true; }
        if (pageInput && oldPage) pageInput.value = oldPage.value;
        if (oldBox && box && oldBox.value !== box.getAttribute("value")) row.classList.add("live-changed");
        delete picked[ref];
      });
      var body = document.importNode(newBody, true);
      // Ticked rows that left this view stay, ticked, at the end: the agent chose them.
      Object.keys(picked).forEach(function (ref) {
        var empty = body.querySelector("td[colspan]");
        if (empty) empty.closest("tr").remove();
        picked[ref].classList.add("live-left");
        body.appendChild(picked[ref]);
      });
      table.replaceChild(body, oldBody);

      var tabs = document.querySelector("nav.tabs");
      var newTabs = doc.querySelector("nav.tabs");
      if (tabs && newTabs) tabs.innerHTML = newTabs.innerHTML;
      var merge = document.querySelector("select[name=merge_into]");
      var newMerge = doc.querySelector("select[name=merge_into]");
      if (merge && newMerge) {
        var chosen = merge.value;
        merge.innerHTML = newMerge.innerHTML;
        merge.value = chosen;
        if (merge.value !== chosen) {
          var keep = document.createElement("option");
          keep.value = chosen;
          keep.textContent = chosen;
          merge.appendChild(keep);
          merge.value = chosen;
        }
      }
      if (currentRef) {
        var still = body.querySelector('tr[data-ticket="' + currentRef + '"]');
        if (still) { still.classList.add("kb-current"); still.setAttribute("aria-current", "true"); }
      }
      if (focusRef) {
        var row = body.querySelector('tr[data-ticket="' + focusRef + '"]');
        var target = row && (focusName === "a" ? row.querySelector("a[href]") : row.querySelector('[name="' + focusName + '"]'));
        if (target) target.focus();
      }
      document.dispatchEvent(new CustomEvent("walletdesk:inbox-updated"));
    });
  }

  // --- the ticket page -------------------------------------------------------------------------
  var seen = page ? parseInt(page.getAttribute("data-version"), 10) || 0 : 0;
  var propsDirty = false;
  var props = document.querySelector("form[data-shortcut=properties]");
  if (props) {
    props.addEventListener("change", function () { propsDirty = true; });
  }

  function swap(doc, selector) {
    var here = document.querySelector(selector);
    var there = doc.querySelector(selector);
    if (here && there) here.innerHTML = there.innerHTML;
  }

  function refreshTicket() {
    var since = seen;
    var changesUrl = page.getAttribute("data-changes-url") + "?since=" + since;
    return Promise.all([
      fetchText(page.getAttribute("data-ticket-url")),
      fetchText(changesUrl).then(JSON.parse)
    ]).then(function (got) {
      var doc = new DOMParser().parseFromString(got[0], "text/html");
      var changes = got[1];
      swap(doc, "header.ticket-head");
      swap(doc, "ol.thread");
      swap(doc, "ol.events");
      swap(doc, "[data-live-others]");
      // The properties show the ticket as it is now, unless the agent is editing them; their
      // hidden version stays the one the page was rendered from (the server checks it).
      var fresh = doc.querySelector("form[data-shortcut=properties]");
      if (props && fresh && !propsDirty) {
        Array.prototype.forEach.call(fresh.querySelectorAll("select"), function (select) {
          var mine = props.querySelector('select[name="' + select.name + '"]');
          if (mine) mine.value = select.value;
        });
      }
      if (changes.version > seen) seen = changes.version;
      var banner = document.querySelector("[data-live-banner]");
      if (banner && changes.banner) {
        banner.textContent = changes.banner;
        banner.hidden = false;
      }
    });
  }

  // --- presence --------------------------------------------------------------------------------
  function showPresence(viewers) {
    var box = document.querySelector("[data-presence]");
    if (!box) return;
    box.textContent = viewers.map(function (v) {
      return label(v.typing ? "typing" : "viewing", { name: v.name });
    }).join(" · ");
    box.hidden = viewers.length === 0;
  }

  var typingSent = 0;
  var typingTimer = null;
  function typing(on) {
    var now = Date.now();
    if (on && typingSent && now - typingSent < 2500) return;
    typingSent = on ? now : 0;
    send({ type: "typing", reference: reference, typing: on });
  }
  if (page) {
    document.addEventListener("input", function (event) {
      var t = event.target;
      if (!t || t.name !== "body" || !t.closest("form[data-shortcut=reply]")) return;
      typing(t.value.length > 0);
      if (typingTimer) window.clearTimeout(typingTimer);
      typingTimer = window.setTimeout(function () { typing(false); }, 4000);
    });
    document.addEventListener("submit", function (event) {
      if (event.target && event.target.matches && event.target.matches("form[data-shortcut=reply]")) typing(false);
    });
  }

  // --- the socket ------------------------------------------------------------------------------
  var socket = null;
  var delay = 500;
  var opened = false;
  var leaving = false;  // the page is going away: its socket closing is no outage
  window.addEventListener("pagehide", function () { leaving = true; });
  window.addEventListener("pageshow", function (event) {
    leaving = false;
    if (event.persisted && !socket) connect();  // back from the browser's page cache
  });

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + host.getAttribute("data-ws");
    socket = new WebSocket(url);
    socket.onopen = function () {
      delay = 500;
      setStatus(false);
      if (reference) send({ type: "watch", reference: reference });
      if (opened) schedule(0);  // nudges may have been missed while away
      opened = true;
    };
    socket.onmessage = function (message) {
      var frame;
      try { frame = JSON.parse(message.data); } catch (e) { return; }
      if (frame.type === "ticket") {
        if (inbox) schedule(500);
        else if (frame.reference === reference && !(frame.version <= seen)) schedule(300);
      } else if (frame.type === "presence" && frame.reference === reference) {
        showPresence(frame.viewers || []);
      } else if (frame.type === "gone" && frame.reference === reference) {
        location.reload();
      }
    };
    socket.onclose = function (event) {
      socket = null;
      showPresence([]);
      if (leaving || event.code === 4401 || event.code === 4403) return;  // gone, signed out, not an agent
      setStatus(true);
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  connect();
})();
