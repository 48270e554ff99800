import { api, session } from "../api.js";
import { alertLine, field, h, onSubmit } from "../dom.js";

export function renderSignin({ main, onSignedIn }) {
  const name = h("input", { name: "name", autocomplete: "username", required: true, value: "" });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = alertLine();
  const submit = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "card narrow", "aria-label": "Sign in" },
    h("h1", {}, "Sign in to the df manager"),
    field({ id: "signin-name", label: "User name", input: name }),
    field({ id: "signin-password", label: "Password", input: password }),
    error,
    submit,
  );
  onSubmit(form, submit, error, async () => {
    const { data } = await api("POST", "/users/signin", { name: name.value, password: password.value }).catch((failure) => {
      password.select();
      throw failure;
    });
    session.set({ token: data.token, expiresAt: data.expires_at, user: data.user });
    onSignedIn();
  });
  main.append(form);
  name.focus();
}
