//! The run's report: a text table for the terminal, a JSON document for tools, and an HTML page with two SVG
//! charts (latency over time, latency histogram) for people.

use std::time::Duration;

use plotters::prelude::*;
use serde_json::{json, Map, Value};

use super::stats::{Recorder, Series};

fn series_json(series: &Series, elapsed: Duration) -> Value {
    let requests = series.requests();
    json!({
        "requests": requests,
        "successes": series.successes,
        "failures": requests - series.successes,
        "outcomes": series.outcomes,
        "rps": requests as f64 / elapsed.as_secs_f64().max(1e-9),
        "latency_ms": {
            "min": series.latency.min() as f64 / 1000.0,
            "avg": series.latency.mean() / 1000.0,
            "p50": series.ms(0.50),
            "p95": series.ms(0.95),
            "p99": series.ms(0.99),
            "max": series.latency.max() as f64 / 1000.0,
        },
    })
}

/// The JSON report; `extra` adds run facts (target, mode, Redis commands per request, WebSocket figures).
pub fn to_json(recorder: &Recorder, elapsed: Duration, extra: Map<String, Value>) -> Value {
    let scenarios: Map<String, Value> =
        recorder.scenarios.iter().map(|(name, s)| ((*name).to_owned(), series_json(s, elapsed))).collect();
    let timeline: Vec<Value> = recorder
        .timeline
        .iter()
        .enumerate()
        .map(|(second, s)| {
            json!({"second": second, "requests": s.requests(), "failures": s.requests() - s.successes,
                   "p50_ms": s.ms(0.5), "p99_ms": s.ms(0.99)})
        })
        .collect();
    let mut report = Map::new();
    report.insert("elapsed_s".into(), json!(elapsed.as_secs_f64()));
    report.insert("total".into(), series_json(&recorder.total(), elapsed));
    report.insert("scenarios".into(), Value::Object(scenarios));
    report.insert("timeline".into(), Value::Array(timeline));
    report.extend(extra);
    Value::Object(report)
}

