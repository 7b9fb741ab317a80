// The case table of the conformance report: filter, sort, paginate, open details.
//
// Data comes from the JSON blob rendered by conformance/report/render.py (compact_cases).
// Every string in it may come from a catalogue or an exception message, so it is only ever
// put on the page with textContent / createTextNode / setAttribute, never innerHTML.
// Only one page of rows exists in the DOM at a time, and a case's details are built when
// it is opened, so 20,000 cases stay responsive.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("report-data").textContent);
  const F = indexOf(DATA.fields);
  const M = indexOf(DATA.metric_fields);
  const ORDER = DATA.order; // fail, error, xpass, xfail, skip, pass
  const RANK = indexOf(ORDER);
  const rank = (status) => (status in RANK ? RANK[status] : ORDER.length);
  const DEFAULT_DECADES = range(-16, 3);
  const MODES = DATA.modes; // the order modes are listed in (conformance.axes); a missing mode is eager
  const DURATIONS = DATA.duration_fields; // then, maybe, an object with phases the report does not know
  const PHASE_LABELS = { eager: "eager run (for vs eager)" };
  const NUMERIC = new Set(["max_abs_error", "worst_tolerance_ratio", "vs_eager_ratio"]); // sorted largest first
  const SVG = "http://www.w3.org/2000/svg";

  function indexOf(names) {
    const map = Object.create(null);
    names.forEach((name, i) => { map[name] = i; });
    return map;
  }
  function range(a, b) { const r = []; for (let i = a; i < b; i++) r.push(i); return r; }
  function get(row, name) { const v = row[F[name]]; return v === undefined ? null : v; }
  function str(index) { return index === null || index === undefined ? "" : DATA.strings[index]; }
  // results.json spells non-finite numbers as strings
  function num(v) {
    if (v === "inf") return Infinity;
    if (v === "-inf") return -Infinity;
    if (v === "nan") return NaN;
    return typeof v === "number" ? v : null;
  }
  function fmt(v, digits) {
    const x = num(v);
    if (x === null) return "–";
    if (Number.isNaN(x)) return "nan";
    if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
    if (x === 0) return "0";
    const a = Math.abs(x);
    if (a >= 1e-3 && a < 1e5) return String(Number(x.toPrecision(digits || 3)));
    return x.toExponential((digits || 3) - 1);
  }
  function seconds(v) {
    const x = num(v);
    if (x === null || !Number.isFinite(x)) return "–";
    return x < 1 ? fmt(x * 1000, 3) + " ms" : fmt(x, 3) + " s";
  }
  function exact(v) { // the worst values are evidence: all their digits
    const x = num(v);
    return x === null ? "–" : Number.isFinite(x) ? String(x) : fmt(x);
  }

  // ------------------------------------------------------------ case objects for the table
  const cases = DATA.cases.map((row, k) => {
    const status = get(row, "status");
    const metrics = get(row, "metrics");
    const message = get(row, "message") || "";
    return {
      k: k,
      row: row,
      id: String(get(row, "id")),
      status: typeof status === "number" ? DATA.statuses[status] : String(status),
      op: str(get(row, "op")),
      dtype: str(get(row, "dtype")),
      mode: str(get(row, "mode")) || "eager",
      max_abs_error: metrics ? num(metrics[M.max_abs_error]) : null,
      worst_tolerance_ratio: metrics ? num(metrics[M.worst_tolerance_ratio]) : null,
      vs_eager_ratio: metrics ? num(metrics[M.vs_eager_ratio]) : null,
      firstLine: message.split("\n", 1)[0],
      search: null, // lower-case text for the free-text filter, built on first use
    };
  });
  const byId = new Map();
  for (const c of cases) if (!byId.has(c.id)) byId.set(c.id, c);

  function searchText(c) {
    if (c.search === null) {
      const row = c.row;
      const known = get(row, "known");
      const outcome = get(row, "outcome") || [];
      c.search = [
        c.id, c.status, c.op, c.dtype, c.mode, str(get(row, "target")), str(get(row, "check")),
        str(get(row, "family")), JSON.stringify(get(row, "params") || {}),
        get(row, "message") || "", get(row, "diagnosis") || "", known ? `${known.id || ""} ${known.title || ""}` : "",
        (outcome[2] && outcome[2].message) || "", (outcome[3] && outcome[3].message) || "",
        (get(row, "tags") || []).join(" "),
      ].join("\n").toLowerCase();
    }
    return c.search;
  }

  // ------------------------------------------------------------ state
  const $ = (id) => document.getElementById(id);
  const state = {
    statuses: new Set(ORDER),
    op: "", dtype: "", mode: "", text: "", words: [],
    sort: "status", desc: false,
    page: 0, pageSize: 100,
    open: new Set(), // cases (by position: ids may repeat, e.g. catalogue errors) whose details are shown
  };
  let shown = cases; // filtered and sorted

  fillSelect($("filter-op"), cases.map((c) => c.op));
  fillSelect($("filter-dtype"), cases.map((c) => c.dtype));
  fillSelect($("filter-mode"), cases.map((c) => c.mode), modeRank);
  function fillSelect(select, values, order) {
    const distinct = Array.from(new Set(values.filter((v) => v !== ""))).sort(order);
    for (const v of distinct) select.appendChild(el("option", { value: v }, v));
  }
  function modeRank(a, b) { // eager, function, xla, then any other mode by name
    const i = MODES.indexOf(a), j = MODES.indexOf(b);
    return (i < 0 ? MODES.length : i) - (j < 0 ? MODES.length : j) || cmp(a, b);
  }
  // The same case run eagerly: the id without its last bracket element, when that is the mode
  function eagerTwin(c) {
    if (c.mode === "eager") return null;
    let id = null;
    if (c.id.endsWith("-" + c.mode + "]")) id = c.id.slice(0, -(c.mode.length + 2)) + "]";
    else if (c.id.endsWith("[" + c.mode + "]")) id = c.id.slice(0, -(c.mode.length + 2));
    const twin = id === null ? undefined : byId.get(id);
    return twin && twin.mode === "eager" ? twin : null;
  }

  function cmp(x, y) { return x < y ? -1 : x > y ? 1 : 0; }
  // The chosen column, then failing first, then by id (and by position, for repeated ids)
  function compare(a, b) {
    const key = state.sort;
    let d;
    if (NUMERIC.has(key)) {
      const x = a[key], y = b[key];
      if ((x === null) !== (y === null)) return x === null ? 1 : -1; // cases without numbers sink, either way
      d = x === null ? 0 : cmp(Number.isNaN(x) ? Infinity : x, Number.isNaN(y) ? Infinity : y); // NaN: the largest
    } else if (key === "status") {
      d = rank(a.status) - rank(b.status);
    } else if (key === "mode") {
      d = modeRank(a.mode, b.mode);
    } else {
      d = cmp(a[key], b[key]); // id, op, dtype
    }
    if (state.desc) d = -d;
    return d || rank(a.status) - rank(b.status) || cmp(a.id, b.id) || a.k - b.k;
  }

  function apply() {
    const words = state.words;
    shown = cases.filter((c) =>
      state.statuses.has(c.status) &&
      (!state.op || c.op === state.op) &&
      (!state.dtype || c.dtype === state.dtype) &&
      (!state.mode || c.mode === state.mode) &&
      (words.length === 0 || words.every((w) => searchText(c).includes(w))));
    shown.sort(compare);
    const pages = Math.max(1, Math.ceil(shown.length / state.pageSize));
    state.page = Math.min(state.page, pages - 1);
    renderPage();
  }

  // ------------------------------------------------------------ the table
  function renderPage() {
    const start = state.page * state.pageSize;
    const rows = [];
    for (const c of shown.slice(start, start + state.pageSize)) {
      rows.push(caseRow(c));
      if (state.open.has(c.k)) rows.push(detailsRow(c));
    }
    $("case-rows").replaceChildren(...rows);
    const pages = Math.max(1, Math.ceil(shown.length / state.pageSize));
    $("row-count").textContent = shown.length === 0
      ? `No case matches (${cases.length} in all).`
      : `Showing ${start + 1}–${Math.min(start + state.pageSize, shown.length)} of ${shown.length} matching cases (${cases.length} in all).`;
    $("row-count").dataset.matching = String(shown.length); // for tests, with the text it answers
    $("row-count").dataset.text = state.text;
    $("page-info").textContent = `page ${state.page + 1} of ${pages}`;
    $("page-prev").disabled = state.page === 0;
    $("page-next").disabled = state.page >= pages - 1;
    for (const th of document.querySelectorAll("#case-table th[data-sort]")) {
      const active = th.dataset.sort === state.sort;
      th.setAttribute("aria-sort", active ? (state.desc ? "descending" : "ascending") : "none");
    }
  }

  function caseRow(c) {
    const open = state.open.has(c.k);
    const ratio = c.worst_tolerance_ratio;
    const vs = c.vs_eager_ratio;
    const departs = vs !== null && !(vs <= 1); // NaN departs too
    const tr = el("tr", { class: "case-row st-row-" + c.status + (open ? " open" : ""), "data-k": String(c.k) },
      el("td", {}, el("span", { class: "badge st-" + c.status }, c.status)),
      el("td", { class: "case-id" },
        el("button", { type: "button", class: "toggle", "aria-expanded": String(open) }, open ? "▾ " : "▸ ", ...breakable(c.id))),
      el("td", {}, c.op),
      el("td", {}, c.dtype),
      el("td", { class: "col-mode" }, c.mode),
      el("td", { class: "num col-error" }, c.max_abs_error === null ? "" : fmt(c.max_abs_error)),
      el("td", { class: "num col-ratio" + (ratio !== null && !(ratio <= 1) ? " over" : "") }, ratio === null ? "" : fmt(ratio)),
      el("td", departs
        ? { class: "num col-vs-eager over departs", title: "departs from eager by more than the tolerance" }
        : { class: "num col-vs-eager" }, vs === null ? "" : fmt(vs)),
      el("td", { class: "msg", title: c.firstLine }, c.firstLine));
    tr.addEventListener("click", (event) => {
      if (event.target.closest("a")) return;
      toggle(c);
    });
    return tr;
  }

  function toggle(c) {
    if (state.open.has(c.k)) state.open.delete(c.k); else state.open.add(c.k);
    renderPage();
  }

  function detailsRow(c) {
    let content;
    try {
      content = details(c);
    } catch (err) { // one odd record must not take the table down
      content = el("p", { class: "warn" }, "Could not show this case: " + err);
    }
    return el("tr", { class: "details-row" }, el("td", { colspan: "9" }, content));
  }

  // ------------------------------------------------------------ a case's details
  function details(c) {
    const row = c.row;
    const metrics = get(row, "metrics");
    const outcome = get(row, "outcome") || [];
    const known = get(row, "known");
    const file = str(get(row, "file"));
    const line = get(row, "line");
    const message = get(row, "message");

    const box = el("div", { class: "details" });
    box.appendChild(el("div", { class: "d-head" },
      el("span", { class: "badge st-" + c.status }, c.status), " ",
      el("code", { class: "case-full-id" }, ...breakable(c.id)), " ",
      file ? el("span", { class: "muted" }, file + (line ? ":" + line : "")) : "", " ",
      el("a", { href: "#case=" + encodeURIComponent(c.id), class: "permalink" }, "link")));
    const diagnosis = get(row, "diagnosis");
    if (diagnosis) box.appendChild(el("p", { class: "diagnosis" }, el("strong", {}, "Diagnosis: "), String(diagnosis)));
    if (message) box.appendChild(el("pre", { class: "message" }, message));

    const grid = el("div", { class: "d-grid" });
    grid.appendChild(section("Case", kvTable(caseFacts(c))));
    const time = timeFacts(row);
    if (time.length) grid.appendChild(section("Time", kvTable(time)));
    const hasError = metrics && (metrics[M.n_elements] != null || metrics[M.max_abs_error] != null);
    if (hasError) grid.appendChild(section("Error", kvTable(metricFacts(metrics)), histogram(metrics, get(row, "tolerance"))));
    if (metrics && (metrics[M.vs_eager] != null || metrics[M.vs_eager_ratio] != null)) grid.appendChild(vsEager(c, metrics));
    if (metrics && metrics[M.gradients] != null) grid.appendChild(gradientSection(metrics[M.gradients]));
    if (metrics && metrics[M.serialization] != null) grid.appendChild(serializationSection(metrics[M.serialization]));
    const map = metrics ? metrics[M.error_map] : null;
    if (map && map.values && map.values.length) {
      const where = section("Where the error is", heatMap(map));
      where.classList.add("d-map");
      grid.appendChild(where);
    }
    box.appendChild(grid);

    box.appendChild(section("Outcome", el("div", { class: "outcomes" },
      sideOutcome("tf.keras", outcome[1], outcome[3]),
      sideOutcome("reference", outcome[0], outcome[2]))));
    if (known) {
      const links = Array.isArray(known.links) ? known.links.map(String) : [];
      box.appendChild(section("Known divergence",
        el("p", { class: "reason" }, el("code", {}, String(known.id || "")), " (" + String(known.category || "") + "): " + String(known.title || "")),
        ...links.map((link) => el("p", {}, /^https?:\/\//i.test(link.trim())
          ? el("a", { href: link.trim(), rel: "noopener noreferrer", target: "_blank" }, link)
          : el("span", { class: "muted" }, link)))));
    }
    box.appendChild(snippetSection(get(row, "snippet"), c.id));
    return box;
  }

  function caseFacts(c) {
    const row = c.row;
    const facts = [["op", c.op || "–"], ["family", str(get(row, "family")) || "–"], ["dtype", c.dtype || "–"],
      ["mode", c.mode]];
    if (get(row, "target") !== null) facts.push(["target", str(get(row, "target"))]);
    if (get(row, "check") !== null) facts.push(["check", str(get(row, "check"))]);
    const params = get(row, "params") || {};
    for (const name of Object.keys(params)) facts.push(["· " + name, literal(params[name])]);
    const shapes = get(row, "input_shapes") || {};
    for (const name of Object.keys(shapes)) facts.push(["input " + name + " shape", literal(shapes[name])]);
    if (get(row, "input_values") !== null) facts.push(["input values", literal(get(row, "input_values"))]);
    if (get(row, "seed") !== null) facts.push(["seed", String(get(row, "seed"))]);
    const tol = get(row, "tolerance");
    if (tol) facts.push(["tolerance", `rtol ${fmt(tol.rtol, 3)}, atol ${fmt(tol.atol, 3)}`]);
    const expected = get(row, "expected");
    if (expected) facts.push(["expected", literal(expected)]);
    const tags = get(row, "tags");
    if (tags) facts.push(["tags", tags.join(", ")]);
    return facts;
  }

  // The total, then each phase that was timed (compile: tracing and compiling, function and xla only)
  function timeFacts(row) {
    const facts = [];
    if (get(row, "duration_s") !== null) facts.push(["total", seconds(get(row, "duration_s"))]);
    const split = get(row, "durations") || [];
    DURATIONS.forEach((name, i) => {
      if (split[i] !== null && split[i] !== undefined) facts.push(["  " + (PHASE_LABELS[name] || name), seconds(split[i])]);
    });
    const others = split[DURATIONS.length];
    if (others && typeof others === "object") {
      for (const name of Object.keys(others)) facts.push(["  " + name, seconds(others[name])]);
    }
    return facts;
  }

  function vsEager(c, m) {
    const ratio = num(m[M.vs_eager_ratio]);
    const departs = ratio !== null && !(ratio <= 1);
    const twin = eagerTwin(c);
    const box = section("Against eager",
      kvTable([["max |" + c.mode + " − eager|", fmt(m[M.vs_eager], 4)],
        ["  / tolerance", fmt(m[M.vs_eager_ratio], 4) + (departs ? " — departs from eager" : "")]]),
      el("p", { class: "muted note" }, "The largest difference between this mode's output and the eager output of " +
        "the same case, and the worst element's |" + c.mode + " − eager| / (atol + rtol·|eager|) with this case's " +
        "tolerance. Above 1, the mode departs from eager by more than the tolerance: worth a look even when both pass."),
      twin ? el("p", {}, el("a", { href: "#case=" + encodeURIComponent(twin.id) }, "the same case in eager"),
        " ", el("span", { class: "badge st-" + twin.status }, twin.status)) : "");
    if (departs) box.classList.add("departs");
    return box;
  }

  // The gradient check: per input and trainable weight, tf.keras's <g, u> against the
  // reference's directional derivative <v, J u>, and their error over what is allowed
  function gradientSection(g) {
    if (typeof g === "string") return section("Gradients", el("p", { class: "muted" }, "not checked: " + g));
    const head = el("tr", {}, ...["variable", "error / allowed", "tf.keras ⟨g, u⟩", "reference ⟨v, J u⟩", "allowed"].map((h) => el("th", {}, h)));
    const rows = g.map(([name, ratio, keras, reference, allowed, oneSided, unresolved]) => el("tr",
      { class: ratio > 1 ? "departs" : "" },
      el("td", {}, el("code", {}, String(name))),
      el("td", {}, unresolved ? "unresolved" : fmt(ratio, 3)),
      el("td", {}, exact(keras)),
      el("td", {}, oneSided ? `between ${fmt(oneSided[0], 6)} and ${fmt(oneSided[1], 6)} (kink)` : exact(reference)),
      el("td", {}, fmt(allowed, 3))));
    return section("Gradients", el("table", { class: "kv gradients" }, head, ...rows),
      el("p", { class: "muted note" }, "For a random cotangent v of the output and a random direction u of each " +
        "variable, tf.keras's vector-Jacobian product g = Jᵀv dotted with u, against the reference's central " +
        "difference along u. Above 1, the gradient of that variable is wrong."));
  }

  // The serialization check: the layer's copies from get_config/from_config, Keras
  // serialization and a .keras file, each the same as the layer or what changed
  function serializationSection(s) {
    if (typeof s === "string") return section("Serialization", el("p", { class: "muted" }, "not checked: " + s));
    const rows = s.map(([name, problem]) => el("tr", { class: problem && !problem.startsWith("not checked") ? "departs" : "" },
      el("td", {}, el("code", {}, String(name))),
      el("td", {}, problem || "same config, bitwise the same outputs")));
    return section("Serialization", el("table", { class: "kv serialization" }, ...rows));
  }

  function metricFacts(m) {
    const n = m[M.n_elements];
    const facts = [["elements", String(n)]];
    if (m.length > M.max_abs_error) {
      facts.push(
        ["out of tolerance", `${m[M.n_out_of_tolerance]} (${fmt(100 * num(m[M.fraction_out_of_tolerance]), 3)}%)`],
        ["max abs error", fmt(m[M.max_abs_error], 4)],
        ["max rel error", fmt(m[M.max_rel_error], 4)],
        ["worst element", literal(m[M.worst_index])],
        ["  tf.keras", exact(m[M.worst_keras])],
        ["  reference", exact(m[M.worst_reference])],
        ["  error / tolerance", fmt(m[M.worst_tolerance_ratio], 4)]);
      if (m[M.n_nonfinite_mismatch]) facts.push(["NaN/Inf mismatches", String(m[M.n_nonfinite_mismatch])]);
    }
    return facts;
  }

  function sideOutcome(label, shape, error) {
    const box = el("div", { class: "side" }, el("h5", {}, label));
    if (error) {
      const bases = error.bases && error.bases.length ? " (" + error.bases.join(", ") + ")" : "";
      box.appendChild(el("p", {}, "raised ", el("code", {}, String(error.type) + bases),
        error.phase ? " during " + error.phase : ""));
      if (error.message) box.appendChild(el("pre", { class: "exception" }, String(error.message)));
    } else if (shape) {
      box.appendChild(el("p", {}, "output shape ", el("code", {}, literal(shape))));
    } else {
      box.appendChild(el("p", { class: "muted" }, "did not run"));
    }
    return box;
  }

  function snippetSection(snippet, id) {
    const text = Array.isArray(snippet)
      ? snippet.map((i) => DATA.lines[i].split("\u0000").join(id)).join("\n")
      : String(snippet || "# No reproduction snippet for this case.");
    if (!Array.isArray(snippet)) return section("Reproduce", el("pre", { class: "snippet" }, el("code", {}, text)));
    const button = el("button", { type: "button", class: "copy" }, "copy");
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      copy(text).then(() => flash(button, "copied"), () => flash(button, "select and copy by hand"));
    });
    return section("Reproduce", el("p", { class: "muted" }, "A standalone script: paste it into Python with this harness installed. ", button),
      el("pre", { class: "snippet" }, el("code", {}, text)));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise((resolve, reject) => { // file:// in some browsers: the old way
      const area = el("textarea", { class: "offscreen" }, text);
      document.body.appendChild(area);
      area.select();
      const ok = document.execCommand("copy");
      area.remove();
      if (ok) resolve(); else reject(new Error("copy refused"));
    });
  }
  function flash(button, text) {
    button.textContent = text;
    setTimeout(() => { button.textContent = "copy"; }, 1500);
  }

  // ------------------------------------------------------------ pictures (inline SVG)
  function histogram(m, tolerance) {
    const h = m[M.error_histogram];
    if (!h) return "";
    const counts = h[0] || [], zeros = h[1] || 0, decades = h[2] || DEFAULT_DECADES;
    const bars = [{ label: "0", title: `exactly 0: ${zeros}`, n: zeros }].concat(counts.map((n, i) => ({
      label: "1e" + decades[i], title: `1e${decades[i]} ≤ |error| < 1e${decades[i + 1]}: ${n}`, n: n })));
    const W = 20, H = 90, top = 14, left = 4, bottom = 28;
    const max = Math.max(1, ...bars.map((b) => b.n));
    const svg = svgEl("svg", { class: "hist", width: left + bars.length * W + 4, height: top + H + bottom, role: "img" });
    svg.appendChild(svgEl("title", {}, "Elements per decade of |tf.keras − reference| (log-scaled heights)"));
    bars.forEach((b, i) => {
      // log heights: a single bad element must stay visible next to thousands of good ones
      const bh = b.n ? Math.max(2, H * Math.log10(1 + b.n) / Math.log10(1 + max)) : 0;
      const x = left + i * W;
      const g = svgEl("g", {}, svgEl("title", {}, b.title));
      g.appendChild(svgEl("rect", { x: x + 1, y: top + H - bh, width: W - 2, height: bh, class: i === 0 ? "hbar zero" : "hbar" }));
      if (b.n) g.appendChild(svgEl("text", { x: x + W / 2, y: top + H - bh - 2, class: "count" }, compactCount(b.n)));
      svg.appendChild(g);
      if (i === 0 || (i > 1 && decades[i - 1] % 3 === 0)) {
        svg.appendChild(svgEl("text", { x: x + W / 2, y: top + H + 11, class: "axis" }, b.label));
      }
    });
    svg.appendChild(svgEl("text", { x: left, y: top + H + 25, class: "axis-title" }, "|error| per decade →"));
    const atol = tolerance ? num(tolerance.atol) : null;
    if (atol && atol > 0) { // where atol sits: errors right of it may be out of tolerance
      const i = Math.floor(Math.log10(atol)) - decades[0];
      if (i >= 0 && i < counts.length) {
        const x = left + (i + 1 + (Math.log10(atol) - Math.floor(Math.log10(atol)))) * W;
        svg.appendChild(svgEl("line", { x1: x, x2: x, y1: top - 6, y2: top + H, class: "atol" }));
        svg.appendChild(svgEl("text", { x: x + 2, y: top - 6, class: "axis atol-label" }, "atol"));
      }
    }
    return svg;
  }
  function compactCount(n) {
    if (n < 1000) return String(n);
    if (n < 1e6) return (n < 1e4 ? (n / 1e3).toFixed(1) : Math.round(n / 1e3)) + "k";
    return (n < 1e7 ? (n / 1e6).toFixed(1) : Math.round(n / 1e6)) + "M";
  }

  function heatMap(map) {
    const values = map.values;
    const rows = values.length, cols = Math.max(...values.map((r) => r.length));
    const cell = Math.max(8, Math.min(24, Math.floor(256 / Math.max(rows, cols))));
    const svg = svgEl("svg", { class: "heat", width: cols * cell + 2, height: rows * cell + 2, role: "img" });
    svg.appendChild(svgEl("title", {}, "error / tolerance per block of the output"));
    values.forEach((r, i) => r.forEach((v, j) => {
      const rect = svgEl("rect", { x: 1 + j * cell, y: 1 + i * cell, width: cell, height: cell, fill: heatColour(v) });
      rect.appendChild(svgEl("title", {}, `[${i}, ${j}] error / tolerance ${fmt(v)}`));
      svg.appendChild(rect);
    }));
    const axes = map.axes || [];
    const legend = el("div", { class: "legend" },
      swatch(1e-6), " ≤1e-6 ", swatch(1e-2), " 0.01 ", swatch(0.99), " within tolerance │ out of tolerance ",
      swatch(2), " >1 ", swatch(1e3), " 1000 ", swatch(1e6), " ≥1e6 ", swatch("nan"), " NaN");
    return el("div", {},
      el("p", { class: "muted map-note" }, `Rows: output axis ${axes[0]}; columns: output axis ${axes[1]}. ` +
        "A cell: the worst error / tolerance over the other axes (and its block, for large outputs)."),
      svg, legend);
  }
  function swatch(v) { return el("span", { class: "swatch", style: "background:" + heatColour(v) }); }
  // Blues within tolerance (ratio ≤ 1), reds outside, on a log scale
  function heatColour(v) {
    const x = num(v);
    if (x === null || Number.isNaN(x)) return "#777";
    if (x === 0) return "#f4f6f8";
    const l = Math.log10(x);
    if (x <= 1) return mix([236, 243, 251], [38, 96, 170], Math.min(1, Math.max(0, (l + 6) / 6)));
    return mix([248, 170, 160], [110, 0, 0], Math.min(1, Math.max(0, l / 6)));
  }
  function mix(a, b, t) {
    return "rgb(" + a.map((v, i) => Math.round(v + (b[i] - v) * t)).join(",") + ")";
  }

  // ------------------------------------------------------------ DOM helpers (text only)
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of children) {
      if (child === null || child === undefined || child === "") continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }
  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (typeof text === "string") node.textContent = text;
    else if (text) node.appendChild(text);
    return node;
  }
  function section(title, ...content) {
    return el("section", { class: "d-section" }, el("h4", {}, title), ...content);
  }
  function kvTable(facts) {
    return el("table", { class: "kv" }, ...facts.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))));
  }
  // Values as a person writes them: [1, 2], {"a": 1}; strings bare at the top level
  // A long case id wraps after "::", "[", "-" or "," rather than anywhere
  function breakable(text) {
    const parts = [];
    for (const piece of text.split(/(?<=::|[[\-,=])/)) {
      if (parts.length) parts.push(el("wbr", {}));
      parts.push(piece);
    }
    return parts;
  }
  function literal(v, nested) {
    if (typeof v === "string") return nested ? JSON.stringify(v) : v;
    if (Array.isArray(v)) return "[" + v.map((x) => literal(x, true)).join(", ") + "]";
    if (v && typeof v === "object") {
      return "{" + Object.keys(v).map((k) => JSON.stringify(k) + ": " + literal(v[k], true)).join(", ") + "}";
    }
    return String(v);
  }

  // ------------------------------------------------------------ controls
  for (const box of document.querySelectorAll("#status-filter input")) {
    box.addEventListener("change", () => {
      if (box.checked) state.statuses.add(box.value); else state.statuses.delete(box.value);
      state.page = 0; apply();
    });
  }
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("filter-op").addEventListener("change", (e) => { state.op = e.target.value; state.page = 0; apply(); });
  $("filter-dtype").addEventListener("change", (e) => { state.dtype = e.target.value; state.page = 0; apply(); });
  $("filter-mode").addEventListener("change", (e) => { state.mode = e.target.value; state.page = 0; apply(); });
  let typing = null;
  $("filter-text").addEventListener("input", (e) => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      state.text = e.target.value;
      state.words = state.text.toLowerCase().split(/\s+/).filter(Boolean);
      state.page = 0; apply();
    }, 150);
  });
  $("filter-reset").addEventListener("click", () => { resetFilters(); apply(); });
  function resetFilters() {
    state.statuses = new Set(ORDER);
    for (const box of document.querySelectorAll("#status-filter input")) box.checked = true;
    state.op = ""; state.dtype = ""; state.mode = ""; state.text = ""; state.words = []; state.page = 0;
    $("filter-op").value = ""; $("filter-dtype").value = ""; $("filter-mode").value = ""; $("filter-text").value = "";
  }
  for (const th of document.querySelectorAll("#case-table th[data-sort]")) {
    th.tabIndex = 0;
    const sortBy = () => {
      const key = th.dataset.sort;
      if (state.sort === key) state.desc = !state.desc;
      else { state.sort = key; state.desc = NUMERIC.has(key); }
      state.page = 0; apply();
    };
    th.addEventListener("click", sortBy);
    th.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(); } });
  }
  $("page-prev").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); renderPage(); });
  $("page-next").addEventListener("click", () => {
    state.page = Math.min(state.page + 1, Math.max(0, Math.ceil(shown.length / state.pageSize) - 1));
    renderPage();
  });
  $("page-size").addEventListener("change", (e) => { state.pageSize = Number(e.target.value); state.page = 0; apply(); });

  // The status chips at the top and the op names in the family table filter the case table.
  for (const chip of document.querySelectorAll("#status-counts [data-status]")) {
    chip.addEventListener("click", () => {
      resetFilters();
      state.statuses = new Set([chip.dataset.status]);
      for (const box of document.querySelectorAll("#status-filter input")) box.checked = box.value === chip.dataset.status;
      apply(); $("cases").scrollIntoView();
    });
  }
  for (const button of document.querySelectorAll("#families [data-op]")) {
    button.addEventListener("click", () => {
      resetFilters();
      state.op = button.dataset.op; $("filter-op").value = state.op;
      apply(); $("cases").scrollIntoView();
    });
  }

  // A divergence's id shows the cases that refer to it (its id is in their search text).
  for (const button of document.querySelectorAll("#divergences [data-known]")) {
    button.addEventListener("click", () => {
      resetFilters();
      state.text = button.dataset.known; state.words = [state.text.toLowerCase()];
      $("filter-text").value = state.text;
      apply(); $("cases").scrollIntoView();
    });
  }

  // The mode names in the mode table filter the case table; its "departs" counts also sort by vs eager.
  for (const button of document.querySelectorAll("#modes [data-mode]")) {
    button.addEventListener("click", () => {
      resetFilters();
      state.mode = button.dataset.mode; $("filter-mode").value = state.mode;
      if (button.dataset.sort) { state.sort = button.dataset.sort; state.desc = NUMERIC.has(state.sort); }
      apply(); $("cases").scrollIntoView();
    });
  }

  // #case=ID opens that case (links from the baseline section, shared links)
  function openFromHash() {
    if (!location.hash.startsWith("#case=")) return;
    let id;
    try { id = decodeURIComponent(location.hash.slice(6)); } catch (e) { return; }
    const c = byId.get(id);
    if (!c) return;
    resetFilters();
    state.sort = "status"; state.desc = false;
    state.open.add(c.k);
    apply();
    state.page = Math.floor(shown.indexOf(c) / state.pageSize);
    renderPage();
    const row = document.querySelector(`#case-rows tr[data-k="${c.k}"]`);
    if (row) row.scrollIntoView({ block: "start" });
  }
  window.addEventListener("hashchange", openFromHash);

  apply();
  openFromHash();
  document.body.dataset.ready = "true"; // for tests: the table is drawn
})();
