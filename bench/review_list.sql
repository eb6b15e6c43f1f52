-- What the review list (`GET /api/v1/admin/holds`, `public.list_holds`) costs the database with many stored days,
-- as shipped and with the definition before migration 20261207100000 (one query for both meanings of p_status, no
-- index by date), measured in the same run on the same rows: medians of 9 calls each, in milliseconds.
-- Run against a local stack: ./scripts/stack psql -f bench/review_list.sql   (-v users=100000 by default: 700 000
-- days, 5 000 holds). Everything happens in one transaction that is rolled back; replacing the function and dropping
-- the index lock their tables for the run's seconds, so do not point it at a stack serving a load test.
\set ON_ERROR_STOP on
\if :{?users}
\else
  \set users 100000
\endif
BEGIN;
CREATE TEMP TABLE bench_users AS SELECT gen_random_uuid() AS id, g FROM generate_series(1, :users) g;
INSERT INTO auth.users (id) SELECT id FROM bench_users;
INSERT INTO public.profiles (user_id, display_name) SELECT id, 'bench' FROM bench_users;
INSERT INTO public.fitness_days (user_id, source, day, steps, held_metrics)
  SELECT u.id, 'healthkit', current_date - d, 70000, CASE WHEN u.g % 20 = 0 AND d = 1 THEN '{steps}'::text[] ELSE '{}' END
    FROM bench_users u, generate_series(0, 6) d;
INSERT INTO public.fitness_holds (user_id, day, status)
  SELECT u.id, current_date - 1, (ARRAY['pending', 'pending', 'approved'])[1 + u.g % 3] FROM bench_users u WHERE u.g % 20 = 0;
ANALYZE public.fitness_days;
ANALYZE public.fitness_holds;
\ir median_ms.sql
SELECT (SELECT count(*) FROM public.fitness_days) AS days, (SELECT count(*) FROM public.fitness_holds) AS holds;
SELECT 'shipped' AS list_holds,
       pg_temp.median_ms($$SELECT public.list_holds('pending', 500)$$, 9) AS pending_ms,
       pg_temp.median_ms($$SELECT public.list_holds('approved', 500)$$, 9) AS approved_ms,
       pg_temp.median_ms($$SELECT public.list_holds(NULL, 500)$$, 9) AS every_status_ms;
DROP INDEX public.fitness_holds_day;
CREATE OR REPLACE FUNCTION public.list_holds(p_status text DEFAULT NULL, p_limit integer DEFAULT 500) RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = ''
  AS $$
    SELECT coalesce(jsonb_agg(s.entry ORDER BY s.day, s.user_id, s.source, s.metric), '[]'::jsonb)
    FROM (
      SELECT * FROM public.held_samples h
      WHERE p_status IS NULL OR h.status = p_status
      ORDER BY h.day, h.user_id, h.source, h.metric
      LIMIT least(greatest(coalesce(p_limit, 500), 1), 500)
    ) s
  $$;
SELECT 'before 20261207100000' AS list_holds,
       pg_temp.median_ms($$SELECT public.list_holds('pending', 500)$$, 9) AS pending_ms,
       pg_temp.median_ms($$SELECT public.list_holds('approved', 500)$$, 9) AS approved_ms,
       pg_temp.median_ms($$SELECT public.list_holds(NULL, 500)$$, 9) AS every_status_ms;
ROLLBACK;
