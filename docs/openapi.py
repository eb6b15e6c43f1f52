#!/usr/bin/env python3
"""Writes docs/openapi.json, the OpenAPI 3.1 description of docs/API.md that the Worker serves at
GET /openapi.json. Edit this generator, run it (`python3 docs/openapi.py`), commit both; a unit test checks that the
document lists exactly the routes the router serves."""
import json
import pathlib

def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}

def obj(props, required=None, extra=False):
    schema = {"type": "object", "properties": props, "additionalProperties": extra}
    if required is not None:
        schema["required"] = required
    return schema

UUID = {"type": "string", "format": "uuid"}
TIME = {"type": "string", "format": "date-time"}
SCORE = {"type": "integer", "minimum": 0, "maximum": 9007199254740991}
RANK = {"type": "integer", "minimum": 1}
NULLABLE_RANK = {"type": ["integer", "null"], "minimum": 1}
METRIC = {"type": "string", "enum": ["steps", "active_minutes", "distance_m", "calories"]}

schemas = {
    "Error": obj({"error": obj({
        "code": {"type": "string", "enum": ["bad_request", "invalid_json", "validation_failed", "missing_token",
                 "invalid_token", "token_expired", "forbidden", "not_found", "method_not_allowed", "conflict",
                 "payload_too_large", "unsupported_media_type", "rate_limited", "internal",
                 "dependency_unavailable", "idempotency_mismatch"]},
        "message": {"type": "string"},
        "request_id": {"type": "string"},
        "details": {"type": "array", "items": obj({"field": {"type": "string"}, "message": {"type": "string"}},
                                                  ["field", "message"])},
    }, ["code", "message", "request_id"])}, ["error"]),
    "NewCompetition": obj({
        "name": {"type": "string", "minLength": 1, "maxLength": 80},
        "metric": METRIC,
        "starts_at": TIME,
        "ends_at": TIME,
        "prize_pool": {"type": "integer", "minimum": 0},
        "payout": {"type": "array", "maxItems": 100, "items": {"type": "integer", "minimum": 1, "maximum": 10000}},
        "max_participants": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000000},
        "score_source": {"type": "string", "enum": ["fitness", "client"]},
        "scoring": ref("Scoring"),
        "clock": {"type": "string", "description": "participant or an IANA zone name"},
        "grace_hours": {"type": "integer", "minimum": 0, "maximum": 72},
        "allow_manual": {"type": "boolean"},
    }, ["name", "metric", "starts_at", "ends_at"]),
    "Scoring": {"oneOf": [
        obj({"mode": {"const": "total"}}, ["mode"]),
        obj({"mode": {"const": "daily_capped"}, "cap": {"type": "integer", "minimum": 1}}, ["mode", "cap"]),
        obj({"mode": {"const": "goal_days"}, "goal": {"type": "integer", "minimum": 1}}, ["mode", "goal"]),
        obj({"mode": {"const": "best_day"}}, ["mode"]),
    ]},
    "Competition": obj({
        "id": UUID, "name": {"type": "string"}, "metric": METRIC, "starts_at": TIME, "ends_at": TIME,
        "prize_pool": {"type": "integer"}, "payout": {"type": "array", "items": {"type": "integer"}},
        "participants": {"type": "integer", "minimum": 0},
        "max_participants": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000000},
        "status": {"type": "string", "enum": ["upcoming", "active", "finalizing", "finished", "cancelled"]},
        "score_source": {"type": "string", "enum": ["fitness", "client"]},
        "scoring": ref("Scoring"),
        "clock": {"type": "string", "description": "participant or an IANA zone name"},
        "grace_hours": {"type": "integer", "minimum": 0, "maximum": 72},
        "allow_manual": {"type": "boolean"},
    }, ["id", "name", "metric", "starts_at", "ends_at", "prize_pool", "payout", "participants", "status",
        "score_source", "scoring", "clock", "grace_hours", "allow_manual"], True),
    "CompetitionList": obj({"competitions": {"type": "array", "maxItems": 100, "items": ref("Competition")}},
                           ["competitions"], True),
    "Membership": obj({"competition_id": UUID, "user_id": UUID, "joined_at": TIME},
                      ["competition_id", "user_id", "joined_at"], True),
    "ScoreUpdate": obj({"competition_id": UUID, "score": SCORE,
                        "user_id": {**UUID, "description": "service_role corrections only"}},
                       ["competition_id", "score"]),
    "ScoreUpdateReply": obj({"competition_id": UUID, "user_id": UUID, "score": SCORE, "rank": RANK, "display_rank": RANK,
                             "previous_rank": NULLABLE_RANK, "total": {"type": "integer"}},
                            ["competition_id", "user_id", "score", "rank", "previous_rank", "total"], True),
    "Entry": obj({"rank": RANK, "display_rank": RANK, "user_id": UUID, "display_name": {"type": "string"},
                  "avatar_url": {"type": ["string", "null"]}, "score": SCORE},
                 ["rank", "user_id", "display_name", "score"], True),
    "LeaderboardPage": obj({"competition_id": UUID, "total": {"type": "integer"},
                            "entries": {"type": "array", "items": ref("Entry")},
                            "next_cursor": {"type": ["string", "null"]}},
                           ["competition_id", "total", "entries", "next_cursor"], True),
    "Around": obj({"rank": RANK, "display_rank": RANK, "score": SCORE, "total": {"type": "integer"}, "percentile": {"type": "number"},
                   "entries": {"type": "array", "items": ref("Entry")}},
                  ["rank", "score", "total", "percentile", "entries"], True),
    "Standing": obj({"rank": RANK, "display_rank": RANK, "score": SCORE}, ["rank", "score"], True),
    "Prizes": obj({"prize_pool": {"type": "integer"}, "final": {"type": "boolean"},
                   "prizes": {"type": "array", "items": obj({"rank": RANK, "user_id": UUID,
                                                             "amount": {"type": "integer"}},
                                                            ["rank", "user_id", "amount"], True)}},
                  ["prize_pool", "final", "prizes"], True),
    "FitnessSync": obj({
        "source": {"type": "string",
                   "enum": ["healthkit", "health_connect", "google_fit", "garmin", "fitbit", "manual"]},
        "time_zone": {"type": "string", "description": "IANA zone; updates the profile's"},
        "samples": {"type": "array", "maxItems": 400, "items": obj({
            "date": {"type": "string", "format": "date"}, "user_entered": {"type": "boolean"},
            "steps": {"type": "integer", "minimum": 0}, "active_minutes": {"type": "integer", "minimum": 0},
            "distance_m": {"type": "integer", "minimum": 0}, "calories": {"type": "integer", "minimum": 0},
        }, ["date"])},
    }, ["source", "samples"]),
    "FitnessSyncReply": obj({
        "accepted": {"type": "integer"},
        "rejected": {"type": "array", "items": obj({"index": {"type": "integer"}, "reason": {"type": "string"}},
                                                   ["index", "reason"], True)},
        "held": {"type": "array", "items": obj({"index": {"type": "integer"}, "metric": METRIC,
                                                "value": {"type": "integer"}}, ["index", "metric", "value"], True)},
        "competitions": {"type": "array", "items": obj({"competition_id": UUID, "score": SCORE, "rank": RANK,
                                                        "display_rank": RANK},
                                                       ["competition_id", "score", "rank"], True)},
    }, ["accepted", "rejected", "held", "competitions"], True),
    "Profile": obj({"user_id": UUID, "display_name": {"type": "string"}, "avatar_url": {"type": ["string", "null"]},
                    "time_zone": {"type": "string"}},
                   ["user_id", "display_name", "avatar_url", "time_zone"], True),
    "ProfilePatch": obj({"display_name": {"type": "string", "minLength": 1, "maxLength": 40},
                         "time_zone": {"type": "string", "description": "IANA zone name"}}, []),
    "AvatarReply": obj({"avatar_url": {"type": "string"}}, ["avatar_url"], True),
    "Health": obj({"status": {"type": "string"}, "version": {"type": "string"}}, ["status"], True),
    "HealthDetailed": obj({"status": {"type": "string", "enum": ["healthy", "degraded", "unhealthy"]},
                           "checked_at": TIME,
                           "components": {"type": "object", "additionalProperties": obj(
                               {"status": {"type": "string", "enum": ["up", "down"]},
                                "latency_ms": {"type": "number"}, "error": {"type": ["string", "null"]}},
                               ["status", "latency_ms"], True)},
                           "circuit_breakers": {"type": "object", "additionalProperties": {
                               "type": "string", "enum": ["closed", "open", "half_open"]}}},
                          ["status", "checked_at", "components", "circuit_breakers"], True),
}

