-- What the competition list (`GET /api/v1/competitions`) costs the database when many competitions are over: the
-- query the Worker sends (with the bound on `ends_at` of migration 20261207110000) against the same query without
-- that bound (as before), in the same run on the same rows: medians of 9 runs each, in milliseconds.
-- Run against a local stack: ./scripts/stack psql -f bench/competition_list.sql   (-v past=200000 by default).
-- Everything happens in one transaction that is rolled back.
\set ON_ERROR_STOP on
\if :{?past}
\else
  \set past 200000
\endif
BEGIN;
-- Triggers off while adding the past competitions (they only keep counts this run does not read).
SET LOCAL session_replication_role = replica;
INSERT INTO public.competitions (name, metric, starts_at, ends_at, grace_hours, score_source)
  SELECT 'past ' || g, 'steps', now() - interval '400 days' + make_interval(mins => g),
         now() - interval '399 days' + make_interval(mins => g), 24, 'fitness'
    FROM generate_series(1, :past) g;
SET LOCAL session_replication_role = origin;
ANALYZE public.competitions;
\ir median_ms.sql
SELECT count(*) AS competitions, count(*) FILTER (WHERE ends_at > now()) AS not_ended FROM public.competitions;
SELECT pg_temp.median_ms($$SELECT * FROM public.competition_summaries
                           WHERE final_at > now() AND ends_at > now() - interval '72 hours' AND cancelled_at IS NULL
                           ORDER BY starts_at, id LIMIT 100$$, 9) AS with_the_bound_ms,
       pg_temp.median_ms($$SELECT * FROM public.competition_summaries
                           WHERE final_at > now() AND cancelled_at IS NULL
                           ORDER BY starts_at, id LIMIT 100$$, 9) AS without_it_ms;
ROLLBACK;
