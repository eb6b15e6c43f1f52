// The trivial baseline of scripts/bench-fanout: the smallest Worker that speaks the same fan-out protocol as ours
// (create and join answer at once, one object per competition holds the hibernatable sockets, an update is one
// frame of the same shape sent to every socket). No auth, no storage, no engine: what is left is workerd's own cost
// of accepting a request and writing one frame to N sockets, measured by the same client in the same run.

export class Baseline {
  constructor(ctx) {
    this.ctx = ctx;
    this.seq = 0;
  }

  async fetch(request) {
    if (request.headers.get("Upgrade") === "websocket") {
      const [client, server] = Object.values(new WebSocketPair());
      this.ctx.acceptWebSocket(server);
      server.send(JSON.stringify({ type: "snapshot", seq: this.seq, entries: [], total: 0 }));
      return new Response(null, { status: 101, webSocket: client });
    }
    const update = await request.json();
    this.seq += 1;
    const frame = JSON.stringify({
      type: "update", seq: this.seq, user_id: update.user_id, score: update.score,
      rank: 1, previous_rank: 1, total: 1,
    });
    for (const ws of this.ctx.getWebSockets()) {
      try { ws.send(frame); } catch (e) { ws.close(1011, "send failed"); }
    }
    return Response.json({ user_id: update.user_id, score: update.score, rank: 1, previous_rank: 1, total: 1, seq: this.seq });
  }

  webSocketMessage(ws, message) {
    if (message === '{"type":"ping"}') ws.send('{"type":"pong"}');
  }
}

const COMPETITION = "00000000-0000-4000-8000-000000000001";
const USER = "00000000-0000-4000-8000-000000000002";

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    const object = (id) => env.BASELINE.get(env.BASELINE.idFromName(id));
    if (request.method === "POST" && pathname === "/api/v1/competitions") {
      return Response.json({ id: COMPETITION }, { status: 201 });
    }
    if (request.method === "POST" && pathname.endsWith("/join")) {
      return Response.json({ competition_id: COMPETITION, user_id: USER });
    }
    const live = pathname.match(/^\/api\/v1\/competitions\/([^/]+)\/live$/);
    if (live) {
      return object(live[1]).fetch(request);
    }
    if (request.method === "POST" && pathname === "/api/v1/leaderboard/update") {
      const body = await request.json();
      const forwarded = new Request(request.url, {
        method: "POST", body: JSON.stringify({ user_id: USER, score: body.score }),
      });
      return object(body.competition_id).fetch(forwarded);
    }
    if (pathname === "/health/live") {
      return Response.json({ status: "ok" });
    }
    return Response.json({ error: { code: "not_found", message: pathname } }, { status: 404 });
  },
};
