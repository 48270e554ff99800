/* global document, window, AbortController */
// The console's shell: hash routes, the top bar, messages, and the signed-in session.
// Each view is a function that fills <main> and may refresh itself until the route changes.
import { api, ApiError, session } from "./api.js";
import { h } from "./dom.js";
import { renderClusterForm } from "./views/cluster-form.js";
import { renderClusters } from "./views/clusters.js";
import { renderJob, renderJobs } from "./views/jobs.js";
import { renderSignin } from "./views/signin.js";
import { renderTokens } from "./views/tokens.js";

const ROUTES = [
  [/^\/clusters$/, renderClusters, "clusters"],
  [/^\/clusters\/new$/, renderClusterForm, "clusters"],
  [/^\/clusters\/(\d+)$/, renderClusterForm, "clusters"],
  [/^\/jobs$/, renderJobs, "jobs"],
  [/^\/jobs\/(\d+)$/, renderJob, "jobs"],
  [/^\/tokens$/, renderTokens, "tokens"],
];
const HOME = "#/clusters";

const main = document.getElementById("app");
const topbar = document.querySelector(".topbar");
const flashLine = document.querySelector(".flash");
let current = new AbortController();
let pendingFlash;
/** The path of the page on screen. */
let shownPath;
/** Where to go after signing in, when a signed-out visitor asked for a page. */
let wanted = HOME;

function flash(message, kind = "info") {
  flashLine.textContent = message ?? "";
  flashLine.className = `flash ${kind}`;
  flashLine.hidden = !message;
}

/** Navigates; `message` is shown on the next page. */
function go(hash, message, kind) {
  pendingFlash = message ? [message, kind] : undefined;
  if (window.location.hash === hash) void route();
  else window.location.hash = hash;
}

function showTopbar(user) {
  topbar.hidden = !user;
  if (!user) return;
  topbar.querySelector(".who").replaceChildren(h("span", { class: "user-name" }, user.name), " ", h("span", { class: `badge role-${user.role}` }, user.role));
}

/** Runs `task` now and then every `ms` until the page is left or it returns false; one run at a time. */
function every(signal, ms, task) {
  let timer;
  const loop = async () => {
    if (signal.aborted) return;
    try {
      if ((await task()) === false) return;
    } catch (error) {
      if (!signal.aborted && !(error instanceof ApiError && error.status === 401)) flash(`Refresh failed: ${error.message}`, "error");
    }
    if (!signal.aborted) timer = setTimeout(loop, ms);
  };
  signal.addEventListener("abort", () => clearTimeout(timer));
  return loop();
}

async function route() {
  current.abort();
  current = new AbortController();
  const signal = current.signal;
  const path = window.location.hash.replace(/^#/, "") || "/";
  // A message stays until another page is shown: the same page may be routed twice (the
  // hashchange of a navigation that already rendered it).
  if (pendingFlash) flash(...pendingFlash);
  else if (path !== shownPath) flash("");
  pendingFlash = undefined;
  shownPath = path;
  const user = session.get()?.user;
  showTopbar(user);
  if (!user) {
    if (path !== "/signin" && path !== "/") wanted = `#${path}`;
    main.replaceChildren();
    renderSignin({ main, onSignedIn: () => go(wanted) });
    return;
  }
  const match = ROUTES.map(([pattern, render, section]) => [pattern.exec(path), render, section]).find(([found]) => found);
  if (!match) {
    go(HOME);
    return;
  }
  const [found, render, section] = match;
  for (const link of topbar.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const view = {
    main,
    params: found.slice(1),
    user,
    canWrite: user.role === "root",
    signal,
    go,
    flash,
    every: (ms, task) => every(signal, ms, task),
  };
  main.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    await render(view);
  } catch (error) {
    if (signal.aborted || (error instanceof ApiError && error.status === 401)) return;
    const text =
      error instanceof ApiError && error.status === 403
        ? `You may not do this: ${error.message}`
        : error instanceof ApiError && error.status === 404
          ? `Not found: ${error.message}`
          : `Something went wrong: ${error.message}`;
    main.replaceChildren(h("p", { class: "alert", role: "alert" }, text));
  }
}

// The manager refused the session (expired, signed out elsewhere, user disabled).
session.onExpired((reason) => go("#/signin", `Please sign in again: ${reason}`, "error"));

topbar.querySelector(".signout").addEventListener("click", async () => {
  await api("POST", "/users/signout").catch(() => {});
  session.clear();
  wanted = HOME;
  go("#/signin", "Signed out.");
});

window.addEventListener("hashchange", () => void route());

// A stored session may have ended while the tab was away: ask who we are first.
if (session.get()) {
  await api("GET", "/users/me").then(
    ({ data }) => session.set({ ...session.get(), user: data }),
    () => {},
  );
}
void route();
