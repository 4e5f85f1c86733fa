//! Integration tests of the catalogue: the store against a plain model, imports of the
//! shared fixtures, circulation (loans, rules, calendars, holds, notices, privacy, and a
//! model of random circulation with holds), patrons' second factor and password change, and
//! security (accounts, sessions, logs, tenant deletion).

// Test code may unwrap: a panic is a failing test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backup;
mod cataloguing;
mod cataloguing_validate;
mod circulation;
mod circulation_model;
mod circulation_rules;
mod fixtures;
mod interop;
mod model;
mod oai;
mod patron_totp;
mod round_trip;
mod security;
