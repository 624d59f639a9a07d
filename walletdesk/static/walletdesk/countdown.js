// Live SLA countdowns: every <time data-countdown datetime="..."> shows how long until (or
// since) its due time, refreshed every 30 s. Labels come from data-* attributes on the nearest
// [data-countdown-labels] element (or <body>), so the server's translation is used.
(function () {
  "use strict";
  var RISK_MS = 0; // the server decides "at risk"; the script only notices a passed due time

  function labelsFor(el) {
    var host = el.closest("[data-countdown-labels]") || document.body;
    return {
      inn: host.getAttribute("data-label-in") || "in",
      overdue: host.getAttribute("data-label-overdue") || "overdue",
      d: host.getAttribute("data-label-d") || "d",
      h: host.getAttribute("data-label-h") || "h",
      m: host.getAttribute("data-label-m") || "m"
    };
  }

  function span(ms, l) {
    var minutes = Math.max(0, Math.floor(ms / 60000));
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days > 0) return days + l.d + " " + hours + l.h;
    if (hours > 0) return hours + l.h + " " + (mins < 10 ? "0" : "") + mins + l.m;
    return mins + l.m;
  }

  function tick() {
    var now = Date.now();
    var items = document.querySelectorAll("time[data-countdown]");
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      var due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) continue;
      var l = labelsFor(el);
      var left = due - now;
      if (left < RISK_MS) {
        el.textContent = l.overdue + " " + span(-left, l);
        el.classList.remove("sla-ok", "sla-at_risk");
        el.classList.add("sla-breached");
        var row = el.closest("tr");
        if (row) { row.classList.remove("sla-ok", "sla-at_risk"); row.classList.add("sla-breached"); }
      } else {
        el.textContent = l.inn + " " + span(left, l);
      }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 30000);
  });
  document.addEventListener("htmx:afterSettle", tick);
})();
