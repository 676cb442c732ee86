//! Appwrite's datetime format: `2020-10-15T06:38:00.000+00:00`, millisecond precision, UTC.

use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

const WIRE: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+00:00");

/// Milliseconds since the Unix epoch, the unit every stored datetime uses.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Renders stored milliseconds in Appwrite's wire format.
pub fn format_ms(ms: i64) -> String {
    let dt = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    dt.format(WIRE).unwrap_or_default()
}

/// Renders an optional datetime: `""` when unset, as Appwrite does for required fields.
pub fn format_opt_ms(ms: Option<i64>) -> String {
    ms.map(format_ms).unwrap_or_default()
}

/// Parses an ISO-8601 / RFC 3339 datetime (config key expiry) into milliseconds.
pub fn parse_iso_ms(s: &str) -> Option<i64> {
    let dt = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some((dt.unix_timestamp_nanos() / 1_000_000) as i64)
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
}
