//! Importing the MARC sets of ../shared/fixtures: exact counts per file, malformed files
//! rejected record by record without losing their good neighbours, MARC-8 (with EACC CJK)
//! stored as UTF-8, lying Leader/09s read right, and re-import as an upsert.

use std::path::{Path, PathBuf};

use catalogue::{Catalogue, DataLayout, Error, ImportReport, SourceEncoding, System, TenantCode};

pub(crate) fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures").join(path)
}

/// A data folder in the system temp folder, removed when dropped.
pub(crate) struct Scratch {
    pub(crate) layout: DataLayout,
    root: PathBuf,
}

impl Scratch {
    pub(crate) fn new(name: &str) -> Self {
        let root = std::env::temp_dir().join(format!("shiori-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        Scratch { layout: DataLayout::new(&root), root }
    }

    pub(crate) fn catalogue(&self, code: &str) -> Catalogue {
        let code: TenantCode = code.parse().unwrap();
        System::open(&self.layout).unwrap().create_tenant(&code, "test library").unwrap();
        Catalogue::open(&self.layout, &code).unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

pub(crate) fn import(catalogue: &Catalogue, path: &Path) -> Result<ImportReport, Error> {
    catalogue::import_file(catalogue, path, &mut |_, _| {})
}

const NOT_MARC: usize = usize::MAX;

/// Distinct records (by 003 + 001) among the stored ones of `WESTERN`.
const DISTINCT_WESTERN: u64 = 285;

/// Every MARC file of the western sets: records read, records rejected. Rejections are
/// the files' deliberate faults (MANIFEST.md lists them) and formats that are not MARC 21:
/// danMARC2 (YAZ), UNIMARC in CP866 (ruby-marc), CP1251 without a MARC-8 escape (pymarc
/// 1251.dat), MODS inside SRU responses (enju-loc-sru-mods).
const WESTERN: &[(&str, usize, usize)] = &[
    ("enju-loc-sru-mods/lx2.loc.gov_05be7a324cd1.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_0b999d618e93.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_1cf1d6b51552.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_213460814ee0.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_3057797ca2a0.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_350a78247dd8.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_377c7b7c576b.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_3d7f66533264.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_418f2f7e7def.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_41f04135f59c.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_469330140870.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_4edac1a919bc.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_52b876afb5b1.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_5822a9aeedba.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_63f029176420.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_6bea2bc4ffe0.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_7148f5bd5010.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_73b8b28f7b81.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_7400c75dbfb9.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_77af1b8865af.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_78e8d18c35e0.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_7db5d2433e46.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_7e86786db99e.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_802e31fc4b86.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_80de976302f6.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_8ba9f7e31672.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_8bdd8495c141.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_900eea46f395.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_923338970f39.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_926336dca7a7.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_9a0591f53a45.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_a186eda1cd8e.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_a5feaea45195.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_a7081f2dc0c0.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_ab07c37890da.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_ae7913a907e0.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_b97664f25f72.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_c13cd3db38fa.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_c5cca21e8f58.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_d0c162149c73.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_d3ff53e51811.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_d4880e0db1ab.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_da661fa0c73e.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_da74fdcf2ea2.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_dee4d9728143.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_e5241e90a3d1.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_ec3526dd6343.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_ed8f4d92e452.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_f67b6e13e40b.xml", NOT_MARC, 0),
    ("enju-loc-sru-mods/lx2.loc.gov_f8f596f4c2ff.xml", NOT_MARC, 0),
    ("marc-perl/marc-charset__cjk1.marc", 1, 0),
    ("marc-perl/marc-charset__cjk2.marc", 1, 0),
    ("marc-perl/marc-charset__cjk3.marc", 1, 0),
    ("marc-perl/marc-charset__cjk4.marc", 1, 0),
    ("marc-perl/marc-charset__cyrillic.marc", 1, 0),
    ("marc-perl/marc-charset__farsi.marc", NOT_MARC, 0),
    ("marc-perl/marc-charset__hebrew1.marc", 1, 0),
    ("marc-perl/marc-charset__hebrew2.marc", 1, 0),
    ("marc-perl/marc-charset__hebrew3.marc", 1, 0),
    ("marc-perl/marc-charset__hebrew4.marc", 1, 0),
    ("marc-perl/marc-lint__camel.usmarc", 11, 0),
    ("marc-perl/marc-mij__test.mrc", 9, 0),
    ("marc-perl/marc-record__baddir.usmarc", 1, 0),
    ("marc-perl/marc-record__badind.usmarc", 1, 1),
    ("marc-perl/marc-record__badldr.usmarc", 8, 2),
    ("marc-perl/marc-record__camel.usmarc", 10, 0),
    ("marc-perl/marc-record__cameleof.usmarc", 10, 0),
    ("marc-perl/marc-record__filler.usmarc", 3, 0),
    ("marc-perl/marc-record__sample1.usmarc", 1, 0),
    ("marc-perl/marc-record__sample1eof.usmarc", 1, 0),
    ("marc-perl/marc-record__title_proper.usmarc", 5, 0),
    ("marc-perl/marc-xml__batch-ns.xml", 10, 0),
    ("marc-perl/marc-xml__batch.xml", 10, 0),
    ("marc-perl/marc-xml__empty-record-2.xml", 1, 1),
    ("marc-perl/marc-xml__empty-record.xml", 1, 1),
    ("marc-perl/marc-xml__escape.mrc", 1, 0),
    ("marc-perl/marc-xml__invalid.xml", NOT_MARC, 0),
    ("marc-perl/marc-xml__namespace.xml", 1, 0),
    ("marc-perl/marc-xml__record.dat", 1, 0),
    ("marc-perl/marc-xml__subfield0.xml", 1, 0),
    ("marc-record-0.5.1/marc8_multiple.mrc", 109, 0),
    ("marc-record-0.5.1/more_difficult.mrc", 36, 0),
    ("pymarc-5.4.0/1251.dat", 6, 6),
    ("pymarc-5.4.0/alphatag.dat", 1, 0),
    ("pymarc-5.4.0/bad_eacc_encoding.dat", 1, 1),
    ("pymarc-5.4.0/bad_indicator.dat", 1, 1),
    ("pymarc-5.4.0/bad_marc8_escape.dat", 1, 1),
    ("pymarc-5.4.0/bad_records.mrc", 9, 6),
    ("pymarc-5.4.0/bad_subfield_code.dat", 1, 1),
    ("pymarc-5.4.0/bad_tag.xml", 1, 1),
    ("pymarc-5.4.0/batch.xml", 2, 0),
    ("pymarc-5.4.0/diacritic.dat", 1, 0),
    ("pymarc-5.4.0/marc.dat", 20, 0),
    ("pymarc-5.4.0/marc8-to-unicode.dat", 1, 0),
    ("pymarc-5.4.0/marc8.dat", 1, 0),
    ("pymarc-5.4.0/multi_isbn.dat", 1, 0),
    ("pymarc-5.4.0/one.dat", 1, 0),
    ("pymarc-5.4.0/regression45.dat", 12, 0),
    ("pymarc-5.4.0/test.dat", 10, 0),
    ("pymarc-5.4.0/testunimarc.dat", 1, 0),
    ("pymarc-5.4.0/utf8.xml", 1, 0),
    ("pymarc-5.4.0/utf8_errors.dat", 1, 0),
    ("pymarc-5.4.0/utf8_invalid.mrc", 1, 1),
    ("pymarc-5.4.0/utf8_with_leader_flag.dat", 1, 0),
    ("pymarc-5.4.0/utf8_without_leader_flag.dat", 1, 0),
    ("ruby-marc/bad_eacc_encoding.marc8.marc", 1, 1),
    ("ruby-marc/batch.dat", 10, 0),
    ("ruby-marc/batch.xml", 2, 0),
    ("ruby-marc/cp866_multirecord.marc", 2, 2),
    ("ruby-marc/cp866_unimarc.marc", 1, 1),
    ("ruby-marc/escaped_character_reference.marc8.marc", 1, 0),
    ("ruby-marc/marc8_accented_chars.marc", 1, 0),
    ("ruby-marc/marc_with_bad_utf8.utf8.marc", 1, 1),
    ("ruby-marc/messed_up_leader.xml", 1, 0),
    ("ruby-marc/no-leading-zero.xml", 1, 0),
    ("ruby-marc/non-numeric.dat", 1, 0),
    ("ruby-marc/non-numeric.xml", 1, 0),
    ("ruby-marc/one.dat", 1, 0),
    ("ruby-marc/one.xml", 1, 0),
    ("ruby-marc/random_tag_order.dat", 1, 0),
    ("ruby-marc/random_tag_order2.dat", 1, 0),
    ("ruby-marc/three-records-second-bad.xml", 3, 1),
    ("ruby-marc/utf8.marc", 1, 0),
    ("ruby-marc/utf8_multirecord.marc", 2, 0),
    ("ruby-marc/utf8_with_bad_bytes.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc-all.marc", 10, 6),
    ("yaz-5.34.0/marc-files/marc0.json.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc0.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc0.xml", 1, 1),
    ("yaz-5.34.0/marc-files/marc0.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc1.json.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc1.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc1.xml", 1, 0),
    ("yaz-5.34.0/marc-files/marc1.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc10.json.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc10.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc10.xml", 1, 0),
    ("yaz-5.34.0/marc-files/marc10.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc11.json.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc11.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc11.xml", 1, 0),
    ("yaz-5.34.0/marc-files/marc11.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc2.json.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc2.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc2.xml", 1, 1),
    ("yaz-5.34.0/marc-files/marc2.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc3.json.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc3.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc3.xml", 1, 0),
    ("yaz-5.34.0/marc-files/marc3.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc4.json.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc4.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc4.xml", 1, 1),
    ("yaz-5.34.0/marc-files/marc4.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc5.json.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc5.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc5.xml", 1, 1),
    ("yaz-5.34.0/marc-files/marc5.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/marc6.json.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc6.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc6.xml", 1, 0),
    ("yaz-5.34.0/marc-files/marc6.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc7.json.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc7.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc7.xml", 1, 0),
    ("yaz-5.34.0/marc-files/marc7.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc8.json.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc8.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc8.xml", 1, 0),
    ("yaz-5.34.0/marc-files/marc8.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc9.json.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc9.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marc9.xml", 1, 0),
    ("yaz-5.34.0/marc-files/marc9.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marccol1.u8.marc", 19, 0),
    ("yaz-5.34.0/marc-files/marccol2.u8.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marccol3.u8.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marccol4.u8.marc", 1, 0),
    ("yaz-5.34.0/marc-files/marccol5.u8.marc", 11, 0),
    ("yaz-5.34.0/marc-files/tmarc0.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/tmarc0.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/tmarc1.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/tmarc1.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/tmarc10.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/tmarc10.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/tmarc11.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/tmarc11.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/tmarc2.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/tmarc2.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/tmarc3.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/tmarc3.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/tmarc4.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/tmarc4.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/tmarc5.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/tmarc5.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/tmarc6.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/tmarc6.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/tmarc7.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/tmarc7.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/tmarc8.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/tmarc8.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/tmarc9.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/tmarc9.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc0.xml", 1, 1),
    ("yaz-5.34.0/marc-files/xml2marc0.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/xml2marc1.xml", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc1.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/xml2marc10.xml", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc10.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc11.xml", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc11.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc2.xml", 1, 1),
    ("yaz-5.34.0/marc-files/xml2marc2.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/xml2marc3.xml", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc3.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc4.xml", 1, 1),
    ("yaz-5.34.0/marc-files/xml2marc4.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc5.xml", 1, 1),
    ("yaz-5.34.0/marc-files/xml2marc5.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/xml2marc6.xml", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc6.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc7.xml", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc7.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc8.xml", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc8.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc9.xml", 1, 0),
    ("yaz-5.34.0/marc-files/xml2marc9.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc0.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc0.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/xml2tmarc1.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc1.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/xml2tmarc10.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc10.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc11.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc11.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc2.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc2.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/xml2tmarc3.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc3.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc4.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc4.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc5.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc5.xml.marc", 1, 1),
    ("yaz-5.34.0/marc-files/xml2tmarc6.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc6.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc7.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc7.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc8.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc8.xml.marc", 1, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc9.xml", NOT_MARC, 0),
    ("yaz-5.34.0/marc-files/xml2tmarc9.xml.marc", 1, 0),
];

#[test]
fn japanese_sets_import_with_exact_counts() {
    let scratch = Scratch::new("japanese");
    let catalogue = scratch.catalogue("jp");
    let jpmarc = import(&catalogue, &shared("japanese/enju-jpmarc/jpmarc_marc21_enju.dat")).unwrap();
    assert_eq!((jpmarc.read, jpmarc.created, jpmarc.rejected.len()), (233, 233, 0), "{}", jpmarc.summary());
    let lc = import(&catalogue, &shared("japanese/lc-jpn-subset/lc_booksall_2016_part01_jpn.mrc")).unwrap();
    assert_eq!((lc.read, lc.created, lc.rejected.len()), (7_495, 7_495, 0), "{}", lc.summary());
    assert_eq!(catalogue.len().unwrap(), 7_728);
    assert_eq!(catalogue.last_change_seq().unwrap(), 7_728);

    // Real old-form kanji survive as written: the store keeps the original text.
    let mut found_old_form = false;
    let mut after = None;
    while let Some(page) = Some(catalogue.bibs_after(after, 1_000).unwrap()).filter(|p| !p.is_empty()) {
        after = page.last().map(|b| b.id);
        found_old_form |= page.iter().any(|b| String::from_utf8_lossy(&b.marc).contains("新渡戶稲造"));
    }
    assert!(found_old_form, "新渡戶稲造 (with 戶) must be stored as catalogued");

    // Re-importing is an upsert: nothing new, nothing changed, nothing appended.
    let again = import(&catalogue, &shared("japanese/enju-jpmarc/jpmarc_marc21_enju.dat")).unwrap();
    assert_eq!((again.read, again.created, again.updated, again.unchanged), (233, 0, 0, 233));
    assert_eq!(catalogue.len().unwrap(), 7_728);
    assert_eq!(catalogue.last_change_seq().unwrap(), 7_728);
}

#[test]
fn every_western_file_imports_with_its_known_counts() {
    let scratch = Scratch::new("western");
    let catalogue = scratch.catalogue("west");
    let mut failures = Vec::new();
    for &(file, read, rejected) in WESTERN {
        let path = shared(&format!("western/{file}"));
        match import(&catalogue, &path) {
            Err(Error::NotMarc { .. }) if read == NOT_MARC => {}
            Err(err) => failures.push(format!("{file}: {err}")),
            Ok(report) => {
                let stored = report.created + report.updated + report.unchanged;
                if (report.read as usize, report.rejected.len()) != (read, rejected)
                    || stored as usize != read - rejected
                {
                    failures.push(format!("{file}: expected read {read} rejected {rejected}; {}", report.summary()));
                }
                for r in &report.rejected {
                    if r.reason.is_empty() {
                        failures.push(format!("{file}: record {} rejected without a reason", r.ordinal));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let total: usize = WESTERN.iter().filter(|r| r.1 != NOT_MARC).map(|r| r.1 - r.2).sum();
    assert_eq!(total, 417, "records stored, counting repeats");
    // The same record in several files (camel.usmarc, its EOF variant, batch.xml …) is one
    // record by 003 + 001: the catalogue holds each once.
    assert_eq!(catalogue.len().unwrap(), DISTINCT_WESTERN, "distinct records");
}

#[test]
fn malformed_files_lose_only_their_bad_records() {
    let scratch = Scratch::new("malformed");
    let catalogue = scratch.catalogue("bad");

    // pymarc's bad_records.mrc: nine records, six broken in different ways.
    let report = import(&catalogue, &shared("western/pymarc-5.4.0/bad_records.mrc")).unwrap();
    let rejected: Vec<usize> = report.rejected.iter().map(|r| r.ordinal).collect();
    assert_eq!(report.read, 9);
    assert_eq!(rejected.len(), 6, "{:?}", report.rejected);
    for r in &report.rejected {
        assert!(r.raw.is_some(), "the raw bytes are kept for the rejects file");
        assert!(r.reason.contains("at byte"), "{}", r.reason);
    }
    let dir = scratch.layout.root().join("rejects");
    let written = report.write_rejects(&dir).unwrap();
    assert_eq!(written.len(), 2);
    let tsv = std::fs::read_to_string(&written[0]).unwrap();
    assert_eq!(tsv.lines().count(), 7, "{tsv}");
    assert!(tsv.starts_with("file\tordinal\tbyte_offset\treason\n"));
    let raw = std::fs::read(&written[1]).unwrap();
    let again: Vec<_> = catalogue::read_records(&raw).unwrap().collect();
    assert_eq!(again.len(), 6, "the rejects file holds exactly the rejected records");

    // ruby-marc's three records, the second bad: the first and third are stored.
    let report = import(&catalogue, &shared("western/ruby-marc/three-records-second-bad.xml")).unwrap();
    assert_eq!(report.read, 3);
    assert_eq!(report.rejected.iter().map(|r| r.ordinal).collect::<Vec<_>>(), [2]);
    assert!(report.rejected[0].offset > 0);
    assert_eq!(report.created + report.unchanged, 2);

    // marc-perl's bad leader: the six good records around the two bad ones are stored.
    let report = import(&catalogue, &shared("western/marc-perl/marc-record__badldr.usmarc")).unwrap();
    assert_eq!((report.read, report.rejected.len(), report.created), (8, 2, 6), "{:?}", report.rejected);

    // Files that are not MARC at all are refused as a whole, with the reason.
    let err = import(&catalogue, &shared("western/marc-perl/marc-charset__farsi.marc")).unwrap_err();
    assert!(err.to_string().contains("not MARC"), "{err}");
    let err = import(&catalogue, &shared("western/marc-perl/marc-xml__invalid.xml")).unwrap_err();
    assert!(matches!(err, Error::NotMarc { .. }), "{err}");
    let err = import(&catalogue, Path::new("/nonexistent/records.mrc")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/records.mrc"), "{err}");
}

#[test]
fn danmarc_and_unimarc_are_refused_with_a_reason() {
    for file in ["western/yaz-5.34.0/marc-files/marc1.marc", "western/ruby-marc/cp866_unimarc.marc"] {
        let data = std::fs::read(shared(file)).unwrap();
        let record = catalogue::read_records(&data).unwrap().next().unwrap();
        let reason = record.result.unwrap_err();
        assert!(reason.contains("Leader/10-11"), "{file}: {reason}");
    }
}

#[test]
fn marc8_cjk_is_stored_as_utf8() {
    let scratch = Scratch::new("cjk");
    let catalogue = scratch.catalogue("cjk");
    let report = import(&catalogue, &shared("western/marc-perl/marc-charset__cjk1.marc")).unwrap();
    assert_eq!((report.created, report.converted), (1, 1));
    let bib = catalogue.bibs_after(None, 1).unwrap().remove(0);
    let text = String::from_utf8(bib.marc.clone()).expect("stored as UTF-8");
    assert!(text.contains("金田一") && text.contains("アイヌ語"), "{text}");
    assert_eq!(bib.marc[9], b'a', "Leader/09 says UTF-8 once stored");
    assert!(!text.contains('\u{1b}'), "no MARC-8 escapes remain");
}

#[test]
fn a_lying_leader_is_read_by_what_the_bytes_are() {
    let cases = [
        ("western/pymarc-5.4.0/utf8_without_leader_flag.dat", SourceEncoding::Utf8DespiteLeader),
        ("western/pymarc-5.4.0/utf8_with_leader_flag.dat", SourceEncoding::Utf8),
        ("western/ruby-marc/marc8_accented_chars.marc", SourceEncoding::Marc8DespiteLeader),
        ("western/pymarc-5.4.0/marc8.dat", SourceEncoding::Marc8),
    ];
    for (file, expected) in cases {
        let data = std::fs::read(shared(file)).unwrap();
        let record = catalogue::read_records(&data).unwrap().next().unwrap();
        let (_, encoding) = record.result.unwrap();
        assert_eq!(encoding, expected, "{file}");
    }
}

#[test]
fn a_changed_record_updates_in_place_and_feeds_the_change() {
    let scratch = Scratch::new("update");
    let catalogue = scratch.catalogue("upd");
    import(&catalogue, &shared("western/pymarc-5.4.0/one.dat")).unwrap();
    let bib = catalogue.bibs_after(None, 1).unwrap().remove(0);
    let mut record = bib.record().unwrap();
    let number = record.control_number().unwrap().to_string();
    if let Some(catalogue::Field::Data { subfields, .. }) = record.fields.iter_mut().find(|f| f.tag().as_str() == "245")
    {
        subfields[0].value = "A corrected title".into();
    }
    let outcomes = catalogue.upsert(vec![record], "fix.mrc").unwrap();
    assert_eq!(outcomes, [catalogue::Outcome::Updated(bib.id)]);
    let stored = catalogue.get(bib.id).unwrap().unwrap();
    assert_eq!((stored.version, stored.source.as_str()), (2, "fix.mrc"));
    assert!(String::from_utf8_lossy(&stored.marc).contains("A corrected title"));
    assert_eq!(
        catalogue.find_by_control_number(bib.record().unwrap().control_organisation().unwrap_or(""), &number).unwrap(),
        Some(bib.id)
    );
    let kinds: Vec<_> = catalogue.changes_after(0, 10).unwrap().iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [catalogue::ChangeKind::Created, catalogue::ChangeKind::Updated]);
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_message() {
    let scratch = Scratch::new("schema");
    let catalogue = scratch.catalogue("newer");
    drop(catalogue);
    let code: TenantCode = "newer".parse().unwrap();
    let path = scratch.layout.catalogue_file(&code);
    {
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(redb::TableDefinition::<&str, u64>::new("meta")).unwrap().insert("schema_version", 99).unwrap();
        txn.commit().unwrap();
    }
    let err = Catalogue::open(&scratch.layout, &code).err().expect("must refuse");
    let message = err.to_string();
    assert!(message.contains("99") && message.contains("upgrade"), "{message}");
}
