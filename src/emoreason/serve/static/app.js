// The emoreason page: sends text and media to POST /v1/analyze and shows the audit record.
// Model text is untrusted: it is only ever put into the page with textContent, never as HTML.
"use strict";

const HISTORY_KEY = "emoreason-history";
const KEY_KEY = "emoreason-api-key";
const PART_TITLES = {
  think: "Reasoning",
  step1: "Step 1 · what triggers the feeling",
  step2: "Step 2 · how a person would feel",
  step3: "Step 3 · valence and arousal",
};
const MODALITY_HEADINGS = ["Text", "Audio", "Video", "Image", "Cues", "Combined"];

const $ = (id) => document.getElementById(id);
let options = null;

function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== null) node.textContent = text;
  return node;
}

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

function authHeaders() {
  const key = sessionStorage.getItem(KEY_KEY);
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return body.error.message;
  } catch (_) { /* not JSON */ }
  return `${response.status} ${response.statusText}`;
}

// ---------------------------------------------------------------------------------------
// start-up: health, options
// ---------------------------------------------------------------------------------------

async function connect() {
  const line = $("model-line");
  line.textContent = "";
  try {
    const health = await (await fetch("/health")).json();
    if (health.auth_required) {
      $("key-box").classList.remove("hidden");
      $("api-key").value = sessionStorage.getItem(KEY_KEY) || "";
    }
    const response = await fetch("/v1/analyze/options", { headers: authHeaders() });
    if (!response.ok) throw new Error(await errorMessage(response));
    options = await response.json();
    line.append(el("span", { class: "dot" }), `${options.model} · ${options.family}`);
    fillTasks();
    markModalities();
  } catch (err) {
    line.append(el("span", { class: "dot down" }), `not connected: ${err.message}`);
  }
}

function fillTasks() {
  const select = $("task");
  select.replaceChildren();
  for (const [name, task] of Object.entries(options.tasks)) {
    const what = task.scale ? `score ${task.scale[0]}…${task.scale[1]}` : `labels: ${task.labels.join(", ")}`;
    select.append(el("option", { value: name }, `${name} (${what})`));
  }
  $("max-tokens").max = options.limits.max_tokens;
  $("votes").max = options.limits.max_votes;
  // start from what the served adapter was trained for
  const defaults = options.defaults || {};
  if ([...$("format").options].some((o) => o.value === defaults.format)) $("format").value = defaults.format;
  if (options.tasks[defaults.task]) select.value = defaults.task;
  matchTaskToFormat();
}

function matchTaskToFormat() {
  if (!options) return;
  const needs = options.formats[$("format").value]?.needs;
  const task = options.tasks[$("task").value];
  if (needs === "labels" && task && !task.labels) $("task").value = "mikels";
  if (needs === "scale" && task && !task.scale) $("task").value = "vader";
}

function markModalities() {
  // media the model reads, and those the server measures into cue text for it (serve --cues auto)
  const taken = new Set([...options.modalities, ...(options.cue_media || [])]);
  for (const box of document.querySelectorAll(".file")) {
    const ok = taken.has(box.dataset.kind);
    box.classList.toggle("disabled", !ok);
    box.querySelector("input").disabled = !ok;
    box.title = ok ? "" : `this model (${options.family}) does not take ${box.dataset.kind}`;
  }
  const measured = options.cue_media || [];
  $("media-hint").textContent = !taken.size
    ? `This model (${options.family}) takes text only; load a Qwen2.5-VL or Omni model for media.`
    : measured.length
      ? `This model also takes: ${[...taken].join(", ")} (${measured.join(", ")} measured and given as cue text).`
      : `This model also takes: ${[...taken].join(", ")}.`;
}

// ---------------------------------------------------------------------------------------
// analysing
// ---------------------------------------------------------------------------------------

async function analyze(event) {
  event.preventDefault();
  const text = $("text").value.trim();
  const form = new FormData();
  form.append("text", text);
  form.append("format", $("format").value);
  form.append("task", $("task").value);
  form.append("max_tokens", $("max-tokens").value || "256");
  if ($("temperature").value !== "") form.append("temperature", $("temperature").value);
  form.append("votes", $("votes").value || "1");
  if ($("attribute").checked) form.append("attribute", "true");
  const media = [];
  for (const input of document.querySelectorAll(".file input")) {
    if (!input.disabled && input.files.length) {
      form.append(input.name, input.files[0]);
      media.push(`${input.name}: ${input.files[0].name}`);
    }
  }
  if (!text && !media.length) {
    showError("Type a text or choose a media file.");
    return;
  }
  showError(null);
  setBusy(true);
  const started = performance.now();
  try {
    const response = await fetch("/v1/analyze", { method: "POST", body: form, headers: authHeaders() });
    if (!response.ok) throw new Error(await errorMessage(response));
    const record = await response.json();
    const entry = {
      time: new Date().toLocaleTimeString(),
      input: text || media.join(", "),
      text,
      media,
      task: $("task").value,
      roundTrip: (performance.now() - started) / 1000,
      record,
    };
    addHistory(entry);
    render(entry);
  } catch (err) {
    showError(err.message);
  } finally {
    setBusy(false);
  }
}

