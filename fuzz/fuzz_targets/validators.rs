//! The validators every route leans on: ids, emails, phones, text lengths and the password
//! policy of the default project.
#![no_main]

use latchkey::domain::project::{Project, ProjectSettings};
use latchkey::domain::validate;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static PROJECT: LazyLock<Project> =
    LazyLock::new(|| Project::new(ProjectSettings::default_project()));

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let _ = validate::custom_id(&s);
    let _ = validate::uid(&s);
    if let Ok(email) = validate::email(&s) {
        // What the validator accepts it accepts again unchanged: one account per address.
        assert_eq!(validate::email(&email).as_deref(), Ok(email.as_str()));
    }
    if let Ok(phone) = validate::phone(&s) {
        assert!(phone.starts_with('+'), "{phone}");
    }
    let _ = validate::text(&s, 1, 128);
    let _ = PROJECT.password_policy.check(&s);
});
