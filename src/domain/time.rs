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

/// The length of a wire datetime (`2020-10-15T06:38:00.000+00:00`).
pub const WIRE_LEN: usize = 29;

/// Writes stored milliseconds in Appwrite's wire format into `buf`, without allocating (the
/// models of every signed-in request carry five of these). `None` for a year outside
/// 0000–9999 (only a negative one: `time` stops at 9999), which `format_ms` renders through
/// `time`'s formatter instead.
pub fn write_wire(ms: i64, buf: &mut [u8; WIRE_LEN]) -> Option<&str> {
    let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let year = u32::try_from(dt.year()).ok().filter(|y| *y <= 9999)?;
    let mut put = |at: usize, value: u32, digits: u32| {
        for i in 0..digits {
            let d = (value / 10u32.pow(digits - 1 - i)) % 10;
            buf[at + i as usize] = b'0' + d as u8;
        }
    };
    put(0, year, 4);
    put(5, u32::from(u8::from(dt.month())), 2);
    put(8, u32::from(dt.day()), 2);
    put(11, u32::from(dt.hour()), 2);
    put(14, u32::from(dt.minute()), 2);
    put(17, u32::from(dt.second()), 2);
    put(20, u32::from(dt.millisecond()), 3);
    for (at, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ] {
        buf[at] = c;
    }
    buf[23..].copy_from_slice(b"+00:00");
    std::str::from_utf8(buf).ok()
}

/// Renders stored milliseconds in Appwrite's wire format.
pub fn format_ms(ms: i64) -> String {
    let mut buf = [0; WIRE_LEN];
    if let Some(s) = write_wire(ms, &mut buf) {
        return s.to_owned();
    }
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
    fn the_hand_written_formatter_agrees_with_times_own() {
        // Both sides of the epoch, leap days, the last millisecond of a year, year 9999.
        let samples = [
            0,
            -1,
            -86_400_000 * 365 * 1969 - 1,
            951_782_399_999,
            951_782_400_000,
            1_602_743_880_123,
            1_704_067_199_999,
            253_402_300_799_999,
        ];
        let mut x: i64 = 0x2545_f491_4f6c_dd1d;
        let pseudo_random = (0..2000).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.rem_euclid(253_402_300_800_000)
        });
        for ms in samples.into_iter().chain(pseudo_random) {
            let oracle = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .unwrap()
                .format(WIRE)
                .unwrap();
            let mut buf = [0; WIRE_LEN];
            assert_eq!(write_wire(ms, &mut buf), Some(oracle.as_str()), "{ms}");
        }
        // A year before 0000 needs a sign: not ours to write, time's formatter renders it.
        let mut buf = [0; WIRE_LEN];
        assert_eq!(write_wire(-62_167_219_200_001, &mut buf), None);
        assert_eq!(
            format_ms(-62_167_219_200_001),
            "-0001-12-31T23:59:59.999+00:00"
        );
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
