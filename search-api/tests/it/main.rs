//! Integration tests of the `shiori` binary, run as a user would run it.

mod analyze;
