// Dashboard behaviour: sortable tables, the trend chart and, when provincial staff uploaded an
// approved map, the city map. ECharts is served from our own static files (no CDN).
(function () {
  "use strict";

  function sortable(table) {
    table.querySelectorAll("th[data-sort]").forEach(function (th, index) {
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(table, th, index); });
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") sortBy(table, th, index); });
    });
  }

  function sortBy(table, th, index) {
    var numeric = th.dataset.sort === "num";
    var descending = th.getAttribute("aria-sort") !== "descending";
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].dataset.value || a.cells[index].textContent;
      var y = b.cells[index].dataset.value || b.cells[index].textContent;
      var c = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, "zh-Hans-CN");
      return descending ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function trend() {
    var el = document.getElementById("trend-chart");
    var source = document.getElementById("trend-data");
    if (!el || !source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v + "%"; } },
      legend: { bottom: 0, type: "scroll" },
      grid: { left: 40, right: 16, top: 16, bottom: 56 },
      xAxis: { type: "category", data: data.periods.map(String) },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: data.series.map(function (s, i) {
        var last = i === data.series.length - 1;
        return { name: s.name, type: "line", data: s.data, connectNulls: false, lineStyle: { width: last ? 4 : 1.5 }, symbolSize: last ? 8 : 5 };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function tilemapSwitch() {
    var select = document.getElementById("map-target");
    var tiles = document.querySelectorAll("#tilemap .tile");
    if (!select || !tiles.length) return;
    select.addEventListener("change", function () {
      tiles.forEach(function (tile) {
        var share = tile.dataset.shares.split(",")[parseInt(select.value, 10)];
        var value = share === "" ? null : parseFloat(share);
        tile.className = "tile " + level(value);
        tile.querySelector("span").textContent = value == null ? "—" : (value * 100).toFixed(1) + "%";
      });
    });
  }

  function level(share) {
    if (share == null) return "lv-none";
    return share < 0.25 ? "lv0" : share < 0.5 ? "lv1" : share < 0.75 ? "lv2" : "lv3";
  }

  function geoMap() {
    var el = document.getElementById("geo-map");
    if (!el || !window.echarts) return;
    var rows = document.querySelectorAll("#area-table tbody tr");
    var select = document.getElementById("map-target");
    fetch(el.dataset.url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (geo) {
      echarts.registerMap("province", geo);
      var chart = echarts.init(el, null, { renderer: "svg" });
      function draw() {
        var column = 2 + parseInt(select.value, 10);
        var data = Array.prototype.map.call(rows, function (tr) {
          var v = parseFloat(tr.cells[column].dataset.value);
          return { name: tr.cells[0].textContent.trim(), value: v < 0 ? null : Math.round(v * 1000) / 10 };
        });
        chart.setOption({
          tooltip: { formatter: function (p) { return p.name + "：" + (p.value == null || isNaN(p.value) ? "—" : p.value + "%"); } },
          visualMap: { min: 0, max: 100, left: 0, bottom: 0, text: ["100%", "0%"], inRange: { color: ["#f4c7c3", "#fbe3b4", "#a8d5a2"] } },
          series: [{ type: "map", map: "province", nameProperty: "name", data: data, label: { show: true, fontSize: 10 } }]
        });
      }
      draw();
      select.addEventListener("change", draw);
    });
  }

  document.querySelectorAll("table.sortable").forEach(sortable);
  trend();
  tilemapSwitch();
  geoMap();
})();
