//! Queries: the OPAC query language and its execution.

pub(crate) mod parse;
