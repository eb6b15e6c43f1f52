// The official @supabase/postgrest-js client, unchanged, against the local PostgREST gateway.
// Run by tests/official_clients.rs with SUPABASE_URL, SUPABASE_ANON_KEY, TOKEN_SERVICE, TOKEN_A, TOKEN_B, USER_A,
// and Supabase's newer key style: SB_SECRET_KEY, SB_PUBLISHABLE_KEY.
import assert from "node:assert/strict";
import { PostgrestClient } from "@supabase/postgrest-js";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const client = (token) =>
  new PostgrestClient(`${env("SUPABASE_URL")}/rest/v1`, {
    headers: { apikey: env("SUPABASE_ANON_KEY"), Authorization: `Bearer ${token}` },
  });
const service = client(env("TOKEN_SERVICE"));
const alice = client(env("TOKEN_A"));
const bob = client(env("TOKEN_B"));
const userA = env("USER_A");
const tag = userA.slice(0, 8);

// Insert with representation and .single() (Accept: application/vnd.pgrst.object+json).
const starts = new Date(Date.now() - 86_400_000).toISOString();
const ends = new Date(Date.now() + 7 * 86_400_000).toISOString();
const created = await service
  .from("competitions")
  .insert({ name: `js ${tag}`, metric: "steps", starts_at: starts, ends_at: ends, prize_pool: 100, payout: [6000, 4000] })
  .select("id, name, payout")
  .single();
assert.equal(created.error, null, JSON.stringify(created.error));
assert.equal(created.status, 201);
assert.deepEqual(created.data.payout, [6000, 4000]);
const competition = created.data.id;

// RPC with named arguments; a composite result is one object. Writes of users' rows are the Worker's (service
// key, the verified user's id); a user calling the function directly is refused.
const profile = await service.rpc("ensure_profile", { p_user: userA });
assert.equal(profile.error, null, JSON.stringify(profile.error));
assert.equal(profile.data.user_id, userA);
assert.equal(profile.data.display_name, `player-${tag}`);
const joined = await service.rpc("join_competition", { competition, p_user: userA });
assert.equal(joined.error, null, JSON.stringify(joined.error));
assert.equal(joined.data.competition_id, competition);
const selfJoin = await alice.rpc("join_competition", { competition, p_user: userA });
assert.equal(selfJoin.status, 403);
assert.equal(selfJoin.error.code, "42501");

// Filters, order, limit and an exact count.
const listed = await alice
  .from("competitions")
  .select("id, name, starts_at", { count: "exact" })
  .in("id", [competition, "00000000-0000-4000-8000-00000000ffff"])
  .gte("ends_at", starts)
  .order("starts_at", { ascending: false })
  .limit(1);
assert.equal(listed.error, null, JSON.stringify(listed.error));
assert.equal(listed.count, 1);
assert.deepEqual(listed.data.map((c) => c.id), [competition]);

// A HEAD count (head: true) and is.null.
const head = await alice.from("profiles").select("*", { count: "exact", head: true }).is("avatar_url", null);
assert.equal(head.error, null, JSON.stringify(head.error));
assert.equal(head.count, 1, "alice sees only her own profile");

// Row-level security: bob sees none of alice's rows.
const bobView = await bob.from("profiles").select("user_id").eq("user_id", userA);
assert.equal(bobView.error, null);
assert.deepEqual(bobView.data, []);

// Upsert (merge-duplicates with on_conflict) and an RPC returning a set; a user may do neither on their days.
const upsert = await service
  .from("fitness_days")
  .upsert([{ user_id: userA, source: "manual", day: "2026-01-02", steps: 10 }], { onConflict: "user_id,source,day" })
  .select("steps");
assert.equal(upsert.error, null, JSON.stringify(upsert.error));
assert.deepEqual(upsert.data, [{ steps: 10 }]);
const ownUpsert = await alice
  .from("fitness_days")
  .upsert([{ user_id: userA, source: "manual", day: "2026-01-02", steps: 99999 }], { onConflict: "user_id,source,day" });
assert.equal(ownUpsert.status, 403);
const ownDays = await alice.from("fitness_days").select("steps").eq("day", "2026-01-02");
assert.deepEqual(ownDays.data, [{ steps: 10 }], "a user reads their own days");
const today = new Date().toISOString().slice(0, 10);
const synced = await service.rpc("sync_fitness_days", {
  p_user: userA,
  p_source: "healthkit",
  p_days: [{ index: 0, day: today, steps: 1234, user_entered: false, held_metrics: [] }],
});
assert.equal(synced.error, null, JSON.stringify(synced.error));
// A scalar jsonb result: what rescoring needs (the Worker computes the scores from it).
assert.deepEqual(
  synced.data.competitions.filter((c) => c.id === competition).map(({ id, metric }) => ({ id, metric })),
  [{ id: competition, metric: "steps" }],
);
assert.deepEqual(
  synced.data.days.filter((d) => d.day === today).map(({ source, steps }) => ({ source, steps })),
  [{ source: "healthkit", steps: 1234 }],
);

// Error shapes: PostgREST's code/message/details/hint with its statuses.
const denied = await alice.from("competitions").insert({ name: "x", metric: "steps", starts_at: starts, ends_at: ends });
assert.equal(denied.status, 403);
assert.equal(denied.error.code, "42501");
const missing = await alice.rpc("no_such_function", { a: 1 });
assert.equal(missing.status, 404);
assert.equal(missing.error.code, "PGRST202");
const none = await alice.from("competitions").select("id").eq("id", "00000000-0000-4000-8000-00000000ffff").single();
assert.equal(none.status, 406);
assert.equal(none.error.code, "PGRST116");
const invalid = await alice.from("competitions").select("id").eq("id", "not-a-uuid");
assert.equal(invalid.status, 400);
assert.equal(invalid.error.code, "22P02");
for (const key of ["code", "message", "details", "hint"]) assert.ok(key in invalid.error, key);

// The newer key style: an sb_secret_… key as apikey alone runs as service_role, an sb_publishable_… key as anon, and
// a user's JWT next to the publishable key as that user.
const keyed = (apikey, token) =>
  new PostgrestClient(`${env("SUPABASE_URL")}/rest/v1`, {
    headers: token ? { apikey, Authorization: `Bearer ${token}` } : { apikey },
  });
const secret = keyed(env("SB_SECRET_KEY"));
const secretInsert = await secret
  .from("competitions")
  .insert({ name: `js secret ${tag}`, metric: "steps", starts_at: starts, ends_at: ends, score_source: "client" })
  .select("id")
  .single();
assert.equal(secretInsert.status, 201, JSON.stringify(secretInsert.error));
const publishable = keyed(env("SB_PUBLISHABLE_KEY"));
const publicRead = await publishable.from("competitions").select("id").eq("id", secretInsert.data.id);
assert.equal(publicRead.status, 200, "the publishable key reads as anon");
const anonWrite = await publishable.from("competitions").insert({ name: "x", metric: "steps", starts_at: starts, ends_at: ends });
assert.equal(anonWrite.status, 401, "the publishable key writes nothing");
const asAlice = keyed(env("SB_PUBLISHABLE_KEY"), env("TOKEN_A"));
const aliceOwn = await asAlice.from("profiles").select("user_id").eq("user_id", userA);
assert.deepEqual(aliceOwn.data, [{ user_id: userA }]);
const wrongKey = await keyed("sb_secret_not_the_projects").from("competitions").select("id").limit(1);
assert.equal(wrongKey.status, 401);

console.log("postgrest-js: all checks passed");
