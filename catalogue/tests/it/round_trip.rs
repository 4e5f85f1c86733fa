//! Round trip through third-party tools: import -> export -> read back by pymarc,
//! yaz-marcdump and xmllint (installed by .ci/run). Each must see the same fields and
//! subfields the catalogue holds, and the MARCXML must be valid against MARC21slim.xsd.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use catalogue::{ExportFormat, Field};

use crate::fixtures::{Scratch, import, shared};

/// Every record as `tag ind1 ind2 $a value $b value …` lines (control fields: `tag value`).
fn our_view(catalogue: &catalogue::Catalogue) -> Vec<String> {
    let mut lines = Vec::new();
    for bib in catalogue.bibs_after(None, usize::MAX).unwrap() {
        let record = bib.record().unwrap();
        lines.push("=".to_string());
        for field in &record.fields {
            lines.push(match field {
                Field::Control { tag, value } => format!("{tag} {value}"),
                Field::Data { tag, ind1, ind2, subfields } => {
                    let subs: Vec<String> = subfields.iter().map(|s| format!("${}{}", s.code, s.value)).collect();
                    format!("{tag} {ind1}{ind2} {}", subs.join(""))
                }
            });
        }
    }
    lines
}

/// The same view as pymarc 5.4 sees it in an ISO 2709 or MARCXML file.
const PYMARC_VIEW: &str = r#"
import sys, pymarc
path, kind = sys.argv[1], sys.argv[2]
if kind == "xml":
    records = pymarc.parse_xml_to_array(path)
else:
    records = list(pymarc.MARCReader(open(path, "rb"), to_unicode=True, force_utf8=True))
out = []
for r in records:
    if r is None:
        raise SystemExit("pymarc could not read a record")
    out.append("=")
    for f in r.fields:
        if f.is_control_field():
            out.append(f"{f.tag} {f.data}")
        else:
            subs = "".join(f"${s.code}{s.value}" for s in f.subfields)
            out.append(f"{f.tag} {f.indicator1}{f.indicator2} {subs}")
sys.stdout.write("\n".join(out))
"#;

fn pymarc_view(path: &Path, kind: &str) -> Vec<String> {
    let output = Command::new("python3")
        .args(["-c", PYMARC_VIEW])
        .arg(path)
        .arg(kind)
        .output()
        .expect("python3 with pymarc (installed by .ci/run)");
    assert!(output.status.success(), "pymarc: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(str::to_string).collect()
}

fn export_to(catalogue: &catalogue::Catalogue, format: ExportFormat, path: &Path) {
    let mut file = std::fs::File::create(path).unwrap();
    catalogue::export(catalogue, format, &mut file).unwrap();
    file.flush().unwrap();
}

fn loaded(scratch: &Scratch) -> catalogue::Catalogue {
    let catalogue = scratch.catalogue("trip");
    for file in [
        "japanese/enju-jpmarc/jpmarc_marc21_enju.dat",
        "japanese/lc-jpn-subset/lc_booksall_2016_part01_jpn.mrc",
        "western/marc-perl/marc-charset__cjk1.marc",
        "western/marc-perl/marc-charset__hebrew1.marc",
        "western/pymarc-5.4.0/marc8.dat",
        "western/pymarc-5.4.0/test.dat",
        "western/marc-record-0.5.1/more_difficult.mrc",
        "western/pymarc-5.4.0/batch.xml",
    ] {
        let report = import(&catalogue, &shared(file)).unwrap();
        assert!(report.rejected.is_empty(), "{file}: {:?}", report.rejected);
    }
    catalogue
}

/// A catalogue loaded with the test sets and exported to a file in `format`.
fn exported(name: &str, format: ExportFormat) -> (Scratch, catalogue::Catalogue, std::path::PathBuf) {
    let scratch = Scratch::new(name);
    let catalogue = loaded(&scratch);
    let path = scratch.layout.root().join(match format {
        ExportFormat::Marc => "export.mrc",
        _ => "export.xml",
    });
    export_to(&catalogue, format, &path);
    (scratch, catalogue, path)
}

fn stored_fields(catalogue: &catalogue::Catalogue) -> Vec<Vec<Field>> {
    let bibs = catalogue.bibs_after(None, usize::MAX).unwrap();
    bibs.iter().map(|b| b.record().unwrap().fields).collect()
}

#[test]
fn pymarc_reads_the_iso2709_export_field_for_field() {
    let (_scratch, catalogue, path) = exported("trip-pymarc", ExportFormat::Marc);
    let ours = our_view(&catalogue);
    let theirs = pymarc_view(&path, "marc");
    // 7,728 Japanese records and 51 western ones.
    assert_eq!(catalogue.len().unwrap(), 7_779);
    assert_eq!(ours.iter().filter(|l| *l == "=").count(), 7_779);
    assert_eq!(ours.len(), theirs.len());
    for (ours, theirs) in ours.iter().zip(&theirs) {
        assert_eq!(ours, theirs);
    }
}

#[test]
fn pymarc_reads_the_marcxml_export_and_xmllint_validates_it() {
    let (_scratch, catalogue, path) = exported("trip-xml", ExportFormat::MarcXml);
    let schema = shared("../schemas/MARC21slim.xsd");
    let output = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&schema)
        .arg(&path)
        .output()
        .expect("xmllint (libxml2-utils, installed by .ci/run)");
    assert!(output.status.success(), "xmllint: {}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stderr).contains("validates"));
    let ours = our_view(&catalogue);
    let theirs = pymarc_view(&path, "xml");
    assert_eq!(ours, theirs);

    // And our own reader takes the export back unchanged.
    let data = std::fs::read(&path).unwrap();
    let back: Vec<_> = catalogue::read_records(&data).unwrap().map(|r| r.result.unwrap().0).collect();
    let stored = stored_fields(&catalogue);
    assert_eq!(back.iter().map(|r| r.fields.clone()).collect::<Vec<_>>(), stored);
}

#[test]
fn yaz_marcdump_round_trips_the_export_byte_for_byte() {
    let (_scratch, catalogue, path) = exported("trip-yaz", ExportFormat::Marc);
    let original = std::fs::read(&path).unwrap();
    let output = Command::new("yaz-marcdump")
        .args(["-i", "marc", "-o", "marc"])
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .expect("yaz-marcdump (yaz, installed by .ci/run)");
    assert!(output.status.success(), "yaz-marcdump: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.stdout.len(), original.len());
    assert!(output.stdout == original, "yaz-marcdump rewrote the export differently");

    // yaz's own MARCXML of our export is read by us into the same records.
    let xml = Command::new("yaz-marcdump").args(["-i", "marc", "-o", "marcxml"]).arg(&path).output().unwrap();
    assert!(xml.status.success());
    let back: Vec<_> = catalogue::read_records(&xml.stdout).unwrap().map(|r| r.result.unwrap().0.fields).collect();
    let stored = stored_fields(&catalogue);
    assert_eq!(back, stored);
}
