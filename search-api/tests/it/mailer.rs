//! The mailer against a real SMTP conversation on loopback: lettre (the mailer's client)
//! talks to a small SMTP server in this test that records what it is given and refuses
//! one address for good. Notices whose cause has gone are dropped, patrons without an
//! e-mail address and refused addresses are left for the staff, a relay that is down
//! leaves everything for later, and no e-mail names the book.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine;
use catalogue::{Branch, Catalogue, NewItem, NewPatron, NoticeKind, Tenant};
use jiff::{SignedDuration, Timestamp};
use search_api::mailer::{DrainReport, Mailer, SmtpUrl};

use crate::support::{JAPAN_MARC, TestData};

/// An address the test server refuses with 550.
const NO_SUCH_USER: &str = "nobody@example.jp";

/// One message the server accepted.
#[derive(Debug, Clone)]
struct Mail {
    to: Vec<String>,
    data: String,
}

impl Mail {
    /// The text of the base64 body.
    fn text(&self) -> String {
        let (_, body) = self.data.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no body: {}", self.data));
        let joined: String = body.lines().map(str::trim).collect();
        let bytes = base64::engine::general_purpose::STANDARD.decode(joined.trim_end_matches('.')).unwrap();
        String::from_utf8(bytes).unwrap()
    }
}

#[derive(Default)]
struct Seen {
    mails: Vec<Mail>,
    /// Every RCPT TO address offered, accepted or not.
    offered: Vec<String>,
}

/// A minimal SMTP server (RFC 5321: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).
fn smtp_server() -> (SocketAddr, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let shared = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let seen = shared.clone();
            std::thread::spawn(move || converse(stream, &seen));
        }
    });
    (address, seen)
}

fn converse(stream: TcpStream, seen: &Mutex<Seen>) {
    let mut out = stream.try_clone().unwrap();
    let mut lines = BufReader::new(stream);
    let mut say = |text: &str| out.write_all(text.as_bytes()).is_ok();
    say("220 sink.example.jp ESMTP\r\n");
    let mut to = Vec::new();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_ascii_uppercase();
        let ok = if command.starts_with("EHLO") {
            say("250-sink.example.jp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
        } else if command.starts_with("MAIL FROM:") || command.starts_with("NOOP") {
            say("250 2.0.0 OK\r\n")
        } else if command.starts_with("RSET") {
            to.clear();
            say("250 2.0.0 OK\r\n")
        } else if let Some(rest) = line.trim_end().get(8..).filter(|_| command.starts_with("RCPT TO:")) {
            let address = rest.trim().trim_start_matches('<').split('>').next().unwrap_or("").to_owned();
            seen.lock().unwrap().offered.push(address.clone());
            if address == NO_SUCH_USER {
                say("550 5.1.1 no such user\r\n")
            } else {
                to.push(address);
                say("250 2.1.5 OK\r\n")
            }
        } else if command == "DATA" {
            say("354 end with .\r\n");
            let mut data = String::new();
            loop {
                let mut part = String::new();
                if lines.read_line(&mut part).unwrap_or(0) == 0 {
                    return;
                }
                if part == ".\r\n" {
                    break;
                }
                data.push_str(&part);
            }
            seen.lock().unwrap().mails.push(Mail { to: std::mem::take(&mut to), data });
            say("250 2.0.0 queued\r\n")
        } else if command == "QUIT" {
            say("221 2.0.0 bye\r\n");
            return;
        } else {
            say("502 5.5.2 not implemented\r\n")
        };
        if !ok {
            return;
        }
    }
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn patron(card: &str, name: &str, contact: &str) -> NewPatron {
    let mut patron = NewPatron::new(card, name, "chuo");
    patron.contact = Some(contact.to_owned());
    patron
}

/// A library with: P1 (e-mail) with an overdue loan and a hold ready; P2 (telephone)
/// with an overdue loan; P3 (an address the relay refuses) with an overdue loan; and an
/// overdue notice whose loan came back before the mailer ran.
fn library(data: &TestData) -> (Catalogue, Tenant) {
    let catalogue = data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]);
    catalogue
        .put_branch(&Branch { code: "chuo".into(), name_ja: "中央図書館".into(), name_en: "Central".into() })
        .unwrap();
    catalogue.add_patron(&patron("P1", "山田 太郎", "taro@example.jp")).unwrap();
    catalogue.add_patron(&patron("P2", "佐藤 花子", "03-1234-5678")).unwrap();
    catalogue.add_patron(&patron("P3", "鈴木 一郎", NO_SUCH_USER)).unwrap();
    for (bib, barcode) in [(1, "B1"), (2, "B2"), (3, "B3"), (4, "B4"), (5, "B5")] {
        catalogue.add_item(&NewItem::new(bib, barcode, "chuo")).unwrap();
    }
    let start = at("2026-04-01T01:00:00Z");
    catalogue.checkout("B1", "P1", start).unwrap();
    catalogue.checkout("B2", "P2", start).unwrap();
    catalogue.checkout("B3", "P2", start).unwrap();
    catalogue.checkout("B4", "P3", start).unwrap();
    catalogue.checkout("B5", "P2", start).unwrap();
    catalogue.place_hold(2, "P1", "chuo", start).unwrap();
    // B2 comes back and is set aside for P1: a hold-ready notice.
    catalogue.checkin("B2", start + SignedDuration::from_hours(1)).unwrap();
    let late = at("2026-04-21T01:00:00Z");
    let overdue = catalogue.notify_overdue(late).unwrap();
    assert_eq!(overdue.len(), 4, "{overdue:?}");
    // B3 comes back before the mailer runs: its notice has no cause any more.
    catalogue.checkin("B3", late).unwrap();
    let kinds: Vec<NoticeKind> = catalogue.pending_notices(100).unwrap().iter().map(|n| n.kind).collect();
    assert_eq!(kinds.iter().filter(|k| **k == NoticeKind::HoldReady).count(), 1, "{kinds:?}");
    let tenant = Tenant { code: "tosho".parse().unwrap(), name: "栞市立図書館".into(), created: 0 };
    (catalogue, tenant)
}

