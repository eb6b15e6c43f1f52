-- The operator's rescore of a fitness competition (POST /api/v1/admin/competitions/{id}/rescore) joins the audit
-- trail: it computes every member from their stored days again, undoing any score correction, so who asked, when and
-- how many members it wrote are kept like the administrators' other actions. A moved end's rescoring needs no row of
-- its own: the edit is recorded as competition_changed.

ALTER TABLE public.admin_actions DROP CONSTRAINT admin_actions_action_check;
ALTER TABLE public.admin_actions ADD CONSTRAINT admin_actions_action_check
  CHECK (action IN ('competition_created', 'competition_changed', 'competition_cancelled', 'member_disqualified',
                    'hold_approved', 'hold_rejected', 'score_corrected', 'competition_rescored'));

-- Returns the trail row's id. Only the service role may call it, and it writes only this kind of row.
CREATE FUNCTION public.record_competition_rescore(p_competition uuid, p_rescored bigint)
  RETURNS bigint
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ''
  AS $$
    INSERT INTO public.admin_actions (actor, request_id, action, competition_id, detail)
    VALUES (public.request_actor(), public.request_id(), 'competition_rescored', p_competition,
            jsonb_build_object('rescored', p_rescored))
    RETURNING id
  $$;
REVOKE EXECUTE ON FUNCTION public.record_competition_rescore(uuid, bigint) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.record_competition_rescore(uuid, bigint) TO service_role;
