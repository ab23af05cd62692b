// The one way the pages talk to Allot: the public /v1 API, JSON in and out, errors as
// {code, message, field} turned into sentences a person can act on.

export class ApiError extends Error {
  constructor(message, status, code, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

// The signed-in session's CSRF token: every change sends it back (the cookie alone is not
// enough, so no page on another site can make a change with this person's session).
let csrfToken = null;

export async function api(path, { method = 'GET', body, key } = {}) {
  const headers = { Accept: 'application/json' };
  // Every change declares JSON, even an empty one: the service refuses anything else.
  if (method !== 'GET') headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  if (key) headers['Idempotency-Key'] = key;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError('The service is unreachable. Check the connection and try again.', 0, 'unreachable');
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!response.ok) {
    const message = (data && data.message) || `The service answered ${response.status}.`;
    const field = data && data.field ? ` (${data.field})` : '';
    throw new ApiError(message + field, response.status, data && data.code, data && data.field);
  }
  return data;
}

/// Who is signed in (`null` for nobody), keeping the session's CSRF token for changes.
export async function currentSession() {
  try {
    const me = await api('/v1/session');
    csrfToken = me.csrf_token;
    return me;
  } catch (error) {
    if (error.status === 401) return null;
    throw error;
  }
}

export async function signIn(name, password) {
  const me = await api('/v1/session', { method: 'POST', body: { name, password } });
  csrfToken = me.csrf_token;
  return me;
}

export async function signOut() {
  await api('/v1/session', { method: 'DELETE' });
  csrfToken = null;
}

/// A key per user intent: the same click twice, or a retry after a network error, reuses it.
export function newKey(prefix) {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `${prefix}-${Date.now().toString(36)}-${random[0].toString(36)}${random[1].toString(36)}`;
}

export function show(element, text, kind) {
  element.textContent = text;
  element.className = `message ${kind || ''}`.trim();
}

export function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

export const when = (iso) => new Date(iso).toLocaleString([], { weekday: 'short', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
export const money = (n) => Math.round(n).toLocaleString();
