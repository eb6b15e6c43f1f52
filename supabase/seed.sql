-- Demo data for ./scripts/dev (and `supabase db reset` on a local Supabase): a fitness competition, scored from synced
-- days, and a client competition, where members post their own scores; both run from yesterday for 30 days.
-- Idempotent. Not for production projects (`supabase db push` does not apply it).
INSERT INTO public.competitions (id, name, metric, starts_at, ends_at, prize_pool, payout, score_source)
VALUES ('00000000-0000-4000-8000-00000000d3e0', 'Demo step challenge', 'steps',
        date_trunc('day', now()) - interval '1 day', date_trunc('day', now()) + interval '29 days',
        10000, '{5000,3000,2000}', 'fitness'),
       ('00000000-0000-4000-8000-00000000d3e1', 'Demo game', 'steps',
        date_trunc('day', now()) - interval '1 day', date_trunc('day', now()) + interval '29 days',
        10000, '{5000,3000,2000}', 'client')
ON CONFLICT (id) DO NOTHING;
