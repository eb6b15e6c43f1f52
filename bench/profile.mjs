// Samples workerd's isolate through its inspector (V8's CPU profiler) while a load runs, then prints where the
// time went: self time per function (Rust functions by their wasm names) and inclusive time of the heaviest frames.
//   node bench/profile.mjs <inspector host:port> <seconds> <out.cpuprofile>
// Used by scripts/profile-writes; the .cpuprofile opens in Chrome DevTools as well.
import { writeFileSync } from "node:fs";
import WebSocket from "ws";

const [addr, seconds, out] = process.argv.slice(2);
const targets = await (await fetch(`http://${addr}/json/list`)).json();
if (targets.length === 0) throw new Error(`no inspector targets at ${addr}`);
const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));

let next = 0;
const pending = new Map();
socket.on("message", (data) => {
  const message = JSON.parse(data.toString());
  if (message.id !== undefined && pending.has(message.id)) {
    pending.get(message.id)(message);
    pending.delete(message.id);
  }
});
const send = (method, params = {}) =>
  new Promise((resolve) => {
    const id = ++next;
    pending.set(id, resolve);
    socket.send(JSON.stringify({ id, method, params }));
  });

await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 100 });
await send("Profiler.start");
await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));
const { result } = await send("Profiler.stop");
socket.close();
const profile = result.profile;
writeFileSync(out, JSON.stringify(profile));

// Self time per function name; inclusive time per name (counted once per sample even when recursive).
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const name = (node) => node.callFrame.functionName || `(anonymous ${node.callFrame.url}:${node.callFrame.lineNumber})`;
const self = new Map();
const inclusive = new Map();
let total = 0;
for (const id of profile.samples) {
  total += 1;
  const node = byId.get(id);
  self.set(name(node), (self.get(name(node)) ?? 0) + 1);
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const n = name(byId.get(at));
    if (!seen.has(n)) {
      seen.add(n);
      inclusive.set(n, (inclusive.get(n) ?? 0) + 1);
    }
  }
}
const idle = (self.get("(idle)") ?? 0) + (self.get("(program)") ?? 0);
const busy = total - (self.get("(idle)") ?? 0);
const top = (map, count) =>
  [...map.entries()]
    .filter(([n]) => n !== "(idle)" && n !== "(root)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, count);
const pct = (n) => `${((100 * n) / Math.max(busy, 1)).toFixed(1).padStart(5)} %`;
console.log(`samples ${total}, busy ${busy} (${((100 * busy) / Math.max(total, 1)).toFixed(0)} %), idle+program ${idle}`);
console.log("self time (share of busy samples):");
for (const [n, c] of top(self, Number(process.env.TOP ?? 40))) console.log(`  ${pct(c)}  ${n.slice(0, 140)}`);
console.log("inclusive time:");
for (const [n, c] of top(inclusive, Number(process.env.TOP ?? 40))) console.log(`  ${pct(c)}  ${n.slice(0, 140)}`);
