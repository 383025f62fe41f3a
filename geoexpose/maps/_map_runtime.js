/* geoexpose map runtime: draws the layers of a geoexpose map from the JSON data
   blocks of the page (<script type="application/json" id="...">). Written for
   geoexpose; it needs Leaflet (window.L) and nothing else, and loads nothing.

   Geometry encoding (see geoexpose/_map_encode.py): per feature the number of
   parts (fp); per part its type (pt: 0 point, 1 line, 2 polygon) and number of
   paths (pr); per path its number of coordinates (rc); and the coordinates as
   integer micro-degrees, longitude then latitude, each the difference from the
   coordinate before it (d). */
var geoexpose = (function () {
  "use strict";
  var blocks = {};
  var registry = {};

  function data(id) {
    if (!(id in blocks)) {
      var el = document.getElementById(id);
      blocks[id] = el ? JSON.parse(el.textContent) : null;
    }
    return blocks[id];
  }

  function decode(g) {
    var d = g.d, x = 0, y = 0, k = 0, part = 0, path = 0, out = [];
    for (var f = 0; f < g.fp.length; f++) {
      var parts = [[], [], []];
      for (var p = 0; p < g.fp[f]; p++, part++) {
        var rings = [];
        for (var r = 0; r < g.pr[part]; r++, path++) {
          var n = g.rc[path], ring = new Array(n);
          for (var i = 0; i < n; i++) {
            x += d[k++];
            y += d[k++];
            ring[i] = L.latLng(y / 1e6, x / 1e6);
          }
          rings.push(ring);
        }
        var type = g.pt[part];
        if (type === 0) parts[0].push(rings[0][0]);
        else if (type === 1) parts[1].push(rings[0]);
        else parts[2].push(rings);
      }
      out.push(parts);
    }
    return out;
  }

  function featureLayer(parts, style) {
    var layers = [];
    if (parts[2].length) layers.push(L.polygon(parts[2].length === 1 ? parts[2][0] : parts[2], style));
    if (parts[1].length) {
      var lines = parts[1].length === 1 ? parts[1][0] : parts[1];
      /* A casing: a wider line of another colour under the line (an exposed line
         site: its score around its family's colour). */
      if (style.casing) {
        layers.push(L.polyline(lines, L.extend({}, style, {
          color: style.casing, weight: style.weight + 6, opacity: 1})));
      }
      layers.push(L.polyline(lines, style));
    }
    for (var i = 0; i < parts[0].length; i++) layers.push(L.circleMarker(parts[0][i], style));
    if (layers.length === 1) return layers[0];
    return L.featureGroup(layers);
  }

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }

  /* A popup: the title in bold, a table of column and value, and, where given,
     a thumbnail (a data URI) and a relative link to another map of the folder. */
  function popup(table, i) {
    var box = document.createElement("div");
    box.className = "gx-popup";
    box.appendChild(text("b", table.title[i]));
    var tbl = document.createElement("table");
    var row = table.rows[i];
    for (var c = 0; c < table.cols.length; c++) {
      var tr = document.createElement("tr");
      tr.appendChild(text("th", table.cols[c]));
      tr.appendChild(text("td", row[c]));
      tbl.appendChild(tr);
    }
    box.appendChild(tbl);
    if (table.thumbs) {
      var thumbs = data(table.thumbs) || {uris: [], of: {}};
      var uri = thumbs.uris[thumbs.of[i]];
      if (typeof uri === "string" && uri.indexOf("data:image/") === 0) {
        var img = document.createElement("img");
        img.className = "gx-thumb";
        img.alt = "thumbnail of " + table.title[i];
        img.src = uri;
        box.appendChild(img);
      } else if (table.no_thumb && table.no_thumb[i]) {
        box.appendChild(text("div", table.no_thumb[i], "gx-muted"));
      }
    }
    if (table.links && table.links[i]) {
      var a = text("a", table.links_label || "open", "gx-link");
      a.href = table.links[i];
      box.appendChild(a);
    }
    return box;
  }

  function tableOf(spec) {
    if (!spec.table) return null;
    return typeof spec.table === "string" ? data(spec.table) : spec.table;
  }

  var groups = {};
  var fronts = [];  /* layers drawn above the others (the sites), whenever one is added */
  var tops = [];  /* ... and above those (the replay) */
  var labels = [];  /* the sites' permanent labels, with their rank (0: most exposed) */

  /* Labels that would cover one of a lower rank (a more exposed site) are hidden. */
  function declutter() {
    var kept = [], order = labels.slice().sort(function (a, b) { return a.rank - b.rank; });
    for (var i = 0; i < order.length; i++) {
      var tip = order[i].layer.getTooltip(), el = tip && tip.getElement();
      if (!el || !order[i].layer._map) continue;
      el.style.visibility = "";
      var r = el.getBoundingClientRect(), clash = false;
      for (var k = 0; k < kept.length && !clash; k++) {
        var q = kept[k];
        clash = r.left < q.right && q.left < r.right && r.top < q.bottom && q.top < r.bottom;
      }
      if (clash) el.style.visibility = "hidden";
      else kept.push(r);
    }
  }

  function raise() {
    var all = fronts.concat(tops);
    for (var i = 0; i < all.length; i++) if (all[i]._map) all[i].bringToFront();
  }

  function bind(layer, table, i, spec, group) {
    if (table && spec.interactive !== false) {
      layer.bindPopup(function () { return popup(table, i); }, {maxWidth: 420});
    }
    if (spec.kind && table && table.ids) {
      registry[spec.kind + ":" + table.ids[i]] = layer;
      if (group) groups[spec.kind + ":" + table.ids[i]] = group;
    }
    /* A permanent label (text, never HTML), e.g. an exposed site's name. */
    if (spec.labels && typeof spec.labels[i] === "string" && !spec.rows) {
      layer.bindTooltip(text("span", spec.labels[i]), {
        permanent: true, direction: "center", className: "gx-label", interactive: false
      });
      labels.push({layer: layer, rank: spec.label_rank ? spec.label_rank[i] : 0});
    }
  }

  function build(spec, g, group) {
    var feats = decode(g), table = tableOf(spec), out = [];
    var opts = spec.interactive === false ? {interactive: false} : {};
    for (var i = 0; i < feats.length; i++) {
      var style = L.extend({}, spec.styles[spec.s ? spec.s[i] : 0], opts);
      var layer = featureLayer(feats[i], style);
      bind(layer, table, spec.rows ? spec.rows[i] : i, spec, group);
      out.push(layer);
    }
    return out;
  }

  /* Features of one data block, added to a layer group. */
  function features(group, id) {
    var spec = data(id), layers = build(spec, spec.g, group);
    if (spec.front) fronts.push(group);
    for (var i = 0; i < layers.length; i++) group.addLayer(layers[i]);
    return group;
  }

  /* Lines drawn at the detail of the zoom: each level is the same features,
     simplified with a tolerance in metres; the coarsest level whose tolerance is
     at most one screen pixel is drawn. */
  var Levels = L.Layer.extend({
    initialize: function (id) {
      this._spec = data(id);
      this._built = {};
      this._level = -1;
    },
    onAdd: function (map) {
      this._map = map;
      map.on("zoomend", this._update, this);
      this._update();
    },
    onRemove: function (map) {
      map.off("zoomend", this._update, this);
      this._show(-1);
    },
    _pick: function () {
      var levels = this._spec.levels, map = this._map;
      var lat = map.getCenter().lat * Math.PI / 180;
      var mpp = 40075016.686 * Math.cos(lat) / (256 * Math.pow(2, map.getZoom()));
      var best = 0;
      for (var k = 0; k < levels.length; k++) if (levels[k].tol_m <= mpp) best = k;
      return best;
    },
    _update: function () { this._show(this._pick()); },
    _show: function (k) {
      if (k === this._level) return;
      var map = this._map, old = this._built[this._level], i;
      if (old) for (i = 0; i < old.length; i++) map.removeLayer(old[i]);
      this._level = k;
      if (k < 0) return;
      if (!this._built[k]) this._built[k] = build(this._spec, data(this._spec.levels[k].block));
      var now = this._built[k];
      for (i = 0; i < now.length; i++) map.addLayer(now[i]);
    }
  });

  function levels(group, id) {
    group.addLayer(new Levels(id));
    return group;
  }

  /* A local raster as an image overlay (a data URI made by geoexpose). */
  function image(group, id) {
    var spec = data(id);
    if (spec.uri.indexOf("data:image/") !== 0) return group;
    group.addLayer(L.imageOverlay(spec.uri, spec.bounds, {opacity: spec.opacity, interactive: false}));
    return group;
  }

  function theMap() {
    for (var k in window) {
      try { if (window[k] instanceof L.Map) return window[k]; } catch (e) { /* next */ }
    }
    return null;
  }

  /* Open the popup of a registered feature, e.g. open("site", "osm:way/1"); a layer
     switched off (such as the footprints that show no site) is switched on first. */
  function open(kind, id) {
    var layer = registry[kind + ":" + id], group = groups[kind + ":" + id];
    if (!layer) return false;
    if (!layer._map && group && !group._map) {
      var map = theMap();
      if (map) map.addLayer(group);
    }
    layer.openPopup();
    return true;
  }

  /* The legend folds (a <details>); folded at first on a small screen. */
  function legendFold() {
    var box = document.querySelector("details.gx-legend");
    if (box && (window.innerWidth < 900 || window.innerHeight < 600)) box.open = false;
  }

  /* A page opened as map.html#site=ID (or #footprint=, #camera=) opens that popup. */
  window.addEventListener("load", function () {
    legendFold();
    var map = theMap();
    if (map) {
      raise();
      declutter();
      map.on("overlayadd", raise);
      map.on("zoomend overlayadd overlayremove", declutter);
    }
    var m = /^#(site|footprint|camera)=(.+)$/.exec(window.location.hash);
    if (m) open(m[1], decodeURIComponent(m[2]));
  });

  /* The replay: a time slider that draws each aircraft's position and trail up to
     the time chosen, and the captures taken by then (data: geoexpose/maps/_replay.py). */
  function utc(ms) {
    return new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  function replay(map, id) {
    var spec = data(id), state = {t: spec.start, playing: false, speed: 60};
    var flights = [], layer = L.featureGroup().addTo(map), k, i;
    tops.push(layer);
    for (k = 0; k < spec.flights.length; k++) {
      var f = spec.flights[k], n = f.dt.length + 1, t = new Array(n), pts = new Array(n);
      var x = 0, y = 0, tt = f.t0;
      for (i = 0; i < n; i++) {
        if (i > 0) tt += f.dt[i - 1];
        x += f.d[2 * i]; y += f.d[2 * i + 1];
        t[i] = tt; pts[i] = L.latLng(y / 1e6, x / 1e6);
      }
      var trail = L.polyline([], {color: spec.color, weight: 3, opacity: 0.9, interactive: false});
      var mark = L.circleMarker(pts[0], {radius: 7, color: "#000", weight: 2, fillColor: spec.color,
                                         fillOpacity: 1, interactive: false});
      mark.bindTooltip(text("span", f.label), {direction: "top", offset: [0, -8]});
      flights.push({t: t, pts: pts, trail: trail, mark: mark, shown: -2});
      layer.addLayer(trail);
    }
    var caps = spec.captures || {}, shots = [];
    var ct = caps.t || [];
    for (i = 0; i < ct.length; i++) {
      var c = L.circleMarker(L.latLng(caps.xy[2 * i + 1] / 1e6, caps.xy[2 * i] / 1e6), {
        radius: 5, color: "#fff", weight: 1.5, fillColor: spec.capture_color, fillOpacity: 1
      });
      c.bindTooltip(text("span", caps.name[i] + ", " + utc(ct[i])));
      shots.push(c);
    }
    var nShots = 0;

    function upTo(t, x) {  /* how many of the sorted times t are at most x */
      var lo = 0, hi = t.length;
      while (lo < hi) { var mid = (lo + hi) >> 1; if (t[mid] <= x) lo = mid + 1; else hi = mid; }
      return lo;
    }

    function draw() {
      var now = state.t, j;
      for (j = 0; j < flights.length; j++) {
        var f = flights[j], m = upTo(f.t, now);
        var on = m > 0 && (m < f.t.length || now - f.t[f.t.length - 1] < 1000);
        if (m !== f.shown) {
          f.trail.setLatLngs(f.pts.slice(0, m));
          f.shown = m;
        }
        if (m > 0) f.mark.setLatLng(f.pts[m - 1]);
        if (on && !layer.hasLayer(f.mark)) layer.addLayer(f.mark);
        if (!on && layer.hasLayer(f.mark)) layer.removeLayer(f.mark);
      }
      var want = upTo(ct, now);
      for (j = nShots; j < want; j++) layer.addLayer(shots[j]);
      for (j = want; j < nShots; j++) layer.removeLayer(shots[j]);
      nShots = want;
      slider.value = String(now);
      readout.textContent = utc(now);
      state.marks = flights.filter(function (f) { return layer.hasLayer(f.mark); })
        .map(function (f) { var p = f.mark.getLatLng(); return [p.lat, p.lng]; });
      state.trail = flights.reduce(function (s, f) { return s + f.shown; }, 0);
      state.captures = nShots;
    }

    var box = L.DomUtil.create("div", "gx-time");
    var play = L.DomUtil.create("button", "gx-play", box);
    play.type = "button";
    play.textContent = "\u25b6";
    play.title = "play / pause";
    var slider = L.DomUtil.create("input", "gx-slider", box);
    slider.type = "range";
    slider.min = String(spec.start);
    slider.max = String(Math.max(spec.end, spec.start + 1));
    slider.step = "100";
    slider.value = String(spec.start);
    slider.title = "time (UTC)";
    var speed = L.DomUtil.create("select", "gx-speed", box);
    [1, 10, 60, 300].forEach(function (v) {
      var o = text("option", v + "\u00d7");
      o.value = String(v);
      if (v === state.speed) o.selected = true;
      speed.appendChild(o);
    });
    speed.title = "replay speed";
    var readout = L.DomUtil.create("span", "gx-utc", box);
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);

    var last = null;
    function tick(stamp) {
      if (!state.playing) return;
      if (last !== null) state.t = Math.min(spec.end, state.t + (stamp - last) * state.speed);
      last = stamp;
      draw();
      if (state.t >= spec.end) { setPlaying(false); return; }
      window.requestAnimationFrame(tick);
    }
    function setPlaying(on) {
      state.playing = on;
      play.textContent = on ? "\u275a\u275a" : "\u25b6";
      last = null;
      if (on) {
        if (state.t >= spec.end) state.t = spec.start;
        window.requestAnimationFrame(tick);
      }
    }
    play.addEventListener("click", function () { setPlaying(!state.playing); });
    slider.addEventListener("input", function () { state.t = Number(slider.value); draw(); });
    speed.addEventListener("change", function () { state.speed = Number(speed.value); });

    var Control = L.Control.extend({onAdd: function () { return box; }});
    new Control({position: "bottomleft"}).addTo(map);
    /* A page opened as map.html#time=2021-09-06T02:40:00Z starts at that time. */
    var asked = /^#time=(.+)$/.exec(window.location.hash);
    var at = asked ? Date.parse(decodeURIComponent(asked[1])) : NaN;
    if (isFinite(at)) state.t = Math.min(spec.end, Math.max(spec.start, at));
    draw();
    state.draw = draw;
    geoexpose.time = state;
    return state;
  }

  return {data: data, decode: decode, features: features, levels: levels, image: image,
          open: open, registry: registry, replay: replay, time: null};
})();
