// The trivial baseline of scripts/bench-writes: the smallest Worker and object pair that answers the load tool's
// `update` scenario as a durable write. Create and join answer at once; an update is forwarded to the
// competition's object by name, which keeps the score in SQLite only if it rises, queues an outbox row for the
// database and counts the rank (three statements, as ours does). No token check, rate limit, metrics, access log,
// analytics, engine or fan-out: what is left is workerd's own cost of a request, one call to an object and its
// SQLite writes, measured by the same client in the same run as ours.

import { DurableObject } from "cloudflare:workers";

export class Baseline extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS scores (user_id TEXT PRIMARY KEY, score INTEGER NOT NULL)");
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, score INTEGER NOT NULL)",
    );
  }

  // Called by RPC, the cheapest way a Worker reaches its object (ours calls its objects the same way).
  update(user_id, score) {
    if (typeof user_id !== "string" || !Number.isSafeInteger(score) || score < 0) {
      return { status: 400, body: { error: { code: "validation_failed", message: "user_id and score" } } };
    }
    this.sql.exec(
      "INSERT INTO scores (user_id, score) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET score = excluded.score WHERE excluded.score > scores.score",
      user_id, score,
    );
    const seq = this.sql.exec("INSERT INTO outbox (user_id, score) VALUES (?, ?) RETURNING seq", user_id, score).one().seq;
    const rank = this.sql.exec("SELECT COUNT(*) + 1 AS rank FROM scores WHERE score > ?", score).one().rank;
    return { status: 200, body: { user_id, score, rank, seq } };
  }
}

// The user is the token's `sub`, read without checking the signature: the baseline measures the runtime, not auth.
function subject(request) {
  const token = (request.headers.get("Authorization") || "").replace(/^Bearer /, "");
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).sub;
  } catch {
    return null;
  }
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (request.method === "POST" && pathname === "/api/v1/competitions") {
      return Response.json({ id: crypto.randomUUID() }, { status: 201 });
    }
    if (request.method === "POST" && pathname.endsWith("/join")) {
      return Response.json({ user_id: subject(request) });
    }
    if (request.method === "POST" && pathname === "/api/v1/leaderboard/update") {
      const user_id = subject(request);
      if (!user_id) {
        return Response.json({ error: { code: "unauthorized", message: "a bearer token" } }, { status: 401 });
      }
      const body = await request.json();
      const object = env.BASELINE.get(env.BASELINE.idFromName(String(body.competition_id)));
      const { status, body: reply } = await object.update(user_id, body.score);
      return Response.json(reply, { status });
    }
    if (pathname === "/health/live") {
      return Response.json({ status: "alive" });
    }
    return Response.json({ error: { code: "not_found", message: pathname } }, { status: 404 });
  },
};
