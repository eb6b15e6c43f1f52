//! Zones in the Worker: the runtime's `Intl.DateTimeFormat`, which carries V8's (ICU's) copy of the IANA time-zone
//! database. Compiling `jiff`'s copy into the module instead cost 49 KiB of the gzipped bundle (issue 15); the host
//! build keeps `jiff` (`zone_tzdb.rs`) and both answer the same table of cases (`clock.rs`'s tests run natively and
//! under `wasm-bindgen-test`).

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Intl, js_name = DateTimeFormat)]
    #[derive(Debug, Clone)]
    type DateTimeFormat;

    // The constructor throws a RangeError for a zone it does not know: caught, so it is an answer, not a trap.
    #[wasm_bindgen(catch, constructor, js_namespace = Intl, js_class = "DateTimeFormat")]
    fn new(locale: &str, options: &Object) -> Result<DateTimeFormat, JsValue>;

    #[wasm_bindgen(method, js_name = formatToParts)]
    fn format_to_parts(this: &DateTimeFormat, ms: f64) -> Array;
}

const MAX_DATE_MS: i64 = 8_640_000_000_000_000;
/// 1600-01-01T00:00:00Z. ICU counts dates before 1582-10-15 in the Julian calendar, even for `iso8601`, and writes
/// years before 1 without a sign, while the API's dates are proleptic Gregorian (as `jiff`'s and chrono's are).
const GREGORIAN_FROM_MS: i64 = -11_676_096_000_000;
/// The Gregorian calendar repeats every 400 years.
const CYCLE_DAYS: i64 = 146_097;
const CYCLE_MS: i64 = CYCLE_DAYS * 86_400_000;

/// An IANA time zone.
#[derive(Debug, Clone)]
pub struct Zone(DateTimeFormat);

impl Zone {
    /// The zone of an IANA name (looked up case-insensitively); `None` for a name the database does not know.
    pub fn named(name: &str) -> Option<Zone> {
        // Recent V8 also accepts offsets (`+01:00`) as time zones; they are not zone names, and the host's database
        // refuses them too.
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        let options = Object::new();
        for (key, value) in [
            ("timeZone", name),
            ("calendar", "iso8601"),
            ("numberingSystem", "latn"),
            ("year", "numeric"),
            ("month", "numeric"),
            ("day", "numeric"),
        ] {
            Reflect::set(&options, &key.into(), &value.into()).ok()?;
        }
        DateTimeFormat::new("en-US", &options).ok().map(Zone)
    }

    /// The calendar date (days since 1970-01-01) in this zone at `ms` milliseconds since the epoch.
    pub fn date_at(&self, ms: i64) -> i64 {
        let (mut year, mut month, mut day) = (None, None, None);
        // Date's own range (±10^8 days); parsed timestamps (years 0–9999) are well inside it, and outside it the
        // call would throw.
        let ms = ms.clamp(-MAX_DATE_MS, MAX_DATE_MS);
        // An earlier instant is read whole 400-year cycles later and its date moved back as many: every zone kept
        // its local mean time, one fixed offset, until well after 1600, so the offset is the same at both instants.
        let cycles = if ms < GREGORIAN_FROM_MS { (GREGORIAN_FROM_MS - ms + CYCLE_MS - 1) / CYCLE_MS } else { 0 };
        for part in self.0.format_to_parts((ms + cycles * CYCLE_MS) as f64).iter() {
            let field = |key: &str| Reflect::get(&part, &key.into()).ok().and_then(|v| v.as_string());
            let (Some(kind), Some(value)) = (field("type"), field("value")) else { continue };
            let slot = match kind.as_str() {
                "year" => &mut year,
                "month" => &mut month,
                "day" => &mut day,
                _ => continue,
            };
            *slot = value.parse::<i32>().ok();
        }
        match (year, month, day) {
            (Some(y), Some(m), Some(d)) => crate::time::days_from_civil(y, m as u32, d as u32)
                .map_or_else(|| crate::time::day_of(ms), |date| date - cycles * CYCLE_DAYS),
            // Not reached with the options above; the UTC date is the least wrong answer.
            _ => crate::time::day_of(ms),
        }
    }
}
