//! The stock spread of one SKU across locations before and after a plan, as an SVG bar chart:
//! a planner sees at a glance which stores give and which receive.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub use crate::domain::plan::Spread;

const BEFORE: RGBColor = RGBColor(160, 160, 160);
const AFTER: RGBColor = RGBColor(31, 119, 180);

/// Renders `spread` (at most the first 40 locations) as an SVG document.
pub fn spread_svg(title: &str, spread: &[Spread]) -> Result<String, String> {
    let spread = &spread[..spread.len().min(40)];
    let mut svg = String::new();
    let width = (160 + 36 * spread.len() as u32).max(480);
    {
        let root = SVGBackend::with_string(&mut svg, (width, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let top = spread
            .iter()
            .map(|s| s.before.max(s.after))
            .max()
            .unwrap_or(0)
            .max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(70)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..spread.len().max(1) as f64, 0f64..top as f64 * 1.1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_label_formatter(&|units| format!("{units:.0}"))
            .y_desc("units (net position)")
            .draw()
            .map_err(|e| e.to_string())?;
        // One label under each pair of bars (the axis would place its own round numbers).
        let label = TextStyle::from(
            ("sans-serif", 12)
                .into_font()
                .transform(FontTransform::Rotate270),
        )
        .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, s) in spread.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            root.draw(&Text::new(s.location.as_str(), (x, y + 6), label.clone()))
                .map_err(|e| e.to_string())?;
        }
        let bars = |offset: f64, color: RGBColor, value: fn(&Spread) -> i64| {
            spread.iter().enumerate().map(move |(i, s)| {
                let x = i as f64 + offset;
                Rectangle::new([(x, 0.0), (x + 0.38, value(s) as f64)], color.filled())
            })
        };
        chart
            .draw_series(bars(0.1, BEFORE, |s| s.before))
            .map_err(|e| e.to_string())?
            .label("before")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], BEFORE.filled()));
        chart
            .draw_series(bars(0.5, AFTER, |s| s.after))
            .map_err(|e| e.to_string())?
            .label("after")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], AFTER.filled()));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_one_pair_of_bars_per_location_and_names_them() {
        let spread = [
            Spread {
                location: "TPE-001".into(),
                before: 40,
                after: 25,
            },
            Spread {
                location: "TPE-002".into(),
                before: 0,
                after: 15,
            },
        ];
        let svg = spread_svg("TSHIRT-BLK-M", &spread).expect("renders");
        assert!(svg.starts_with("<svg"));
        for text in ["TSHIRT-BLK-M", "TPE-001", "TPE-002", "before", "after"] {
            assert!(svg.contains(text), "the chart names {text}");
        }
        // Two bars per location, plus the two legend swatches.
        assert!(svg.matches("fill=\"#1F77B4\"").count() >= 3, "{svg}");
    }
}
