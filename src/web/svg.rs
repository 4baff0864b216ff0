//! Charts drawn on the server as SVG (no script, nothing fetched): a bar per day.

use std::fmt::Write;

/// A bar chart of `(label, cents)` pairs, oldest first: bars above the zero line for
/// positive values, below for negative, each with a `<title>` (its day and amount) that a
/// browser shows on hover and a screen reader reads. Labels are escaped.
pub fn bars(points: &[(String, i64)], caption: &str) -> String {
    const W: f64 = 640.0;
    const H: f64 = 220.0;
    const PAD: f64 = 24.0;
    let max = points
        .iter()
        .map(|(_, v)| v.unsigned_abs())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let has_negative = points.iter().any(|(_, v)| *v < 0);
    let has_positive = points.iter().any(|(_, v)| *v > 0) || !has_negative;
    // the zero line: at the bottom when all is positive, the top when all is negative
    let zero = match (has_positive, has_negative) {
        (true, true) => H / 2.0,
        (true, false) => H - PAD,
        _ => PAD,
    };
    let span = if has_positive && has_negative {
        H / 2.0 - PAD
    } else {
        H - 2.0 * PAD
    };
    let n = points.len().max(1) as f64;
    let slot = (W - 2.0 * PAD) / n;
    let width = (slot * 0.8).max(1.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(caption)
    );
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{PAD}" y1="{zero}" x2="{}" y2="{zero}"/>"#,
        W - PAD
    );
    for (i, (label, cents)) in points.iter().enumerate() {
        let h = (cents.unsigned_abs() as f64 / max) * span;
        let x = PAD + i as f64 * slot + (slot - width) / 2.0;
        let (y, class) = if *cents >= 0 {
            (zero - h, "up")
        } else {
            (zero, "down")
        };
        let _ = write!(
            svg,
            r#"<rect class="{class}" x="{x:.1}" y="{y:.1}" width="{width:.1}" height="{h:.1}"><title>{}: {}</title></rect>"#,
            escape(label),
            crate::money::Money(*cents)
        );
    }
    if let (Some((first, _)), Some((last, _))) = (points.first(), points.last()) {
        let _ = write!(
            svg,
            r#"<text x="{PAD}" y="{}">{}</text><text x="{}" y="{}" text-anchor="end">{}</text>"#,
            H - 4.0,
            escape(first),
            W - PAD,
            H - 4.0,
            escape(last)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_go_up_for_earnings_and_down_for_losses_and_labels_are_escaped() {
        let svg = bars(&[("2026-11-01".into(), 1500), ("<b>".into(), -3000)], "earnings");
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains(r#"class="up""#) && svg.contains(r#"class="down""#));
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
        assert!(svg.contains("<title>2026-11-01: 15.00</title>"));
    }
}