function setBusy(busy) {
  $("submit").disabled = busy;
  $("busy").classList.toggle("hidden", !busy);
}

function showError(message) {
  $("error").classList.toggle("hidden", !message);
  $("error").textContent = message || "";
}

// ---------------------------------------------------------------------------------------
// the result
// ---------------------------------------------------------------------------------------

function polarityClass(polarity) {
  return ["positive", "negative", "neutral"].includes(polarity) ? polarity : "unknown";
}

function splitByModality(text) {
  // C2F's think block reads per modality when the model writes "Text: ...", "Audio: ..." paragraphs
  const pattern = new RegExp(`^(${MODALITY_HEADINGS.join("|")}):\\s*`, "gm");
  const marks = [...text.matchAll(pattern)];
  if (!marks.length) return [["Reasoning", text]];
  const parts = [];
  const before = text.slice(0, marks[0].index).trim();
  if (before) parts.push(["Reasoning", before]);
  marks.forEach((mark, i) => {
    const end = i + 1 < marks.length ? marks[i + 1].index : text.length;
    parts.push([mark[1], text.slice(mark.index + mark[0].length, end).trim()]);
  });
  return parts;
}

function reasoningParts(record) {
  const parts = [];
  for (const [name, content] of Object.entries(record.reasoning || {})) {
    if (name === "think" && record.format === "c2f") parts.push(...splitByModality(content));
    else parts.push([PART_TITLES[name] || name, content]);
  }
  return parts;
}

function gauge(score, task) {
  const [low, high] = task.scale;
  const cx = 110, cy = 100, r = 80;
  const angle = (value) => Math.PI * (1 - (Math.min(high, Math.max(low, value)) - low) / (high - low));
  const point = (value, radius) => [cx + radius * Math.cos(angle(value)), cy - radius * Math.sin(angle(value))];
  const arc = (from, to, colour) => {
    const [x1, y1] = point(from, r);
    const [x2, y2] = point(to, r);
    return svg("path", { d: `M ${x1} ${y1} A ${r} ${r} 0 0 1 ${x2} ${y2}`, stroke: colour, "stroke-width": 14, fill: "none" });
  };
  const [nLow, nHigh] = task.neutral || [0, 0];
  const root = svg("svg", { width: 220, height: 130, viewBox: "0 0 220 130", role: "img", "aria-label": `score ${score}` });
  root.append(arc(low, nLow, "#fca5a5"), arc(nLow, nHigh, "#fcd34d"), arc(nHigh, high, "#86efac"));
  if (nLow === nHigh) {
    const [x, y] = point(nLow, r);
    root.append(svg("circle", { cx: x, cy: y, r: 3, fill: "#a16207" }));
  }
  const [nx, ny] = point(score, r - 18);
  root.append(svg("line", { x1: cx, y1: cy, x2: nx, y2: ny, stroke: "#1d2330", "stroke-width": 3, "stroke-linecap": "round" }));
  root.append(svg("circle", { cx, cy, r: 5, fill: "#1d2330" }));
  root.append(svg("text", { x: cx, y: cy + 24, "text-anchor": "middle", class: "gauge-value" }, `score ${Number(score.toFixed(2))}`));
  root.append(svg("text", { x: cx - r, y: cy + 16, "text-anchor": "middle", class: "gauge-tick" }, String(low)));
  root.append(svg("text", { x: cx + r, y: cy + 16, "text-anchor": "middle", class: "gauge-tick" }, String(high)));
  return root;
}

// The server marks the evidence (`citations.spans`, from emoreason.metrics.evidence.mark_evidence):
// offsets count code points, as Python does, so the text is split with Array.from, not indexed
// by UTF-16 units. A span whose text is not the one here (the server read another text) is skipped.
function evidenceNodes(text, spans) {
  const chars = Array.from(text);
  const nodes = [];
  let last = 0;
  for (const span of spans) {
    if (span.field !== "text" || span.start < last || span.end > chars.length) continue;
    const piece = chars.slice(span.start, span.end).join("");
    if (piece !== span.text) continue;
    nodes.push(document.createTextNode(chars.slice(last, span.start).join("")));
    const direction = ["positive", "negative", "neutral"].includes(span.direction) ? span.direction : "unstated";
    nodes.push(el("mark", { class: `evidence ${direction}`, title: `cited as ${span.citation}` }, piece));
    last = span.end;
  }
  nodes.push(document.createTextNode(chars.slice(last).join("")));
  return nodes;
}