# The live socket's frames (API.md, "Live updates"): not HTTP bodies, so no path refers to them; clients generate
# their frame types from these.
FRAME_UPDATE = obj({"type": {"const": "update"}, "seq": {"type": "integer", "minimum": 1}, "user_id": UUID,
                    "display_name": {"type": "string"}, "score": SCORE, "rank": RANK, "display_rank": RANK,
                    "previous_rank": NULLABLE_RANK, "total": {"type": "integer", "minimum": 0}},
                   ["type", "seq", "user_id", "score", "rank", "previous_rank", "total"], True)
schemas.update({
    "UpdateFrame": FRAME_UPDATE,
    "ServerFrame": {"description": "A frame the server sends on the live socket", "oneOf": [
        obj({"type": {"const": "snapshot"}, "seq": {"type": "integer", "minimum": 0},
             "total": {"type": "integer", "minimum": 0}, "entries": {"type": "array", "items": ref("Entry")},
             "me": {"oneOf": [ref("Standing"), {"type": "null"}]}}, ["type", "seq", "total", "entries", "me"], True),
        ref("UpdateFrame"),
        obj({"type": {"const": "updates"}, "seq": {"type": "integer", "minimum": 1},
             "updates": {"type": "array", "minItems": 2, "items": ref("UpdateFrame")}}, ["type", "seq", "updates"],
            True),
        obj({"type": {"const": "removed"}, "seq": {"type": "integer", "minimum": 1}, "user_id": UUID,
             "total": {"type": "integer", "minimum": 0}}, ["type", "seq", "user_id", "total"], True),
        obj({"type": {"const": "changed"}, "seq": {"type": "integer", "minimum": 1}, "competition": ref("Competition")},
            ["type", "seq", "competition"], True),
        obj({"type": {"const": "finished"}, "seq": {"type": "integer", "minimum": 0},
             "prizes": {"type": "array", "items": obj({"rank": RANK, "user_id": UUID, "amount": {"type": "integer"}},
                                                     ["rank", "user_id", "amount"], True)}},
            ["type", "seq", "prizes"], True),
        obj({"type": {"const": "pong"}}, ["type"], True),
        obj({"type": {"const": "auth_ok"}, "exp": {"type": "integer"}}, ["type", "exp"], True),
        obj({"type": {"const": "error"}, "code": {"type": "string"}}, ["type", "code"], True),
    ]},
    "ClientFrame": {"description": "A frame a client sends on the live socket (at most 10 a second, bursts of 20)",
                    "oneOf": [
        obj({"type": {"const": "ping"}}, ["type"]),
        obj({"type": {"const": "resume"}, "since": {"type": "integer", "minimum": 0}}, ["type", "since"]),
        obj({"type": {"const": "auth"}, "token": {"type": "string"}}, ["type", "token"]),
    ]},
})

