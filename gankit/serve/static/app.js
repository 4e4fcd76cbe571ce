// The page of `gankit serve`: lists the models, builds the form each one accepts (from its
// describe() facts), and shows what the API returns. It talks only to this server's /v1 routes.
"use strict";

const $ = (id) => document.getElementById(id);
const FORMATS = { images: ["png", "webp"], points: ["json", "csv"], table: ["csv", "json"] };
const PREVIEW_ROWS = 20;
let models = [];
let lastRequest = null;

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

async function api(path, options = {}) {
  const answer = await fetch(path, { credentials: "same-origin", ...options });
  if (!answer.ok) {
    let message = `${answer.status} ${answer.statusText}`;
    try { message = (await answer.json()).error || message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return answer;
}

function option(select, value, label = value) {
  const item = document.createElement("option");
  item.value = value;
  item.textContent = label;
  select.append(item);
}

function current() { return models.find((m) => m.name === $("model").value); }

function describe(model) {
  const a = model.accepts;
  const facts = [`${model.task} (${model.preset})`];
  if (a.resolution) facts.push(`${a.resolution}×${a.resolution}`);
  if (a.scale) facts.push(`×${a.scale} upscaling`);
  if (a.condition) facts.push(`condition: ${a.condition}`);
  if (a.directions && a.directions.length > 1) facts.push(`directions: ${a.directions.join(", ")}`);
  facts.push(`gankit ${model.gankit_version}`);
  const name = document.createElement("strong");
  name.textContent = model.name;
  $("about").replaceChildren(name, `: ${facts.join(" · ")}`);
}

function showModel() {
  const model = current();
  if (!model) return;
  describe(model);
  $("results").replaceChildren();
  setStatus("");
  const a = model.accepts;
  const generator = model.inference === "generate";
  $("generate-form").hidden = !generator;
  $("apply-form").hidden = generator;
  for (const id of ["download-grid", "download-all", "download-output"]) $(id).disabled = true;
  if (!generator) {
    $("direction").replaceChildren();
    a.directions.forEach((d) => option($("direction"), d));
    $("direction-field").hidden = a.directions.length < 2;
    return;
  }
  $("class-field").hidden = a.condition !== "class";
  $("class").replaceChildren();
  option($("class"), "", "every class");
  (a.classes || []).forEach((name, index) => option($("class"), String(index), name));
  $("text-field").hidden = a.condition !== "text";
  $("truncation-field").hidden = !a.truncation;
  const columns = $("columns-field");
  columns.hidden = a.condition !== "columns";
  columns.querySelectorAll("label").forEach((label) => label.remove());
  for (const column of a.columns || []) {
    if (!column.categories || !column.categories.length) continue;
    const label = document.createElement("label");
    label.textContent = column.name;
    const select = document.createElement("select");
    select.dataset.column = column.name;
    option(select, "", "any");
    column.categories.forEach((value, index) => option(select, String(index), String(value)));
    label.append(select);
    columns.append(label);
  }
  $("format").replaceChildren();
  FORMATS[a.output].forEach((f) => option($("format"), f));
  $("download-grid").hidden = a.output !== "images";
}

function generateBody(extra = {}) {
  const model = current();
  const a = model.accepts;
  const body = { n: Number($("count").value), seed: Number($("seed").value), format: $("format").value };
  if (a.condition === "class" && $("class").value !== "") body.condition = Number($("class").value);
  if (a.condition === "text" && $("text").value.trim()) body.condition = $("text").value.trim();
  if (a.condition === "columns") {
    const chosen = {};
    for (const select of $("columns-field").querySelectorAll("select")) {
      if (select.value === "") continue;
      const spec = a.columns.find((c) => c.name === select.dataset.column);
      chosen[spec.name] = spec.categories[Number(select.value)];
    }
    if (Object.keys(chosen).length) body.condition = chosen;
  }
  if (a.truncation && $("truncation").value) body.truncation = Number($("truncation").value);
  return { ...body, ...extra };
}

const decode = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const text = (file) => new TextDecoder().decode(decode(file.b64_json));

function showImages(files, columns) {
  const grid = document.createElement("div");
  grid.className = "grid";
  // Every class in turn: a column per class, as `gankit sample --grid` lays it out.
  if (columns) grid.style.gridTemplateColumns = `repeat(${columns}, minmax(0, 1fr))`;
  for (const file of files) {
    const img = document.createElement("img");
    img.src = `data:${file.media_type};base64,${file.b64_json}`;
    img.alt = file.name;
    img.dataset.name = file.name;
    grid.append(img);
  }
  $("results").replaceChildren(grid);
}

function showTable(csv) {
  // A preview only; the download holds every row exactly as the server wrote it.
  const rows = parseCsv(csv).slice(0, PREVIEW_ROWS + 1);
  const table = document.createElement("table");
  rows.forEach((cells, r) => {
    const tr = table.insertRow();
    cells.forEach((cell) => {
      const td = document.createElement(r === 0 ? "th" : "td");
      td.textContent = cell;
      tr.append(td);
    });
  });
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  wrap.append(table);
  $("results").replaceChildren(wrap);
}

function parseCsv(csv) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < csv.length; i++) {
    const c = csv[i];
    if (quoted) {
      if (c === '"' && csv[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n") { row.push(cell); rows.push(row); row = []; cell = ""; }
    else if (c !== "\r") cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

function showPoints(points) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "scatter");
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const lo = Math.min(...xs, ...ys), hi = Math.max(...xs, ...ys);
  const pad = (hi - lo) * 0.05 || 1;
  svg.setAttribute("viewBox", `${lo - pad} ${-(hi + pad)} ${hi - lo + 2 * pad} ${hi - lo + 2 * pad}`);
  const r = (hi - lo + 2 * pad) / 250;
  for (const [x, y] of points) {
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", x); dot.setAttribute("cy", -y); dot.setAttribute("r", r);
    dot.setAttribute("fill", "#2f5fd0"); dot.setAttribute("fill-opacity", "0.5");
    svg.append(dot);
  }
  $("results").replaceChildren(svg);
}

function save(blob, name) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

async function generate(event) {
  event.preventDefault();
  const model = current();
  const body = generateBody();
  setStatus("generating…");
  $("generate").disabled = true;
  try {
    const answer = await api(`/v1/models/${encodeURIComponent(model.name)}/generate`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const files = (await answer.json()).files;
    const output = model.accepts.output;
    const everyClass = model.accepts.condition === "class" && body.condition === undefined;
    if (output === "images") showImages(files, everyClass ? model.accepts.classes.length : 0);
    else if (output === "table") body.format === "csv" ? showTable(text(files[0])) : showTable(jsonToCsv(text(files[0])));
    else showPoints(body.format === "json" ? JSON.parse(text(files[0])) : parseCsv(text(files[0])).slice(1).map((r) => r.map(Number)));
    lastRequest = { model, body };
    $("download-grid").disabled = $("download-all").disabled = false;
    setStatus(`${body.n} samples, seed ${body.seed}`);
  } catch (err) {
    setStatus(err.message, true);
  } finally {
    $("generate").disabled = false;
  }
}

function jsonToCsv(json) {
  const records = JSON.parse(json);
  if (!records.length) return "";
  const names = Object.keys(records[0]);
  const quote = (v) => `"${String(v ?? "").replaceAll('"', '""')}"`;
  return [names.map(quote).join(","), ...records.map((r) => names.map((n) => quote(r[n])).join(","))].join("\n");
}

async function download(layout) {
  if (!lastRequest) return;
  const { model, body } = lastRequest;
  try {
    const answer = await api(`/v1/models/${encodeURIComponent(model.name)}/generate`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...body, layout, response: "binary" }),
    });
    const name = /filename="([^"]+)"/.exec(answer.headers.get("Content-Disposition") || "");
    save(await answer.blob(), `${model.name}-seed${body.seed}-${name ? name[1] : "samples"}`);
  } catch (err) {
    setStatus(err.message, true);
  }
}

