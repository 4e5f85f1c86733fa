//! OAI-PMH answers: the envelope (responseDate, request, then the verb's element or the
//! errors) and each verb's content, read from the catalogue through a snapshot.

use std::io;

use catalogue::{Catalogue, OaiEntry, OaiSelection, OaiSnapshot, Tenant};
use jiff::Timestamp;

use super::OaiError;
use super::harvests::{Harvests, Position};
use super::request::{ListRequest, ListVerb, MetadataFormat, OaiRequest};
use crate::xml::Xml;

const OAI_NS: &str = "http://www.openarchives.org/OAI/2.0/";
const OAI_SCHEMA: &str = "http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Records per page of ListRecords.
pub(crate) const RECORDS_PER_PAGE: usize = 100;
/// Headers per page of ListIdentifiers.
pub(crate) const IDENTIFIERS_PER_PAGE: usize = 500;

/// One library as a repository.
pub(crate) struct Repository<'a> {
    /// The library.
    pub(crate) tenant: &'a Tenant,
    /// Its catalogue.
    pub(crate) catalogue: &'a Catalogue,
    /// Its open harvests.
    pub(crate) harvests: &'a Harvests,
    /// The base URL of the repository (`…/{tenant}/oai`).
    pub(crate) base_url: String,
    /// The administrator's address Identify names.
    pub(crate) admin_email: String,
}

/// The OAI identifier of a record.
pub(crate) fn identifier(tenant: &Tenant, bib_id: u64) -> String {
    format!("oai:shiori:{}:{bib_id}", tenant.code)
}

/// The bib id an identifier names in this library.
fn bib_of(tenant: &Tenant, identifier: &str) -> Option<u64> {
    let rest = identifier.strip_prefix("oai:shiori:")?;
    let (code, id) = rest.rsplit_once(':')?;
    if code != tenant.code.as_str() || id.starts_with('+') {
        return None;
    }
    id.parse().ok()
}

/// A datestamp at second granularity, UTC.
pub(crate) fn datestamp(seconds: i64) -> String {
    match Timestamp::from_second(seconds) {
        Ok(at) => at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => "1970-01-01T00:00:00Z".to_owned(),
    }
}

