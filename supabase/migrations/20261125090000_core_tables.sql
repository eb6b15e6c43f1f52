-- Core tables: profiles, competitions and memberships, with row-level security.
-- Policies use (select auth.uid()) so Postgres evaluates it once per query (Supabase RLS performance guidance).

CREATE TABLE public.profiles (
  user_id      uuid PRIMARY KEY,
  display_name text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 40),
  avatar_url   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY profiles_select_own ON public.profiles
  FOR SELECT TO authenticated USING (user_id = (SELECT auth.uid()));
CREATE POLICY profiles_insert_own ON public.profiles
  FOR INSERT TO authenticated WITH CHECK (user_id = (SELECT auth.uid()));
CREATE POLICY profiles_update_own ON public.profiles
  FOR UPDATE TO authenticated USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));

CREATE TABLE public.competitions (
  id          uuid PRIMARY KEY,
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
  metric      text NOT NULL CHECK (metric IN ('steps', 'active_minutes', 'distance_m', 'calories')),
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL,
  prize_pool  bigint NOT NULL DEFAULT 0 CHECK (prize_pool >= 0),
  payout      integer[] NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at),
  CHECK (cardinality(payout) <= 100)
);
CREATE INDEX competitions_starts_at ON public.competitions (starts_at);
ALTER TABLE public.competitions ENABLE ROW LEVEL SECURITY;
CREATE POLICY competitions_read ON public.competitions FOR SELECT TO authenticated USING (true);

CREATE TABLE public.memberships (
  competition_id uuid NOT NULL REFERENCES public.competitions (id) ON DELETE CASCADE,
  user_id        uuid NOT NULL,
  joined_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (competition_id, user_id)
);
CREATE INDEX memberships_user_id ON public.memberships (user_id);
ALTER TABLE public.memberships ENABLE ROW LEVEL SECURITY;
CREATE POLICY memberships_read ON public.memberships FOR SELECT TO authenticated USING (true);
CREATE POLICY memberships_join_self ON public.memberships
  FOR INSERT TO authenticated WITH CHECK (user_id = (SELECT auth.uid()));
