// node --experimental-websocket ops/lib/browser_check.mjs URL CONDITION [SECONDS] [SCREENSHOT.png]
//
// Opens URL in headless Chromium (CHROMIUM, default `chromium`) and waits, up to SECONDS (default 90), until the
// JavaScript expression CONDITION is true in the page. Prints one line of JSON: {"ok", "location", "text", "errors"}
// with the page's location and visible text at the end and its console errors and uncaught exceptions, saves a
// screenshot when asked, and exits 0 when the condition held, 1 when it did not. Drives the browser over the DevTools
// protocol (Node's WebSocket), so a page that keeps a stream open is fine.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, condition, seconds = "90", screenshot] = process.argv.slice(2);
if (!url || !condition) {
  console.error("usage: browser_check.mjs URL CONDITION [SECONDS]");
  process.exit(2);
}
// Chromium is started up to three times: on a loaded machine it has been seen to end before it listened.
let chrome = null;
let profile = null;
// Chromium may still write into its profile for a moment after SIGKILL: the removal retries, and never decides the exit
// status.
const removeProfile = (folder) => {
  try { rmSync(folder, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }); } catch { /* left in the temp folder */ }
};
const finish = (code, result) => {
  if (result) console.log(JSON.stringify(result));
  if (chrome) chrome.kill("SIGKILL");
  if (profile) removeProfile(profile);
  process.exit(code);
};
setTimeout(() => finish(1, { ok: false, location: null, text: "timed out", errors: [] }), (Number(seconds) + 30) * 1000).unref();

const launch = () => new Promise((resolve, reject) => {
  profile = mkdtempSync(join(tmpdir(), "mdr-chromium-"));
  chrome = spawn(
    process.env.CHROMIUM || "chromium",
    ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--remote-debugging-port=0",
     `--user-data-dir=${profile}`, "about:blank"],
    { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  chrome.stderr.on("data", (chunk) => {
    log += chunk;
    const found = log.match(/DevTools listening on (ws:\/\/\S+)/);
    if (found) resolve(found[1]);
  });
  const folder = profile;
  chrome.on("exit", (code) => {
    removeProfile(folder);
    reject(new Error(`chromium ended (${code}) before it listened: ${log.slice(-2000)}`));
  });
});
let endpoint = null;
let failure = null;
for (let attempt = 1; attempt <= 3 && !endpoint; attempt++) {
  endpoint = await launch().catch((error) => { failure = error; return null; });
}
if (!endpoint) finish(1, { ok: false, location: null, text: String(failure), errors: [] });

const socket = new WebSocket(endpoint);
await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
let next = 0;
const replies = new Map();
const errors = [];
socket.onmessage = (message) => {
  const reply = JSON.parse(message.data);
  if (reply.id && replies.has(reply.id)) { replies.get(reply.id)(reply); replies.delete(reply.id); }
  if (reply.method === "Runtime.exceptionThrown") errors.push(reply.params.exceptionDetails?.exception?.description || reply.params.exceptionDetails?.text);
  if (reply.method === "Runtime.consoleAPICalled" && reply.params.type === "error") errors.push(reply.params.args.map((a) => a.value ?? a.description).join(" "));
  if (reply.method === "Log.entryAdded" && reply.params.entry.level === "error") errors.push(`${reply.params.entry.text} ${reply.params.entry.url || ""}`);
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
await send("Runtime.enable", {}, sessionId);
await send("Log.enable", {}, sessionId);
await send("Emulation.setDeviceMetricsOverride", { width: 1280, height: 1000, deviceScaleFactor: 1, mobile: false }, sessionId);
await send("Page.navigate", { url }, sessionId);
const deadline = Date.now() + Number(seconds) * 1000;
let ok = false;
while (Date.now() < deadline) {
  if (await evaluate(`(() => { try { return Boolean(${condition}); } catch (e) { return false; } })()`, sessionId)) { ok = true; break; }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
if (screenshot) {
  const shot = await send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true }, sessionId);
  writeFileSync(screenshot, Buffer.from(shot.result.data, "base64"));
}
finish(ok ? 0 : 1, {
  ok, location: await evaluate("location.href", sessionId), text: await evaluate("document.body.innerText", sessionId), errors,
});
