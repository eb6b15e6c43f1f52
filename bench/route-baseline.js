// The trivial baseline of scripts/bench-route: the smallest Worker that answers GET /health/live as the contract
// says (the same JSON body and security headers, a request id), with none of our pipeline (no metrics, analytics,
// access log or rate limiting). What is left is workerd's own cost of accepting a request and writing a response,
// measured by the same client in the same run.
const HEADERS = {
  "Content-Type": "application/json; charset=utf-8",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
};

export default {
  async fetch() {
    return new Response('{"status":"alive"}', { headers: { ...HEADERS, "X-Request-Id": crypto.randomUUID() } });
  },
};
