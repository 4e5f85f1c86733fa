//! Integration tests of the analyser: the table of real titles and names, bad input,
//! user dictionaries, and agreement with catalogued readings in ../shared/fixtures.

mod bad_input;
mod cases;
mod fixtures;
mod user_dictionary;
