-- Final results written by a Competition DO when its competition ends ([{rank,user_id,score,prize}]), idempotent by
-- rank: a replayed batch changes nothing. Returns how many rows were new. service_role only.
CREATE FUNCTION public.record_final_results(competition uuid, results jsonb) RETURNS integer
  LANGUAGE plpgsql VOLATILE
  AS $$
  DECLARE
    added integer;
  BEGIN
    INSERT INTO public.final_results (competition_id, rank, user_id, score, prize)
      SELECT competition, r.rank, r.user_id, r.score, r.prize
      FROM jsonb_to_recordset(results) AS r(rank integer, user_id uuid, score bigint, prize bigint)
      ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    RETURN added;
  END
  $$;

REVOKE EXECUTE ON FUNCTION public.record_final_results(uuid, jsonb) FROM PUBLIC, anon, authenticated;
