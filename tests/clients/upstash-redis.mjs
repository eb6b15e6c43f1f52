// The official @upstash/redis client, unchanged (base64 response encoding, its default), against the local Upstash
// gateway. Run by tests/official_clients.rs with UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN and PREFIX.
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";

const url = process.env.UPSTASH_REDIS_REST_URL;
const token = process.env.UPSTASH_REDIS_REST_TOKEN;
const p = process.env.PREFIX ?? "js";
const redis = new Redis({ url, token });

// Strings, JSON values and counters with TTL.
assert.equal(await redis.set(`${p}:s`, "hello"), "OK");
assert.equal(await redis.get(`${p}:s`), "hello");
await redis.set(`${p}:json`, { a: 1, b: [2, 3] });
assert.deepEqual(await redis.get(`${p}:json`), { a: 1, b: [2, 3] });
assert.equal(await redis.incr(`${p}:n`), 1);
assert.equal(await redis.incrby(`${p}:n`, 4), 5);
assert.equal(await redis.expire(`${p}:n`, 60), 1);
const ttl = await redis.ttl(`${p}:n`);
assert.ok(ttl > 0 && ttl <= 60, `ttl ${ttl}`);
await redis.set(`${p}:ex`, "v", { ex: 30 });
assert.ok((await redis.ttl(`${p}:ex`)) > 0);
assert.equal(await redis.get(`${p}:absent`), null);

// Sorted sets.
assert.equal(await redis.zadd(`${p}:z`, { score: 1, member: "a" }, { score: 3, member: "b" }, { score: 2, member: "c" }), 3);
assert.deepEqual(await redis.zrange(`${p}:z`, 0, -1, { rev: true, withScores: true }), ["b", 3, "c", 2, "a", 1]);
assert.equal(await redis.zrevrank(`${p}:z`, "a"), 2);
assert.equal(await redis.zscore(`${p}:z`, "c"), 2);

// Pipeline and multi-exec.
const pipe = redis.pipeline();
pipe.set(`${p}:p1`, "x");
pipe.incr(`${p}:p2`);
pipe.get(`${p}:p1`);
assert.deepEqual(await pipe.exec(), ["OK", 1, "x"]);
const failing = redis.pipeline();
failing.set(`${p}:p3`, "not a number");
failing.incr(`${p}:p3`);
await assert.rejects(failing.exec(), /not an integer/);
const tx = redis.multi();
tx.set(`${p}:m`, "1");
tx.incr(`${p}:m`);
tx.get(`${p}:m`);
assert.deepEqual(await tx.exec(), ["OK", 2, 2]);

// Scripts: EVAL, SCRIPT LOAD + EVALSHA, and NOSCRIPT.
assert.equal(await redis.eval("return ARGV[1]", [], ["echo"]), "echo");
const sha = await redis.scriptLoad("return redis.call('INCR', KEYS[1])");
assert.equal(await redis.evalsha(sha, [`${p}:sc`], []), 1);
await assert.rejects(redis.evalsha("ffffffffffffffffffffffffffffffffffffffff", [], []), /NOSCRIPT/);

// Errors, and a wrong token.
await assert.rejects(redis.incr(`${p}:s`), /not an integer/);
await assert.rejects(new Redis({ url, token: "wrong-token" }).get(`${p}:s`), /Unauthorized/);

console.log("@upstash/redis: all checks passed");
