-- An approval covers the values below the ones it saw.
--
-- 20261205120000 reopened a decided day's review whenever a held value changed or a source brought one. For an
-- approved day that took back the approval when a walker's second device reported the same marathon a little lower
-- (the phone's 70 000 steps approved, the watch's 68 000 synced later) or the phone re-sent a slightly lower count:
-- the day fell to the 60 000 threshold until approved again, though nothing above what was approved had appeared.
-- An approved day now reopens only for a held value above every held value of its metric that day. A rejected (or
-- pending) day keeps the rule of 20261205120000: a held value new to its source's sample reopens it, so a corrected
-- count after a rejection is reviewed again (it counts the threshold meanwhile, as any value a user can send
-- without a hold could).
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
    today := (now() AT TIME ZONE zone)::date;
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
