//! A domain's grade trend as a small inline SVG: one point per scan, oldest
//! left, A at the top and F at the bottom, the latest point marked. The
//! SVG holds only numbers and grade letters, so it is inserted unescaped.

use std::fmt::Write as _;

const WIDTH: f64 = 120.0;
const HEIGHT: f64 = 24.0;
const PAD: f64 = 3.0;

/// The height of a grade: A 4 … F 0; an unknown letter is F.
fn level(grade: &str) -> f64 {
    match grade {
        "A" => 4.0,
        "B" => 3.0,
        "C" => 2.0,
        "D" => 1.0,
        _ => 0.0,
    }
}

/// The SVG of `grades`, oldest first; `label` is its accessible name.
pub fn svg(grades: &[&str], label: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"spark\" role=\"img\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        escape(label)
    );
    let step = if grades.len() > 1 {
        (WIDTH - 2.0 * PAD) / (grades.len() - 1) as f64
    } else {
        0.0
    };
    let point = |index: usize, grade: &str| {
        let x = PAD + step * index as f64;
        let y = PAD + (4.0 - level(grade)) * (HEIGHT - 2.0 * PAD) / 4.0;
        (x, y)
    };
    let points: Vec<String> = grades
        .iter()
        .enumerate()
        .map(|(index, grade)| {
            let (x, y) = point(index, grade);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    if points.len() > 1 {
        let _ = write!(
            out,
            "<polyline fill=\"none\" stroke=\"#5b6775\" stroke-width=\"1.5\" points=\"{}\"/>",
            points.join(" ")
        );
    }
    if let Some(last) = grades.last() {
        let (x, y) = point(grades.len() - 1, last);
        let _ = write!(
            out,
            "<circle class=\"grade-{}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"2.5\"/>",
            escape(last)
        );
    }
    out.push_str("</svg>");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trend_is_a_line_from_oldest_to_latest() {
        let svg = svg(&["F", "C", "A"], "F → C → A");
        // F at the bottom (y = 21), C in the middle, A at the top (y = 3)
        assert!(
            svg.contains("points=\"3.0,21.0 60.0,12.0 117.0,3.0\""),
            "{svg}"
        );
        assert!(svg.contains("<circle class=\"grade-A\" cx=\"117.0\" cy=\"3.0\""));
        assert!(svg.contains("<title>F → C → A</title>"));
    }

    #[test]
    fn one_scan_is_a_point_and_text_is_escaped() {
        let svg = svg(&["B"], "<b>");
        assert!(!svg.contains("polyline"));
        assert!(svg.contains("cx=\"3.0\" cy=\"7.5\""), "{svg}");
        assert!(svg.contains("&lt;b&gt;"));
    }
}
