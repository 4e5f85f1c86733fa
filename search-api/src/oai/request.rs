//! An OAI-PMH request read from its arguments (query string of a GET, or the form body of
//! a POST), checked as the protocol requires: the verb, the arguments each verb allows
//! (required, optional, exclusive), none repeated, dates in one of the two granularities.

use catalogue::{OaiSelection, OaiSet};
use jiff::Timestamp;
use jiff::civil::Date;

use super::OaiError;

/// The metadata formats the repository disseminates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetadataFormat {
    /// Unqualified Dublin Core (`oai_dc`), which every repository must offer.
    OaiDc,
    /// MARCXML (MARC 21 slim), the catalogue record itself.
    MarcXml,
}

impl MetadataFormat {
    /// Every format, in the order ListMetadataFormats names them.
    pub(crate) const ALL: [MetadataFormat; 2] = [MetadataFormat::OaiDc, MetadataFormat::MarcXml];

    /// The metadataPrefix.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            MetadataFormat::OaiDc => "oai_dc",
            MetadataFormat::MarcXml => "marcxml",
        }
    }

    /// The format's XML schema.
    pub(crate) fn schema(self) -> &'static str {
        match self {
            MetadataFormat::OaiDc => "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
            MetadataFormat::MarcXml => "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
        }
    }

    /// The format's XML namespace.
    pub(crate) fn namespace(self) -> &'static str {
        match self {
            MetadataFormat::OaiDc => "http://www.openarchives.org/OAI/2.0/oai_dc/",
            MetadataFormat::MarcXml => "http://www.loc.gov/MARC21/slim",
        }
    }

    fn parse(prefix: &str) -> Result<MetadataFormat, OaiError> {
        match prefix {
            "oai_dc" => Ok(MetadataFormat::OaiDc),
            // `marc21` is what several harvesters (and other repositories) call it.
            "marcxml" | "marc21" => Ok(MetadataFormat::MarcXml),
            other => Err(OaiError::CannotDisseminateFormat(format!(
                "metadataPrefix {other:?} is not disseminated: use oai_dc or marcxml"
            ))),
        }
    }
}

/// ListIdentifiers or ListRecords: the two lists that page with resumption tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListVerb {
    /// Headers only.
    Identifiers,
    /// Headers and metadata.
    Records,
}

impl ListVerb {
    /// The verb as the protocol spells it.
    pub(crate) fn verb(self) -> &'static str {
        match self {
            ListVerb::Identifiers => "ListIdentifiers",
            ListVerb::Records => "ListRecords",
        }
    }
}

/// A first list request (not a resumption).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListRequest {
    /// Which list.
    pub(crate) verb: ListVerb,
    /// The format.
    pub(crate) format: MetadataFormat,
    /// Datestamps and set.
    pub(crate) selection: OaiSelection,
}

/// A request, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OaiRequest {
    /// Identify.
    Identify,
    /// ListMetadataFormats, for the repository or one item.
    ListMetadataFormats {
        /// The item, if one was named.
        identifier: Option<String>,
    },
    /// ListSets (no resumption: the sets fit one answer).
    ListSets,
    /// GetRecord.
    GetRecord {
        /// The item's identifier as given.
        identifier: String,
        /// The format.
        format: MetadataFormat,
    },
    /// The first page of a list.
    List(ListRequest),
    /// A later page: the token as given.
    Resume {
        /// Which list the token must belong to.
        verb: ListVerb,
        /// The resumptionToken.
        token: String,
    },
}

