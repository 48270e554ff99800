import { api, ApiError, listAll, newest } from "../api.js";
import { alertLine, badge, field, h, onSubmit, setFieldError, table, when } from "../dom.js";

const FINAL = new Set(["SUCCESS", "FAILURE"]);
const SCOPES = [
  ["single_seed_peer", "One seed peer (the one the task hashes to)"],
  ["all_seed_peers", "Every seed peer"],
  ["all_peers", "Every peer"],
];

function isHttpUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

function preheatForm(view, clusters) {
  const urls = h("textarea", { name: "urls", rows: 3, placeholder: "https://example.com/file.tar.gz" });
  const tag = h("input", { name: "tag" });
  const scope = h("select", { name: "scope" }, SCOPES.map(([value, label]) => h("option", { value }, label)));
  const cluster = h("select", { name: "cluster" }, h("option", { value: "" }, "Every cluster"), clusters.map((c) => h("option", { value: c.id }, c.name)));
  const formError = alertLine();
  const start = h("button", { type: "submit" }, "Start preheat");
  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-label": "Preheat" },
    h("h2", {}, "Preheat"),
    field({ id: "preheat-urls", label: "URLs", input: urls, help: "One per line: seed peers fetch each from its origin now, so later downloads need not." }),
    h(
      "div",
      { class: "row" },
      field({ id: "preheat-tag", label: "Tag", input: tag, help: "Only when downloads use this tag too." }),
      field({ id: "preheat-scope", label: "Scope", input: scope }),
      field({ id: "preheat-cluster", label: "Scheduler cluster", input: cluster }),
    ),
    formError,
    h("div", { class: "actions" }, start),
  );
  onSubmit(form, start, formError, async () => {
    const list = urls.value.split("\n").map((line) => line.trim()).filter(Boolean);
    const bad = list.findIndex((url) => !isHttpUrl(url));
    if (list.length === 0 || bad >= 0) {
      setFieldError("preheat-urls", list.length === 0 ? "give at least one URL" : `line ${bad + 1}: not an http(s) URL`);
      urls.focus();
      return;
    }
    const args = { urls: list, scope: scope.value, ...(tag.value.trim() ? { tag: tag.value.trim() } : {}) };
    try {
      const { data } = await api("POST", "/jobs", { type: "preheat", args, ...(cluster.value ? { scheduler_cluster_ids: [Number(cluster.value)] } : {}) });
      view.go(`#/jobs/${data.id}`, `Preheat job ${data.id} started.`);
    } catch (error) {
      const target = error instanceof ApiError && error.field?.startsWith("args.urls") ? "preheat-urls" : error instanceof ApiError && error.field === "args.tag" ? "preheat-tag" : undefined;
      if (!target) throw error;
      setFieldError(target, error.message);
    }
  });
  return form;
}

function urlsOf(job) {
  const urls = Array.isArray(job.args?.urls) ? job.args.urls : [];
  return urls.length > 1 ? `${urls[0]} (+${urls.length - 1} more)` : (urls[0] ?? "");
}

export async function renderJobs(view) {
  const recent = h("div", { class: "card" }, h("p", { class: "muted" }, "Loading…"));
  const clusters = view.canWrite ? await listAll("/scheduler-clusters") : [];
  if (view.signal.aborted) return;
  view.main.replaceChildren(h("header", { class: "page-head" }, h("h1", {}, "Jobs")), view.canWrite ? preheatForm(view, clusters) : null, recent);
  await view.every(3000, async () => {
    const jobs = await newest("/jobs", 20);
    if (view.signal.aborted) return;
    recent.replaceChildren(
      h("h2", {}, "Recent jobs"),
      table(
        ["Job", "Type", "State", "URLs", "Created"],
        jobs.map((job) =>
          h(
            "tr",
            { "data-job-id": job.id },
            h("td", {}, h("a", { href: `#/jobs/${job.id}` }, `#${job.id}`)),
            h("td", {}, job.type),
            h("td", {}, badge(job.state)),
            h("td", { class: "url" }, urlsOf(job)),
            h("td", {}, when(job.created_at)),
          ),
        ),
        "no jobs yet",
      ),
    );
  });
}

function resultRows(result) {
  const urls = Array.isArray(result?.urls) ? result.urls : [];
  return urls.map((entry) =>
    h(
      "tr",
      { "data-url": entry.url },
      h("td", { class: "url" }, entry.url),
      h("td", {}, String(entry.scheduler_cluster_id ?? "")),
      h("td", {}, badge(entry.state)),
      h("td", {}, entry.content_length === undefined ? "—" : `${entry.content_length} bytes`),
      h(
        "td",
        {},
        // A seed's reason is in the URL's reason too.
        (entry.seed_peers ?? []).map((seed) => h("div", { class: "seed" }, `${seed.hostname || seed.host_id} `, badge(seed.state))),
      ),
      h("td", { class: "description" }, entry.description ?? ""),
    ),
  );
}

export async function renderJob(view) {
  const [id] = view.params;
  const body = h("div", {});
  view.main.replaceChildren(h("header", { class: "page-head" }, h("h1", {}, `Job #${id}`), h("span", { class: "spacer" }), h("a", { class: "button secondary", href: "#/jobs" }, "All jobs")), body);
  // Read again every second until the job is final.
  await view.every(1000, async () => {
    const { data: job } = await api("GET", `/jobs/${id}`);
    if (view.signal.aborted) return false;
    const finished = FINAL.has(job.state);
    const args = job.args ?? {};
    const result = job.result ?? {};
    // Before the first URL finishes there are no results yet: list the URLs asked for.
    const rows = resultRows(result);
    const waiting = (args.urls ?? []).map((url) => h("tr", { "data-url": url }, h("td", { class: "url" }, url), h("td", {}), h("td", {}, badge(job.state)), h("td", {}), h("td", {}), h("td", {})));
    body.replaceChildren(
      h(
        "section",
        { class: "card" },
        h("p", { class: "job-state" }, "State: ", badge(job.state), finished ? null : h("span", { class: "muted" }, " (watching…)")),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "Type"),
          h("dd", {}, job.type),
          h("dt", {}, "Scope"),
          h("dd", {}, args.scope ?? "—"),
          h("dt", {}, "Tag"),
          h("dd", {}, args.tag || "—"),
          h("dt", {}, "Created"),
          h("dd", {}, when(job.created_at)),
          h("dt", {}, "Updated"),
          h("dd", {}, when(job.updated_at)),
          result.total !== undefined ? [h("dt", {}, "Succeeded"), h("dd", { class: "summary" }, `${result.succeeded ?? 0} of ${result.total}`)] : null,
        ),
        result.error ? h("p", { class: "alert", role: "alert" }, result.error) : null,
        h("h2", {}, "URLs"),
        table(
          ["URL", "Cluster", "State", "Size", "Seed peers", "Reason"],
          rows.length ? rows : waiting,
        ),
      ),
    );
    return !finished;
  });
}
