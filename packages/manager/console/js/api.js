/* global fetch, sessionStorage */
// The REST API of the manager that served this page, with the signed-in session's bearer
// token. The session lives in sessionStorage: it ends with the tab.

const KEY = "df-manager-session";
const listeners = new Set();

/** An error answer of the API: its HTTP status, code, message and (for 400s) the field at fault. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `the manager answered HTTP ${status}`);
    this.status = status;
    this.code = body?.code;
    this.field = body?.field;
  }
}

export const session = {
  /** `{ token, expiresAt, user: { id, name, role } }`, or null when signed out. */
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(KEY) ?? "null");
    } catch {
      return null;
    }
  },
  set(value) {
    sessionStorage.setItem(KEY, JSON.stringify(value));
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
  /** Called with a reason whenever the manager refuses the session (401). */
  onExpired(listener) {
    listeners.add(listener);
  },
};

/** Calls `/api/v1<path>`; resolves to `{ data, total }`, rejects with an ApiError. */
export async function api(method, path, body) {
  const current = session.get();
  const headers = {};
  if (current) headers.authorization = `Bearer ${current.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = { message: `the manager answered HTTP ${response.status} with a body that is not JSON` };
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    // Several calls in flight may be refused at once: only the first ends the session.
    if (response.status === 401 && current && session.get()?.token === current.token) {
      session.clear();
      for (const listener of listeners) listener(error.message);
    }
    throw error;
  }
  return { data, total: Number(response.headers.get("x-total-count") ?? Number.NaN) };
}

/** Every item of a list endpoint, page by page (at most 20 pages of 500). */
export async function listAll(path) {
  const items = [];
  const separator = path.includes("?") ? "&" : "?";
  for (let page = 1; page <= 20; page++) {
    const { data, total } = await api("GET", `${path}${separator}per_page=500&page=${page}`);
    items.push(...data);
    if (data.length === 0 || !(items.length < total)) break;
  }
  return items;
}

/** The newest `count` items of a list endpoint (the API lists oldest first), newest first. */
export async function newest(path, count) {
  const first = await api("GET", `${path}?per_page=${count}&page=1`);
  if (!(first.total > count)) return first.data.reverse();
  const last = Math.ceil(first.total / count);
  const [previous, final] = await Promise.all([api("GET", `${path}?per_page=${count}&page=${last - 1}`), api("GET", `${path}?per_page=${count}&page=${last}`)]);
  return [...previous.data, ...final.data].slice(-count).reverse();
}
