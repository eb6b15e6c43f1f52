-- What an avatar change costs the database with and without the index that finds the profile showing an image
-- (migration 20261207090000_profiles_found_by_avatar.sql), measured in the same run on the same rows.
-- Run against a local stack: ./scripts/stack psql -f bench/avatar_lookups.sql   (PROFILES=300000 by default).
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
CREATE FUNCTION pg_temp.avatar_changes_ms(n integer) RETURNS numeric LANGUAGE plpgsql AS $$
  DECLARE
    started timestamptz;
    taken numeric[] := '{}';
    target uuid;
  BEGIN
    FOR target IN SELECT user_id FROM public.profiles WHERE display_name = 'bench' AND avatar_url IS NOT NULL
                    ORDER BY random() LIMIT n LOOP
      started := clock_timestamp();
      UPDATE public.profiles SET avatar_url = 'http://127.0.0.1/api/v1/avatars/' || encode(sha256(random()::text::bytea), 'hex') || '.png'
        WHERE user_id = target;
      taken := taken || (extract(epoch FROM clock_timestamp() - started) * 1000)::numeric;
    END LOOP;
    RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(taken) x);
  END $$;
SELECT count(*) AS profiles_with_an_image FROM public.profiles WHERE avatar_url IS NOT NULL;
SELECT round(pg_temp.avatar_changes_ms(20), 3) AS with_index_ms_median;
DROP INDEX public.profiles_avatar_url;
SELECT round(pg_temp.avatar_changes_ms(20), 3) AS without_index_ms_median;
ROLLBACK;
