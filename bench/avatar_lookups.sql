-- What an avatar change costs the database with and without the index that finds the profile showing an image
-- (migration 20261207090000_profiles_found_by_avatar.sql), measured in the same run on the same rows.
-- Run against a local stack: ./scripts/stack psql -f bench/avatar_lookups.sql   (-v profiles=300000 by default).
-- Everything happens in one transaction that is rolled back; the index is dropped inside it, which locks `profiles`
-- against other writers for the run's few seconds, so do not point it at a stack serving a load test.
\set ON_ERROR_STOP on
\if :{?profiles}
\else
  \set profiles 300000
\endif
BEGIN;
INSERT INTO auth.users (id) SELECT gen_random_uuid() FROM generate_series(1, :profiles);
INSERT INTO public.profiles (user_id, display_name, avatar_url)
  SELECT u.id, 'bench', 'http://127.0.0.1/api/v1/avatars/' || encode(sha256(u.id::text::bytea), 'hex') || '.png'
    FROM auth.users u WHERE NOT EXISTS (SELECT 1 FROM public.profiles p WHERE p.user_id = u.id);
ANALYZE public.profiles;
-- Each run changes the avatar of the next of 40 random profiles that show one.
CREATE TEMP TABLE bench_targets AS
  SELECT user_id, row_number() OVER () AS n FROM (SELECT user_id FROM public.profiles
    WHERE display_name = 'bench' AND avatar_url IS NOT NULL ORDER BY random() LIMIT 40) picked;
CREATE TEMP SEQUENCE bench_next;
\ir median_ms.sql
SELECT count(*) AS profiles_with_an_image FROM public.profiles WHERE avatar_url IS NOT NULL;
SELECT pg_temp.median_ms($$UPDATE public.profiles SET avatar_url = 'http://127.0.0.1/api/v1/avatars/' || encode(sha256(random()::text::bytea), 'hex') || '.png'
                             WHERE user_id = (SELECT user_id FROM bench_targets WHERE n = (SELECT nextval('bench_next')))$$, 20) AS with_index_ms_median;
DROP INDEX public.profiles_avatar_url;
SELECT pg_temp.median_ms($$UPDATE public.profiles SET avatar_url = 'http://127.0.0.1/api/v1/avatars/' || encode(sha256(random()::text::bytea), 'hex') || '.png'
                             WHERE user_id = (SELECT user_id FROM bench_targets WHERE n = (SELECT nextval('bench_next')))$$, 20) AS without_index_ms_median;
ROLLBACK;
