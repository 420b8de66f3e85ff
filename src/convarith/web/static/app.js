// convarith's page: every field change asks the JSON API again; the state lives in the URL.
"use strict";

const EXAMPLES = [
  ["keras.layers.Conv2DTranspose(filters=3, kernel_size=3, strides=1, padding='valid')", "1,96,128,3"],
  ["keras.layers.Conv2DTranspose(filters=3, kernel_size=3, strides=2, padding='valid')", "1,96,128,3"],
  ["keras.layers.Conv2DTranspose(filters=3, kernel_size=3, strides=1, padding='same')", "1,96,128,3"],
  ["keras.layers.Conv2DTranspose(filters=3, kernel_size=3, strides=2, padding='same')", "1,96,128,3"],
  ["keras.layers.Conv2DTranspose(filters=3, kernel_size=3, strides=3, padding='same')", "1,96,128,3"],
];
const FIELDS = { expr: "expr", input: "input", shapes: "shapes", output_size: "output-size", view: "view" };
const $ = (id) => document.getElementById(id);
let pending = null;
let generation = 0;

function query(extra = {}) {
  const params = new URLSearchParams();
  for (const [key, id] of Object.entries(FIELDS)) {
    if ($(id).value.trim() && !(key === "view" && $(id).value === "forward")) params.set(key, $(id).value);
  }
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return params;
}

function tupleText(shape) {
  const items = shape.map((v) => (v === null ? "None" : String(v)));
  return "(" + items.join(", ") + (items.length === 1 ? ",)" : ")");
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function getJSON(path, params, init) {
  const response = await fetch(path + "?" + params.toString(), init);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

async function refresh() {
  const mine = ++generation;
  const params = query();
  history.replaceState(null, "", "/?" + params.toString());
  if (!$("expr").value.trim()) return;
  try {
    const answer = await getJSON("/api/shape", params);
    if (mine !== generation) return;
    showError("");
    $("shape").textContent = tupleText(answer.shape);
    $("framework").textContent = answer.framework;
    $("explanation").textContent = answer.text;
    showCompare(answer.compare);
    showKnobs(answer.knobs);
    await redraw("", mine);
  } catch (error) {
    if (mine !== generation) return;
    showError(error.message);
    $("shape").textContent = "";
    $("explanation").textContent = "";
    $("drawing").innerHTML = "";
    showCompare({});
  }
}

async function redraw(at, mine = generation) {
  const response = await fetch("/api/draw?" + query(at ? { fmt: "svg", at } : { fmt: "svg" }).toString());
  if (mine !== generation) return;
  if (response.ok) {
    $("drawing").innerHTML = await response.text();
  } else {
    $("drawing").textContent = (await response.json()).error;
  }
}

// One row per framework: its calls and output shape, or its refusal (text only, never markup).
function showCompare(frameworks) {
  const body = $("compare").querySelector("tbody");
  body.replaceChildren();
  for (const [name, entry] of Object.entries(frameworks)) {
    const row = document.createElement("tr");
    row.dataset.framework = name;
    row.className = entry.refusal ? "refused" : "";
    const padding = entry.padding.map((op) => op.map(([lo, hi]) => `(${lo}, ${hi})`).join(", ")).join("; ");
    const cells = entry.refusal ? [name, entry.refusal, "", ""]
      : [name, entry.calls.join("\n"), tupleText(entry.output_shape), padding];
    cells.forEach((text, i) => {
      const cell = document.createElement(i ? "td" : "th");
      cell.className = ["framework", "call", "shape", "padding"][i];
      cell.textContent = text;
      row.appendChild(cell);
    });
    body.appendChild(row);
  }
}

function later() {
  clearTimeout(pending);
  pending = setTimeout(refresh, 120);
}

function showKnobs(knobs) {
  const box = $("knobs");
  const focused = document.activeElement && document.activeElement.dataset.name;
  box.innerHTML = "";
  for (const knob of knobs) {
    const label = document.createElement("label");
    label.textContent = knob.role + " (" + knob.name + ") ";
    const field = document.createElement("input");
    field.type = knob.int ? "number" : "text";
    if (knob.int) field.min = knob.role === "padding" ? "0" : "1";
    field.value = knob.value;
    field.dataset.name = knob.name;
    field.id = "knob-" + knob.role;
    field.addEventListener("change", () => setArgument(knob.name, field.value));
    label.appendChild(field);
    box.appendChild(label);
    if (focused === knob.name) field.focus();
  }
}

async function setArgument(name, value) {
  try {
    const answer = await getJSON("/api/edit", query({ name, value }));
    $("expr").value = answer.expr;
    refresh();
  } catch (error) {
    showError(error.message);
  }
}

async function showCell(target) {
  const at = [target.dataset.r, target.dataset.c].filter((v) => v !== undefined).join(",");
  redraw(at);
  const values = $("values").value;
  const params = query({ at, values: values === "upload" ? "upload" : values });
  try {
    let answer;
    if (values === "upload") {
      const file = $("upload").files[0];
      if (!file) throw new Error("choose a .npy file holding the input first");
      answer = await getJSON("/api/cell", params, { method: "POST", body: file });
    } else {
      answer = await getJSON("/api/cell", params);
    }
    $("worksheet").textContent = answer.text || positionsText(answer);
  } catch (error) {
    $("worksheet").textContent = error.message;
  }
}

function positionsText(answer) {
  const sheet = answer.worksheet;
  const lines = ["output" + tupleText(answer.index) + ": " + sheet.terms.length + " terms (" + sheet.reduction + ")"];
  for (const term of sheet.terms.slice(0, 200)) {
    const input = term.input_index ? "input" + tupleText(term.input_index) : term.source;
    const tap = term.weight_index ? "  x  weight" + tupleText(term.weight_index) : "";
    lines.push("  " + input + tap);
  }
  return lines.join("\n");
}

function restore() {
  const params = new URLSearchParams(location.search);
  for (const [key, id] of Object.entries(FIELDS)) {
    if (params.has(key)) $(id).value = params.get(key);
  }
  if (!params.has("expr")) {
    $("expr").value = EXAMPLES[3][0];
    $("input").value = EXAMPLES[3][1];
  }
}

function start() {
  for (const [expr, input] of EXAMPLES) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = expr;
    button.addEventListener("click", () => {
      $("expr").value = expr;
      $("input").value = input;
      refresh();
    });
    $("examples").appendChild(button);
  }
  for (const id of Object.values(FIELDS)) $(id).addEventListener("input", later);
  $("values").addEventListener("change", () => { $("upload").hidden = $("values").value !== "upload"; });
  $("drawing").addEventListener("click", (event) => {
    const target = event.target.closest("rect.output");
    if (target) showCell(target);
  });
  restore();
  refresh();
}

start();
