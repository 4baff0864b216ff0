// The Ledger page's live events: new lines of the log arrive as server-sent events and are
// added at the top of the table. No other script runs on popug's pages.
(function () {
  var table = document.querySelector("#events tbody");
  var zone = (document.getElementById("events") || { dataset: {} }).dataset.tz || "UTC";
  // an instant as the server shows it: YYYY-MM-DD HH:MM in the ledger's timezone
  var local = function (at) {
    try {
      var parts = {};
      new Intl.DateTimeFormat("en-GB", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date(at))
        .forEach(function (p) { parts[p.type] = p.value; });
      return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute;
    } catch (_) { return at; }
  };
  var head = document.getElementById("head");
  if (!table || !head || !window.EventSource) return;
  var source = new EventSource("/ledger/stream?since=" + encodeURIComponent(head.dataset.head));
  source.onmessage = function (message) {
    var e;
    try { e = JSON.parse(message.data); } catch (_) { return; }
    var row = document.createElement("tr");
    [String(e.seq), local(e.at), e.type, e.producer].forEach(function (text, i) {
      var cell = document.createElement("td");
      cell.textContent = text;
      if (i === 0) cell.className = "num";
      row.appendChild(cell);
    });
    table.insertBefore(row, table.firstChild);
    while (table.rows.length > 50) table.deleteRow(table.rows.length - 1);
    head.textContent = String(e.seq);
    head.dataset.head = String(e.seq);
  };
  var live = document.getElementById("live");
  source.onopen = function () { live.textContent = "(live)"; };
  source.onerror = function () { live.textContent = "(reconnecting…)"; };
})();
