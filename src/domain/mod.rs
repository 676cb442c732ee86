//! Appwrite's account rules, free of HTTP and SQL.

pub mod accounts;
pub mod email_meta;
pub mod geo;
pub mod ids;
pub mod jwt;
pub mod passwords;
pub mod project;
pub mod queries;
pub mod sessions;
pub mod time;
pub mod useragent;
pub mod validate;
