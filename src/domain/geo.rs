//! Country of an IP address from the bundled DB-IP Lite database (CC BY 4.0).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::LazyLock;

static READER: LazyLock<Option<maxminddb::Reader<&'static [u8]>>> = LazyLock::new(|| {
    maxminddb::Reader::from_source(&include_bytes!("../../assets/dbip-country.mmdb")[..]).ok()
});

static COUNTRY_NAMES: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    include_str!("../../assets/countries.tsv")
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .collect()
});

#[derive(serde::Deserialize)]
struct Record {
    country_code: Option<String>,
    country: Option<IsoCountry>,
}

#[derive(serde::Deserialize)]
struct IsoCountry {
    iso_code: Option<String>,
}

/// Opens the database now rather than on the first session.
pub fn warm_up() {
    LazyLock::force(&READER);
    LazyLock::force(&COUNTRY_NAMES);
    LazyLock::force(&LOCALISED_NAMES);
}

/// Lower-case ISO country code of `ip`, or `--` when unknown (private ranges included).
pub fn country_code(ip: &str) -> String {
    let found = (|| {
        let addr: IpAddr = ip.parse().ok()?;
        let record: Record = READER.as_ref()?.lookup(addr).ok()?.decode().ok()??;
        record
            .country_code
            .or_else(|| record.country.and_then(|c| c.iso_code))
    })();
    found
        .map(|c| c.to_lowercase())
        .unwrap_or_else(|| "--".into())
}

/// Country names by locale (Unicode CLDR), in the order of [`crate::domain::locale::LOCALES`]
/// after English.
const LOCALISED: &[(&str, &str)] = &[
    ("es", include_str!("../../assets/countries/es.tsv")),
    ("fr", include_str!("../../assets/countries/fr.tsv")),
    ("de", include_str!("../../assets/countries/de.tsv")),
    ("pt-br", include_str!("../../assets/countries/pt-br.tsv")),
    ("it", include_str!("../../assets/countries/it.tsv")),
    ("nl", include_str!("../../assets/countries/nl.tsv")),
    ("ja", include_str!("../../assets/countries/ja.tsv")),
    ("zh-cn", include_str!("../../assets/countries/zh-cn.tsv")),
    ("hi", include_str!("../../assets/countries/hi.tsv")),
    ("ar", include_str!("../../assets/countries/ar.tsv")),
];

type Names = HashMap<&'static str, &'static str>;

static LOCALISED_NAMES: LazyLock<HashMap<&'static str, Names>> = LazyLock::new(|| {
    LOCALISED
        .iter()
        .map(|(l, text)| {
            (
                *l,
                text.lines().filter_map(|l| l.split_once('\t')).collect(),
            )
        })
        .collect()
});

/// The name of a stored country code in `locale` (English when the locale has no name for
/// it); `Unknown` for `--` and anything unlisted.
pub fn country_name_in(code: &str, locale: &str) -> String {
    let locale = crate::domain::locale::resolve(locale);
    match LOCALISED_NAMES
        .get(locale)
        .and_then(|names| names.get(code))
    {
        Some(name) => (*name).to_owned(),
        None => country_name(code),
    }
}

/// The English name of a country code, `Unknown` for `--` and unknown codes.
pub fn country_name(code: &str) -> String {
    COUNTRY_NAMES
        .get(code)
        .copied()
        .unwrap_or("Unknown")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_addresses_resolve_and_private_ones_are_unknown() {
        assert_eq!(country_code("8.8.8.8"), "us");
        assert_eq!(country_code("81.2.69.142"), "gb");
        assert_eq!(country_code("127.0.0.1"), "--");
        assert_eq!(country_code("not-an-ip"), "--");
        assert_eq!(country_name("us"), "United States");
        assert_eq!(country_name("--"), "Unknown");
        assert_eq!(country_name_in("de", "de-AT"), "Deutschland");
        assert_eq!(country_name_in("us", "ja"), "アメリカ合衆国");
        assert_eq!(country_name_in("us", "xx"), "United States");
        assert_eq!(country_name_in("--", "fr"), "Unknown");
    }
}
