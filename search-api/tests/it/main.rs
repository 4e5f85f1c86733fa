//! Integration tests of the `shiori` binary.
