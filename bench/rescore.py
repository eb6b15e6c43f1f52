"""Client of scripts/bench-rescore: what an administrator's new `ends_at` costs when the competition's members are
rescored from their stored days, against the same PATCH of a client competition of the same members (which rescores
nobody: the runtime's, the object's and Postgres's cost of the edit itself).

Usage: rescore.py URL VARS_FILE MEMBERS ROUNDS. Prints each round and the medians; the last line reads exactly
`rescore after a moved end: N µs per member (M members; the same PATCH of a client competition: K ms)`.
"""
import datetime as dt, statistics, sys, time, uuid
import zoneinfo
from concurrent.futures import ThreadPoolExecutor

from worker_client import WorkerClient

url, vars_file, members, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
client = WorkerClient(url, vars_file)
token, call, ADMIN = client.token, client.call, client.admin


def iso(secs):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(secs))


def create(source):
    # A clock far west of the members (who live at UTC+14): their today begins after an end ten minutes away and
    # before one two days away, so every move of the end changes every member's score.
    now = time.time()
    body = {"name": "bench-rescore", "metric": "steps", "starts_at": iso(now - 3 * 86400), "ends_at": iso(now + 600),
            "prize_pool": 0, "payout": [], "score_source": source}
    if source == "fitness":
        body.update({"clock": "Etc/GMT+12", "grace_hours": 24})
    status, competition = call("POST", "/api/v1/competitions", body, ADMIN)
    assert status == 201, (status, competition)
    return competition["id"]


fitness, client = create("fitness"), create("client")
today = dt.datetime.now(zoneinfo.ZoneInfo("Pacific/Kiritimati")).date()


def member(k):
    user = str(uuid.uuid4())
    bearer = token(user)
    for competition in (fitness, client):
        status, reply = call("POST", f"/api/v1/competitions/{competition}/join", None, bearer)
        assert status == 200, (status, reply)
    samples = [{"date": str(today - dt.timedelta(days=2)), "steps": 1000 + k}, {"date": str(today), "steps": 5000 + k}]
    status, reply = call("POST", "/api/v1/fitness/sync",
                         {"source": "healthkit", "time_zone": "Pacific/Kiritimati", "samples": samples}, bearer)
    assert status == 200, (status, reply)
    status, reply = call("POST", "/api/v1/leaderboard/update", {"competition_id": client, "score": 1000 + k}, bearer)
    assert status == 200, (status, reply)


with ThreadPoolExecutor(8) as pool:
    list(pool.map(member, range(members)))


def move(competition, ends_in):
    started = time.perf_counter()
    status, reply = call("PATCH", f"/api/v1/competitions/{competition}", {"ends_at": iso(time.time() + ends_in)}, ADMIN)
    elapsed = time.perf_counter() - started
    assert status == 200, (status, reply)
    return elapsed * 1000


def top_score(competition):
    status, page = call("GET", f"/api/v1/leaderboard/{competition}?limit=1", None, token(str(uuid.uuid4())))
    return page["entries"][0]["score"] if status == 200 and page["entries"] else None


fitness_ms, client_ms = [], []
last = members - 1
for round_ in range(1, rounds + 1):
    # Extended: every member's today counts (5000 + k on top of 1000 + k); brought in: it does not.
    for ends_in, top in ((2 * 86400, 6000 + 2 * last), (600, 1000 + last)):
        pair = [("fitness", fitness), ("client", client)]
        if round_ % 2 == 0:
            pair.reverse()
        timings = {name: move(competition, ends_in) for name, competition in pair}
        fitness_ms.append(timings["fitness"])
        client_ms.append(timings["client"])
        print(f"round {round_}, end {'extended' if ends_in > 600 else 'brought in'}: fitness {timings['fitness']:.0f} ms,"
              f" client {timings['client']:.0f} ms", flush=True)
        found = top_score(fitness)
        assert found == top, f"the board was not rescored: top score {found}, expected {top}"

fitness_median, client_median = statistics.median(fitness_ms), statistics.median(client_ms)
per_member_us = max(fitness_median - client_median, 0) * 1000 / members
print(f"medians: fitness PATCH {fitness_median:.0f} ms, client PATCH {client_median:.0f} ms")
print(f"rescore after a moved end: {per_member_us:.0f} µs per member ({members} members; the same PATCH of a client "
      f"competition: {client_median:.0f} ms)")
