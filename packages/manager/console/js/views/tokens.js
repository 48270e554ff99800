/* global navigator */
import { api, ApiError, listAll } from "../api.js";
import { ago, alertLine, badge, field, h, onSubmit, setFieldError, table, when } from "../dom.js";

/** What a token may reach; the API's TOKEN_SCOPES. */
const SCOPES = ["*", "scheduler-clusters", "seed-peer-clusters", "schedulers", "seed-peers", "peers", "applications", "jobs", "configs", "users", "roles", "personal-access-tokens", "audits"];
const DAY_MS = 86_400_000;

function stateOf(token) {
  if (token.revoked) return "revoked";
  return Date.parse(token.expires_at) <= Date.now() ? "expired" : "active";
}

/** The secret of a token just created: shown here once, kept nowhere. */
function secretBox(created, onDone) {
  const copy = h("button", { type: "button", class: "secondary" }, "Copy");
  copy.addEventListener("click", async () => {
    await navigator.clipboard?.writeText(created.token).then(
      () => (copy.textContent = "Copied"),
      () => (copy.textContent = "Select and copy it by hand"),
    );
  });
  return h(
    "section",
    { class: "card secret", role: "status", "aria-label": "New token" },
    h("h2", {}, `Token ${created.name} created`),
    h("p", {}, "Copy it now: it is shown only this once."),
    h("p", {}, h("code", { class: "token-secret" }, created.token)),
    h("div", { class: "actions" }, copy, h("button", { type: "button", onclick: onDone }, "Done")),
  );
}

function createForm(onCreated) {
  const name = h("input", { name: "name", required: true });
  const days = h("input", { name: "days", inputmode: "numeric", value: "30" });
  const scopes = h(
    "div",
    { class: "scopes", role: "group", "aria-label": "Scopes" },
    SCOPES.map((scope) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "scope", value: scope, checked: scope === "*" }), scope === "*" ? "everything (*)" : scope)),
  );
  const formError = alertLine();
  const submit = h("button", { type: "submit" }, "Create token");
  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-label": "New token" },
    h("h2", {}, "New personal access token"),
    h("div", { class: "row" }, field({ id: "token-name", label: "Name", input: name }), field({ id: "token-days", label: "Expires in (days)", input: days })),
    h("fieldset", {}, h("legend", {}, "Scopes"), scopes, h("p", { class: "field-error", id: "token-scopes-error", "aria-live": "polite" })),
    formError,
    h("div", { class: "actions" }, submit),
  );
  onSubmit(form, submit, formError, async () => {
    const chosen = [...scopes.querySelectorAll("input:checked")].map((input) => input.value);
    const dayCount = Number(days.value.trim());
    const errors = [];
    if (!name.value.trim()) errors.push(["token-name", "is required"]);
    if (!/^\d+$/.test(days.value.trim()) || dayCount < 1 || dayCount > 365) errors.push(["token-days", "must be a whole number from 1 to 365"]);
    if (chosen.length === 0) errors.push(["token-scopes", "choose at least one"]);
    for (const [id, message] of errors) setFieldError(id, message);
    if (errors.length > 0) return;
    try {
      const expiresAt = new Date(Date.now() + dayCount * DAY_MS).toISOString();
      const { data } = await api("POST", "/personal-access-tokens", { name: name.value.trim(), scopes: chosen, expires_at: expiresAt });
      form.reset();
      await onCreated(data);
    } catch (error) {
      const at = error instanceof ApiError ? (error.field ?? "") : "";
      const target = at === "name" ? "token-name" : at === "expires_at" ? "token-days" : at.startsWith("scopes") ? "token-scopes" : undefined;
      if (!target) throw error;
      setFieldError(target, error.message);
    }
  });
  return form;
}

function revokeCell(token, view, refresh) {
  const cell = h("td", { class: "actions" });
  if (token.revoked) return cell;
  const ask = () =>
    cell.replaceChildren(
      h("button", { type: "button", class: "danger", onclick: () => revoke() }, `Revoke ${token.name}`),
      h("button", { type: "button", class: "secondary", onclick: () => idle() }, "Keep"),
    );
  const idle = () => cell.replaceChildren(h("button", { type: "button", class: "secondary", onclick: ask }, "Revoke…"));
  const revoke = async () => {
    try {
      await api("DELETE", `/personal-access-tokens/${token.id}`);
      view.flash(`Token ${token.name} revoked.`);
    } catch (error) {
      view.flash(`Could not revoke ${token.name}: ${error.message}`, "error");
    }
    await refresh();
  };
  idle();
  return cell;
}

export async function renderTokens(view) {
  const secret = h("div", {});
  const list = h("section", { class: "card" });
  const refresh = async () => {
    const tokens = await listAll("/personal-access-tokens");
    if (view.signal.aborted) return;
    list.replaceChildren(
      h("h2", {}, view.canWrite ? "Tokens (every user's)" : "Your tokens"),
      table(
        ["Name", "Scopes", "Owner", "Expires", "Last used", "State", ""],
        tokens.map((token) =>
          h(
            "tr",
            { "data-token": token.name },
            h("td", {}, token.name),
            h("td", {}, token.scopes.join(", ")),
            h("td", {}, token.user_id === view.user.id ? "you" : `user #${token.user_id}`),
            h("td", {}, when(token.expires_at)),
            h("td", {}, ago(token.last_used_at)),
            h("td", {}, badge(stateOf(token))),
            revokeCell(token, view, refresh),
          ),
        ),
        "no tokens yet",
      ),
    );
  };
  const form = createForm(async (created) => {
    secret.replaceChildren(secretBox(created, () => secret.replaceChildren()));
    await refresh();
  });
  view.main.replaceChildren(
    h("header", { class: "page-head" }, h("h1", {}, "Personal access tokens")),
    h("p", { class: "muted" }, "Tokens let scripts call the API as you (Authorization: Bearer …), within the scopes you give them."),
    secret,
    form,
    list,
  );
  await refresh();
}
