//! OAI-PMH at `/{tenant}/oai`: every verb and every error code, each answer validated by
//! xmllint against OAI-PMH.xsd (with oai_dc.xsd and MARC21slim.xsd for the metadata); a
//! harvest whose catalogue changes between its pages; and Sickle (PyPI), a harvester
//! nobody on this project wrote, harvesting fully and then incrementally over real HTTP.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use catalogue::{Catalogue, Field, Record, Subfield, Tag};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::support::{JAPAN_MARC, TestData};

const LC_DEMO: &str = "../fixtures/demo/lc-demo.mrc";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Validates an answer with xmllint against OAI-PMH.xsd and the metadata schemas.
fn validate(xml: &str, what: &str) {
    let schema = workspace().join("../shared/schemas/oai-all.xsd");
    assert!(schema.exists(), "{} is missing: the OAI-PMH schemas come with ../shared", schema.display());
    let dir = std::env::temp_dir().join(format!("shiori-oai-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{:x}.xml", xml.len() ^ (xml.as_ptr() as usize)));
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&file)
        .output()
        .expect("xmllint is needed (apt-get install -y libxml2-utils; scripts/test.sh installs it)");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{what}: not valid OAI-PMH:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        &xml[..xml.len().min(3000)]
    );
}

async fn oai(app: &axum::Router, query: &str) -> String {
    let response = app
        .clone()
        .oneshot(Request::get(format!("/tosho/oai?{query}")).header("host", "localhost").body(Body::empty()).unwrap())
        .await;
    let response = response.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let content_type = response.headers().get("content-type").unwrap().to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/xml"), "{content_type}");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let xml = String::from_utf8(body.to_vec()).unwrap();
    validate(&xml, query);
    xml
}

fn error_code(xml: &str) -> Option<&str> {
    let start = xml.find("<error code=\"")? + 13;
    Some(&xml[start..start + xml[start..].find('"')?])
}

fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}");
    let start = xml.find(&open)?;
    let body = start + xml[start..].find('>')? + 1;
    if xml[..body].ends_with("/>") {
        return Some("");
    }
    let end = body + xml[body..].find(&format!("</{name}>"))?;
    Some(&xml[body..end])
}

/// The identifiers of a list page (bib ids) with whether each is deleted.
fn headers(xml: &str) -> Vec<(u64, bool)> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(at) = rest.find("<header") {
        rest = &rest[at..];
        let deleted = rest[..rest.find('>').unwrap()].contains("status=\"deleted\"");
        let id = element(rest, "identifier").unwrap();
        out.push((id.rsplit(':').next().unwrap().parse().unwrap(), deleted));
        rest = &rest[7..];
    }
    out
}

/// The resumptionToken of a page (None: no element; Some(""): the last page's empty one).
fn token(xml: &str) -> Option<String> {
    element(xml, "resumptionToken").map(str::to_owned)
}

fn attribute<'a>(xml: &'a str, element: &str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{element}"))?;
    let tag = &xml[start..start + xml[start..].find('>')?];
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&tag[at..at + tag[at..].find('"')?])
}

fn live_ids(catalogue: &Catalogue) -> Vec<u64> {
    catalogue.bibs_after(None, usize::MAX).unwrap().into_iter().map(|b| b.id).collect()
}

/// A record changed (a note added) or, with `new_number`, a new record made from it.
fn edited(catalogue: &Catalogue, bib: u64, new_number: Option<&str>) -> Record {
    let mut record = catalogue.get(bib).unwrap().unwrap().record().unwrap();
    record.fields.push(Field::Data {
        tag: Tag::new(*b"500").unwrap(),
        ind1: ' ',
        ind2: ' ',
        subfields: vec![Subfield { code: 'a', value: "OAI-PMH のテストで加えた注記".into() }],
    });
    if let Some(number) = new_number {
        record.set_control(Tag::new(*b"001").unwrap(), number.into());
    }
    record
}