impl OaiRequest {
    /// Reads the arguments. A repeated argument, one the verb does not allow, a missing
    /// required one or an exclusive one with others is `badArgument`; a missing or unknown
    /// verb `badVerb`.
    pub(crate) fn parse(pairs: &[(String, String)]) -> Result<OaiRequest, OaiError> {
        for (index, (key, _)) in pairs.iter().enumerate() {
            if pairs[..index].iter().any(|(k, _)| k == key) {
                return Err(OaiError::BadArgument(format!("the argument {key} is repeated")));
            }
        }
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let verb = match get("verb") {
            Some(verb) => verb,
            None => return Err(OaiError::BadVerb("the verb argument is missing".to_owned())),
        };
        let allow = |allowed: &[&str]| -> Result<(), OaiError> {
            match pairs.iter().find(|(k, _)| k != "verb" && !allowed.contains(&k.as_str())) {
                Some((key, _)) => Err(OaiError::BadArgument(format!("{verb} does not take the argument {key}"))),
                None => Ok(()),
            }
        };
        let required = |name: &str| -> Result<&str, OaiError> {
            get(name).ok_or_else(|| OaiError::BadArgument(format!("{verb} requires the argument {name}")))
        };
        match verb {
            "Identify" => {
                allow(&[])?;
                Ok(OaiRequest::Identify)
            }
            "ListMetadataFormats" => {
                allow(&["identifier"])?;
                Ok(OaiRequest::ListMetadataFormats { identifier: get("identifier").map(str::to_owned) })
            }
            "ListSets" => {
                if let Some(token) = get("resumptionToken") {
                    allow(&["resumptionToken"])?;
                    // Every set is in the first answer, which issues no token.
                    return Err(OaiError::BadResumptionToken(format!(
                        "{token:?} is not a token of this repository: ListSets answers in one page"
                    )));
                }
                allow(&[])?;
                Ok(OaiRequest::ListSets)
            }
            "GetRecord" => {
                allow(&["identifier", "metadataPrefix"])?;
                let identifier = required("identifier")?.to_owned();
                let format = MetadataFormat::parse(required("metadataPrefix")?)?;
                Ok(OaiRequest::GetRecord { identifier, format })
            }
            "ListIdentifiers" | "ListRecords" => {
                let list = if verb == "ListRecords" { ListVerb::Records } else { ListVerb::Identifiers };
                if let Some(token) = get("resumptionToken") {
                    if pairs.len() > 2 {
                        return Err(OaiError::BadArgument(
                            "resumptionToken is an exclusive argument: give it alone with the verb".to_owned(),
                        ));
                    }
                    return Ok(OaiRequest::Resume { verb: list, token: token.to_owned() });
                }
                allow(&["metadataPrefix", "from", "until", "set"])?;
                let prefix = required("metadataPrefix")?;
                let from = get("from").map(|v| parse_date(v, "from")).transpose()?;
                let until = get("until").map(|v| parse_date(v, "until")).transpose()?;
                if let (Some(from), Some(until)) = (from, until) {
                    if from.seconds != until.seconds {
                        return Err(OaiError::BadArgument(
                            "from and until must have the same granularity (both days or both seconds)".to_owned(),
                        ));
                    }
                    if from.start > until.end {
                        return Err(OaiError::BadArgument("from is later than until".to_owned()));
                    }
                }
                let set = match get("set") {
                    Some(spec) => Some(OaiSet::parse(spec).ok_or_else(|| {
                        OaiError::BadArgument(format!(
                            "there is no set {spec:?}: the sets are ndc and ndc:0 to ndc:9 (see ListSets)"
                        ))
                    })?),
                    None => None,
                };
                // The format is checked after the arguments' syntax: a bad date is
                // badArgument whatever the prefix.
                let format = MetadataFormat::parse(prefix)?;
                Ok(OaiRequest::List(ListRequest {
                    verb: list,
                    format,
                    selection: OaiSelection { from: from.map(|d| d.start), until: until.map(|d| d.end), set },
                }))
            }
            other => Err(OaiError::BadVerb(format!(
                "{other:?} is not an OAI-PMH verb: use Identify, ListMetadataFormats, ListSets, GetRecord, \
                 ListIdentifiers or ListRecords"
            ))),
        }
    }
}

/// A from or until argument: the first and last second it covers, and its granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DateArgument {
    start: i64,
    end: i64,
    seconds: bool,
}

