// The second baseline of scripts/bench-route: a JS Worker that does, in JavaScript, the work our pipeline does for
// GET /health/live beyond the trivial baseline (bench/route-baseline.js): it reads the headers our arrival reads,
// parses the URL, keeps a request counter and a duration histogram per route and status, draws a trace id, writes the
// same JSON access-log line with `console.log`, and answers with the same headers. What the contract asks of every
// request costs this much in JavaScript; the rest of our cost is Rust, wasm and the calls between them.
const HEADERS = [
  ["Content-Type", "application/json; charset=utf-8"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-Frame-Options", "DENY"],
  ["Strict-Transport-Security", "max-age=63072000; includeSubDomains"],
  ["Referrer-Policy", "no-referrer"],
  ["Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"],
];
const counters = new Map();
const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export default {
  async fetch(request, env, ctx) {
    const started = Date.now();
    const h = request.headers;
    const values = [request.method, request.url, h.get('x-request-id'), h.get('traceparent'),
      h.get('content-length'), h.get('transfer-encoding'), h.get('origin'), h.get('if-none-match'), h.get('access-control-request-method'),
      h.get('authorization'), null, h.get('content-type'), h.get('cf-connecting-ip'), h.get('idempotency-key')];
    const id = values[2] || crypto.randomUUID();
    const url = new URL(values[1]);
    const body = JSON.stringify({ status: "alive" });
    const now = Date.now();
    const key = `GET ${url.pathname} 200`;
    const c = counters.get(key) || { n: 0, sum: 0, b: new Array(buckets.length).fill(0) };
    c.n++; c.sum += (now - started) / 1000;
    for (let i = 0; i < buckets.length; i++) if ((now - started) / 1000 <= buckets[i]) c.b[i]++;
    counters.set(key, c);
    const trace = crypto.getRandomValues(new Uint8Array(16));
    console.log(JSON.stringify({ ts: new Date(started).toISOString(), level: "info", request_id: id,
      trace_id: [...trace].map((b) => b.toString(16).padStart(2, "0")).join(""), method: values[0], route: "/health/live",
      status: 200, duration_ms: now - started }));
    const headers = new Headers();
    for (const [k, v] of HEADERS) headers.set(k, v);
    headers.set("X-Request-Id", id);
    return new Response(body, { status: 200, headers });
  },
};
