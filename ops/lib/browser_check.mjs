// node --experimental-websocket ops/lib/browser_check.mjs URL CONDITION [SECONDS]
//
// Opens URL in headless Chromium (CHROMIUM, default `chromium`) and waits, up to SECONDS (default 90), until the
// JavaScript expression CONDITION is true in the page. Prints one line of JSON: {"ok", "location", "text"} with the
// page's location and visible text at the end, and exits 0 when the condition held, 1 when it did not. Drives the
// browser over the DevTools protocol (Node's WebSocket), so a page that keeps a stream open is fine.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, condition, seconds = "90"] = process.argv.slice(2);
if (!url || !condition) {
  console.error("usage: browser_check.mjs URL CONDITION [SECONDS]");
  process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), "mdr-chromium-"));
const chrome = spawn(
  process.env.CHROMIUM || "chromium",
  ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--remote-debugging-port=0",
   `--user-data-dir=${profile}`, "about:blank"],
  { stdio: ["ignore", "ignore", "pipe"] });
const finish = (code, result) => {
  if (result) console.log(JSON.stringify(result));
  chrome.kill("SIGKILL");
  rmSync(profile, { recursive: true, force: true });
  process.exit(code);
};
setTimeout(() => finish(1, { ok: false, location: null, text: "timed out" }), (Number(seconds) + 30) * 1000).unref();

const endpoint = await new Promise((resolve, reject) => {
  let log = "";
  chrome.stderr.on("data", (chunk) => {
    log += chunk;
    const found = log.match(/DevTools listening on (ws:\/\/\S+)/);
    if (found) resolve(found[1]);
  });
  chrome.on("exit", (code) => reject(new Error(`chromium ended (${code}) before it listened: ${log}`)));
}).catch((error) => finish(1, { ok: false, location: null, text: String(error) }));

const socket = new WebSocket(endpoint);
await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
let next = 0;
const replies = new Map();
socket.onmessage = (message) => {
  const reply = JSON.parse(message.data);
  if (reply.id && replies.has(reply.id)) { replies.get(reply.id)(reply); replies.delete(reply.id); }
};
const send = (method, params = {}, sessionId) => new Promise((resolve) => {
  const id = ++next;
  replies.set(id, resolve);
  socket.send(JSON.stringify({ id, method, params, sessionId }));
});
const evaluate = async (expression, session) =>
  (await send("Runtime.evaluate", { expression, returnByValue: true }, session)).result?.result?.value;

const { result: { targetId } } = await send("Target.createTarget", { url: "about:blank" });
const { result: { sessionId } } = await send("Target.attachToTarget", { targetId, flatten: true });
await send("Page.navigate", { url }, sessionId);
const deadline = Date.now() + Number(seconds) * 1000;
let ok = false;
while (Date.now() < deadline) {
  if (await evaluate(`(() => { try { return Boolean(${condition}); } catch (e) { return false; } })()`, sessionId)) { ok = true; break; }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
finish(ok ? 0 : 1, { ok, location: await evaluate("location.href", sessionId), text: await evaluate("document.body.innerText", sessionId) });