/// The terminal table.
pub fn to_text(recorder: &Recorder, elapsed: Duration) -> String {
    let mut out = format!(
        "{:<8} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}  outcomes\n",
        "scenario", "requests", "failures", "req/s", "min ms", "avg ms", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    let total = recorder.total();
    let rows = recorder.scenarios.iter().map(|(n, s)| (*n, s)).chain(std::iter::once(("total", &total)));
    for (name, s) in rows {
        let outcomes: Vec<String> = s.outcomes.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        out.push_str(&format!(
            "{:<8} {:>9} {:>9} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}  {}\n",
            name,
            s.requests(),
            s.requests() - s.successes,
            s.requests() as f64 / elapsed.as_secs_f64().max(1e-9),
            s.latency.min() as f64 / 1000.0,
            s.latency.mean() / 1000.0,
            s.ms(0.5),
            s.ms(0.95),
            s.ms(0.99),
            s.latency.max() as f64 / 1000.0,
            outcomes.join(" ")
        ));
    }
    out
}

fn chart_error<E: std::fmt::Display>(error: E) -> String {
    format!("chart: {error}")
}

/// The drawing area of one chart.
type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// An SVG chart with a caption, axis descriptions and `x` × `y` ranges; `draw` adds the series (and a legend of
/// their labels when `legend`).
fn svg_chart(
    caption: &str,
    legend: bool,
    (x_desc, x): (&str, std::ops::Range<f64>),
    (y_desc, y): (&str, std::ops::Range<f64>),
    draw: impl FnOnce(&mut Chart<'_, '_>) -> Result<(), String>,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(x, y)
            .map_err(chart_error)?;
        chart.configure_mesh().x_desc(x_desc).y_desc(y_desc).draw().map_err(chart_error)?;
        draw(&mut chart)?;
        if legend {
            chart.configure_series_labels().border_style(BLACK).draw().map_err(chart_error)?;
        }
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// p50 and p99 latency per second of the run.
fn latency_over_time(recorder: &Recorder) -> Result<String, String> {
    let seconds = recorder.timeline.len().max(1) as f64;
    let top = recorder.timeline.iter().map(|s| s.ms(0.99)).fold(1.0_f64, f64::max) * 1.1;
    svg_chart("Latency over time", true, ("second of the run", 0.0..seconds), ("ms", 0.0..top), |chart| {
        for (q, color, label) in [(0.5, BLUE, "p50"), (0.99, RED, "p99")] {
            let points = recorder.timeline.iter().enumerate().filter(|(_, s)| s.requests() > 0);
            chart
                .draw_series(LineSeries::new(points.map(|(i, s)| (i as f64 + 0.5, s.ms(q))), color.stroke_width(2)))
                .map_err(chart_error)?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        Ok(())
    })
}

/// Requests per latency bucket (40 equal buckets up to p99.9).
fn latency_histogram(total: &Series) -> Result<String, String> {
    let ceiling = (total.latency.value_at_quantile(0.999).max(1) as f64 / 1000.0).max(0.01);
    let width = ceiling / 40.0;
    let mut counts = vec![0u64; 40];
    for value in total.latency.iter_recorded() {
        let ms = value.value_iterated_to() as f64 / 1000.0;
        let bucket = ((ms / width) as usize).min(39);
        counts[bucket] += value.count_at_value();
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
    svg_chart("Latency histogram (up to p99.9)", false, ("ms", 0.0..ceiling), ("requests", 0.0..top), |chart| {
        let bars = counts.iter().enumerate().map(|(i, n)| {
            let x = i as f64 * width;
            Rectangle::new([(x, 0.0), (x + width * 0.9, *n as f64)], BLUE.mix(0.6).filled())
        });
        chart.draw_series(bars).map(drop).map_err(chart_error)
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A self-contained HTML page: the table and both charts.
pub fn to_html(recorder: &Recorder, elapsed: Duration, title: &str) -> Result<String, String> {
    Ok(format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}pre{{background:#f6f6f6;padding:1em}}</style></head>\
         <body><h1>{t}</h1><pre>{table}</pre>{over_time}{histogram}</body></html>\n",
        t = escape(title),
        table = escape(&to_text(recorder, elapsed)),
        over_time = latency_over_time(recorder)?,
        histogram = latency_histogram(&recorder.total())?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::stats::Outcome;

    fn sample() -> Recorder {
        let mut recorder = Recorder::default();
        for i in 0..300u64 {
            let outcome = if i % 10 == 0 { Outcome::Status(429) } else { Outcome::Status(200) };
            recorder.record(
                if i % 2 == 0 { "page" } else { "me" },
                outcome,
                Duration::from_micros(500 + i * 37),
                Duration::from_millis(i * 10),
            );
        }
        recorder
    }

    #[test]
    fn the_reports_agree_with_the_measurements() {
        let recorder = sample();
        let elapsed = Duration::from_secs(3);
        let mut extra = Map::new();
        extra.insert("target".into(), json!("http://127.0.0.1:8787"));
        let report = to_json(&recorder, elapsed, extra);
        assert_eq!(report["total"]["requests"], 300);
        assert_eq!(report["total"]["failures"], 30);
        assert_eq!(report["total"]["outcomes"]["429"], 30);
        assert_eq!(report["total"]["rps"], 100.0);
        assert_eq!(report["scenarios"]["page"]["requests"], 150);
        assert_eq!(report["timeline"].as_array().map(Vec::len), Some(3));
        assert_eq!(report["target"], "http://127.0.0.1:8787");
        let p99 = report["total"]["latency_ms"]["p99"].as_f64().expect("p99");
        assert!((11.0..11.6).contains(&p99), "p99 {p99}");

        let text = to_text(&recorder, elapsed);
        assert!(text.lines().any(|l| l.starts_with("total") && l.contains("300")), "{text}");
        let html = to_html(&recorder, elapsed, "run <1>").expect("html");
        assert_eq!(html.matches("<svg").count(), 2);
        assert!(html.contains("run &lt;1&gt;"));
    }
}
