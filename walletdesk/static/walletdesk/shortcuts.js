// Keyboard shortcuts for the agent desk, and the inbox's "select all". Every page works
// without this file: the bulk form is a plain POST, every shortcut a link or a button.
//
// Inbox: j / k move the current row, Enter / o open it, x ticks its box.
// Ticket: r reply, n internal note on/off (and write it), a assign to me, s status solved and
// save (only with the version the page was rendered from), ] / [ next / previous ticket in
// the order the inbox last showed in this tab (kept in sessionStorage), ? the help overlay
// (its text is rendered by the server, in the page's language). Nothing fires while typing in
// a field or with Ctrl, Alt or Meta held.
(function () {
  "use strict";
  var ORDER_KEY = "walletdesk.inbox.order";

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    if (tag === "input") return !/^(checkbox|radio|button|submit|reset)$/.test(target.type);
    return tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  // --- the help overlay -----------------------------------------------------------------------
  function help() { return document.querySelector("[data-shortcut-help]"); }
  function helpOpen() { var h = help(); return !!(h && !h.hidden); }
  var helpReturn = null;
  function toggleHelp(show) {
    var h = help();
    if (!h) return;
    if (show === undefined) show = h.hidden;
    if (show) {
      helpReturn = document.activeElement;
      h.hidden = false;
      var close = h.querySelector("[data-shortcut-close]");
      if (close) close.focus();
    } else {
      h.hidden = true;
      if (helpReturn && helpReturn.focus) helpReturn.focus();
    }
  }

  // --- the inbox ------------------------------------------------------------------------------
  function inboxRows() {
    return Array.prototype.slice.call(document.querySelectorAll("table[data-inbox] tr[data-ticket]"));
  }
  var current = -1;
  function setCurrent(index) {
    var rows = inboxRows();
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) {
      row.classList.toggle("kb-current", i === current);
      if (i === current) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    });
    rows[current].scrollIntoView({ block: "nearest" });
  }
  function currentRow() { var rows = inboxRows(); return current >= 0 ? rows[current] : null; }
  function rowLink(row) { return row && row.querySelector("a[href]"); }

  function syncSelectAll() {
    var all = document.querySelector("[data-select-all]");
    if (!all) return;
    var boxes = document.querySelectorAll("table[data-inbox] input[name=t]");
    var ticked = 0;
    for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) ticked++;
    all.checked = boxes.length > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }

  function rememberOrder() {
    // The order the ticket page's ] and [ follow: this inbox view, filters and page.
    var rows = inboxRows();
    if (!rows.length) return;
    var order = rows.map(function (row) {
      var link = rowLink(row);
      return { ref: row.getAttribute("data-ticket"), url: link ? link.getAttribute("href") : "" };
    });
    try {
      window.sessionStorage.setItem(ORDER_KEY, JSON.stringify({ inbox: location.pathname + location.search, order: order }));
    } catch (e) { /* storage off: ] and [ just do nothing */ }
  }

  function inboxKey(event) {
    var key = event.key;
    if (key === "j") { setCurrent(current + 1); return true; }
    if (key === "k") { setCurrent(current < 0 ? 0 : current - 1); return true; }
    if (key === "x") {
      if (current < 0) setCurrent(0);
      var box = currentRow() && currentRow().querySelector("input[name=t]");
      if (!box) return false;
      box.checked = !box.checked;
      syncSelectAll();
      return true;
    }
    if (key === "Enter" || key === "o") {
      var link = rowLink(currentRow());
      if (!link) return false;
      location.href = link.href;
      return true;
    }
    return false;
  }

  // --- the ticket page ------------------------------------------------------------------------
  function ticketPage() { return document.querySelector("[data-ticket-page]"); }

  function neighbour(step) {
    var page = ticketPage();
    var stored;
    try { stored = JSON.parse(window.sessionStorage.getItem(ORDER_KEY) || "null"); } catch (e) { stored = null; }
    if (!page || !stored || !stored.order) return null;
    var ref = page.getAttribute("data-ticket-page");
    for (var i = 0; i < stored.order.length; i++) {
      if (stored.order[i].ref === ref) {
        var next = stored.order[i + step];
        return next ? next.url : stored.inbox;  // past either end: back to that inbox
      }
    }
    return null;
  }

  function ticketKey(event) {
    var key = event.key;
    var reply = document.querySelector("form[data-shortcut=reply]");
    if (key === "r" || key === "n") {
      if (!reply) return false;
      var body = reply.querySelector("textarea[name=body]");
      var note = reply.querySelector("input[name=internal]");
      if (key === "n" && note) note.checked = !note.checked;
      if (key === "r" && note && note.checked) note.checked = false;
      if (body) body.focus();
      return true;
    }
    if (key === "a") {
      var take = document.querySelector("form[data-shortcut=take]");
      if (!take) return false;  // already assigned to me: the page shows no button
      take.requestSubmit ? take.requestSubmit() : take.submit();
      return true;
    }
    if (key === "s") {
      var props = document.querySelector("form[data-shortcut=properties]");
      var status = props && props.querySelector("select[name=status]");
      var version = props && props.querySelector("input[name=version]");
      if (!status) return false;
      status.value = "solved";
      if (version && /^\d+$/.test(version.value)) {
        props.requestSubmit ? props.requestSubmit() : props.submit();
      } else {
        status.focus();  // no version on the page: let the agent look and save by hand
      }
      return true;
    }
    if (key === "]" || key === "[") {
      var url = neighbour(key === "]" ? 1 : -1);
      if (!url) return false;
      location.href = url;
      return true;
    }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return;
    if (event.key === "Escape" && helpOpen()) { toggleHelp(false); event.preventDefault(); return; }
    if (typing(event.target)) return;
    if (event.key === "?") { toggleHelp(); event.preventDefault(); return; }
    if (helpOpen()) return;
    if (event.shiftKey) return;
    var handled = false;
    if (document.querySelector("table[data-inbox]")) {
      // Enter on a focused link or button keeps its own meaning.
      if (event.key === "Enter" && event.target.closest && event.target.closest("a, button")) return;
      handled = inboxKey(event);
    } else if (ticketPage()) {
      handled = ticketKey(event);
    }
    if (handled) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var all = document.querySelector("[data-select-all]");
    if (all) {
      all.addEventListener("change", function () {
        var boxes = document.querySelectorAll("table[data-inbox] input[name=t]");
        for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
        all.indeterminate = false;
      });
      document.addEventListener("change", function (event) {
        if (event.target && event.target.name === "t") syncSelectAll();
      });
    }
    var h = help();
    if (h) {
      h.addEventListener("click", function (event) {
        if (event.target === h || event.target.closest("[data-shortcut-close]")) toggleHelp(false);
      });
    }
    if (document.querySelector("table[data-inbox]")) rememberOrder();
  });

  // The live desk (desk-live.js) swapped the inbox's rows: the current row is wherever it marked
  // it (the same ticket), and ] / [ follow the new order.
  document.addEventListener("walletdesk:inbox-updated", function () {
    var rows = inboxRows();
    current = -1;
    for (var i = 0; i < rows.length; i++) if (rows[i].classList.contains("kb-current")) current = i;
    syncSelectAll();
    rememberOrder();
  });
})();