let lastOutput = null;

async function apply(event) {
  event.preventDefault();
  const model = current();
  const file = $("upload").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("image", file);
  form.append("direction", $("direction").value);
  setStatus("applying…");
  $("apply").disabled = true;
  try {
    const answer = await api(`/v1/models/${encodeURIComponent(model.name)}/apply`, { method: "POST", body: form });
    const result = (await answer.json()).files[0];
    lastOutput = new Blob([decode(result.b64_json)], { type: result.media_type });
    const pair = document.createElement("div");
    pair.className = "pair";
    for (const [caption, src] of [["input", URL.createObjectURL(file)], ["output", URL.createObjectURL(lastOutput)]]) {
      const figure = document.createElement("figure");
      const img = document.createElement("img");
      img.src = src;
      img.alt = caption;
      const label = document.createElement("figcaption");
      label.textContent = caption;
      figure.append(img, label);
      pair.append(figure);
    }
    $("results").replaceChildren(pair);
    $("download-output").disabled = false;
    setStatus(`${file.name} → ${model.name}`);
  } catch (err) {
    setStatus(err.message, true);
  } finally {
    $("apply").disabled = false;
  }
}

async function start() {
  $("model").addEventListener("change", showModel);
  $("generate-form").addEventListener("submit", generate);
  $("apply-form").addEventListener("submit", apply);
  $("download-grid").addEventListener("click", () => download("grid"));
  $("download-all").addEventListener("click", () => download("images"));
  $("download-output").addEventListener("click", () => lastOutput && save(lastOutput, `${current().name}-output.png`));
  try {
    models = await (await api("/v1/models")).json();
  } catch (err) {
    setStatus(`cannot list the models: ${err.message}`, true);
    return;
  }
  models.forEach((m) => option($("model"), m.name, `${m.name} (${m.task})`));
  showModel();
  document.body.dataset.ready = "true";
}

start();
