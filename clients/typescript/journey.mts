// A player's journey through the typed client, against a running Worker: profile, join, fitness sync, the board, and
// the live socket with a resume. Run by tests/typescript_client.rs (compiled by tsc first) with BASE, TOKEN, USER_ID
// and COMPETITION (a running fitness competition).
import assert from "node:assert/strict";
import { leaderboardClient, liveSocket } from "./client.mjs";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const [base, token, userId, competition] = [env("BASE"), env("TOKEN"), env("USER_ID"), env("COMPETITION")];
const api = leaderboardClient(base, token);
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

// Profile: provisioned on first use, then named, with the walker's own clock.
const me = await api.GET("/api/v1/me");
assert.equal(me.response.status, 200);
assert.equal(me.data?.user_id, userId);
const renamed = await api.PATCH("/api/v1/me", { body: { display_name: "TS Walker", time_zone: "Europe/Berlin" } });
assert.equal(renamed.data?.display_name, "TS Walker");
assert.equal(renamed.data?.time_zone, "Europe/Berlin");

// Join, then sync a day: the server computes the score.
const joined = await api.POST("/api/v1/competitions/{competition_id}/join", {
  params: { path: { competition_id: competition } },
});
assert.equal(joined.response.status, 200, JSON.stringify(joined.error));
const synced = await api.POST("/api/v1/fitness/sync", {
  body: { source: "healthkit", samples: [{ date: day(-1), steps: 4321 }] },
});
assert.equal(synced.response.status, 200, JSON.stringify(synced.error));
const mine = synced.data?.competitions.find((c) => c.competition_id === competition);
assert.equal(mine?.score, 4321);
assert.deepEqual(synced.data?.held, []);

// The board shows the name.
const page = await api.GET("/api/v1/leaderboard/{competition_id}", {
  params: { path: { competition_id: competition }, query: { limit: 10 } },
});
const entry = page.data?.entries.find((e) => e.user_id === userId);
assert.equal(entry?.display_name, "TS Walker");
assert.equal(entry?.score, 4321);

// Live: a snapshot, then the update a new sync makes; after a reconnect, resume replays it.
type Frame = { type: string; seq?: number; score?: number; user_id?: string };
const frames = (socket: WebSocket) => {
  const queue: Frame[] = [];
  const waiting: ((frame: Frame) => void)[] = [];
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(String(event.data)) as Frame;
    const next = waiting.shift();
    if (next) next(frame);
    else queue.push(frame);
  });
  return (): Promise<Frame> =>
    new Promise((resolve, reject) => {
      const ready = queue.shift();
      if (ready) return resolve(ready);
      const timer = setTimeout(() => reject(new Error("no frame within 10 s")), 10_000);
      waiting.push((frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
};
const first = liveSocket(base, token, competition);
const nextFirst = frames(first);
const snapshot = await nextFirst();
assert.equal(snapshot.type, "snapshot");
await api.POST("/api/v1/fitness/sync", { body: { source: "healthkit", samples: [{ date: day(0), steps: 1000 }] } });
const update = await nextFirst();
assert.equal(update.type, "update");
assert.equal(update.score, 5321);
first.close();

const second = liveSocket(base, token, competition);
const nextSecond = frames(second);
assert.equal((await nextSecond()).type, "snapshot");
second.send(JSON.stringify({ type: "resume", since: snapshot.seq }));
const replayed = await nextSecond();
assert.deepEqual([replayed.type, replayed.seq, replayed.score], ["update", update.seq, 5321]);
second.close();

console.log("typescript journey: all checks passed");
