// The Worker's entry: worker-build's shim (the Rust Worker and the Competition and Relay classes) behind a panic
// guard, with the shim's per-request proxies taken off the hot path (the Worker's below, the objects' at the end).
//
// A Rust panic aborts the wasm instance with a WebAssembly.RuntimeError that Rust cannot catch. In the call into
// Rust itself it is thrown here; in a later poll of a waiting request it surfaces as a global `error` event (the shim
// listens to it and re-initialises the instance before the next call), while the promise of the request that
// panicked never settles — the runtime would cancel it as hung. Here every waiting request is raced against that
// event, so a panic becomes the 500 envelope of API.md (request id, security headers) at once either way.
// Everything else stays in Rust.
//
// Why the default export is not the shim's class: the shim wraps it in a Proxy whose construct trap builds a second
// Proxy per request, and whose get trap builds a third (an async `apply` wrapper) for `fetch` — measured as a large
// share of a `GET /health/live` (BENCHMARKS.md, "Request pipeline"). The proxies exist only to re-initialise the wasm
// instance after a panic. So this class extends WorkerEntrypoint itself and calls the shim's own `fetch` (the
// wasm-bindgen export, which reads `this.env` and `this.ctx`) directly while the instance is healthy, and goes
// through the shim's proxied class — which re-initialises first — only after a panic has marked the instance
// broken. `tests/panic.rs` checks both: the panicking request's 500 and the next request's 200.
import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
import RustWorker, { Competition as ProxiedCompetition, Relay as ProxiedRelay } from "../../build/worker/shim.mjs";
export * from "../../build/worker/shim.mjs";

// The shim keeps `{ criticalError, instanceId }` here; `criticalError` is set when a panic broke the instance. If a
// future worker-build drops it, every request takes the proxied path: slower, never wrong.
const initState = globalThis.__worker_init_state ?? { criticalError: true };
// The proxy passes `prototype` through, so this is the shim's unwrapped `fetch` (request, this.env, this.ctx → wasm).
const rustFetch = RustWorker.prototype.fetch;
// The cron trigger's handler (src/entry/mod.rs, `#[event(scheduled)]`), the same way.
const rustScheduled = RustWorker.prototype.scheduled;

// Same list as src/http/security_headers.rs; tests/contract.rs and tests/panic.rs check both against API.md.
const SECURITY_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
};

function requestId(request) {
  const incoming = request.headers.get("X-Request-Id");
  return incoming && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : crypto.randomUUID();
}

// wasm-bindgen's executor (js-sys's futures queue) schedules its run of woken tasks with `queueMicrotask`, about
// three times per score write. workerd's `queueMicrotask` wraps every callback in a new function bound to the current
// async context frame (V8 does not carry that frame into tasks queued by `EnqueueMicrotask`): a runtime object per
// call, which often lives long enough to be copied by a scavenge. A reaction on an already resolved promise runs in
// the same microtask queue, in the same order, and V8 carries the async context into it by itself; the executor uses
// exactly that when `queueMicrotask` is missing. Measured: 7 % less CPU per score write, a third less surviving
// each scavenge (BENCHMARKS.md, session 26). A task that throws (a Rust panic in a later poll) would then reject a
// promise nobody handles instead of raising the global `error` event the panic guard below and the shim listen to,
// so it raises that event itself. Only this Worker's code runs in its isolates.
const resolved = Promise.resolve();
let lastTask = null;
let lastRun = null;
globalThis.queueMicrotask = function queueMicrotask(task) {
  if (typeof task !== "function") throw new TypeError("queueMicrotask: the callback must be a function");
  // The executor passes the same callback every time: one wrapper for it, not one per call.
  if (task !== lastTask) {
    lastTask = task;
    lastRun = () => {
      try {
        task();
      } catch (error) {
        globalThis.dispatchEvent(new ErrorEvent("error", { error }));
      }
    };
  }
  resolved.then(lastRun);
};

// Requests in flight, each with the function that fails it; a panic fails them all (the instance is gone).
const inFlight = new Set();
const reported = new WeakSet();
addEventListener("error", (event) => {
  if (event.error instanceof WebAssembly.RuntimeError) {
    reported.add(event.error);
    for (const fail of inFlight) fail(event.error);
  }
});

function panicResponse(request, error) {
  const id = requestId(request);
  console.error(JSON.stringify({
    ts: new Date().toISOString(),
    level: "error",
    request_id: id,
    method: request.method,
    route: "panic",
    status: 500,
    error: "internal",
    detail: String(error && error.stack ? error.stack : error),
  }));
  if (error instanceof WebAssembly.RuntimeError && !reported.has(error)) {
    // Thrown straight through rather than reported as an event: tell the shim, which resets the instance on its
    // next call once it has seen a critical error event.
    globalThis.dispatchEvent(new ErrorEvent("error", { error }));
  }
  const body = JSON.stringify({ error: { code: "internal", message: "internal error", request_id: id } });
  return new Response(body, {
    status: 500,
    headers: { "Content-Type": "application/json; charset=utf-8", "X-Request-Id": id, ...SECURITY_HEADERS },
  });
}

