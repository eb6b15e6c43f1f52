-- "My competitions" (API.md, "People on the board"): every competition a user joined, newest join first, with
-- their membership status and, where the standings are final and delivered, their final rank, display rank, score
-- and amount — so the Worker asks a competition's object only for competitions still running. Service role only;
-- the Worker passes the verified user.

CREATE FUNCTION public.my_competitions(p_user uuid, p_limit integer DEFAULT 100)
  RETURNS TABLE (
    id uuid, name text, metric text, starts_at timestamptz, ends_at timestamptz, prize_pool bigint,
    payout integer[], participants bigint, max_participants integer, joined_at timestamptz,
    disqualified_at timestamptz, disqualified_reason text,
    final_rank integer, final_display_rank bigint, final_score bigint, final_amount bigint
  )
  LANGUAGE sql STABLE SET search_path = ''
  AS $$
    SELECT c.id, c.name, c.metric, c.starts_at, c.ends_at, c.prize_pool, c.payout, c.participants::bigint,
           c.max_participants, m.joined_at, m.disqualified_at, m.disqualified_reason,
           r.rank,
           CASE WHEN r.rank IS NULL THEN NULL
                ELSE 1 + (SELECT count(*) FROM public.final_results a
                          WHERE a.competition_id = r.competition_id AND a.score > r.score) END,
           r.score, r.prize
    FROM public.memberships m
    JOIN public.competitions c ON c.id = m.competition_id
    LEFT JOIN public.final_results r ON r.competition_id = m.competition_id AND r.user_id = m.user_id
    WHERE m.user_id = p_user
    ORDER BY m.joined_at DESC, c.id
    LIMIT least(greatest(coalesce(p_limit, 100), 1), 100)
  $$;

REVOKE EXECUTE ON FUNCTION public.my_competitions(uuid, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.my_competitions(uuid, integer) TO service_role;