#[tokio::test]
async fn every_verb_and_every_error_answers_valid_oai_pmh() {
    let data = TestData::new("oai-verbs");
    drop(data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]));
    drop(data.tenant("lc", "LC Demo", &[LC_DEMO]));
    drop(data.tenant("empty", "まだ空の図書館", &[]));
    let state = data.state();
    let app = search_api::router(state.clone());
    let catalogue = state.library("tosho").unwrap().catalogue.clone();
    let ids = live_ids(&catalogue);
    assert!(ids.len() > 200, "{}", ids.len());

    let xml = oai(&app, "verb=Identify").await;
    assert_eq!(element(&xml, "repositoryName"), Some("栞市立図書館"));
    assert_eq!(element(&xml, "baseURL"), Some("http://localhost/tosho/oai"));
    assert_eq!(element(&xml, "deletedRecord"), Some("persistent"));
    assert_eq!(element(&xml, "granularity"), Some("YYYY-MM-DDThh:mm:ssZ"));
    assert!(xml.contains("<request verb=\"Identify\">"), "{xml}");

    let xml = oai(&app, "verb=ListMetadataFormats").await;
    assert!(
        xml.contains("<metadataPrefix>oai_dc</metadataPrefix>")
            && xml.contains("<metadataPrefix>marcxml</metadataPrefix>")
    );
    let first = format!("oai:shiori:tosho:{}", ids[0]);
    let xml = oai(&app, &format!("verb=ListMetadataFormats&identifier={first}")).await;
    assert_eq!(error_code(&xml), None, "{xml}");

    let xml = oai(&app, "verb=ListSets").await;
    assert!(xml.contains("<setSpec>ndc</setSpec>") && xml.contains("<setSpec>ndc:9</setSpec>"), "{xml}");

    for prefix in ["oai_dc", "marcxml"] {
        let xml = oai(&app, &format!("verb=GetRecord&identifier={first}&metadataPrefix={prefix}")).await;
        assert_eq!(headers(&xml), vec![(ids[0], false)]);
        assert!(xml.contains("<metadata>"), "{xml}");
    }

    // ListRecords pages of 100 and ListIdentifiers of 500: the 233 records in 3 and in 1.
    let xml = oai(&app, "verb=ListRecords&metadataPrefix=marcxml").await;
    assert_eq!(headers(&xml).len(), 100);
    assert_eq!(attribute(&xml, "resumptionToken", "completeListSize"), Some(ids.len().to_string().as_str()));
    assert_eq!(attribute(&xml, "resumptionToken", "cursor"), Some("0"));
    assert!(attribute(&xml, "resumptionToken", "expirationDate").is_some());
    let xml = oai(&app, "verb=ListIdentifiers&metadataPrefix=oai_dc").await;
    assert_eq!(headers(&xml).iter().map(|h| h.0).collect::<Vec<_>>(), ids, "in datestamp order, all in one page");
    assert_eq!(token(&xml), None);

    // A set: only the records of NDC class 9, each saying so.
    let xml = oai(&app, "verb=ListIdentifiers&metadataPrefix=oai_dc&set=ndc:9").await;
    let in_set = headers(&xml).len();
    assert!(in_set > 0 && in_set < ids.len(), "{in_set}");
    assert_eq!(xml.matches("<setSpec>ndc:9</setSpec>").count(), in_set);

    // Every error condition with its code; bad arguments are not echoed in <request>.
    for (query, code) in [
        ("verb=Harvest", "badVerb"),
        ("", "badVerb"),
        ("verb=ListRecords", "badArgument"),
        ("verb=Identify&verb=Identify", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2026-12-01&until=2026-12-01T00:00:00Z", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=yesterday", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=%FF%FE", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&set=branch:chuo", "badArgument"),
        ("verb=ListRecords&resumptionToken=0123.1.2.3", "badResumptionToken"),
        ("verb=ListIdentifiers&resumptionToken=%3Cscript%3E", "badResumptionToken"),
        ("verb=ListRecords&metadataPrefix=mods", "cannotDisseminateFormat"),
        ("verb=GetRecord&identifier=oai:shiori:tosho:999999&metadataPrefix=oai_dc", "idDoesNotExist"),
        ("verb=GetRecord&identifier=oai:shiori:lc:1&metadataPrefix=oai_dc", "idDoesNotExist"),
        ("verb=ListMetadataFormats&identifier=oai:elsewhere:1", "idDoesNotExist"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2100-01-01", "noRecordsMatch"),
    ] {
        let xml = oai(&app, query).await;
        assert_eq!(error_code(&xml), Some(code), "{query}: {xml}");
        if matches!(code, "badVerb" | "badArgument") {
            assert!(xml.contains("<request>http://localhost/tosho/oai</request>"), "{query}: {xml}");
        }
    }
    // A library with no record carrying an NDC number has no sets, and no records to list.
    for (query, code) in
        [("verb=ListSets", "noSetHierarchy"), ("verb=ListRecords&metadataPrefix=oai_dc", "noRecordsMatch")]
    {
        let empty = app
            .clone()
            .oneshot(
                Request::get(format!("/empty/oai?{query}")).header("host", "localhost").body(Body::empty()).unwrap(),
            )
            .await
            .unwrap();
        let xml = String::from_utf8(empty.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        validate(&xml, query);
        assert_eq!(error_code(&xml), Some(code), "{xml}");
    }
    // LC catalogues some Japanese books with an NDC number (084 $2 njb) too: sets.
    let lc = app
        .clone()
        .oneshot(Request::get("/lc/oai?verb=ListSets").header("host", "localhost").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let xml = String::from_utf8(lc.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    validate(&xml, "lc ListSets");
    assert_eq!(error_code(&xml), None, "{xml}");

    // POST with a form body answers the same; an unknown library is a 404.
    let posted = app
        .clone()
        .oneshot(
            Request::post("/tosho/oai")
                .header("host", "localhost")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("verb=ListIdentifiers&metadataPrefix=oai_dc"))
                .unwrap(),
        )
        .await
        .unwrap();
    let posted = String::from_utf8(posted.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert_eq!(headers(&posted).len(), ids.len());
    let missing =
        app.clone().oneshot(Request::get("/nowhere/oai?verb=Identify").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_harvest_sees_one_catalogue_while_it_changes_and_the_next_one_sees_the_changes() {
    let data = TestData::new("oai-snapshot");
    drop(data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]));
    let state = data.state();
    let app = search_api::router(state.clone());
    let catalogue = state.library("tosho").unwrap().catalogue.clone();
    let before = live_ids(&catalogue);
    // The next harvest's `from` is this one's responseDate; changes made in a later second
    // must be the only ones it lists.
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let page1 = oai(&app, "verb=ListRecords&metadataPrefix=oai_dc").await;
    let started = element(&page1, "responseDate").unwrap().to_owned();
    let mut harvested: Vec<u64> = headers(&page1).iter().map(|h| h.0).collect();
    let token1 = token(&page1).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));

    // Between pages: a record not yet harvested changes, one is deleted, one is added.
    let changed = *before.last().unwrap();
    let deleted = before[150];
    catalogue.upsert(vec![edited(&catalogue, changed, None)], "edit").unwrap();
    assert!(catalogue.delete(deleted).unwrap());
    let added = match catalogue.upsert(vec![edited(&catalogue, before[0], Some("OAITEST1"))], "new").unwrap()[0] {
        catalogue::Outcome::Created(id) => id,
        other => panic!("{other:?}"),
    };

    // The rest of the harvest is the catalogue as it was: every record once, none twice.
    let page2 = oai(&app, &format!("verb=ListRecords&resumptionToken={token1}")).await;
    assert_eq!(attribute(&page2, "resumptionToken", "cursor"), Some("100"));
    // A harvester retrying a page gets the same page.
    let again = oai(&app, &format!("verb=ListRecords&resumptionToken={token1}")).await;
    assert_eq!(headers(&again), headers(&page2));
    harvested.extend(headers(&page2).iter().map(|h| h.0));
    let token2 = token(&page2).unwrap();
    assert!(!token2.is_empty());
    // The token of a ListRecords harvest is not one of ListIdentifiers.
    let wrong = oai(&app, &format!("verb=ListIdentifiers&resumptionToken={token2}")).await;
    assert_eq!(error_code(&wrong), Some("badResumptionToken"));
    let page3 = oai(&app, &format!("verb=ListRecords&resumptionToken={token2}")).await;
    assert_eq!(token(&page3).as_deref(), Some(""), "the last page ends the list with an empty token");
    assert_eq!(attribute(&page3, "resumptionToken", "completeListSize"), Some(before.len().to_string().as_str()));
    harvested.extend(headers(&page3).iter().map(|h| h.0));
    let mut sorted = harvested.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, before, "the harvest is the catalogue when it began, each record once");

    // The next harvest from when this one began lists exactly the three changes.
    let next = oai(&app, &format!("verb=ListIdentifiers&metadataPrefix=oai_dc&from={started}")).await;
    let mut changes = headers(&next);
    changes.sort_unstable();
    assert_eq!(changes, vec![(deleted, true), (changed, false), (added, false)]);
    // The deleted record stays reported as deleted, GetRecord included, with no metadata.
    let gone = oai(&app, &format!("verb=GetRecord&identifier=oai:shiori:tosho:{deleted}&metadataPrefix=marcxml")).await;
    assert_eq!(headers(&gone), vec![(deleted, true)]);
    assert!(!gone.contains("<metadata>"), "{gone}");
    // Applied to the first harvest, the changes give the catalogue as it is now.
    let mut mirror: BTreeMap<u64, ()> = harvested.iter().map(|&id| (id, ())).collect();
    for (id, is_deleted) in changes {
        if is_deleted {
            mirror.remove(&id);
        } else {
            mirror.insert(id, ());
        }
    }
    assert_eq!(mirror.into_keys().collect::<Vec<_>>(), live_ids(&catalogue));
}