# Examples on the bodies a client meets first.
schemas["ScoreUpdate"]["examples"] = [{"competition_id": "5a1d3f0e-8c2b-4f6a-9d7e-3b2a1c0d9e8f", "score": 8421}]
schemas["ScoreUpdateReply"]["examples"] = [{
    "competition_id": "5a1d3f0e-8c2b-4f6a-9d7e-3b2a1c0d9e8f", "user_id": "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f",
    "score": 8421, "rank": 3, "display_rank": 3, "previous_rank": 5, "total": 128}]
schemas["Error"]["examples"] = [{"error": {"code": "rate_limited", "message": "too many requests",
                                           "request_id": "b7c6f5e4-d3c2-4b1a-9f8e-7d6c5b4a3f2e"}}]

# Headers the contract puts on responses (API.md, Conventions and Rate limiting).
# `required` headers are on every response that lists them; the end-to-end tests check that they are.
HEADERS = {
    "X-Request-Id": {"description": "The caller's request id when sane, else a fresh one", "required": True,
                     "schema": {"type": "string"}},
    "RateLimit-Limit": {"description": "The policy's burst", "required": True, "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "Requests left in the bucket", "required": True,
                            "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "Seconds until the bucket is full again", "required": True,
                        "schema": {"type": "integer"}},
    "RateLimit-Policy": {"description": "The policy, e.g. \"default\";q=200;w=1", "required": True,
                         "schema": {"type": "string"}},
    "RateLimit": {"description": "The bucket now, e.g. \"default\";r=199;t=1", "required": True,
                  "schema": {"type": "string"}},
    "Retry-After": {"description": "Whole seconds to wait before retrying (always on 429)", "schema": {"type": "integer"}},
    "ETag": {"description": "The representation's version; send it back in If-None-Match", "required": True,
             "schema": {"type": "string"}},
}

