"""Client of scripts/bench-totals-pass: what a fitness competition's start and end totals passes cost per member,
against their database calls alone.

Usage: totals_pass.py URL VARS_FILE MEMBERS ROUNDS (STACK_DIR names the private stack, for `scripts/stack psql`).
Prints each round and the medians; the last line reads exactly
`totals passes: start N µs per member (database M), end N µs per member (database M), K members`.
"""
import datetime as dt, os, statistics, subprocess, sys, time, uuid

from worker_client import WorkerClient

url, vars_file, members, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
client = WorkerClient(url, vars_file)
token, call, ADMIN = client.token, client.call, client.admin
READER = token(str(uuid.uuid4()))
# Seeding takes a while; the start is set this far ahead of the seeding's end as measured in the round before.
SETTLE_S = 5
# The members the object reads a page (TOTALS_PAGE in src/adapters/score_history.rs).
TOTALS_PAGE = 200


def psql(sql):
    """Runs `sql` on the private stack's database; the finished process (its output and its warnings)."""
    return subprocess.run([os.path.join(root, "scripts", "stack"), "psql", "-tA", "-f", "-"], input=sql, text=True,
                          capture_output=True, check=True)


def iso(secs):
    return dt.datetime.fromtimestamp(secs, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def wait_until(moment):
    while time.time() < moment:
        time.sleep(min(0.05, max(moment - time.time(), 0)))


def first_time(moment, done):
    """Seconds from `moment` to the end of the first read for which `done` holds (reads back to back)."""
    wait_until(moment)
    while time.time() < moment + 600:
        if done():
            return time.time() - moment
        time.sleep(0.02)
    raise SystemExit("the pass did not finish within 10 minutes")


def board_total(competition):
    status, page = call("GET", f"/api/v1/leaderboard/{competition}?limit=1", None, READER)
    return page["total"] if status == 200 else None


def prizes_final(competition):
    status, prizes = call("GET", f"/api/v1/leaderboard/{competition}/prizes", None, READER)
    return status == 200 and prizes["final"]


def database_seconds(page_call):
    """One pass's database calls, page after page as the object makes them, in SQL (a pass that raises the members'
    versions is rolled back, so the board keeps what the object wrote)."""
    done = psql(f"""BEGIN; DO $$ DECLARE after uuid; r jsonb; began timestamptz := clock_timestamp(); BEGIN
      LOOP r := public.{page_call}; after := (r->>'next')::uuid; EXIT WHEN after IS NULL; END LOOP;
      RAISE WARNING 'took %', extract(epoch FROM clock_timestamp() - began); END $$; ROLLBACK;""")
    took = [float(line.rsplit(" ", 1)[1]) for line in done.stderr.splitlines() if "WARNING:  took" in line]
    assert len(took) == 1, done.stderr
    return took[0]


seed_s = 30.0
rows = []
for round_ in range(1, rounds + 1):
    starts = time.time() + seed_s + SETTLE_S
    # Long enough after the start for its pass: the end is timed from its own moment.
    ends = starts + 30 + members / 500
    status, competition = call("POST", "/api/v1/competitions", {
        "name": "bench-totals-pass", "metric": "steps", "starts_at": iso(starts), "ends_at": iso(ends),
        "prize_pool": 1000, "payout": [5000, 3000, 2000], "clock": "UTC", "grace_hours": 0}, ADMIN)
    assert status == 201, (status, competition)
    cid = competition["id"]
    seeding = time.time()
    day = dt.datetime.fromtimestamp(starts, dt.timezone.utc).date().isoformat()
    psql(f"""BEGIN;
      CREATE TEMP TABLE seeded AS SELECT gen_random_uuid() AS id, (random() * 50000)::bigint + 1 AS steps
        FROM generate_series(1, {members});
      INSERT INTO auth.users (id) SELECT id FROM seeded;
      INSERT INTO public.profiles (user_id, display_name) SELECT id, 'bench-' || left(id::text, 8) FROM seeded;
      INSERT INTO public.memberships (competition_id, user_id) SELECT '{cid}', id FROM seeded;
      INSERT INTO public.fitness_days (user_id, source, day, steps) SELECT id, 'healthkit', '{day}', steps FROM seeded;
      COMMIT; ANALYZE public.memberships, public.fitness_days, public.profiles;""")
    seed_s = time.time() - seeding
    assert time.time() < starts - 1, f"seeding took {seed_s:.0f} s, past the start; run again (it adapts)"
    # The object hears of its competition (the members were written in SQL, not joined through the Worker).
    status, _ = call("GET", f"/api/v1/leaderboard/{cid}/prizes", None, READER)
    assert status == 200, status
    start_s = first_time(starts, lambda: board_total(cid) == members)
    # While the competition runs: its members' inputs (read at now()) then count their days, as at the start.
    # Pages of TOTALS_PAGE (src/adapters/score_history.rs), as the object reads them.
    db_start_s = database_seconds(f"rescore_members('{cid}', '{iso(starts)}', now(), after, {TOTALS_PAGE})")
    end_s = first_time(ends, lambda: prizes_final(cid))
    db_end_s = database_seconds(f"member_totals('{cid}', '{iso(ends - 0.001)}', after, {TOTALS_PAGE})")
    rows.append((start_s, db_start_s, end_s, db_end_s))
    print(f"round {round_}: start pass {start_s:.2f} s (database {db_start_s:.2f} s), end pass {end_s:.2f} s "
          f"(database {db_end_s:.2f} s), {members} members", flush=True)


def per_member(column):
    return statistics.median(row[column] for row in rows) * 1e6 / members


print(f"totals passes: start {per_member(0):.0f} µs per member (database {per_member(1):.0f}), end "
      f"{per_member(2):.0f} µs per member (database {per_member(3):.0f}), {members} members")
