/* global document, Node */
// Every element is built here, and every piece of text goes in as a text node: data the
// API returns (names, URLs, error messages) is never parsed as HTML.

/**
 * `h("a", { href: "#/jobs", class: "x", onclick: fn }, "text", child)`. Attributes whose
 * value is null, undefined or false are left out; true sets an empty attribute.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A coloured state label: active, inactive, PENDING, RUNNING, SUCCESS, FAILURE, revoked… */
export function badge(state) {
  return h("span", { class: `badge state-${String(state).toLowerCase()}`, "data-state": state }, state);
}

/** "12 s ago", "3 min ago", "never"; the exact time is in the title. */
export function ago(iso) {
  if (!iso) return h("span", { class: "muted" }, "never");
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  const text =
    seconds < 60 ? `${seconds} s ago` : seconds < 3600 ? `${Math.floor(seconds / 60)} min ago` : seconds < 86_400 ? `${Math.floor(seconds / 3600)} h ago` : `${Math.floor(seconds / 86_400)} d ago`;
  return h("time", { datetime: iso, title: new Date(iso).toLocaleString() }, text);
}

export function when(iso) {
  return iso ? h("time", { datetime: iso }, new Date(iso).toLocaleString()) : h("span", { class: "muted" }, "—");
}

/** A table with a header row; `empty` is shown as one row when there are no rows. */
export function table(headers, rows, empty = "none") {
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, headers.map((title) => h("th", { scope: "col" }, title)))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: headers.length, class: "muted" }, empty))),
  );
}

/** A labelled form field with its help text and a slot for its error message. */
export function field({ id, label, input, help }) {
  input.id = id;
  input.setAttribute("aria-describedby", `${id}-error`);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    input,
    help ? h("small", { class: "help" }, help) : null,
    h("p", { class: "field-error", id: `${id}-error`, "aria-live": "polite" }),
  );
}

/** Shows (or clears, with an empty message) the error of the field whose input has this ID. */
export function setFieldError(id, message) {
  const input = document.getElementById(id);
  const slot = document.getElementById(`${id}-error`);
  if (input) {
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
  if (slot) slot.textContent = message;
}

function clearFieldErrors(form) {
  for (const slot of form.querySelectorAll(".field-error")) slot.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/**
 * Handles a form's submit in the page: clears its errors, runs `task` with `button`
 * disabled, and shows in `alert` what `task` throws (a task shows field errors itself).
 */
export function onSubmit(form, button, alert, task) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    alert.show("");
    button.disabled = true;
    try {
      await task();
    } catch (error) {
      alert.show(error.message);
    } finally {
      button.disabled = false;
    }
  });
}

/** An alert line for a form-wide error; empty until `show`. */
export function alertLine() {
  const line = h("p", { class: "alert", role: "alert", hidden: true });
  return Object.assign(line, {
    show(message) {
      line.textContent = message;
      line.hidden = !message;
    },
  });
}
