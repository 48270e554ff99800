/* global document */
import { api, ApiError } from "../api.js";
import { alertLine, field, h, onSubmit, setFieldError } from "../dom.js";

// The form's fields by their path in the API's JSON. Ranges repeat the server's schema so
// a mistake shows before anything is sent; the server checks again and its 400 answer
// names the field, shown in the same place.
const SECTIONS = [
  {
    legend: "Cluster",
    fields: [
      { path: "name", label: "Name", kind: "text", required: true, max: 256 },
      { path: "bio", label: "Description", kind: "text", max: 1024 },
      { path: "is_default", label: "Default cluster (peers no scope matches go here)", kind: "checkbox" },
    ],
  },
  {
    legend: "Scheduling",
    fields: [
      { path: "config.candidateParentLimit", label: "Candidate parent limit", kind: "int", min: 1, max: 20, help: "Parents a peer downloads from at once." },
      { path: "config.filterParentLimit", label: "Filter parent limit", kind: "int", min: 10, max: 1000, help: "Candidates the scheduler looks at to pick them." },
      { path: "config.backToSourceLimit", label: "Back-to-source limit", kind: "int", min: 0, max: 100_000, help: "Peers of one task that may fetch from the origin." },
      { path: "config.retryLimit", label: "Retry limit", kind: "int", min: 1, max: 100 },
      { path: "config.retryBackToSourceLimit", label: "Retries before back-to-source", kind: "int", min: 0, max: 100 },
      { path: "config.retryIntervalMs", label: "Retry interval (ms)", kind: "int", min: 0, max: 600_000 },
      { path: "config.jobRateLimit", label: "Job rate limit (per second)", kind: "int", min: 1, max: 10_000 },
    ],
  },
  {
    legend: "Load limits",
    fields: [
      { path: "client_config.loadLimit", label: "Peer load limit", kind: "int", min: 1, max: 2000, help: "Uploads a peer serves at once." },
      { path: "seed_client_config.loadLimit", label: "Seed peer load limit", kind: "int", min: 1, max: 50_000 },
    ],
  },
  {
    legend: "Scopes (which peers this cluster serves)",
    fields: [
      { path: "scopes.idc", label: "IDC", kind: "text", max: 1024 },
      { path: "scopes.location", label: "Location", kind: "text", max: 1024, help: "Levels separated by |, e.g. cn|east|hz." },
      { path: "scopes.cidrs", label: "CIDRs", kind: "list", help: "One per line, e.g. 10.0.0.0/8." },
      { path: "scopes.hostnames", label: "Host names", kind: "list", help: "Regular expressions, one per line." },
    ],
  },
];
const FIELDS = SECTIONS.flatMap((section) => section.fields);
const idOf = (path) => `cluster-${path.replace(/\./g, "-")}`;

function read(object, path) {
  return path.split(".").reduce((value, key) => value?.[key], object);
}

function write(object, path, value) {
  const keys = path.split(".");
  const last = keys.pop();
  let target = object;
  for (const key of keys) target = target[key] ??= {};
  target[last] = value;
}

function inputFor(spec, value, readOnly) {
  const common = { name: spec.path, disabled: readOnly };
  if (spec.kind === "checkbox") return h("input", { ...common, type: "checkbox", checked: value === true });
  if (spec.kind === "list") return h("textarea", { ...common, rows: 3 }, (value ?? []).join("\n"));
  if (spec.kind === "int") return h("input", { ...common, inputmode: "numeric", value: value ?? "", placeholder: "server default" });
  return h("input", { ...common, value: value ?? "", required: spec.required });
}