function renderEvidence(entry) {
  const citations = entry.record.citations || {};
  const spans = (citations.spans || []).filter((span) => span.field === "text");
  const notFound = citations.not_found || [];
  $("evidence").classList.toggle("hidden", !spans.length && !notFound.length);
  $("evidence-text").replaceChildren(...evidenceNodes(entry.text || "", spans));
  const missing = $("not-found");
  missing.classList.toggle("hidden", !notFound.length);
  missing.replaceChildren(
    notFound.length ? "Cited but not in the input: " : "",
    ...notFound.map((cited) => el("span", { class: "cited" }, cited)),
  );
  // the negations the answer has to account for (emoreason.metrics.valence.negation_notes), and the
  // lexicon-rated words of the input it gives no valence (emoreason.metrics.valence.unnamed_cues), and
  // the numbers it gives words outside their raters' spread (emoreason.metrics.valence.misrated_cues),
  // and those it gives words the lexicon does not rate (emoreason.metrics.valence.unrated_cues)
  const items = (entry.record.negations || []).map(negationItem);
  const leftOut = entry.record.unnamed_cues || [];
  if (leftOut.length) items.push(unnamedItem(leftOut));
  const misrated = entry.record.misrated_cues || [];
  if (misrated.length) items.push(misratedItem(misrated));
  const unrated = entry.record.unrated_cues || [];
  if (unrated.length) items.push(unratedItem(unrated));
  if (entry.record.attribution) items.push(attributionItem(entry.record.attribution, spans));
  const list = $("negations");
  list.classList.toggle("hidden", !items.length);
  list.replaceChildren(...items);
}

// a valence as the chains and the terminal write it: one decimal, with its sign
function signed(value) {
  return `${value > 0 ? "+" : ""}${value.toFixed(1)}`;
}

function unnamedItem(cues) {
  const words = cues.map((c) => `"${c.word}" (${signed(c.valence)})`);
  return el("li", { class: "doubt" }, `In the input, rated by the VADER lexicon, not weighed by the chain: ${words.join(", ")}`);
}

function misratedItem(cues) {
  const words = cues.map((c) => `"${c.word}" ${signed(c.stated)} (VADER ${signed(c.valence)}, raters' sd ${c.spread.toFixed(2)})`);
  return el("li", { class: "doubt" }, `Rated by the chain outside its VADER raters' spread: ${words.join(", ")}`);
}

function unratedItem(cues) {
  const words = cues.map((c) => `"${c.word}" ${signed(c.stated)}`);
  return el("li", { class: "doubt" }, `Given a number by the chain, not rated by the VADER lexicon: ${words.join(", ")}`);
}

// which words the judgment moves with (emoreason.metrics.attribution, as `analyze --attribute` shows them):
// up to three each way that add 0.05 or more to P(positive) - P(negative), or take as much, and whether
// the chain cites them (a citation span overlaps the word: metrics.attribution.is_cited)
function attributionItem(shifts, spans) {
  const cited = (w) => spans.some((s) => s.start < w.end && w.start < s.end);
  const sides = [["toward positive", 1], ["toward negative", -1]]
    .map(([name, sign]) => [name, shifts.filter((w) => sign * w.shift >= 0.05).slice(0, 3)])
    .filter(([, words]) => words.length)
    .map(([name, words]) => `${name} ` + words
      .map((w) => `"${w.word}" ${w.shift > 0 ? "+" : ""}${w.shift.toFixed(2)}${cited(w) ? "" : " (not cited)"}`)
      .join(", "));
  const text = sides.length ? sides.join("; ") : "no single word moves it by 0.05 or more (several words carry it, or none)";
  return el("li", {}, `What moves it (each word taken out in turn, P(positive) − P(negative)): ${text}`);
}

function negationItem(note) {
  const cue = `"${note.cue}"`, negator = `"${note.negator}"`;
  if (note.named && note.in_input) return el("li", {}, `${cue} negated by ${negator}, which stands just before it in the input`);
  if (note.named) return el("li", { class: "doubt" }, `The chain says ${negator} negates ${cue}; the input has no such negation`);
  return el("li", { class: "doubt" }, `The input has ${negator} just before ${cue}; the chain does not say so`);
}

