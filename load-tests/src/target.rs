//! Where requests go. Only 127.0.0.1: a load generator must never be pointed at someone else.

use std::net::{Ipv4Addr, SocketAddr};

#[derive(Debug, Clone)]
pub struct Target {
    base: String,
    /// Sent as `Authorization: Bearer` on every request.
    pub key: Option<String>,
}

impl Target {
    pub fn new(addr: SocketAddr, key: Option<String>) -> Result<Self, String> {
        if addr.ip() != Ipv4Addr::LOCALHOST {
            return Err(format!(
                "refusing to send load to {addr}: only 127.0.0.1 may be targeted"
            ));
        }
        Ok(Self {
            base: format!("http://{addr}"),
            key,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Parses `30s`, `500ms`, `2m` or a bare number of seconds.
pub fn parse_duration(raw: &str) -> Result<std::time::Duration, String> {
    let raw = raw.trim();
    let split = raw
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{raw}' is not a duration such as 30s, 500ms or 2m"))?;
    let seconds = match unit {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" | "min" => number * 60.0,
        _ => return Err(format!("'{raw}': the unit must be ms, s or m")),
    };
    let duration = std::time::Duration::try_from_secs_f64(seconds)
        .map_err(|_| format!("'{raw}' is out of range"))?;
    if duration > crate::runner::DURATION_MAX {
        return Err(format!(
            "'{raw}' is longer than the limit of {} s",
            crate::runner::DURATION_MAX.as_secs()
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn only_localhost_is_a_target() {
        assert!(Target::new("127.0.0.1:8090".parse().expect("an address"), None).is_ok());
        assert!(Target::new("10.0.0.1:8090".parse().expect("an address"), None).is_err());
        assert!(Target::new("[::1]:8090".parse().expect("an address"), None).is_err());
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("11m").is_err());
    }
}