def headers_for(path, status, etag=False):
    names = ["X-Request-Id"]
    if path.startswith("/api/"):
        names += ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy", "RateLimit"]
    if status == "503":
        names.append("Retry-After")
    if etag and status == "200":
        names.append("ETag")
    headers = {name: {"$ref": f"#/components/headers/{name}"} for name in names}
    if status == "429":
        headers["Retry-After"] = {**HEADERS["Retry-After"], "required": True}
    return headers

def error(description):
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}

ERRORS = {"400": error("Malformed request"), "401": error("Missing, invalid or expired token"),
          "422": error("Validation failed"), "429": error("Rate limited (see Retry-After)"),
          "500": error("Internal error (the envelope still carries the request id)"),
          "503": error("A dependency is unavailable")}

def ok(schema, status="200", description="OK"):
    return {status: {"description": description, "content": {"application/json": {"schema": ref(schema)}}}}

def op(summary, responses, body=None, secured=True, params=(), extra_errors=()):
    operation = {"summary": summary, "responses": {**responses, **{k: v for k, v in ERRORS.items()}}}
    for code, text in extra_errors:
        operation["responses"][code] = error(text)
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body)}}}
    if not secured:
        operation["security"] = []
    if params:
        operation["parameters"] = list(params)
    return operation

def path_param(name):
    return {"name": name, "in": "path", "required": True, "schema": UUID if name.endswith("_id") else {"type": "string"}}

def query(name, schema):
    return {"name": name, "in": "query", "required": False, "schema": schema}

IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
               "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,255}$"}}
CID = path_param("competition_id")

def plain(summary, schema, statuses=("200",)):
    return {"summary": summary, "security": [], "responses": {
        s: {"description": "OK" if s == "200" else "Not ready / unhealthy",
            "content": {"application/json": {"schema": ref(schema) if isinstance(schema, str) else schema}}}
        for s in statuses}}