function render(entry) {
  const record = entry.record;
  $("placeholder").classList.add("hidden");
  $("result-body").classList.remove("hidden");
  $("result").classList.remove("empty");

  const badge = $("badge");
  badge.className = `badge ${polarityClass(record.polarity)}`;
  badge.textContent = record.polarity ? record.polarity.toUpperCase() : "NO POLARITY";

  const task = options && options.tasks[entry.task];
  const gaugeBox = $("gauge-box");
  gaugeBox.replaceChildren();
  if (record.score !== null && record.score !== undefined && task && task.scale) gaugeBox.append(gauge(record.score, task));
  else if (record.score !== null && record.score !== undefined) gaugeBox.append(el("span", { class: "label-chip" }, `score ${record.score}`));
  const probs = record.polarity_probs || {};
  if ((record.score_readout === "confidence" || record.score_readout === "fitted") && record.polarity in probs) {
    // the confidence and fitted readouts (emoreason.formats.readout): where the number comes from
    const fitted = record.score_readout === "fitted";
    const title = fitted
      ? "read off the model's fitted line, from the written score times the probability of its polarity, the polarity margin and the cues' valences"
      : "the written score times the probability the model gave its polarity";
    const text = `written ${record.written_score} × P(${record.polarity}) ${probs[record.polarity].toFixed(2)}`;
    gaugeBox.append(el("p", { class: "readout", title }, fitted ? `fitted line; ${text}` : text));
  }
  const chip = $("label-chip");
  chip.classList.toggle("hidden", !record.label);
  chip.textContent = record.label ? `label: ${record.label}` : "";

  renderEvidence(entry);

  const list = $("parts");
  list.replaceChildren();
  const parts = reasoningParts(record);
  if (!parts.length) parts.push(["Reasoning", ""]);
  for (const [title, content] of parts) {
    const item = el("li", { class: content ? "part" : "part empty" });
    item.append(el("h3", {}, title), el("p", {}, content || "(the answer has no reasoning part)"));
    list.append(item);
  }

  const status = $("parse-status");
  status.className = `status ${record.parse_ok ? "ok" : "bad"}`;
  status.textContent = record.parse_ok ? "parsed" : "not parsed";
  $("meta").textContent = `server ${record.latency_s.toFixed(2)} s · round trip ${entry.roundTrip.toFixed(2)} s · `
    + `${record.completion_tokens} tokens (${record.finish_reason}) · ${record.format} · ${record.model}`
    + (record.votes ? ` · ${record.votes.agree} of ${record.votes.k} answers agree` : "");
  const errors = $("parse-errors");
  errors.replaceChildren(...(record.errors || []).map((e) => el("li", {}, e)));
  $("raw").textContent = record.raw_completion;
}

// ---------------------------------------------------------------------------------------
// history (this browser tab only)
// ---------------------------------------------------------------------------------------

function loadHistory() {
  try { return JSON.parse(sessionStorage.getItem(HISTORY_KEY)) || []; } catch (_) { return []; }
}

function addHistory(entry) {
  const history = [entry, ...loadHistory()].slice(0, 50);
  sessionStorage.setItem(HISTORY_KEY, JSON.stringify(history));
  drawHistory();
}

function drawHistory() {
  const history = loadHistory();
  const body = $("history");
  body.replaceChildren();
  $("history-empty").classList.toggle("hidden", history.length > 0);
  history.forEach((entry) => {
    const r = entry.record;
    const row = el("tr");
    const polarity = el("td");
    polarity.append(el("span", { class: `badge ${polarityClass(r.polarity)}` }, r.polarity || "?"));
    const value = r.score !== null && r.score !== undefined ? String(r.score) : (r.label || "–");
    row.append(el("td", {}, entry.time), el("td", { class: "input", title: entry.input }, entry.input), polarity,
      el("td", {}, value), el("td", {}, r.parse_ok ? "yes" : "no"), el("td", {}, `${entry.roundTrip.toFixed(2)} s`));
    row.addEventListener("click", () => render(entry));
    body.append(row);
  });
}

// ---------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("analyze-form").addEventListener("submit", analyze);
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("analyze-form").requestSubmit();
  });
  $("format").addEventListener("change", matchTaskToFormat);
  $("api-key").addEventListener("change", (event) => {
    sessionStorage.setItem(KEY_KEY, event.target.value);
    connect();
  });
  $("clear-history").addEventListener("click", () => {
    sessionStorage.removeItem(HISTORY_KEY);
    drawHistory();
  });
  drawHistory();
  connect();
});
