-- A member's local today by the zone's name, never by an abbreviation.
--
-- `now() AT TIME ZONE zone` reads a name that is also an abbreviation in PostgreSQL's default set as the
-- abbreviation: CET, EET, MET and WET are fixed offsets there (+01, +02, +01, +00), while the IANA zones of those
-- names (and the Worker, which counts a member's days by them) keep summer time. From midnight to 01:00 local time
-- in summer a member on `CET` had today's sample refused as `future_date`. The session's TimeZone setting takes zone
-- names only (and POSIX rules, which the Worker never lets through), so `local_today` reads the date there; the
-- function's own SET restores the setting when it returns. `p_at` lets a test ask about a summer night in winter.
-- An unknown name keeps the error the Worker maps to 422.
CREATE FUNCTION public.local_today(p_zone text, p_at timestamptz DEFAULT now()) RETURNS date
  LANGUAGE plpgsql VOLATILE SET search_path = '' SET "TimeZone" = 'UTC'
  AS $$
  BEGIN
    BEGIN
      PERFORM set_config('TimeZone', p_zone, true);
    EXCEPTION WHEN invalid_parameter_value THEN
      RAISE SQLSTATE '22023' USING MESSAGE = format('time zone "%s" not recognized', p_zone);
    END;
    RETURN p_at::date;
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.local_today(text, timestamptz) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.local_today(text, timestamptz) TO service_role;

-- 20261205140000's function, with today from local_today.
CREATE OR REPLACE FUNCTION public.sync_fitness_days(p_user uuid, p_source text, p_days jsonb,
                                                    p_time_zone text DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    v bigint;
    zone text;
    today date;
    future jsonb;
  BEGIN
    IF p_user IS NULL THEN
      RAISE SQLSTATE 'PT400' USING MESSAGE = 'a user id is required';
    END IF;
    PERFORM public.ensure_profile(p_user);
    UPDATE public.profiles p
      SET days_version = p.days_version + 1, time_zone = coalesce(p_time_zone, p.time_zone)
      WHERE p.user_id = p_user
      RETURNING p.days_version, p.time_zone INTO v, zone;
    today := public.local_today(zone);
    IF EXISTS (SELECT 1 FROM jsonb_to_recordset(p_days) AS d(day date) WHERE d.day IS NULL) THEN
      RAISE SQLSTATE 'PT422' USING MESSAGE = 'a day is missing';
    END IF;
    SELECT coalesce(jsonb_agg(d.index ORDER BY d.index), '[]'::jsonb) INTO future
      FROM jsonb_to_recordset(p_days) AS d(index integer, day date) WHERE d.day > today;

    -- Reopen the review of days whose held values change (before the upsert overwrites the stored sample). An
    -- approved day reopens only for a value above every held value of its metric that day (the approval saw the
    -- largest); any other day for a held value new to its source's sample.
    INSERT INTO public.fitness_holds AS h (user_id, day)
      SELECT DISTINCT p_user, d.day
      FROM jsonb_to_recordset(p_days) AS d(day date, steps bigint, active_minutes bigint, distance_m bigint,
                                           calories bigint, user_entered boolean, held_metrics text[])
      CROSS JOIN LATERAL unnest(d.held_metrics) AS m(metric)
      CROSS JOIN LATERAL (SELECT CASE m.metric WHEN 'steps' THEN coalesce(d.steps, 0)
                                               WHEN 'active_minutes' THEN coalesce(d.active_minutes, 0)
                                               WHEN 'distance_m' THEN coalesce(d.distance_m, 0)
                                               ELSE coalesce(d.calories, 0) END AS value) AS sent
      LEFT JOIN public.fitness_days f ON f.user_id = p_user AND f.source = p_source AND f.day = d.day
      LEFT JOIN public.fitness_holds decided ON decided.user_id = p_user AND decided.day = d.day
      WHERE d.day <= today
        AND CASE WHEN decided.status = 'approved' THEN NOT EXISTS (
                   SELECT 1 FROM public.fitness_days seen
                   WHERE seen.user_id = p_user AND seen.day = d.day AND m.metric = ANY (seen.held_metrics)
                     AND CASE m.metric WHEN 'steps' THEN seen.steps WHEN 'active_minutes' THEN seen.active_minutes
                                       WHEN 'distance_m' THEN seen.distance_m ELSE seen.calories END >= sent.value)
                 ELSE f.day IS NULL
                      OR NOT m.metric = ANY (f.held_metrics)
                      OR coalesce(d.user_entered, false) IS DISTINCT FROM f.user_entered
                      OR sent.value IS DISTINCT FROM CASE m.metric WHEN 'steps' THEN f.steps
                                                                   WHEN 'active_minutes' THEN f.active_minutes
                                                                   WHEN 'distance_m' THEN f.distance_m
                                                                   ELSE f.calories END
            END
      ON CONFLICT (user_id, day) DO UPDATE SET status = 'pending', decided_at = NULL;

    INSERT INTO public.fitness_days AS f
        (user_id, source, day, steps, active_minutes, distance_m, calories, user_entered, held_metrics)
      SELECT p_user, p_source, d.day, coalesce(d.steps, 0), coalesce(d.active_minutes, 0),
             coalesce(d.distance_m, 0), coalesce(d.calories, 0), coalesce(d.user_entered, false),
             coalesce(d.held_metrics, '{}')
      FROM jsonb_to_recordset(p_days) AS d(day date, steps bigint, active_minutes bigint, distance_m bigint,
                                           calories bigint, user_entered boolean, held_metrics text[])
      WHERE d.day <= today
      ON CONFLICT (user_id, source, day) DO UPDATE
        SET steps = EXCLUDED.steps, active_minutes = EXCLUDED.active_minutes, distance_m = EXCLUDED.distance_m,
            calories = EXCLUDED.calories, user_entered = EXCLUDED.user_entered,
            held_metrics = EXCLUDED.held_metrics, updated_at = now();

    DELETE FROM public.fitness_holds h
      WHERE h.user_id = p_user
        AND h.day IN (SELECT d.day FROM jsonb_to_recordset(p_days) AS d(day date))
        AND NOT EXISTS (SELECT 1 FROM public.fitness_days f
                        WHERE f.user_id = p_user AND f.day = h.day AND cardinality(f.held_metrics) > 0);

    RETURN public.rescore_inputs(p_user, v) || jsonb_build_object('future', future);
  END
  $$;
