// "Open in playground" from the relay's console: the webhook body travels in the URL fragment
// (`#webhook=<base64url of the UTF-8 body>`), which browsers never send to a server, so a payload
// is not left in any access log. The console writes it (encodeWebhook), the playground reads it
// once at start (takeWebhook) and clears it from the address bar.

export function encodeWebhook(body) {
  let bin = "";
  for (const b of new TextEncoder().encode(body)) bin += String.fromCharCode(b);
  return "webhook=" + btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function takeWebhook() {
  const m = /^#webhook=([A-Za-z0-9_-]*)$/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, "", location.pathname + location.search);
  try {
    const bin = atob(m[1].replace(/-/g, "+").replace(/_/g, "/"));
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch (err) {
    return null; // a mangled link: start as usual
  }
}