impl Repository<'_> {
    /// The answer to a request's arguments (`None`: they could not be decoded). `Err` only
    /// for a fault of the server (answered with a 500 and logged); every protocol error is
    /// an answer.
    pub(crate) fn answer(&self, pairs: Option<&[(String, String)]>) -> Result<String, OaiError> {
        let now = Timestamp::now().as_second();
        let parsed = match pairs {
            Some(pairs) => OaiRequest::parse(pairs),
            None => {
                Err(OaiError::BadArgument("the arguments cannot be decoded: give them URL-encoded in UTF-8".to_owned()))
            }
        };
        let pairs = pairs.unwrap_or_default();
        let (request, body) = match parsed {
            Ok(request) => {
                let body = self.body(&request);
                (Some(request), body)
            }
            Err(err) => (None, Err(err)),
        };
        let body = match body {
            Err(OaiError::Internal(cause)) => return Err(OaiError::Internal(cause)),
            other => other,
        };
        let envelope = || -> io::Result<String> {
            let mut xml = Xml::document()?;
            xml.start("OAI-PMH", &[("xmlns", OAI_NS), ("xmlns:xsi", XSI_NS), ("xsi:schemaLocation", OAI_SCHEMA)])?;
            xml.leaf("responseDate", &datestamp(now))?;
            // The request's arguments are echoed unless they were bad (the protocol wants
            // the base URL alone then).
            let echo = match (&request, &body) {
                (None, _) | (_, Err(OaiError::BadArgument(_) | OaiError::BadVerb(_))) => Vec::new(),
                (Some(_), _) => pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
            };
            xml.leaf_with("request", &echo, &self.base_url)?;
            match &body {
                // The verb's element was written apart: on a line of its own.
                Ok(content) => xml.raw(&format!("\n{content}\n"))?,
                Err(err) => xml.leaf_with("error", &[("code", err.code())], err.message())?,
            }
            xml.end("OAI-PMH")?;
            Ok(xml.finish())
        };
        envelope().map_err(|err| OaiError::Internal(format!("writing an OAI-PMH answer: {err}")))
    }

    /// The verb's element.
    fn body(&self, request: &OaiRequest) -> Result<String, OaiError> {
        let mut xml = Xml::fragment();
        let written = match request {
            OaiRequest::Identify => self.identify(&mut xml),
            OaiRequest::ListMetadataFormats { identifier } => {
                self.list_metadata_formats(&mut xml, identifier.as_deref())
            }
            OaiRequest::ListSets => self.list_sets(&mut xml),
            OaiRequest::GetRecord { identifier, format } => self.get_record(&mut xml, identifier, *format),
            OaiRequest::List(list) => self.first_page(&mut xml, list),
            OaiRequest::Resume { verb, token } => self.next_page(&mut xml, *verb, token),
        };
        written?;
        Ok(xml.finish())
    }

    fn identify(&self, xml: &mut Xml) -> Result<(), OaiError> {
        let snapshot = self.catalogue.oai_snapshot()?;
        // Before the first record the library's creation is the earliest datestamp.
        let earliest = snapshot.earliest_datestamp()?.unwrap_or(self.tenant.created).min(self.tenant.created);
        let mut write = || -> io::Result<()> {
            xml.start("Identify", &[])?;
            xml.leaf("repositoryName", &self.tenant.name)?;
            xml.leaf("baseURL", &self.base_url)?;
            xml.leaf("protocolVersion", "2.0")?;
            xml.leaf("adminEmail", &self.admin_email)?;
            xml.leaf("earliestDatestamp", &datestamp(earliest))?;
            xml.leaf("deletedRecord", "persistent")?;
            xml.leaf("granularity", "YYYY-MM-DDThh:mm:ssZ")?;
            xml.end("Identify")
        };
        write().map_err(io_fault)
    }

    fn list_metadata_formats(&self, xml: &mut Xml, identifier: Option<&str>) -> Result<(), OaiError> {
        if let Some(identifier) = identifier {
            self.entry(&self.catalogue.oai_snapshot()?, identifier, false)?;
        }
        let mut write = || -> io::Result<()> {
            xml.start("ListMetadataFormats", &[])?;
            for format in MetadataFormat::ALL {
                xml.start("metadataFormat", &[])?;
                xml.leaf("metadataPrefix", format.prefix())?;
                xml.leaf("schema", format.schema())?;
                xml.leaf("metadataNamespace", format.namespace())?;
                xml.end("metadataFormat")?;
            }
            xml.end("ListMetadataFormats")
        };
        write().map_err(io_fault)
    }

    fn list_sets(&self, xml: &mut Xml) -> Result<(), OaiError> {
        let (classes, any) = self.catalogue.oai_snapshot()?.class_counts()?;
        if any == 0 {
            return Err(OaiError::NoSetHierarchy(
                "no record of this library carries an NDC number (084 $2 njb), so it has no sets".to_owned(),
            ));
        }
        let mut write = || -> io::Result<()> {
            xml.start("ListSets", &[])?;
            xml.start("set", &[])?;
            xml.leaf("setSpec", "ndc")?;
            xml.leaf("setName", "日本十進分類法 (NDC) / Nippon Decimal Classification")?;
            xml.end("set")?;
            for (index, (class, ja, en)) in indexer::NDC_CLASSES.iter().enumerate() {
                if classes[index] == 0 {
                    continue;
                }
                xml.start("set", &[])?;
                xml.leaf("setSpec", &format!("ndc:{class}"))?;
                xml.leaf("setName", &format!("NDC {class} {ja} / {en}"))?;
                xml.end("set")?;
            }
            xml.end("ListSets")
        };
        write().map_err(io_fault)
    }

    fn entry(&self, snapshot: &OaiSnapshot, identifier: &str, with_record: bool) -> Result<OaiEntry, OaiError> {
        let missing = || {
            OaiError::IdDoesNotExist(format!(
                "{identifier:?} is not an item of this repository (identifiers are {})",
                identifier_example(self.tenant)
            ))
        };
        let bib = bib_of(self.tenant, identifier).ok_or_else(missing)?;
        snapshot.entry(bib, with_record)?.ok_or_else(missing)
    }

    fn get_record(&self, xml: &mut Xml, identifier: &str, format: MetadataFormat) -> Result<(), OaiError> {
        let entry = self.entry(&self.catalogue.oai_snapshot()?, identifier, true)?;
        let metadata = match metadata(&entry, format) {
            Ok(metadata) => metadata,
            Err(reason) => {
                return Err(OaiError::CannotDisseminateFormat(format!(
                    "the record {identifier} cannot be written as {}: {reason}",
                    format.prefix()
                )));
            }
        };
        let mut write = || -> io::Result<()> {
            xml.start("GetRecord", &[])?;
            self.record(xml, &entry, metadata.as_deref())?;
            xml.end("GetRecord")
        };
        write().map_err(io_fault)
    }

    fn first_page(&self, xml: &mut Xml, list: &ListRequest) -> Result<(), OaiError> {
        let snapshot = self.catalogue.oai_snapshot()?;
        let complete = snapshot.count(&list.selection)?;
        if complete == 0 {
            return Err(OaiError::NoRecordsMatch(no_records_message(&list.selection)));
        }
        let (entries, more) =
            snapshot.page(&list.selection, None, page_size(list.verb), list.verb == ListVerb::Records)?;
        let next = match (more, entries.last()) {
            (true, Some(last)) => {
                let harvest = self.harvests.begin(snapshot, list.clone(), complete)?;
                let position = Position { after: (last.datestamp, last.bib_id), cursor: entries.len() as u64 };
                Some(harvest.token(position))
            }
            _ => None,
        };
        // One page: no token (the protocol allows leaving it out when the list is whole).
        let token = next.map(|token| Token { token: Some(token), cursor: 0, complete });
        self.list(xml, list.verb, list.format, &entries, token)
    }

    fn next_page(&self, xml: &mut Xml, verb: ListVerb, token: &str) -> Result<(), OaiError> {
        let (harvest, position) = self.harvests.resume(token)?;
        let list = &harvest.request;
        if list.verb != verb {
            return Err(OaiError::BadResumptionToken(format!(
                "this token belongs to a {} harvest, not {}",
                list.verb.verb(),
                verb.verb()
            )));
        }
        let (entries, more) =
            harvest.snapshot.page(&list.selection, Some(position.after), page_size(verb), verb == ListVerb::Records)?;
        let next = match (more, entries.last()) {
            (true, Some(last)) => Some(harvest.token(Position {
                after: (last.datestamp, last.bib_id),
                cursor: position.cursor + entries.len() as u64,
            })),
            _ => None,
        };
        let token = Token { token: next, cursor: position.cursor, complete: harvest.complete };
        self.list(xml, verb, list.format, &entries, Some(token))
    }

    fn list(
        &self,
        xml: &mut Xml,
        verb: ListVerb,
        format: MetadataFormat,
        entries: &[OaiEntry],
        token: Option<Token>,
    ) -> Result<(), OaiError> {
        let mut write = || -> io::Result<()> {
            xml.start(verb.verb(), &[])?;
            for entry in entries {
                match verb {
                    ListVerb::Identifiers => self.header(xml, entry)?,
                    ListVerb::Records => match metadata(entry, format) {
                        Ok(metadata) => self.record(xml, entry, metadata.as_deref())?,
                        Err(reason) => {
                            // One unreadable record must not stop a library's harvest; it is
                            // left out and the operator told.
                            tracing::error!(
                                tenant = %self.tenant.code, bib = entry.bib_id, %reason,
                                "oai: a record cannot be written; left out of the harvest"
                            );
                        }
                    },
                }
            }
            if let Some(token) = &token {
                let complete = token.complete.to_string();
                let cursor = token.cursor.to_string();
                match &token.token {
                    Some(value) => {
                        let expires = datestamp(
                            Harvests::expires_at()
                                .duration_since(std::time::UNIX_EPOCH)
                                .map(|d| d.as_secs() as i64)
                                .unwrap_or(0),
                        );
                        xml.leaf_with(
                            "resumptionToken",
                            &[("expirationDate", &expires), ("completeListSize", &complete), ("cursor", &cursor)],
                            value,
                        )?
                    }
                    None => xml.empty("resumptionToken", &[("completeListSize", &complete), ("cursor", &cursor)])?,
                }
            }
            xml.end(verb.verb())
        };
        write().map_err(io_fault)
    }

    fn header(&self, xml: &mut Xml, entry: &OaiEntry) -> io::Result<()> {
        if entry.deleted {
            xml.start("header", &[("status", "deleted")])?;
        } else {
            xml.start("header", &[])?;
        }
        xml.leaf("identifier", &identifier(self.tenant, entry.bib_id))?;
        xml.leaf("datestamp", &datestamp(entry.datestamp))?;
        for set in &entry.sets {
            xml.leaf("setSpec", &set.spec())?;
        }
        xml.end("header")
    }

    fn record(&self, xml: &mut Xml, entry: &OaiEntry, metadata: Option<&str>) -> io::Result<()> {
        xml.start("record", &[])?;
        self.header(xml, entry)?;
        if let Some(metadata) = metadata {
            xml.start("metadata", &[])?;
            xml.raw(metadata)?;
            xml.end("metadata")?;
        }
        xml.end("record")
    }
}

