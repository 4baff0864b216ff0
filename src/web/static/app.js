// The Ledger page's live events: new lines of the log arrive as server-sent events and are
// added at the top of the table. No other script runs on popug's pages.
(function () {
  var table = document.querySelector("#events tbody");
  var head = document.getElementById("head");
  if (!table || !head || !window.EventSource) return;
  var source = new EventSource("/ledger/stream?since=" + encodeURIComponent(head.dataset.head));
  source.onmessage = function (message) {
    var e;
    try { e = JSON.parse(message.data); } catch (_) { return; }
    var row = document.createElement("tr");
    // the server writes each event's time as the page shows the others (`local`: the
    // ledger's timezone, by popug's own tz database, not the browser's)
    [String(e.seq), e.local || e.at, e.type, e.producer].forEach(function (text, i) {
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