schemas["CompetitionPatch"] = obj({
    "name": {"type": "string", "minLength": 1, "maxLength": 80},
    "ends_at": TIME,
    "prize_pool": {"type": "integer", "minimum": 0},
    "payout": {"type": "array", "maxItems": 100, "items": {"type": "integer", "minimum": 1, "maximum": 10000}},
    "max_participants": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000000},
}, [])
schemas["MyCompetitions"] = obj({"competitions": {"type": "array", "maxItems": 100, "items": obj({
    "competition": ref("Competition"),
    "status": {"type": "string", "enum": ["member", "disqualified"]},
    "reason": {"type": "string"},
    "rank": NULLABLE_RANK, "display_rank": NULLABLE_RANK,
    "score": {"type": ["integer", "null"], "minimum": 0},
    "final_amount": {"type": ["integer", "null"], "minimum": 0},
}, ["competition", "status", "rank", "display_rank", "score", "final_amount"], True)}}, ["competitions"], True)
schemas["Disqualification"] = obj({"reason": {"type": "string", "minLength": 1, "maxLength": 200}}, ["reason"])
schemas["Disqualified"] = obj({
    "competition_id": UUID, "user_id": UUID, "status": {"type": "string", "enum": ["disqualified"]},
    "reason": {"type": "string"}, "disqualified_at": TIME, "total": {"type": "integer", "minimum": 0},
}, ["competition_id", "user_id", "status", "reason"], True)
schemas["OutboxReport"] = obj({
    "pending": {"type": "integer", "minimum": 0},
    "failures": {"type": "integer", "minimum": 0},
    "dead_letters": {"type": "array", "maxItems": 500, "items": obj({
        "seq": {"type": "integer"}, "user_id": {"type": "string"}, "score": {"type": "integer"},
        "updated_ms": {"type": "integer"}, "error": {"type": "string"}, "failed_ms": {"type": "integer"},
    }, ["seq", "user_id", "score", "updated_ms", "error", "failed_ms"], True)},
}, ["pending", "failures", "dead_letters"], True)
schemas["OutboxRetryReply"] = obj({"retried": {"type": "integer", "minimum": 0}}, ["retried"], True)
schemas["Hold"] = obj({
    "user_id": UUID, "date": {"type": "string", "format": "date"}, "source": {"type": "string"}, "metric": METRIC,
    "value": {"type": "integer"}, "status": {"type": "string", "enum": ["pending", "approved", "rejected"]},
    "counted": {"type": "integer"}, "user_entered": {"type": "boolean"},
}, ["user_id", "date", "source", "metric", "value", "status", "counted"], True)
schemas["HoldList"] = obj({"holds": {"type": "array", "maxItems": 500, "items": ref("Hold")}}, ["holds"], True)
schemas["HoldDecision"] = obj({"decision": {"type": "string", "enum": ["approve", "reject"]}}, ["decision"])
schemas["Repair"] = obj({"key": {"type": "string"}}, ["key"])
schemas["CompetitionStats"] = obj({
    "members": {"type": "integer"}, "rebuild_ms": {"type": "number"}, "rebuilt_members": {"type": "integer"},
    "outbox_pending": {"type": "integer"}, "outbox_failures": {"type": "integer"}, "finalized": {"type": "boolean"},
    "final_results": {"type": "integer"}, "dead_letters": {"type": "integer"},
    "corrupt_rows": {"type": "array", "items": obj({"key": {"type": "string"}, "reason": {"type": "string"}},
                                                   ["key", "reason"], True)},
}, ["members", "outbox_pending", "dead_letters", "corrupt_rows"], True)

