//! Points on the earth and the distances between them.

use super::Invalid;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub latitude: f64,
    pub longitude: f64,
}

impl Point {
    pub fn parse(field: &str, latitude: f64, longitude: f64) -> Result<Self, Invalid> {
        if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
            return Err(Invalid::new(
                format!("{field}latitude"),
                "must be a number from -90 to 90",
            ));
        }
        if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
            return Err(Invalid::new(
                format!("{field}longitude"),
                "must be a number from -180 to 180",
            ));
        }
        Ok(Self {
            latitude,
            longitude,
        })
    }

    /// `"25.04,121.56"` as used in query strings (`?near=`).
    pub fn parse_pair(field: &str, raw: &str) -> Result<Self, Invalid> {
        let (latitude, longitude) = raw
            .split_once(',')
            .ok_or_else(|| Invalid::new(field, "must be LAT,LON"))?;
        let number = |text: &str| {
            text.trim()
                .parse::<f64>()
                .map_err(|_| Invalid::new(field, "must be LAT,LON with decimal numbers"))
        };
        let point = Self::parse("", number(latitude)?, number(longitude)?)
            .map_err(|error| Invalid::new(field, error.message))?;
        Ok(point)
    }

    /// Great-circle distance; the solver's, so routing and lookups agree to the metre.
    pub fn distance_km(self, other: Point) -> f64 {
        allot_solver::haversine_km(self.into(), other.into())
    }
}

impl From<Point> for allot_solver::Coordinates {
    fn from(point: Point) -> Self {
        Self {
            lat: point.latitude,
            lon: point.longitude,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taipei_to_kaohsiung_is_about_300_km() {
        let taipei = Point::parse("", 25.0330, 121.5654).unwrap();
        let kaohsiung = Point::parse("", 22.6273, 120.3014).unwrap();
        let km = taipei.distance_km(kaohsiung);
        assert!((290.0..300.0).contains(&km), "{km}");
        assert_eq!(taipei.distance_km(taipei), 0.0);
    }

    #[test]
    fn pairs_parse_and_bad_pairs_name_the_field() {
        let point = Point::parse_pair("near", "25.1, 121.5").unwrap();
        assert_eq!((point.latitude, point.longitude), (25.1, 121.5));
        for raw in ["", "25.1", "a,b", "91,0", "0,181", "NaN,0"] {
            assert_eq!(Point::parse_pair("near", raw).unwrap_err().field, "near");
        }
    }
}