function callRust(worker, request) {
  if (!initState.criticalError) return rustFetch.call(worker, request);
  // Through the shim's proxy: its construct trap re-initialises the wasm instance before the call.
  return Reflect.construct(RustWorker, [worker.ctx, worker.env]).fetch(request);
}

// A request Rust finished in the call itself (durable_objects/src/ready_now.rs) comes back as a Response: a panic there
// throws here, synchronously. One that waits comes back as a promise: the first of its outcome and the panic event
// settles the one promise returned here (a race of the two through `Promise.race` in an async function made four
// promises per waiting request).
function guarded(request, answer) {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (response) => {
      if (settled) return;
      settled = true;
      inFlight.delete(fail);
      resolve(response);
    };
    const fail = (error) => {
      if (!settled) settle(panicResponse(request, error));
    };
    inFlight.add(fail);
    answer.then(settle, fail);
  });
}

export default class GuardedWorker extends WorkerEntrypoint {
  fetch(request) {
    let answer;
    try {
      answer = callRust(this, request);
    } catch (error) {
      return panicResponse(request, error);
    }
    return answer instanceof Response ? answer : guarded(request, answer);
  }

  // Maintenance on the cron trigger (wrangler.toml `[triggers]`). Not raced against a panic like a request: nobody
  // waits for its answer, and the runtime ends an invocation that never settles.
  scheduled(controller) {
    if (!initState.criticalError) return rustScheduled.call(this, controller);
    return Reflect.construct(RustWorker, [this.ctx, this.env]).scheduled(controller);
  }
}

// The objects' classes, the same way: the shim exports each wrapped in its Proxy, whose get trap builds a new Proxy
// with an async `apply` wrapper for every method the runtime calls (each `fetch` from the Worker, each socket
// message, each alarm). These classes hold the wasm-bindgen instance and call its methods directly while the wasm
// instance is healthy. After a panic has marked it broken, the next call constructs the object through the shim's
// proxied class (whose construct trap re-initialises the instance first); an object built before a reset is rebuilt
// from its constructor's arguments, as the shim's get trap does. A panic thrown in the call itself marks the instance
// broken here, as the shim's apply trap would; one in a later poll reaches the shim's `error` listener.
//
// The classes extend `DurableObject`, which the runtime requires for RPC: the Worker sends the Competition its
// operations, and the Competition and its Relays send each other theirs, through the RPC method `order`
// (durable_objects/src/object/rpc.rs, durable_objects/src/relay/rpc.rs), one string each way, instead of a `fetch`
// with a Request and a Response to build and read on both sides.
// standings/src/socket_rules.rs: MAX_CLIENT_FRAME_CHARS and TOO_LONG_FRAME (a unit test there reads these lines).
const MAX_CLIENT_FRAME_CHARS = 16384;
const TOO_LONG_FRAME = "\u0000";
const EMPTY_FRAME = new ArrayBuffer(0);

function objectClass(Proxied) {
  // Without the shim's state there is no telling a healthy instance from a broken one: every call then goes through
  // one instance of the proxied class, which re-initialises by itself.
  const managed = Boolean(globalThis.__worker_init_state);
  const Raw = Proxied.prototype.constructor;
  const current = (object) => {
    if (!managed) {
      object.inner ??= Reflect.construct(Proxied, object.args);
    } else if (initState.criticalError) {
      object.inner = Reflect.construct(Proxied, object.args);
      object.instanceId = initState.instanceId;
    } else if (object.instanceId !== initState.instanceId) {
      object.inner = new Raw(...object.args);
      object.instanceId = initState.instanceId;
    }
    return object.inner;
  };
  const invoke = (object, method, args) => {
    try {
      return current(object)[method](...args);
    } catch (error) {
      if (error instanceof WebAssembly.RuntimeError) initState.criticalError = true;
      throw error;
    }
  };
  // A client frame enters wasm memory (which never shrinks) only when the live protocol can use it: a text frame
  // longer than any frame of the protocol goes in as a one-character stand-in (the object closes its socket, 1009),
  // and a binary frame (which the protocol has none of) without its bytes, still counted against the frame budget.
  const message = (data) => {
    if (typeof data !== "string") return EMPTY_FRAME;
    return data.length <= MAX_CLIENT_FRAME_CHARS ? data : TOO_LONG_FRAME;
  };
  const ObjectClass = class extends DurableObject {
    constructor(ctx, env) {
      super(ctx, env);
      this.args = [ctx, env];
      this.instanceId = undefined;
      this.inner = undefined;
      current(this);
    }
    fetch(request) {
      return invoke(this, "fetch", [request]);
    }
    alarm(...args) {
      return invoke(this, "alarm", args);
    }
    webSocketMessage(ws, data) {
      return invoke(this, "webSocketMessage", [ws, message(data)]);
    }
    webSocketClose(...args) {
      return invoke(this, "webSocketClose", args);
    }
    webSocketError(...args) {
      return invoke(this, "webSocketError", args);
    }
  };
  // Only a class whose Rust side exports `order` answers it.
  if (typeof Raw.prototype.order === "function") {
    ObjectClass.prototype.order = function (order) {
      return invoke(this, "order", [order]);
    };
  }
  return ObjectClass;
}

export const Competition = objectClass(ProxiedCompetition);
export const Relay = objectClass(ProxiedRelay);
