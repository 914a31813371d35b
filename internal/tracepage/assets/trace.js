// The ocidns trace page: reads one traced resolution (GET /v1/trace, or
// the JSON a saved page carries) and draws the delegation chain, a
// waterfall of its steps and the answer.
//
// Zone owners write the text of TXT records and well-known documents, and
// every string here may come from one: it goes into the page only as text
// (text nodes, textContent) or as the value of an attribute that is never
// a URL, a style or an event handler. Nothing is parsed as markup.
(function () {
  "use strict";

  // ---- building elements, as text only ----

  var safeAttrs = /^(class|id|role|tabindex|type|hidden|for|scope|aria-[a-z]+|data-[a-z-]+)$/;

  // el makes an element: attrs are names of safeAttrs, children strings
  // (made text nodes), nodes, arrays of either, or null (skipped).
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var v = attrs[name];
        if (v === null || v === undefined || v === false) return;
        if (!safeAttrs.test(name)) throw new Error("attribute " + name + " is not allowed");
        node.setAttribute(name, v === true ? "" : String(v));
      });
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    if (children === null || children === undefined) return;
    if (Array.isArray(children)) {
      children.forEach(function (c) { append(node, c); });
    } else if (typeof children === "object" && children.nodeType) {
      node.appendChild(children);
    } else {
      node.appendChild(document.createTextNode(String(children)));
    }
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function str(v) {
    return typeof v === "string" ? v : (v === null || v === undefined ? "" : String(v));
  }

  // ---- numbers for people ----

  var US = 1e3, MS = 1e6, S = 1e9; // in nanoseconds

  function fmtDuration(ns) {
    ns = Number(ns) || 0;
    var a = Math.abs(ns);
    if (a === 0) return "0";
    if (a < US) return Math.round(ns) + " ns";
    if (a < MS) return Math.round(ns / US) + " µs";
    if (a < S) return (ns / MS).toFixed(a < 10 * MS ? 2 : 1) + " ms";
    return (ns / S).toFixed(2) + " s";
  }

  function fmtSeconds(s) {
    s = Math.round(Number(s) || 0);
    if (s < 120) return s + " s";
    if (s < 7200 && s % 60 === 0) return s / 60 + " min";
    if (s < 7200) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    if (s % 3600 === 0) return s / 3600 + " h";
    return (s / 3600).toFixed(1) + " h";
  }

  // ---- what kind of step an event is, from its typed fields ----

  var kinds = {
    dns: { label: "DNS", long: "DNS query" },
    val: { label: "DNSSEC", long: "DNSSEC validation" },
    wk: { label: "HTTPS", long: "well-known document fetch" },
    reg: { label: "HTTP", long: "registry or token request" },
    disc: { label: "Discovery", long: "the discovery, all hops" },
    other: { label: "Step", long: "other step" }
  };

  function kindOf(e) {
    if (e.request === "dns") return "dns";
    if (e.request === "http") return e.source === "https" ? "wk" : "reg";
    if (e.source === "dns" && e.dnssec) return "val";
    if (e.source === "discovery") return "disc";
    return "other";
  }

  // ---- the page ----

  var $ = function (id) { return document.getElementById(id); };
  var status = $("status");

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", !!isError);
  }

  function render(body) {
    var events = Array.isArray(body.events) ? body.events : [];
    var hops = Array.isArray(body.hops) ? body.hops : [];
    $("out").hidden = false; // shown first: the waterfall measures its width
    renderAnswer(body, hops);
    renderChain(body, hops);
    renderWaterfall(events, hops);
    renderSteps(events);
  }

  // ---- (3) the answer ----

  function row(dl, term, value, cls) {
    dl.appendChild(el("div", { "class": cls || null }, [el("dt", null, term), el("dd", null, value)]));
  }

  function badge(text, cls) {
    return el("span", { "class": "badge " + (cls || "") }, text);
  }

  function authBadge(auth) {
    auth = str(auth) || "none";
    var known = { dnssec: 1, https: 1, config: 1, none: 1 };
    return badge((auth === "none" ? "✗ " : "✓ ") + auth, "auth auth-" + (known[auth] ? auth : "none"));
  }

  function renderAnswer(body, hops) {
    var dl = $("answer");
    clear(dl);
    var res = body.result;
    row(dl, "Name", el("code", null, str(body.ref)));
    if (body.platform) row(dl, "Platform asked", el("code", null, str(body.platform)));
    if (body.error) {
      row(dl, "Outcome", [badge("✗ failed", "fail"), " ", el("code", null, str(body.code))], "failed");
      row(dl, "Error", el("span", { "class": "errtext" }, str(body.error)), "failed");
    }
    if (!res) {
      row(dl, "Discovery answers", cacheSummary(hops));
      return;
    }
    if (res.resolved && res.resolved !== body.ref) row(dl, "Resolved as", el("code", null, str(res.resolved)));
    row(dl, "Digest", el("code", { "class": "digest" }, str(res.digest)));
    if (res.platform || res.platformDigest) {
      row(dl, "Platform digest", [el("code", null, str(res.platform)), " ", el("code", { "class": "digest" }, str(res.platformDigest))]);
    }
    if (res.pinned) row(dl, "Pinned reference", el("code", { "class": "digest" }, str(res.pinned)));
    row(dl, "From", [el("code", null, str(res.registry)), " repository ", el("code", null, str(res.repository))]);
    var auth = [authBadge(res.authenticated)];
    if (res.dnssecOff) auth.push(" ", badge("--dnssec off", "warn"));
    if (res.dnssec === "unavailable") auth.push(" ", badge("the DNS resolver serves no DNSSEC data: names under the root anchor are not validated", "warn wrap"));
    else if (res.dnssec) auth.push(" ", badge("DNSSEC " + str(res.dnssec), "warn"));
    row(dl, "Authenticated", auth);
    var cache = res.cached ? "answered from the cache" : "resolved anew (a trace skips the cache of answers)";
    if (res.stale) cache += ", stale: refreshing it failed";
    row(dl, "Cache", [cache, "; discovery answers: ", cacheSummary(hops)]);
    row(dl, "TTL", fmtSeconds(res.ttl));
    if (res.signature && typeof res.signature === "object") row(dl, "Signature", signature(res.signature));
  }

  function cacheSummary(hops) {
    var n = { hit: 0, miss: 0, stale: 0 };
    hops.forEach(function (h) {
      (h.sources || []).forEach(function (s) { if (n.hasOwnProperty(s.cache)) n[s.cache]++; });
    });
    var parts = [n.miss + " asked upstream", n.hit + " from the cache"];
    if (n.stale) parts.push(n.stale + " stale");
    return parts.join(", ");
  }

  // signature shows the signature state of an answer: a verdict first
  // (verified, or the code of why not), then each field as text.
  function signature(sig) {
    var ok = sig.verified === true;
    var state = ok ? "verified" : str(sig.code) || str(sig.state) || "not verified";
    var out = [badge((ok ? "✓ " : "✗ ") + state, ok ? "auth auth-dnssec" : "fail")];
    var list = el("ul", { "class": "kv" });
    Object.keys(sig).forEach(function (k) {
      var v = sig[k];
      if (k === "state") return;
      if (Array.isArray(v)) {
        var sub = el("ol", null, v.map(function (item) {
          return el("li", null, typeof item === "object" ? JSON.stringify(item) : str(item));
        }));
        list.appendChild(el("li", null, [el("span", { "class": "k" }, k + " (" + v.length + ")"), sub]));
      } else {
        list.appendChild(el("li", null, [el("span", { "class": "k" }, k), " ", typeof v === "object" && v !== null ? JSON.stringify(v) : str(v)]));
      }
    });
    out.push(list);
    return out;
  }

  // ---- (1) the delegation chain ----

  var skipWords = {
    "not-oci": "not a v=oci1 record: ignored",
    "malformed": "breaks the v=oci1 grammar",
    "no-prefix-match": "its prefix does not match the path",
    "shorter-prefix": "a longer prefix matches the path and wins",
    "unauthenticated-cross-host": "sends names to another host, and its source is not authenticated (--dnssec on)",
    "capped": "beyond the endpoints a client tries from one source",
    "unauthenticated-key": "a signing key from a source that is not authenticated: never used"
  };

  var outcomeWords = {
    "absent": "absent: the next source decides",
    "no-match": "no mapping for this path: the next source decides",
    "no-registry": "says there is no registry at this host",
    "decided": "decided the hop",
    "unknown": "answer unknown: discovery stops here",
    "failed": "records fail the name: discovery stops here"
  };

  function renderChain(body, hops) {
    var ol = $("chain");
    clear(ol);
    var res = body.result;
    ol.appendChild(el("li", { "class": "node name-node" }, [
      el("h3", null, "Name"),
      el("p", null, el("code", { "class": "big" }, str(res && res.resolved ? res.resolved : body.ref))),
      hops.length ? el("p", { "class": "muted" }, ["host ", el("code", null, str(hops[0].host)), ", path ", el("code", null, str(hops[0].path))]) : null
    ]));
    hops.forEach(function (h, i) {
      ol.appendChild(hopNode(h, i, hops[i + 1]));
    });
    var eps = res && Array.isArray(res.endpoints) ? res.endpoints : [];
    if (eps.length) ol.appendChild(endpointsNode(res, eps));
    else if (!res) ol.appendChild(el("li", { "class": "node fail-node" }, [el("h3", null, "No registry"), el("p", null, "Discovery or the registry failed; see the answer above.")]));
  }

  function hopNode(h, i, next) {
    var sources = Array.isArray(h.sources) ? h.sources : [];
    var decided = null;
    sources.forEach(function (s) { if (s.outcome === "decided") decided = s; });
    var head = [el("span", { "class": "hopno" }, "Hop " + (i + 1)), " ", el("code", null, str(h.host))];
    var li = el("li", { "class": "node hop", "aria-label": "Hop " + (i + 1) + ": " + str(h.host) }, [
      el("h3", null, head),
      el("p", { "class": "hopauth" }, decided ? ["authentication ", authBadge(decided.auth)] : badge("undecided", "fail")),
      el("p", { "class": "muted" }, ["asked about path ", el("code", null, str(h.path) || "(none)")])
    ]);
    var ul = el("ul", { "class": "sources" });
    sources.forEach(function (s) { ul.appendChild(sourceNode(s, h, next)); });
    li.appendChild(ul);
    return li;
  }

  function sourceNode(s, h, next) {
    var facts = [];
    if (s.dnssec) facts.push("DNSSEC " + s.dnssec);
    if (s.cache && s.cache !== "none") facts.push("cache " + s.cache);
    if (s.ttl) facts.push("TTL " + fmtSeconds(s.ttl));
    var li = el("li", { "class": "source outcome-" + str(s.outcome) }, [
      el("div", { "class": "srchead" }, [
        el("span", { "class": "srcname" }, str(s.source)), " ",
        el("span", { "class": "outcome" }, outcomeWords[s.outcome] || str(s.outcome))
      ]),
      s.query ? el("div", { "class": "query" }, el("code", null, str(s.query))) : null,
      facts.length ? el("div", { "class": "facts" }, facts.join(" · ")) : null,
      s.error ? el("div", { "class": "errtext" }, str(s.error)) : null
    ]);
    var maps = el("ul", { "class": "mappings" });
    (s.used || []).forEach(function (m) { maps.appendChild(usedNode(m, s, h, next)); });
    (s.keys || []).forEach(function (k) { maps.appendChild(keyNode(k)); });
    (s.skipped || []).forEach(function (sk) { maps.appendChild(skippedNode(sk)); });
    if (maps.firstChild) li.appendChild(maps);
    return li;
  }

  function usedNode(m, s, h, next) {
    var what;
    if (m.delegate) {
      what = ["prefix ", el("code", null, prefixText(m.prefix)), " → delegates to ", el("code", null, str(m.delegate)),
        ", passing on the remainder ", el("code", null, next ? str(next.path) || "(none)" : "?")];
    } else {
      what = ["prefix ", el("code", null, prefixText(m.prefix)), " → registry ", el("code", null, str(m.registry)),
        " (priority " + (m.priority | 0) + ", weight " + (m.weight | 0) + ")"];
    }
    return el("li", { "class": "used" }, [
      el("span", { "class": "mark" }, "✓ used"), " ", what,
      m.record ? el("div", { "class": "record" }, el("code", null, str(m.record))) : null
    ]);
  }

  function skippedNode(sk) {
    var why = skipWords[sk.reason] || "";
    if (sk.reason === "unauthenticated-cross-host" && sk.host) why = "sends names to another host (" + str(sk.host) + "), and its source is not authenticated (--dnssec on)";
    if (sk.error) why = why ? why + ": " + str(sk.error) : str(sk.error);
    return el("li", { "class": "skipped" }, [
      el("span", { "class": "mark" }, "✗ skipped"), " ",
      el("span", { "class": "reason" }, str(sk.reason)),
      why ? el("span", { "class": "why" }, " — " + why) : null,
      el("div", { "class": "record" }, el("code", null, str(sk.record)))
    ]);
  }

  function keyNode(k) {
    return el("li", { "class": "key" }, [
      el("span", { "class": "mark" }, k.revoked ? "✗ key revoked" : "✦ signing key"), " prefix ", el("code", null, prefixText(k.prefix)),
      ", " + str(k.alg) + ", signature " + str(k.sign),
      // A key record is long: its text is one click (or Enter) away.
      el("details", { "class": "record" }, [el("summary", null, "record"), el("code", null, str(k.record))])
    ]);
  }

  function prefixText(p) {
    return str(p) === "" ? "(whole host)" : str(p);
  }

  function endpointsNode(res, eps) {
    var ul = el("ul", { "class": "endpoints" });
    eps.forEach(function (ep) {
      var answered = ep.url === res.registry && ep.repository === res.repository;
      var caps = Array.isArray(ep.capabilities) ? ep.capabilities : [];
      ul.appendChild(el("li", { "class": "endpoint" + (answered ? " answered" : "") }, [
        el("div", null, [el("code", null, str(ep.url)), " ", el("code", null, str(ep.repository))]),
        el("div", { "class": "facts" }, "priority " + (ep.priority | 0) + " · weight " + (ep.weight | 0) + " · from " + str(ep.source)),
        el("div", null, caps.map(function (c) { return badge(str(c), "cap"); }).concat([" ", authBadge(ep.authenticated)])),
        ep.tlsServerName ? el("div", { "class": "facts" }, ["TLS must prove ", el("code", null, str(ep.tlsServerName))]) : null,
        answered ? el("div", { "class": "answered-note" }, "★ answered the tag") : null
      ]));
    });
    return el("li", { "class": "node endpoints-node" }, [el("h3", null, "Registries (" + eps.length + ")"), ul]);
  }

  // ---- (2) the waterfall ----

  var laidOut = null; // the steps of the last drawing, for a redraw on resize

  function renderWaterfall(events, hops) {
    laidOut = { events: events, hops: hops };
    drawWaterfall();
    var legend = $("legend");
    clear(legend);
    ["dns", "val", "wk", "reg", "disc"].forEach(function (k) {
      legend.appendChild(el("li", null, [el("span", { "class": "swatch k-" + k, "aria-hidden": "true" }, kinds[k].label), " " + kinds[k].long]));
    });
  }

  function drawWaterfall() {
    var box = $("waterfall");
    clear(box);
    hideTip();
    var events = laidOut.events, hops = laidOut.hops;
    var steps = events.filter(function (e) { return Number(e.duration) > 0; });
    if (!steps.length) {
      box.appendChild(el("p", { "class": "muted" }, "No step took measurable time (an answer from the cache)."));
      return;
    }
    var t0 = 0, t1 = 0;
    events.forEach(function (e) {
      var s = Number(e.start) || 0, d = Number(e.duration) || 0;
      t0 = Math.min(t0, s);
      t1 = Math.max(t1, s + d);
    });
    var span = Math.max(t1 - t0, 1);
    var pct = function (t) { return ((t - t0) / span) * 100; };

    // Steps that overlap in time never share a lane; a step that began
    // after another ended may follow it in its lane, so that a lane reads
    // as round trips one after another.
    var disc = steps.filter(function (e) { return kindOf(e) === "disc"; });
    var rest = steps.filter(function (e) { return kindOf(e) !== "disc"; });
    rest.sort(function (a, b) { return (a.start - b.start) || (a.id - b.id); });
    var lanes = [];
    rest.forEach(function (e) {
      var s = Number(e.start), end = s + Number(e.duration);
      for (var i = 0; i < lanes.length; i++) {
        if (lanes[i].end <= s) { lanes[i].end = end; lanes[i].steps.push(e); return; }
      }
      lanes.push({ end: end, steps: [e] });
    });
    // A bar's label may run on past its end, up to the next bar of its
    // lane; with less room than that it is left out (hover, focus and the
    // table below have it).
    var trackPx = Math.max(box.clientWidth - 130, 150);
    var room = function (e, next) {
      var until = next ? Number(next.start) : t0 + span;
      return (until - Number(e.start)) / span * trackPx - 4;
    };

    var grid = el("div", { "class": "wf", role: "group", "aria-label": "Steps on a time axis of " + fmtDuration(span) });
    var rowNo = 1;
    function addRow(label, items, cls) {
      var lab = el("div", { "class": "wf-label" }, label);
      var track = el("div", { "class": "wf-track " + (cls || "") }, items);
      lab.style.gridRow = String(rowNo);
      track.style.gridRow = String(rowNo);
      rowNo++;
      grid.appendChild(lab);
      grid.appendChild(track);
    }

    addRow("time", axisTicks(t0, span, pct), "axis");
    if (disc.length) addRow("discovery", disc.map(function (e) { return bar(e, pct, room(e, null)); }));
    var bands = hopBands(events, hops, pct);
    if (bands.length) addRow("hops", bands, "hops");
    lanes.forEach(function (lane, i) {
      addRow("lane " + (i + 1), lane.steps.map(function (e, j) { return bar(e, pct, room(e, lane.steps[j + 1])); }));
    });
    var lines = el("div", { "class": "wf-lines", "aria-hidden": "true" }, axisLines(t0, span, pct));
    lines.style.gridRow = "1 / " + rowNo;
    grid.appendChild(lines);
    box.appendChild(grid);
    box.appendChild(el("p", { "class": "muted summary" },
      steps.length + " timed steps in " + lanes.length + " lane" + (lanes.length === 1 ? "" : "s") + ", " + fmtDuration(t1) + " from the first to the last."));
  }

  function tickStep(span) {
    var raw = span / 6, pow = Math.pow(10, Math.floor(Math.log10(raw)));
    var m = [1, 2, 5, 10].find(function (x) { return x * pow >= raw; });
    return m * pow;
  }

  function ticks(t0, span) {
    var step = tickStep(span), out = [];
    for (var t = Math.ceil(t0 / step) * step; t <= t0 + span + step / 1000; t += step) out.push(t);
    return out;
  }

  function axisTicks(t0, span, pct) {
    return ticks(t0, span).map(function (t) {
      var tick = el("span", { "class": "tick" }, fmtDuration(t));
      tick.style.left = pct(t) + "%";
      return tick;
    });
  }

  function axisLines(t0, span, pct) {
    return ticks(t0, span).map(function (t) {
      var line = el("span", { "class": "line" });
      line.style.left = pct(t) + "%";
      return line;
    });
  }

  // hopBands: each hop from its first event to its last.
  function hopBands(events, hops, pct) {
    var ext = {};
    events.forEach(function (e) {
      var n = e.hop | 0;
      if (!n) return;
      var s = Number(e.start) || 0, end = s + (Number(e.duration) || 0);
      if (!ext[n]) ext[n] = { s: s, e: end };
      ext[n].s = Math.min(ext[n].s, s);
      ext[n].e = Math.max(ext[n].e, end);
    });
    return Object.keys(ext).map(function (k) {
      var n = Number(k), x = ext[k];
      var host = hops[n - 1] ? str(hops[n - 1].host) : "";
      var b = el("span", { "class": "band band-" + (n % 2 ? "odd" : "even") }, "hop " + n + (host ? " · " + host : ""));
      b.style.left = pct(x.s) + "%";
      b.style.width = Math.max(pct(x.e) - pct(x.s), 0.5) + "%";
      return b;
    });
  }

  function stepLabel(e) {
    var k = kindOf(e);
    var q = str(e.query);
    if (k === "disc") q = q + (e.outcome ? " " + str(e.outcome) : "");
    return kinds[k].label + " " + q;
  }

  function describe(e) {
    var parts = [kinds[kindOf(e)].long + ": " + str(e.query)];
    if (e.server) parts.push("server " + str(e.server));
    if (e.outcome) parts.push("answer " + str(e.outcome));
    if (e.ttl) parts.push("TTL " + fmtSeconds(e.ttl / S));
    if (e.dnssec) parts.push("DNSSEC " + str(e.dnssec));
    parts.push("took " + fmtDuration(e.duration) + ", from " + fmtDuration(e.start));
    if (e.hop) parts.push("hop " + e.hop);
    if (e.decision) parts.push(str(e.decision));
    return parts.join("; ");
  }

  function bar(e, pct, roomPx) {
    var k = kindOf(e);
    var label = el("span", { "class": "bar-text" }, stepLabel(e));
    if (roomPx < 28) label.hidden = true;
    else label.style.maxWidth = Math.floor(roomPx) + "px";
    var b = el("button", {
      type: "button", "class": "bar k-" + k, "data-id": e.id,
      "aria-label": "step " + e.id + ", " + describe(e)
    }, label);
    b.style.left = pct(Number(e.start)) + "%";
    b.style.width = Math.max(pct(Number(e.start) + Number(e.duration)) - pct(Number(e.start)), 0) + "%";
    b.addEventListener("mouseenter", function () { showTip(b, e); });
    b.addEventListener("focus", function () { showTip(b, e); });
    b.addEventListener("mouseleave", function () { if (document.activeElement !== b) hideTip(); });
    b.addEventListener("blur", hideTip);
    b.addEventListener("keydown", function (ev) { if (ev.key === "Escape") hideTip(); });
    return b;
  }

  function showTip(b, e) {
    var tip = $("tip");
    clear(tip);
    var dl = el("dl");
    var add = function (t, v) { if (v !== "" && v !== null && v !== undefined) dl.appendChild(el("div", null, [el("dt", null, t), el("dd", null, v)])); };
    tip.appendChild(el("p", { "class": "tip-head" }, [badge(kinds[kindOf(e)].label, "k-" + kindOf(e)), " ", el("code", null, str(e.query))]));
    add("Server", str(e.server));
    add("Answer", str(e.outcome));
    add("TTL", e.ttl ? fmtSeconds(e.ttl / S) : "");
    add("DNSSEC", str(e.dnssec));
    add("Took", fmtDuration(e.duration));
    add("Started", "+" + fmtDuration(e.start));
    add("Hop", e.hop ? String(e.hop) : "");
    add("Part of", e.parent ? "step " + e.parent : "");
    add("Decision", str(e.decision));
    tip.appendChild(dl);
    tip.hidden = false;
    var box = tip.parentNode.getBoundingClientRect(), r = b.getBoundingClientRect();
    var left = Math.min(Math.max(r.left - box.left, 0), Math.max(box.width - tip.offsetWidth, 0));
    tip.style.left = left + "px";
    tip.style.top = (r.bottom - box.top + 6) + "px";
  }

  function hideTip() {
    var tip = $("tip");
    tip.hidden = true;
  }

  // ---- every event, as a table ----

  function renderSteps(events) {
    var tbody = $("steps").tBodies[0];
    clear(tbody);
    var sorted = events.slice().sort(function (a, b) { return (a.start - b.start) || (a.id - b.id); });
    sorted.forEach(function (e) {
      tbody.appendChild(el("tr", { "class": Number(e.duration) > 0 ? null : "instant" }, [
        el("td", null, str(e.id)),
        el("td", { "class": "num" }, "+" + fmtDuration(e.start)),
        el("td", { "class": "num" }, Number(e.duration) > 0 ? fmtDuration(e.duration) : ""),
        el("td", null, e.hop ? String(e.hop) : ""),
        el("td", null, e.parent ? String(e.parent) : ""),
        el("td", null, str(e.source)),
        el("td", null, el("code", null, str(e.query))),
        el("td", null, str(e.server)),
        el("td", null, str(e.outcome)),
        el("td", { "class": "num" }, e.ttl ? fmtSeconds(e.ttl / S) : ""),
        el("td", null, str(e.dnssec)),
        el("td", { "class": "decision" }, str(e.decision))
      ]));
    });
  }

  // ---- where the trace comes from ----

  function traceURL(ref, platform) {
    var q = "ref=" + encodeURIComponent(ref);
    if (platform) q += "&platform=" + encodeURIComponent(platform);
    return "/v1/trace?" + q;
  }

  function ask(ref, platform) {
    say("Tracing " + ref + " …");
    $("out").hidden = true;
    var btn = document.querySelector("#ask button");
    btn.disabled = true;
    fetch(traceURL(ref, platform), { headers: { "Accept": "application/json" }, credentials: "omit" })
      .then(function (resp) {
        return resp.json().then(function (body) { return { status: resp.status, body: body }; });
      })
      .then(function (r) {
        var body = r.body || {};
        if (!Array.isArray(body.events)) {
          say("The daemon refused: " + str(body.error) + (body.code ? " (" + str(body.code) + ")" : ""), true);
          return;
        }
        render(body);
        say(body.result ? "Traced " + ref + "." : "Traced " + ref + ": it failed (" + str(body.code) + ").", !body.result);
        document.body.setAttribute("data-state", "done");
      })
      .catch(function (err) { say("The trace could not be fetched: " + str(err && err.message), true); })
      .then(function () { btn.disabled = false; });
  }

  function start() {
    var data = $("trace-data");
    if (data) {
      // A saved page: the trace is in the page; there is no daemon to ask.
      $("ask").hidden = true;
      var body;
      try {
        body = JSON.parse(data.textContent);
      } catch (err) {
        say("The saved trace does not parse: " + str(err && err.message), true);
        return;
      }
      var saved = $("saved");
      var first = Array.isArray(body.events) && body.events.length ? str(body.events[0].time) : "";
      saved.textContent = "Saved trace of " + str(body.ref) + (body.platform ? " for " + str(body.platform) : "") + (first ? ", recorded " + first : "") + ".";
      saved.hidden = false;
      render(body);
      document.body.setAttribute("data-state", "done");
      return;
    }
    var form = $("ask");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var ref = $("ref").value.trim(), platform = $("platform").value.trim();
      if (!ref) return;
      var q = "?ref=" + encodeURIComponent(ref) + (platform ? "&platform=" + encodeURIComponent(platform) : "");
      history.replaceState(null, "", q);
      ask(ref, platform);
    });
    var params = new URLSearchParams(location.search);
    if (params.get("ref")) {
      $("ref").value = params.get("ref");
      $("platform").value = params.get("platform") || "";
      ask($("ref").value.trim(), $("platform").value.trim());
    }
  }

  var resizeTimer = 0;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { if (laidOut && !$("out").hidden) drawWaterfall(); }, 150);
  });
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") hideTip(); });

  start();
})();
