-- Names on the boards follow the newest change, whatever order the competition objects hear of changes in.
--
-- A rename (PATCH /api/v1/me) and an avatar upload of the same user sent together (a profile screen saving both)
-- each told every competition object the whole profile as that request had read it. The request whose database
-- change came first could reach an object last, and the board then showed the older name or avatar until the next
-- change. A profile now counts the changes of what the boards show (person_version, raised by a trigger whenever the
-- name or the avatar changes, whoever writes them and however), and the objects keep the person with the highest count.
ALTER TABLE public.profiles ADD COLUMN person_version bigint NOT NULL DEFAULT 0 CHECK (person_version >= 0);

-- Raises person_version when the display name or the avatar changes; otherwise keeps it (so no writer can set it).
CREATE FUNCTION public.count_person_change() RETURNS trigger
  LANGUAGE plpgsql SET search_path = ''
  AS $$
  BEGIN
    IF NEW.display_name IS DISTINCT FROM OLD.display_name OR NEW.avatar_url IS DISTINCT FROM OLD.avatar_url THEN
      NEW.person_version := OLD.person_version + 1;
    ELSE
      NEW.person_version := OLD.person_version;
    END IF;
    RETURN NEW;
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.count_person_change() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER profiles_count_person_change BEFORE UPDATE ON public.profiles
  FOR EACH ROW EXECUTE FUNCTION public.count_person_change();

-- set_avatar (20261204140000) as before, its profile with person_version.
CREATE OR REPLACE FUNCTION public.set_avatar(p_user uuid, p_url text) RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    previous text;
    updated public.profiles;
  BEGIN
    SELECT p.avatar_url INTO previous FROM public.profiles p WHERE p.user_id = p_user FOR UPDATE;
    IF NOT FOUND THEN
      RETURN NULL;
    END IF;
    UPDATE public.profiles p SET avatar_url = p_url WHERE p.user_id = p_user RETURNING * INTO updated;
    RETURN jsonb_build_object(
      'profile', jsonb_build_object('user_id', updated.user_id, 'display_name', updated.display_name,
                                    'avatar_url', updated.avatar_url, 'time_zone', updated.time_zone,
                                    'person_version', updated.person_version),
      'replaced', previous);
  END
  $$;

-- join_and_introduce (20261204130000) as before, its profile with person_version.
CREATE OR REPLACE FUNCTION public.join_and_introduce(competition uuid, p_user uuid) RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    target public.competitions;
    joined public.memberships;
    v bigint;
  BEGIN
    IF p_user IS NULL THEN
      RAISE SQLSTATE 'PT400' USING MESSAGE = 'a user id is required';
    END IF;
    SELECT * INTO target FROM public.competitions c WHERE c.id = competition;
    PERFORM public.ensure_profile(p_user);
    IF target.id IS NOT NULL AND target.score_source = 'fitness' AND target.starts_at <= now() THEN
      UPDATE public.profiles p SET days_version = p.days_version + 1 WHERE p.user_id = p_user
        RETURNING p.days_version INTO v;
    END IF;
    joined := public.join_competition(competition, p_user);
    RETURN jsonb_build_object(
      'membership', to_jsonb(joined),
      'competition', (SELECT to_jsonb(s) FROM public.competition_summaries s WHERE s.id = competition),
      'profile', (SELECT jsonb_build_object('user_id', p.user_id, 'display_name', p.display_name,
                                            'avatar_url', p.avatar_url, 'time_zone', p.time_zone,
                                            'person_version', p.person_version)
                  FROM public.profiles p WHERE p.user_id = p_user),
      'rescore', CASE WHEN v IS NOT NULL THEN public.rescore_inputs(p_user, v) END
    );
  END
  $$;
