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
    if (parts[1].length) layers.push(L.polyline(parts[1].length === 1 ? parts[1][0] : parts[1], style));
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

  function bind(layer, table, i, spec) {
    if (table && spec.interactive !== false) {
      layer.bindPopup(function () { return popup(table, i); }, {maxWidth: 420});
    }
    if (spec.kind && table && table.ids) registry[spec.kind + ":" + table.ids[i]] = layer;
  }

  function build(spec, g) {
    var feats = decode(g), table = tableOf(spec), out = [];
    var opts = spec.interactive === false ? {interactive: false} : {};
    for (var i = 0; i < feats.length; i++) {
      var style = L.extend({}, spec.styles[spec.s ? spec.s[i] : 0], opts);
      var layer = featureLayer(feats[i], style);
      bind(layer, table, i, spec);
      out.push(layer);
    }
    return out;
  }

  /* Features of one data block, added to a layer group. */
  function features(group, id) {
    var spec = data(id), layers = build(spec, spec.g);
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

  /* Open the popup of a registered feature, e.g. open("site", "osm:way/1"). */
  function open(kind, id) {
    var layer = registry[kind + ":" + id];
    if (!layer) return false;
    layer.openPopup();
    return true;
  }

  /* A page opened as map.html#site=ID (or #footprint=, #camera=) opens that popup. */
  window.addEventListener("load", function () {
    var m = /^#(site|footprint|camera)=(.+)$/.exec(window.location.hash);
    if (m) open(m[1], decodeURIComponent(m[2]));
  });

  return {data: data, decode: decode, features: features, levels: levels, image: image,
          open: open, registry: registry};
})();
