-- Demo data for ./scripts/dev: one competition running from yesterday for 30 days. Idempotent.
INSERT INTO public.competitions (id, name, metric, starts_at, ends_at, prize_pool, payout)
VALUES ('00000000-0000-4000-8000-00000000d3e0', 'Demo step challenge', 'steps',
        date_trunc('day', now()) - interval '1 day', date_trunc('day', now()) + interval '29 days',
        10000, '{5000,3000,2000}')
ON CONFLICT (id) DO NOTHING;
