//! Full-text search of users (`users.list` `search`) and identities: the store splits the
//! searchable text into words itself, so SQLite FTS5 and PostgreSQL `tsvector` index the same
//! words and a search means the same on both: every word of the search must be the start of a
//! word of the row (prefix match, AND).

use super::Dialect;

/// The words of `text`: lower-cased runs of letters and digits. Everything else (`@`, `.`,
/// `+`, `-`, spaces) separates words, as FTS5's `unicode61` tokenizer does.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The `search` column of a row: the words of its searchable fields, space-separated.
pub(crate) fn document<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    fields
        .into_iter()
        .flat_map(words)
        .collect::<Vec<_>>()
        .join(" ")
}

/// How a table is searched.
#[derive(Clone, Copy)]
pub(super) enum Index {
    /// The `users` way: on SQLite an FTS5 table over `words_table` (the words under a stable
    /// integer id, kept by trigger), on PostgreSQL a GIN-indexed `tsvector` column
    /// `search_vector`.
    FullText {
        fts_table: &'static str,
        words_table: &'static str,
    },
    /// A scan of the `search` column, word prefix by word prefix.
    Scan,
}

/// The condition for a search with `words` and the value to bind for each `$` it uses (in
/// order, numbered from `next`). `None` when the search has no words: it then matches nothing.
pub(super) fn condition(
    index: Index,
    d: Dialect,
    table: &str,
    words: &[String],
    next: usize,
) -> Option<(String, Vec<String>)> {
    if words.is_empty() {
        return None;
    }
    // Words hold only letters and digits, so quoting them is safe in both query languages.
    Some(match (index, d) {
        (
            Index::FullText {
                fts_table,
                words_table,
            },
            Dialect::Sqlite,
        ) => {
            let expr = words
                .iter()
                .map(|w| format!("\"{w}\"*"))
                .collect::<Vec<_>>()
                .join(" AND ");
            (
                // Starts from the matches: their words rows by id, then the users by key.
                format!(
                    "({table}.project_id, {table}.id) IN (SELECT w.project_id, w.user_id \
                     FROM {words_table} w \
                     WHERE w.id IN (SELECT rowid FROM {fts_table} WHERE {fts_table} MATCH ${next}))"
                ),
                vec![expr],
            )
        }
        (Index::FullText { .. }, Dialect::Postgres) => {
            let expr = words
                .iter()
                .map(|w| format!("'{w}':*"))
                .collect::<Vec<_>>()
                .join(" & ");
            // Bound as tsquery text, not through `to_tsquery`: its parser would split
            // the words again by the server's locale.
            (
                format!("search_vector @@ CAST(${next} AS tsquery)"),
                vec![expr],
            )
        }
        (Index::Scan, d) => {
            let find = match d {
                Dialect::Sqlite => "instr",
                Dialect::Postgres => "strpos",
            };
            let terms = (0..words.len())
                .map(|i| format!("{find}(' ' || search, ${}) > 0", next + i))
                .collect::<Vec<_>>()
                .join(" AND ");
            (
                format!("({terms})"),
                words.iter().map(|w| format!(" {w}")).collect(),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_at_everything_but_letters_and_digits_and_fold_case() {
        assert_eq!(
            words("Jöhn.Doe+1@Example.com"),
            ["jöhn", "doe", "1", "example", "com"]
        );
        assert_eq!(words("  +1 (650) 555-0101 "), ["1", "650", "555", "0101"]);
        assert!(words("@@ --").is_empty());
        assert_eq!(
            document(["u1", "ann@x.io", "", "Ann Lee"]),
            "u1 ann x io ann lee"
        );
    }
}
