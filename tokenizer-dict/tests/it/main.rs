//! Integration tests of the analyser.
