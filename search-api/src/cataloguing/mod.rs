//! Cataloguing (目録登録) in the staff pages and the records API: the form of the common
//! case, the MARC editor, copies, the history of a record, and copy cataloguing from SRU
//! servers. The rules (validation, versions, copies, call numbers) live in the catalogue
//! crate (`catalogue::cataloguing`); this module is the HTTP side of them.

pub(crate) mod api;
pub(crate) mod copy;
pub(crate) mod messages;
pub(crate) mod openapi;
pub(crate) mod pages;