paths = {
    "/health": {"get": plain("Version and liveness", "Health")},
    "/health/live": {"get": plain("Liveness; touches no dependency", "Health")},
    "/health/ready": {"get": plain("Readiness: the database API and Redis answer", "Health", ("200", "503"))},
    "/health/detailed": {"get": plain("Every component, breaker states (cached 5 s)", "HealthDetailed", ("200", "503"))},
    "/metrics": {"get": {"summary": "Prometheus text format 0.0.4 (Bearer METRICS_TOKEN when set)",
                         "security": [{"metricsToken": []}],
                         "responses": {"200": {"description": "Exposition",
                                               "content": {"text/plain": {"schema": {"type": "string"}}}},
                                       "401": error("Wrong or missing metrics token")}}},
    "/openapi.json": {"get": {"summary": "This document", "security": [],
                              "responses": {"200": {"description": "OpenAPI 3.1",
                                                    "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/live/{competition_id}": {"get": {"summary": "Live top-10 page (HTML; token from #token=… or a form)",
                                       "security": [], "parameters": [CID],
                                       "responses": {"200": {"description": "The page", "content": {
                                           "text/html": {"schema": {"type": "string"}}}},
                                                     "404": error("Not a competition id")}}},
    "/assets/{file}": {"get": {"summary": "The live page's script, style and icon (live.js, live.css, favicon.svg)", "security": [],
                               "parameters": [path_param("file")],
                               "responses": {"200": {"description": "The file", "content": {
                                   "text/javascript": {"schema": {"type": "string"}},
                                   "text/css": {"schema": {"type": "string"}},
                                   "image/svg+xml": {"schema": {"type": "string"}}}},
                                             "404": error("No such asset")}}},
    "/api/v1/me": {
        "get": op("The caller's profile (created on first use)", ok("Profile")),
        "patch": op("Rename the caller and/or set their time zone", ok("Profile"), body="ProfilePatch", extra_errors=[("415", "Not JSON"), ("413", "Body over 64 KiB")]),
        "delete": {**op("Delete the caller's account: profile, memberships, fitness days, holds and avatar go; the "
                        "caller leaves every board not yet final (frame `removed`); final standings show "
                        "`deleted player`", {"204": {"description": "Deleted"}})},
    },
    "/api/v1/me/competitions": {
        "get": op("Every competition the caller joined, newest join first (at most 100), with their standing",
                  ok("MyCompetitions"))},
    "/api/v1/me/avatar": {"post": {**op("Upload the caller's avatar (PNG, JPEG or WebP by magic bytes, ≤ 2 MiB)", ok("AvatarReply"),
                                        extra_errors=[("413", "Over 2 MiB"), ("415", "Not PNG, JPEG or WebP")]),
                                   "requestBody": {"required": True, "content": {
                                       t: {"schema": {"type": "string", "format": "binary"}}
                                       for t in ("application/octet-stream", "image/png", "image/jpeg",
                                                 "image/webp")}}}},
    "/api/v1/avatars/{key}": {"get": {"summary": "A stored avatar (public, immutable, ETag)", "security": [],
                                      "parameters": [path_param("key")],
                                      "responses": {"200": {"description": "The image", "content": {
                                          t: {"schema": {"type": "string", "format": "binary"}}
                                          for t in ("image/png", "image/jpeg", "image/webp")}},
                                                    "304": {"description": "Not modified"},
                                                    "404": error("No such avatar")}}},
    "/api/v1/competitions": {
        "get": op("Active and upcoming competitions by start (at most 100)", ok("CompetitionList")),
        "post": op("Create a competition (service_role)", ok("Competition", "201", "Created"), body="NewCompetition",
                   extra_errors=[("403", "Not service_role")]),
    },
    "/api/v1/competitions/{competition_id}": {
        "get": op("One competition", ok("Competition"), params=[CID], extra_errors=[("404", "No such competition")]),
        "patch": op("Edit a competition: name, end (extend, or end early but not before now), prizes, capacity "
                    "(service_role); subscribers get a `changed` frame", ok("Competition"), body="CompetitionPatch",
                    params=[CID], extra_errors=[("403", "Not service_role"), ("404", "No such competition"),
                                                ("409", "Final or cancelled")])},
    "/api/v1/competitions/{competition_id}/cancel": {
        "post": op("Cancel a competition: final without prizes, writes and joins 409 (service_role)",
                   ok("Competition"), params=[CID],
                   extra_errors=[("403", "Not service_role"), ("404", "No such competition"),
                                 ("409", "The standings were already final")])},
    "/api/v1/competitions/{competition_id}/join": {
        "post": op("Join (idempotent)", ok("Membership"), params=[CID],
                   extra_errors=[("404", "No such competition"), ("409", "Finished")])},
    "/api/v1/competitions/{competition_id}/members/{user_id}/disqualify": {
        "post": op("Disqualify a member: off the board at once (frame `removed`), no rejoining (service_role)",
                   ok("Disqualified"), body="Disqualification", params=[CID, path_param("user_id")],
                   extra_errors=[("403", "Not service_role"), ("404", "No such competition or member"),
                                 ("409", "The standings are final")])},
    "/api/v1/admin/competitions/{competition_id}/stats": {
        "get": op("The competition object's state: members, rebuild time, outbox, dead letters and corrupt stored "
                  "rows (service_role)", ok("CompetitionStats"), params=[CID],
                  extra_errors=[("403", "Not service_role"), ("404", "No such competition")])},
    "/api/v1/admin/competitions/{competition_id}/outbox": {
        "get": op("The competition's outbox: pending rows and the dead letters the database refused for good "
                  "(service_role)", ok("OutboxReport"), params=[CID],
                  extra_errors=[("403", "Not service_role"), ("404", "No such competition")])},
    "/api/v1/admin/competitions/{competition_id}/outbox/retry": {
        "post": op("Put every dead letter back into the outbox (service_role)", ok("OutboxRetryReply"), params=[CID],
                   extra_errors=[("403", "Not service_role"), ("404", "No such competition")])},
    "/api/v1/admin/competitions/{competition_id}/repair": {
        "post": op("Drop a stored member row the board could not load, by the key its stats report (service_role)",
                   ok("CompetitionStats"), body="Repair", params=[CID],
                   extra_errors=[("403", "Not service_role"), ("404", "No such competition or corrupt row")])},
    "/api/v1/admin/holds": {
        "get": op("Held days awaiting (or past) review, by date then user, at most 500 (service_role)",
                  ok("HoldList"), params=[query("status", {"type": "string",
                                                           "enum": ["pending", "approved", "rejected"]})],
                  extra_errors=[("403", "Not service_role")])},
    "/api/v1/admin/holds/{user_id}/{date}": {
        "post": op("Approve (counts in full) or reject (counts 0) a held user-day; rescoring every affected "
                   "competition live (service_role)", ok("Hold"), body="HoldDecision",
                   params=[path_param("user_id"), path_param("date")],
                   extra_errors=[("403", "Not service_role"), ("404", "No hold for this user and date")])},
    "/api/v1/competitions/{competition_id}/live": {
        "get": {"summary": "Live leaderboard WebSocket (Upgrade: websocket; token in Sec-WebSocket-Protocol "
                           "`bearer, <jwt>` or Authorization); frames snapshot, update, finished, pong",
                "parameters": [CID],
                "responses": {"101": {"description": "Switching protocols"}, "400": error("Not an upgrade"),
                              "401": error("Missing or invalid token")},
                # OpenAPI has no WebSocket messages: the frames are named here for clients and tools.
                "x-websocket-frames": {"server": ref("ServerFrame"), "client": ref("ClientFrame")}}},
    "/api/v1/leaderboard/update": {
        "post": op("Set the caller's absolute score", ok("ScoreUpdateReply"), body="ScoreUpdate", params=[IDEMPOTENCY],
                   extra_errors=[("403", "Not a member"), ("404", "No such competition"),
                                 ("409", "Not running, or the same Idempotency-Key is in flight")])},
    "/api/v1/leaderboard/{competition_id}": {
        "get": op("A page of the leaderboard", ok("LeaderboardPage"),
                  params=[CID, query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}),
                          query("cursor", {"type": "string"})])},
    "/api/v1/leaderboard/{competition_id}/me": {
        "get": op("The caller's rank and the entries around it", ok("Around"),
                  params=[CID, query("around", {"type": "integer", "minimum": 0, "maximum": 50, "default": 5})],
                  extra_errors=[("404", "The caller has no score")])},
    "/api/v1/leaderboard/{competition_id}/users/{user_id}": {
        "get": op("A user's rank and score", ok("Standing"), params=[CID, path_param("user_id")],
                  extra_errors=[("404", "No score")])},
    "/api/v1/leaderboard/{competition_id}/prizes": {
        "get": op("Prizes (provisional while running, final after the end)", ok("Prizes"), params=[CID],
                  extra_errors=[("404", "No such competition")])},
    "/api/v1/fitness/sync": {
        "post": op("Upsert daily samples of one source and rescore joined active competitions", ok("FitnessSyncReply"),
                   body="FitnessSync", params=[IDEMPOTENCY])},
}

# operationId and tag of every operation: generated clients name their methods and group them by these.
OPERATIONS = {
    ("/health", "get"): ("getHealth", "health"),
    ("/health/live", "get"): ("getLiveness", "health"),
    ("/health/ready", "get"): ("getReadiness", "health"),
    ("/health/detailed", "get"): ("getHealthDetailed", "health"),
    ("/metrics", "get"): ("getMetrics", "operations"),
    ("/openapi.json", "get"): ("getOpenApiDocument", "meta"),
    ("/live/{competition_id}", "get"): ("getLivePage", "live"),
    ("/assets/{file}", "get"): ("getLivePageAsset", "live"),
    ("/api/v1/me", "get"): ("getMe", "profile"),
    ("/api/v1/me", "patch"): ("updateMe", "profile"),
    ("/api/v1/me", "delete"): ("deleteMe", "profile"),
    ("/api/v1/me/competitions", "get"): ("listMyCompetitions", "profile"),
    ("/api/v1/me/avatar", "post"): ("uploadAvatar", "profile"),
    ("/api/v1/avatars/{key}", "get"): ("getAvatar", "profile"),
    ("/api/v1/competitions", "get"): ("listCompetitions", "competitions"),
    ("/api/v1/competitions", "post"): ("createCompetition", "competitions"),
    ("/api/v1/competitions/{competition_id}", "get"): ("getCompetition", "competitions"),
    ("/api/v1/competitions/{competition_id}", "patch"): ("updateCompetition", "competitions"),
    ("/api/v1/competitions/{competition_id}/cancel", "post"): ("cancelCompetition", "competitions"),
    ("/api/v1/competitions/{competition_id}/join", "post"): ("joinCompetition", "competitions"),
    ("/api/v1/competitions/{competition_id}/members/{user_id}/disqualify", "post"):
        ("disqualifyMember", "reviews"),
    ("/api/v1/competitions/{competition_id}/live", "get"): ("subscribeLive", "live"),
    ("/api/v1/admin/competitions/{competition_id}/stats", "get"): ("getCompetitionStats", "operations"),
    ("/api/v1/admin/competitions/{competition_id}/outbox", "get"): ("getCompetitionOutbox", "operations"),
    ("/api/v1/admin/competitions/{competition_id}/outbox/retry", "post"): ("retryCompetitionOutbox", "operations"),
    ("/api/v1/admin/competitions/{competition_id}/repair", "post"): ("repairCompetition", "operations"),
    ("/api/v1/admin/holds", "get"): ("listHolds", "reviews"),
    ("/api/v1/admin/holds/{user_id}/{date}", "post"): ("decideHold", "reviews"),
    ("/api/v1/leaderboard/update", "post"): ("updateScore", "leaderboard"),
    ("/api/v1/leaderboard/{competition_id}", "get"): ("getLeaderboard", "leaderboard"),
    ("/api/v1/leaderboard/{competition_id}/me", "get"): ("getMyStanding", "leaderboard"),
    ("/api/v1/leaderboard/{competition_id}/users/{user_id}", "get"): ("getUserStanding", "leaderboard"),
    ("/api/v1/leaderboard/{competition_id}/prizes", "get"): ("getPrizes", "leaderboard"),
    ("/api/v1/fitness/sync", "post"): ("syncFitness", "fitness"),
}
TAGS = [
    ("competitions", "Competitions: create, list, read, join, edit, cancel"),
    ("leaderboard", "Scores, pages, standings and prizes"),
    ("fitness", "Fitness sync: the days a member's score is computed from"),
    ("profile", "The caller's profile, avatar, competitions and account"),
    ("reviews", "Held days and disqualification (service_role)"),
    ("live", "The live WebSocket and the live page"),
    ("health", "Liveness and readiness probes"),
    ("operations", "Metrics and operator routes"),
    ("meta", "This document"),
]
for path, methods in paths.items():
    for method, operation in methods.items():
        operation_id, tag = OPERATIONS[(path, method)]
        operation["operationId"] = operation_id
        operation["tags"] = [tag]
assert len(OPERATIONS) == sum(len(m) for m in paths.values()), "an operation in OPERATIONS is not in paths"

# Versioned representations: leaderboard pages and competitions answer 304 to a matching If-None-Match.
ETAGGED = {("/api/v1/leaderboard/{competition_id}", "get"), ("/api/v1/competitions/{competition_id}", "get")}
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}}
for path, methods in paths.items():
    for method, operation in methods.items():
        etag = (path, method) in ETAGGED
        if etag:
            operation.setdefault("parameters", []).append(IF_NONE_MATCH)
            operation["responses"]["304"] = {"description": "Not modified (matches If-None-Match)"}
        for status, response in operation["responses"].items():
            if status != "101":
                response["headers"] = {**response.get("headers", {}), **headers_for(path, status, etag)}

document = {
    "openapi": "3.1.0",
    "tags": [{"name": name, "description": text} for name, text in TAGS],
    "info": {"title": "Leaderboard edge API", "version": "1.0.0",
             "license": {"name": "MIT", "identifier": "MIT"},
             "description": "The HTTP/WebSocket contract of docs/API.md. Every response carries X-Request-Id "
                            "and the security headers; /api responses carry RateLimit-* headers."},
    "servers": [{"url": "http://127.0.0.1:8787", "description": "wrangler dev"}],
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (Supabase access token)"},
            "metricsToken": {"type": "http", "scheme": "bearer"},
        },
        "schemas": schemas,
        "headers": HEADERS,
    },
    "paths": paths,
}
out = pathlib.Path(__file__).with_name("openapi.json")
out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
print(f"wrote {out} ({len(paths)} paths)")
