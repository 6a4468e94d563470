// parkshare: the little JavaScript every page shares. No framework, nothing loaded from outside.
"use strict";

// fetch() for the JSON API with the web session's CSRF token; resolves to {ok, status, body}.
window.parkshareApi = async function (method, path, body, headers) {
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const init = { method, credentials: "same-origin", headers: Object.assign({ "X-CSRF-Token": token, "Accept": "application/json" }, headers || {}) };
  if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const response = await fetch(path, init);
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = { code: "bad_response", message: text.slice(0, 200) }; }
  return { ok: response.ok, status: response.status, body: parsed };
};