/// Where a list stands, for its resumptionToken element.
struct Token {
    /// The next page's token; none on the last page.
    token: Option<String>,
    /// Entries before this page.
    cursor: u64,
    /// The whole list's size.
    complete: u64,
}

fn page_size(verb: ListVerb) -> usize {
    match verb {
        ListVerb::Identifiers => IDENTIFIERS_PER_PAGE,
        ListVerb::Records => RECORDS_PER_PAGE,
    }
}

/// The metadata of an entry in a format (none for a deleted record), or why it cannot be
/// written.
fn metadata(entry: &OaiEntry, format: MetadataFormat) -> Result<Option<String>, String> {
    let Some(bib) = &entry.record else {
        return Ok(None);
    };
    let record = bib.record().map_err(|err| err.to_string())?;
    Ok(Some(match format {
        MetadataFormat::OaiDc => crate::sru::dublin_core(&record).map_err(|err| err.to_string())?,
        MetadataFormat::MarcXml => match catalogue::try_marcxml_record(&record, false) {
            Ok(xml) => xml,
            Err(reason) => {
                // A harvest must stay whole and valid: the record goes with what MARCXML
                // cannot carry blanked (as SRU and the record page send it), and the
                // operator is told which record and why (`shiori export` reports it too).
                tracing::warn!(bib = bib.id, %reason, "oai: a record sent with the parts MARCXML cannot carry blanked");
                catalogue::marcxml_record(&record, false)
            }
        },
    }))
}

