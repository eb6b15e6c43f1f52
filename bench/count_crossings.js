// Counts the calls across the JS/wasm boundary, per Worker response (scripts/count-crossings). workerd-serve's
// COUNT_CROSSINGS=N puts this in front of the bundle and hands wasm-bindgen's instance through `instance` below:
// every import (wasm calling JS) and every export (JS calling wasm) is wrapped in a counter. Every N responses built
// by the Worker's `respond` (src/entry/respond.rs, one per request) it logs one line,
// `crossings {"requests":N,"imports":{name:calls},"exports":{…}}`, and starts again. A measuring build only: the
// wrappers cost more than the calls they count.
const __crossings = (() => {
  const every = Number(globalThis.__COUNT_CROSSINGS_EVERY || 2000);
  let imports = new Map();
  let exports = new Map();
  let responses = 0;
  // Imports named in TRACE (scripts/count-crossings) have every 50th call's wasm callers sampled from a stack trace.
  const traced = new Set(String(globalThis.__COUNT_CROSSINGS_TRACE || "").split(",").filter(Boolean));
  let callers = new Map();
  // wasm-bindgen's generic shims differ only in their number; the others by a hash that changes with every build.
  const short = (name) => (name.startsWith("__wbindgen_generic") ? name : name.replace(/_[0-9a-f]{16}$/, ""));
  const sample = (label) => {
    // The wasm frames under the call, without wasm-bindgen's own glue, so the Rust function that asked comes first.
    const glue = /__wbg|wbindgen|shim|catch wrapper|js_sys::|web_sys::|wasm_bindgen::|Closure\(/;
    const frames = String(new Error().stack)
      .split("\n")
      .filter((line) => line.includes("wasm") && !glue.test(line));
    const where = frames.slice(0, 3).map((line) => line.trim().replace(/^at /, "").replace(/ \(.*$/, "")).join(" < ");
    const key = `${label} from ${where || "(no wasm frame)"}`;
    callers.set(key, (callers.get(key) || 0) + 50);
  };
  const bump = (counts, name) => counts.set(name, (counts.get(name) || 0) + 1);
  const report = () => {
    const object = (counts) => Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
    const line = { requests: responses, imports: object(imports), exports: object(exports), callers: object(callers) };
    console.log("crossings " + JSON.stringify(line));
    callers = new Map();
    imports = new Map();
    exports = new Map();
    responses = 0;
  };
  return {
    instance(module, importObject) {
      for (const table of Object.values(importObject)) {
        for (const [name, f] of Object.entries(table)) {
          if (typeof f !== "function") continue;
          const label = short(name);
          const isRespond = label === "__wbg_respond" && f.length === 5;
          const trace = traced.has(label.replace(/^__wbg_/, ""));
          let calls = 0;
          table[name] = function (...args) {
            bump(imports, label);
            if (trace && ++calls % 50 === 0) sample(label);
            if (isRespond && ++responses >= every) {
              const answer = f.apply(this, args);
              report();
              return answer;
            }
            return f.apply(this, args);
          };
        }
      }
      const real = new WebAssembly.Instance(module, importObject);
      const wrapped = {};
      for (const [name, value] of Object.entries(real.exports)) {
        if (typeof value !== "function") {
          wrapped[name] = value;
          continue;
        }
        const label = short(name);
        wrapped[name] = function (...args) {
          bump(exports, label);
          return value.apply(this, args);
        };
      }
      return { exports: wrapped };
    },
  };
})();
