-- `GET /api/v1/competitions` lists the competitions whose standings are not final yet, by start time. `final_at`
-- (the end plus the grace period) is computed, so no index serves it, and the start-time index put every
-- competition ever held before the live ones: with 200 000 past competitions the list read them all, 36 ms a request.
-- The Worker now also asks for an end after now less the longest grace period (72 hours), which the first condition
-- implies, and this index finds those few: 0.3 ms (BENCHMARKS.md, "The competition list").
CREATE INDEX IF NOT EXISTS competitions_ends_at ON public.competitions (ends_at);