fn identifier_example(tenant: &Tenant) -> String {
    format!("oai:shiori:{}:<bib id>", tenant.code)
}

fn no_records_message(selection: &OaiSelection) -> String {
    let mut parts = Vec::new();
    if let Some(from) = selection.from {
        parts.push(format!("from {}", datestamp(from)));
    }
    if let Some(until) = selection.until {
        parts.push(format!("until {}", datestamp(until)));
    }
    if let Some(set) = selection.set {
        parts.push(format!("in set {}", set.spec()));
    }
    if parts.is_empty() {
        "the repository has no records yet".to_owned()
    } else {
        format!("no record was added, changed or deleted {}", parts.join(", "))
    }
}

fn io_fault(err: io::Error) -> OaiError {
    OaiError::Internal(format!("writing an OAI-PMH answer: {err}"))
}

#[cfg(test)]
mod tests {
    use catalogue::OaiSet;

    use super::*;

    fn tenant() -> Tenant {
        Tenant { code: "demo".parse().unwrap(), name: "栞市立図書館".into(), created: 0 }
    }

    #[test]
    fn identifiers_name_a_record_of_this_library_only() {
        let tenant = tenant();
        assert_eq!(identifier(&tenant, 42), "oai:shiori:demo:42");
        assert_eq!(bib_of(&tenant, "oai:shiori:demo:42"), Some(42));
        for other in [
            "oai:shiori:other:42",
            "oai:shiori:demo:",
            "oai:shiori:demo:+4",
            "oai:x:demo:4",
            "42",
            "oai:shiori:demo:4x",
        ] {
            assert_eq!(bib_of(&tenant, other), None, "{other}");
        }
    }

    #[test]
    fn datestamps_are_utc_seconds() {
        assert_eq!(datestamp(1_796_083_205), "2026-12-01T00:00:05Z");
        assert_eq!(datestamp(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn empty_lists_say_what_was_asked() {
        let selection = OaiSelection { from: Some(0), until: None, set: Some(OaiSet::NdcClass(b'9')) };
        assert_eq!(
            no_records_message(&selection),
            "no record was added, changed or deleted from 1970-01-01T00:00:00Z, in set ndc:9"
        );
    }
}
