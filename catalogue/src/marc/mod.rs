//! MARC codecs: ISO 2709 (UTF-8 and MARC-8) and MARCXML in, UTF-8 ISO 2709 and MARCXML out.
//!
//! Written here rather than taken from the `marc-record` crate because the catalogue
//! needs what that crate does not do: write records, read MARCXML, decode MARC-8 CJK
//! (EACC), keep the leader as it was, and say where in a file a bad record lies.

pub(crate) mod iso2709;
pub(crate) mod marc8;
pub(crate) mod marcxml;
pub(crate) mod record;
pub(crate) mod source;
