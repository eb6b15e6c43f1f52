-- Time zones are IANA names only.
--
-- The Worker looked zone names up in the runtime's `Intl` (ICU), which also takes Java's three-letter ids and the
-- old `SystemV` zones. PostgreSQL reads several of those as other zones' abbreviations (`IST`: ICU's Asia/Kolkata,
-- the database's Israel +02; `BST`: Asia/Dhaka against +01; `AST`: Anchorage against −04), so a profile or clock named
-- so counted its days by one zone and checked `future_date` by another. The Worker now refuses them (422); the
-- names already stored become the zone the Worker has been counting them by, so nobody's counted days move.
CREATE TEMPORARY TABLE icu_only_zones (name text PRIMARY KEY, iana text NOT NULL);
INSERT INTO icu_only_zones (name, iana) VALUES
  ('act', 'Australia/Darwin'), ('aet', 'Australia/Sydney'), ('agt', 'America/Argentina/Buenos_Aires'),
  ('art', 'Africa/Cairo'), ('ast', 'America/Anchorage'), ('bet', 'America/Sao_Paulo'), ('bst', 'Asia/Dhaka'),
  ('cat', 'Africa/Maputo'), ('cnt', 'America/St_Johns'), ('cst', 'America/Chicago'), ('ctt', 'Asia/Shanghai'),
  ('eat', 'Africa/Nairobi'), ('ect', 'Europe/Paris'), ('iet', 'America/Indiana/Indianapolis'),
  ('ist', 'Asia/Kolkata'), ('jst', 'Asia/Tokyo'), ('mit', 'Pacific/Apia'), ('net', 'Asia/Yerevan'),
  ('nst', 'Pacific/Auckland'), ('plt', 'Asia/Karachi'), ('pnt', 'America/Phoenix'), ('prt', 'America/Puerto_Rico'),
  ('pst', 'America/Los_Angeles'), ('sst', 'Pacific/Guadalcanal'), ('vst', 'Asia/Ho_Chi_Minh'),
  ('systemv/ast4', 'Etc/GMT+4'), ('systemv/ast4adt', 'America/Halifax'), ('systemv/cst6', 'Etc/GMT+6'),
  ('systemv/cst6cdt', 'America/Chicago'), ('systemv/est5', 'Etc/GMT+5'), ('systemv/est5edt', 'America/New_York'),
  ('systemv/hst10', 'Etc/GMT+10'), ('systemv/mst7', 'Etc/GMT+7'), ('systemv/mst7mdt', 'America/Denver'),
  ('systemv/pst8', 'Etc/GMT+8'), ('systemv/pst8pdt', 'America/Los_Angeles'), ('systemv/yst9', 'Etc/GMT+9'),
  ('systemv/yst9ydt', 'America/Anchorage');

UPDATE public.profiles p SET time_zone = z.iana
  FROM icu_only_zones z WHERE lower(p.time_zone) = z.name;
UPDATE public.competitions c SET clock = z.iana
  FROM icu_only_zones z WHERE lower(c.clock) = z.name;
DROP TABLE icu_only_zones;