#[test]
fn notices_are_mailed_once_and_the_rest_left_for_the_staff() {
    let data = TestData::new("mailer");
    let (catalogue, tenant) = library(&data);
    let (address, seen) = smtp_server();
    let url = SmtpUrl(format!("smtp://{address}"));
    let mailer = Mailer::new(&url, "栞市立図書館 <noreply@lib.example.jp>").unwrap();
    let now = at("2026-04-21T02:00:00Z");

    let report = mailer.drain(&catalogue, &tenant, Some("https://opac.example.jp/"), now).unwrap();
    assert_eq!(report, DrainReport { sent: 2, obsolete: 1, for_staff: 2, deferred: 0 });
    let mails = seen.lock().unwrap().mails.clone();
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails.iter().all(|m| m.to == ["taro@example.jp"]), "{mails:?}");
    let texts: Vec<String> = mails.iter().map(Mail::text).collect();
    let ready = texts.iter().find(|t| t.contains("お取り置き")).unwrap_or_else(|| panic!("{texts:?}"));
    assert!(ready.starts_with("山田 太郎 様"), "{ready}");
    assert!(ready.contains("中央図書館でお取り置きしています"), "{ready}");
    assert!(ready.contains("https://opac.example.jp/tosho/my/"), "{ready}");
    let late =
        texts.iter().find(|t| t.contains("返却期限（2026-04-15）を過ぎた")).unwrap_or_else(|| panic!("{texts:?}"));
    assert!(late.contains("2026-04-21 現在"), "{late}");
    // Neither names the book, nor its copy.
    for (text, bib) in [(ready, 2), (late, 1)] {
        let record = catalogue.get(bib).unwrap().unwrap().record().unwrap();
        let title = indexer::BibDocument::from_record(bib, &record).title;
        assert!(!title.is_empty());
        assert!(!text.contains(&title), "{title} in {text}");
        assert!(!text.contains("B1") && !text.contains("B2"), "{text}");
    }
    for mail in &mails {
        assert!(mail.data.contains("From: =?"), "{}", mail.data);
        assert!(mail.data.contains("Content-Transfer-Encoding: base64"), "{}", mail.data);
    }

    // Left: P2's (a telephone number) and P3's (refused); B3's dropped.
    let left = catalogue.pending_notices(100).unwrap();
    let barcodes: Vec<&str> = left.iter().map(|n| n.item_barcode.as_str()).collect();
    assert_eq!(barcodes, ["B4", "B5"], "{left:?}");

    // The next round sends nothing and does not offer the refused address again.
    let offered = seen.lock().unwrap().offered.len();
    let again = mailer.drain(&catalogue, &tenant, None, now).unwrap();
    assert_eq!(again, DrainReport { sent: 0, obsolete: 0, for_staff: 2, deferred: 0 });
    assert_eq!(seen.lock().unwrap().offered.len(), offered);
    assert_eq!(seen.lock().unwrap().mails.len(), 2);
}

#[test]
fn a_relay_that_is_down_loses_nothing() {
    let data = TestData::new("mailer-down");
    let (catalogue, tenant) = library(&data);
    // A port nobody listens on.
    let address = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mailer = Mailer::new(&SmtpUrl(format!("smtp://{address}")), "noreply@lib.example.jp").unwrap();
    let before = catalogue.pending_notices(100).unwrap();
    let report = mailer.drain(&catalogue, &tenant, None, at("2026-04-21T02:00:00Z")).unwrap();
    // The first notice to mail met the closed port: the round stops, everything waits.
    assert_eq!(report, DrainReport { sent: 0, obsolete: 0, for_staff: 0, deferred: before.len() });
    assert_eq!(catalogue.pending_notices(100).unwrap(), before);
}

#[test]
fn bad_settings_are_refused_with_a_reason() {
    let err = Mailer::new(&SmtpUrl("ftp://relay".into()), "noreply@lib.example.jp").unwrap_err();
    assert!(err.to_string().contains("smtp_url"), "{err}");
    let err = Mailer::new(&SmtpUrl("smtp://relay:25".into()), "not an address").unwrap_err();
    assert!(err.to_string().contains("mail_from"), "{err}");
    // The URL may hold a password: Debug never shows it.
    assert_eq!(format!("{:?}", SmtpUrl("smtp://u:secret@relay".into())), "SmtpUrl(..)");
}
