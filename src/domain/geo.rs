//! Points on the earth and the distances between them.

use super::schema::{number, schema_rule};
use super::Invalid;
use serde::Serialize;

pub const LATITUDE_MAX: f64 = 90.0;
pub const LONGITUDE_MAX: f64 = 180.0;

schema_rule!(
    /// Degrees north (negative: south).
    Latitude = number(-LATITUDE_MAX, LATITUDE_MAX)
);
schema_rule!(
    /// Degrees east (negative: west).
    Longitude = number(-LONGITUDE_MAX, LONGITUDE_MAX)
);
schema_rule!(
    /// A point as `LAT,LON` in decimal degrees (`?near=25.04,121.56`).
    LatLon = utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(format!(r"^ *{LATITUDE_PATTERN} *, *{LONGITUDE_PATTERN} *$")))
        .examples(["25.04,121.56"])
);

/// [`LATITUDE_MAX`] and [`LONGITUDE_MAX`] as the decimal numbers a query string carries.
const LATITUDE_PATTERN: &str = r"-?(90(\.0+)?|[1-8]?[0-9](\.[0-9]+)?)";
const LONGITUDE_PATTERN: &str = r"-?(180(\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]+)?)";

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub latitude: f64,
    pub longitude: f64,
}

impl Point {
    pub fn parse(field: &str, latitude: f64, longitude: f64) -> Result<Self, Invalid> {
        if !latitude.is_finite() || !(-LATITUDE_MAX..=LATITUDE_MAX).contains(&latitude) {
            return Err(Invalid::new(
                format!("{field}latitude"),
                format!("must be a number from -{LATITUDE_MAX} to {LATITUDE_MAX}"),
            ));
        }
        if !longitude.is_finite() || !(-LONGITUDE_MAX..=LONGITUDE_MAX).contains(&longitude) {
            return Err(Invalid::new(
                format!("{field}longitude"),
                format!("must be a number from -{LONGITUDE_MAX} to {LONGITUDE_MAX}"),
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