/// Sickle harvests over real HTTP: fully in oai_dc and marcxml, then incrementally after
/// records are added, changed and deleted; the mirror equals the catalogue at each step,
/// and every page it was sent validates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sickle_harvests_fully_then_incrementally() {
    let data = TestData::new("oai-sickle");
    drop(data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]));
    let state = data.state();
    let catalogue = state.library("tosho").unwrap().catalogue.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = search_api::router(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let base = format!("http://{address}/tosho/oai");
    let script = workspace().join("search-api/tests/e2e/oai_harvest.py");
    let pages = data.root.join("pages");

    let run = |args: Vec<String>| {
        let script = script.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let out = Command::new("python3")
                    .arg(&script)
                    .args(&args)
                    .output()
                    .expect("python3 with sickle (pip install sickle==0.7.0; scripts/test.sh installs it)");
                assert!(
                    out.status.success(),
                    "oai_harvest.py {args:?} failed:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let text = String::from_utf8(out.stdout).unwrap();
                serde_json::from_str::<serde_json::Value>(&text).unwrap()
            })
            .await
            .unwrap()
        }
    };
    let ids_of = |value: &serde_json::Value| -> BTreeMap<u64, bool> {
        value["items"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(id, deleted)| (id.rsplit(':').next().unwrap().parse().unwrap(), deleted.as_bool().unwrap()))
            .collect()
    };
    let validate_pages = |dir: &Path| -> usize {
        let mut count = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            validate(&std::fs::read_to_string(&path).unwrap(), &path.display().to_string());
            count += 1;
        }
        count
    };

    let mut mirror = BTreeMap::new();
    let mut since = String::new();
    for prefix in ["oai_dc", "marcxml"] {
        let dir = pages.join(format!("full-{prefix}"));
        let full = run(vec![base.clone(), prefix.into(), dir.display().to_string()]).await;
        let items = ids_of(&full);
        assert!(items.values().all(|deleted| !deleted));
        assert_eq!(items.keys().copied().collect::<Vec<_>>(), live_ids(&catalogue), "{prefix}: the whole catalogue");
        assert_eq!(full["records_with_metadata"].as_u64(), Some(items.len() as u64), "{prefix}: {full}");
        assert!(validate_pages(&dir) >= 3, "{prefix}: pages of 100");
        mirror = items;
        since = full["response_date"].as_str().unwrap().to_owned();
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let ids = live_ids(&catalogue);
    catalogue.upsert(vec![edited(&catalogue, ids[3], None)], "edit").unwrap();
    assert!(catalogue.delete(ids[4]).unwrap());
    catalogue.upsert(vec![edited(&catalogue, ids[5], Some("OAITEST2"))], "new").unwrap();

    let dir = pages.join("incremental");
    let incremental = run(vec![base.clone(), "marcxml".into(), dir.display().to_string(), since]).await;
    let changes = ids_of(&incremental);
    assert_eq!(changes.len(), 3, "only what changed: {incremental}");
    validate_pages(&dir);
    for (id, deleted) in changes {
        if deleted {
            mirror.remove(&id);
        } else {
            mirror.insert(id, false);
        }
    }
    assert_eq!(mirror.keys().copied().collect::<Vec<_>>(), live_ids(&catalogue));
}
