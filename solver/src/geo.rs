//! Great-circle distance between two points on Earth (haversine), in kilometres.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SolveError};

/// Mean Earth radius used by the haversine formula.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// A point given in decimal degrees (WGS84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coordinates {
    pub lat: f64,
    pub lon: f64,
}

impl Coordinates {
    /// Checks that latitude is within ±90 and longitude within ±180.
    pub(crate) fn validated(self, field: &str) -> Result<Self> {
        for (name, value, bound) in [("lat", self.lat, 90.0), ("lon", self.lon, 180.0)] {
            if !value.is_finite() {
                return Err(SolveError::NotFinite {
                    field: format!("{field}.{name}"),
                    value,
                });
            }
            if value.abs() > bound {
                return Err(SolveError::OutOfRange {
                    field: format!("{field}.{name}"),
                    value,
                    min: -bound,
                    max: bound,
                });
            }
        }
        Ok(self)
    }
}

/// Distance along the Earth's surface between `a` and `b`.
pub fn haversine_km(a: Coordinates, b: Coordinates) -> f64 {
    let (lat_a, lat_b) = (a.lat.to_radians(), b.lat.to_radians());
    let half_dlat = (lat_b - lat_a) / 2.0;
    let half_dlon = (b.lon - a.lon).to_radians() / 2.0;
    let h = half_dlat.sin().powi(2) + lat_a.cos() * lat_b.cos() * half_dlon.sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taipei_to_kaohsiung_is_about_297_km() {
        let taipei = Coordinates {
            lat: 25.0330,
            lon: 121.5654,
        };
        let kaohsiung = Coordinates {
            lat: 22.6273,
            lon: 120.3014,
        };
        let km = haversine_km(taipei, kaohsiung);
        assert!((km - 297.0).abs() < 3.0, "{km}");
        assert_eq!(haversine_km(taipei, taipei), 0.0);
    }

    #[test]
    fn latitude_beyond_the_pole_is_rejected() {
        let bad = Coordinates {
            lat: 91.0,
            lon: 0.0,
        };
        let error = bad.validated("destination").unwrap_err();
        assert_eq!(
            error.to_string(),
            "destination.lat is 91, expected -90 to 90"
        );
    }
}
