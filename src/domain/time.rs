//! Appwrite's datetime format (`2020-10-15T06:38:00.000+00:00`, millisecond precision, UTC)
//! and the clock every rule reads, injected so tests can move time instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

const WIRE: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+00:00");

/// Where "now" comes from, in milliseconds since the Unix epoch (the unit every stored
/// datetime uses).
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        i64::try_from(nanos).unwrap_or(i64::MAX)
    }
}

/// A clock that stands still until told to move; for tests.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing the system time now.
    pub fn starting_now() -> Self {
        ManualClock(AtomicI64::new(SystemClock.now_ms()))
    }

    /// Moves the clock forward by `ms` milliseconds.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// `seconds` from config or a param as milliseconds, saturating instead of overflowing.
pub fn seconds_to_ms(seconds: u64) -> i64 {
    i64::try_from(seconds)
        .unwrap_or(i64::MAX)
        .saturating_mul(1000)
}

/// Renders stored milliseconds in Appwrite's wire format.
pub fn format_ms(ms: i64) -> String {
    let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    dt.format(WIRE).unwrap_or_default()
}

/// Renders an optional datetime: `""` when unset, as Appwrite does for required fields.
pub fn format_opt_ms(ms: Option<i64>) -> String {
    ms.map(format_ms).unwrap_or_default()
}

/// Parses an ISO-8601 / RFC 3339 datetime (query values, config key expiry) into milliseconds.
pub fn parse_iso_ms(s: &str) -> Option<i64> {
    let dt = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(dt.unix_timestamp_nanos() / 1_000_000).ok()
}

/// An HTTP cookie `Expires` date, e.g. `Sat, 22 Nov 2027 14:00:00 GMT`.
pub fn http_date(ms: i64) -> String {
    const F: &[BorrowedFormatItem<'static>] = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let dt = OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    dt.format(F).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_appwrite_with_millis_and_numeric_offset() {
        // 2020-10-15T06:38:00.123Z
        assert_eq!(
            format_ms(1_602_743_880_123),
            "2020-10-15T06:38:00.123+00:00"
        );
        assert_eq!(format_opt_ms(None), "");
        assert_eq!(
            parse_iso_ms("2020-10-15T06:38:00.123+00:00"),
            Some(1_602_743_880_123)
        );
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn out_of_range_values_saturate_or_fall_back_instead_of_panicking() {
        assert_eq!(seconds_to_ms(u64::MAX), i64::MAX);
        assert_eq!(seconds_to_ms(31_536_000), 31_536_000_000);
        assert_eq!(format_ms(i64::MAX), "1970-01-01T00:00:00.000+00:00");
        assert_eq!(http_date(i64::MIN), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let c = ManualClock::starting_now();
        let t = c.now_ms();
        assert_eq!(c.now_ms(), t);
        c.advance(1500);
        assert_eq!(c.now_ms(), t + 1500);
    }
}