/** The form's values as the API's JSON, or the client-side errors by path. */
function collect(form, isNew) {
  const body = {};
  const errors = new Map();
  for (const spec of FIELDS) {
    const input = form.elements.namedItem(spec.path);
    if (spec.kind === "checkbox") {
      body[spec.path] = input.checked;
      continue;
    }
    const raw = input.value.trim();
    if (spec.kind === "list") {
      write(body, spec.path, raw ? raw.split("\n").map((line) => line.trim()).filter(Boolean) : []);
    } else if (spec.kind === "int") {
      if (raw === "") continue; // left to the server's default (new) or unchanged (edit)
      const number = Number(raw);
      if (!/^-?\d+$/.test(raw) || number < spec.min || number > spec.max) errors.set(spec.path, `must be a whole number from ${spec.min} to ${spec.max}`);
      else write(body, spec.path, number);
    } else if (spec.required && raw === "") {
      errors.set(spec.path, "is required");
    } else if (raw.length > spec.max) {
      errors.set(spec.path, `must be at most ${spec.max} characters`);
    } else if (raw !== "" || !spec.path.startsWith("scopes.")) {
      write(body, spec.path, raw);
    }
  }
  // Scopes are replaced as a whole: always send them, so a cleared one is cleared.
  body.scopes ??= {};
  if (isNew && body.is_default === false) delete body.is_default;
  return { body, errors };
}

/** The field a server error names: `scopes.cidrs.1` belongs to `scopes.cidrs`. */
function fieldOf(serverField) {
  return FIELDS.find((spec) => serverField === spec.path || serverField.startsWith(`${spec.path}.`));
}

function serverMessage(error, spec) {
  const message = error.message.startsWith(`${error.field}: `) ? error.message.slice(error.field.length + 2) : error.message;
  const line = spec.kind === "list" ? /\.(\d+)$/.exec(error.field) : null;
  return line ? `line ${Number(line[1]) + 1}: ${message}` : message;
}

export async function renderClusterForm(view) {
  const [id] = view.params;
  const isNew = id === undefined;
  if (isNew && !view.canWrite) throw new ApiError(403, { message: `${view.user.name} is a guest: guests may only read` });
  const cluster = isNew ? {} : (await api("GET", `/scheduler-clusters/${id}`)).data;
  if (view.signal.aborted) return;
  const readOnly = !view.canWrite;
  const formError = alertLine();
  const save = h("button", { type: "submit" }, isNew ? "Create cluster" : "Save");
  const form = h(
    "form",
    { class: "card cluster-form", novalidate: true, "aria-label": isNew ? "New cluster" : `Cluster ${cluster.name}` },
    SECTIONS.map((section) =>
      h(
        "fieldset",
        {},
        h("legend", {}, section.legend),
        section.fields.map((spec) => field({ id: idOf(spec.path), label: spec.label, input: inputFor(spec, read(cluster, spec.path), readOnly), help: spec.help })),
      ),
    ),
    formError,
    readOnly ? h("p", { class: "muted" }, `Read-only: ${view.user.name} is a guest.`) : h("div", { class: "actions" }, save, h("a", { class: "button secondary", href: "#/clusters" }, "Cancel")),
  );
  onSubmit(form, save, formError, async () => {
    const { body, errors } = collect(form, isNew);
    for (const [path, message] of errors) setFieldError(idOf(path), message);
    if (errors.size > 0) {
      form.querySelector("[aria-invalid]")?.focus();
      return;
    }
    try {
      const { data } = await api(isNew ? "POST" : "PATCH", isNew ? "/scheduler-clusters" : `/scheduler-clusters/${id}`, body);
      view.go(`#/clusters/${data.id}`, isNew ? `Created cluster ${data.name}.` : `Saved ${data.name}: config revision ${data.config_revision}.`);
    } catch (error) {
      const spec = error instanceof ApiError && error.field ? fieldOf(error.field) : undefined;
      if (!spec) throw error;
      setFieldError(idOf(spec.path), serverMessage(error, spec));
      document.getElementById(idOf(spec.path))?.focus();
    }
  });
  view.main.replaceChildren(
    h(
      "header",
      { class: "page-head" },
      h("h1", {}, isNew ? "New scheduler cluster" : `Cluster ${cluster.name}`),
      isNew ? null : h("span", { class: "muted" }, `config revision ${cluster.config_revision}`),
    ),
    form,
  );
}
