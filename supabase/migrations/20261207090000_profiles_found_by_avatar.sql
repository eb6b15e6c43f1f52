-- Which profile shows an avatar image is asked on every avatar change and every profile deletion (the removal
-- queue's trigger, 20261206110000), by an upload that may have left an image behind (20261206120000), by account
-- deletion (20261201110000) and by the cron trigger's list of images due for removal. Without an index each question
-- read the whole table: with 300 000 profiles the trigger alone took 32 ms of every avatar change, against 0.06 ms
-- with this index (BENCHMARKS.md, "Avatar lookups"). Most profiles show no image, so only those that do are indexed.
CREATE INDEX IF NOT EXISTS profiles_avatar_url ON public.profiles (avatar_url) WHERE avatar_url IS NOT NULL;
