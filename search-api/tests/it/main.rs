//! Integration tests of the `shiori` binary, run as a user would run it.

// Test code may unwrap: a panic is a failing test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analyze;
mod api;
mod cataloguing;
mod circulation;
mod crash;
mod mailer;
mod oai;
mod opac;
mod opensearch;
mod patron_totp;
mod security;
mod sru;
mod sru_http;
mod support;