/// `YYYY-MM-DD` (the whole day, UTC) or `YYYY-MM-DDThh:mm:ssZ`.
fn parse_date(value: &str, name: &str) -> Result<DateArgument, OaiError> {
    let bad = || {
        OaiError::BadArgument(format!(
            "{name}={value:?} is not a date of this repository: give YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)"
        ))
    };
    match value.len() {
        10 => {
            let date: Date = value.parse().map_err(|_| bad())?;
            let start = date.to_zoned(jiff::tz::TimeZone::UTC).map_err(|_| bad())?.timestamp().as_second();
            Ok(DateArgument { start, end: start + 86_399, seconds: false })
        }
        20 if value.ends_with('Z') && value.as_bytes().get(10) == Some(&b'T') => {
            let at: Timestamp = value.parse().map_err(|_| bad())?;
            Ok(DateArgument { start: at.as_second(), end: at.as_second(), seconds: true })
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<OaiRequest, OaiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        OaiRequest::parse(&pairs)
    }

    fn code(query: &str) -> &'static str {
        parse(query).unwrap_err().code()
    }

    #[test]
    fn verbs_with_their_arguments() {
        assert_eq!(parse("verb=Identify").unwrap(), OaiRequest::Identify);
        assert_eq!(
            parse("verb=GetRecord&identifier=oai:shiori:demo:1&metadataPrefix=marcxml").unwrap(),
            OaiRequest::GetRecord { identifier: "oai:shiori:demo:1".into(), format: MetadataFormat::MarcXml }
        );
        let OaiRequest::List(list) =
            parse("verb=ListRecords&metadataPrefix=oai_dc&from=2026-12-01&until=2026-12-07&set=ndc:9").unwrap()
        else {
            panic!("a list")
        };
        assert_eq!(list.verb, ListVerb::Records);
        assert_eq!(list.selection.from, Some(1_796_083_200));
        assert_eq!(list.selection.until, Some(1_796_083_200 + 7 * 86_400 - 1));
        assert_eq!(list.selection.set, Some(OaiSet::NdcClass(b'9')));
        let OaiRequest::List(list) =
            parse("verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-12-01T00:00:05Z").unwrap()
        else {
            panic!("a list")
        };
        assert_eq!(list.selection.from, Some(1_796_083_205));
        assert_eq!(
            parse("verb=ListRecords&resumptionToken=abc").unwrap(),
            OaiRequest::Resume { verb: ListVerb::Records, token: "abc".into() }
        );
    }

    #[test]
    fn every_protocol_error_has_its_code() {
        assert_eq!(code(""), "badVerb");
        assert_eq!(code("verb=Search"), "badVerb");
        assert_eq!(code("verb=Identify&verb=Identify"), "badArgument");
        assert_eq!(code("verb=Identify&x=1"), "badArgument");
        assert_eq!(code("verb=GetRecord&identifier=x"), "badArgument");
        assert_eq!(code("verb=GetRecord&identifier=x&metadataPrefix=mods"), "cannotDisseminateFormat");
        assert_eq!(code("verb=ListRecords"), "badArgument");
        assert_eq!(code("verb=ListRecords&metadataPrefix=oai_dc&from=2026-13-01"), "badArgument");
        assert_eq!(code("verb=ListRecords&metadataPrefix=oai_dc&from=2026-12-01T10:00:00"), "badArgument");
        assert_eq!(
            code("verb=ListRecords&metadataPrefix=oai_dc&from=2026-12-01&until=2026-12-01T00:00:00Z"),
            "badArgument"
        );
        assert_eq!(code("verb=ListRecords&metadataPrefix=oai_dc&from=2026-12-02&until=2026-12-01"), "badArgument");
        assert_eq!(code("verb=ListRecords&metadataPrefix=oai_dc&set=lang:jpn"), "badArgument");
        assert_eq!(code("verb=ListRecords&metadataPrefix=mods"), "cannotDisseminateFormat");
        assert_eq!(code("verb=ListRecords&resumptionToken=abc&metadataPrefix=oai_dc"), "badArgument");
        assert_eq!(code("verb=ListSets&resumptionToken=abc"), "badResumptionToken");
        // The same day as from and until is one whole day.
        assert!(parse("verb=ListRecords&metadataPrefix=oai_dc&from=2026-12-01&until=2026-12-01").is_ok());
    }
}
