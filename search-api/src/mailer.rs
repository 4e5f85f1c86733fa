//! The mailer: drains each library's outbox of notices (a hold is ready, an item is
//! overdue) by e-mail through an SMTP relay.
//!
//! The outbox (`catalogue`'s notices) is written in the same transaction as the change
//! that calls for a notice, so the mailer only has to send what it finds and mark each
//! notice sent once the relay has accepted it: a crash between the two sends a notice
//! twice at worst, never loses one.
//!
//! - A notice whose cause has gone (the copy was collected, the loan came back) is
//!   dropped unsent: nobody is asked to return a book they have returned.
//! - A notice to a patron without an e-mail address stays in the outbox for the staff,
//!   who telephone or write (`GET /api/v1/{tenant}/notices`), then mark it done.
//! - A relay that is down or answers "try later" (4xx) stops this round; the notices are
//!   sent on the next. A permanent refusal (5xx, e.g. an address that does not exist)
//!   leaves that notice to the staff as well, and the mailer goes on with the others.
//!
//! Privacy (図書館の自由に関する宣言): an e-mail never names the book. It says that
//! something is ready at which branch until when, or that something is overdue since
//! when, and points to マイページ, behind the patron's login. Logs never hold an address.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use catalogue::{Catalogue, HoldState, Notice, NoticeKind, Tenant};
use jiff::Timestamp;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::{Message, SmtpTransport, Transport};

use crate::server::AppState;

/// How often `serve` looks for notices to send.
pub const MAIL_EVERY: Duration = Duration::from_secs(60);
/// Notices read from the outbox at a time.
const PAGE: usize = 200;

/// The SMTP relay's URL, e.g. `smtp://user:pass@relay.example.jp:587?tls=required` or
/// `smtps://relay.example.jp`: it may hold a password, so it never shows in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl(pub String);

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpUrl(..)")
    }
}

/// What one drain of a library's outbox did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct DrainReport {
    /// Accepted by the relay and marked sent.
    pub sent: usize,
    /// Dropped unsent: their cause had gone.
    pub obsolete: usize,
    /// Left for the staff: the patron has no e-mail address, or the relay refused it for good.
    pub for_staff: usize,
    /// Left for the next round: the relay was unreachable or asked to try later.
    pub deferred: usize,
}

/// An e-mail sender for notices.
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
    /// Notices the relay refused for good (library, notice id): not offered again while
    /// the process runs; the staff see them in the outbox.
    refused: Mutex<HashSet<(String, u64)>>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

/// Why a notice was not sent.
enum Unsent {
    /// The relay is down or asked to try later: stop this round.
    Later(String),
    /// Refused for good: leave it to the staff.
    Refused(String),
}

impl Mailer {
    /// A mailer sending through the relay at `url` as `from` (`図書館 <noreply@example.jp>`).
    pub fn new(url: &SmtpUrl, from: &str) -> anyhow::Result<Mailer> {
        let transport = SmtpTransport::from_url(&url.0)
            .map_err(|err| {
                anyhow::anyhow!("smtp_url is not a usable SMTP URL ({err}): e.g. smtp://relay:587?tls=required")
            })?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from: Mailbox =
            from.parse().map_err(|err| anyhow::anyhow!("mail_from {from:?} is not an e-mail address: {err}"))?;
        Ok(Mailer { transport, from, refused: Mutex::new(HashSet::new()) })
    }

    /// Sends what is waiting in `library`'s outbox (blocking: run it off the async
    /// threads). `base_url` is where patrons reach the OPAC, for the link to マイページ.
    pub fn drain(
        &self,
        catalogue: &Catalogue,
        tenant: &Tenant,
        base_url: Option<&str>,
        now: Timestamp,
    ) -> catalogue::Result<DrainReport> {
        let mut report = DrainReport::default();
        let mut after = 0;
        loop {
            let page = catalogue.pending_notices_after(after, PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for notice in page {
                let Some(letter) = letter(catalogue, &tenant.name, &notice, now)? else {
                    catalogue.mark_notice_sent(notice.id)?;
                    report.obsolete += 1;
                    continue;
                };
                let key = (tenant.code.to_string(), notice.id);
                let refused_before = self.refused.lock().map(|r| r.contains(&key)).unwrap_or(false);
                let Some(to) = letter.to.filter(|_| !refused_before) else {
                    report.for_staff += 1;
                    continue;
                };
                let link = match base_url {
                    Some(base) => format!("{}/{}/my/", base.trim_end_matches('/'), tenant.code),
                    None => format!("/{}/my/", tenant.code),
                };
                match self.send(to, &letter.subject, &format!("{}\n{link}\n", letter.body)) {
                    Ok(()) => {
                        catalogue.mark_notice_sent(notice.id)?;
                        report.sent += 1;
                    }
                    Err(Unsent::Refused(why)) => {
                        if let Ok(mut refused) = self.refused.lock() {
                            refused.insert(key);
                        }
                        tracing::warn!(tenant = %tenant.code, notice = notice.id, reason = %why,
                            "the relay refused a notice: left for the staff");
                        report.for_staff += 1;
                    }
                    Err(Unsent::Later(why)) => {
                        tracing::warn!(tenant = %tenant.code, reason = %why,
                            "the mail relay cannot take notices now: trying again later");
                        report.deferred += catalogue.pending_notices_after(notice.id - 1, usize::MAX)?.len();
                        return Ok(report);
                    }
                }
            }
        }
        Ok(report)
    }

    fn send(&self, to: Mailbox, subject: &str, body: &str) -> Result<(), Unsent> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            // Base64 passes any relay, 8BITMIME or not.
            .body(
                Body::new_with_encoding(body.to_owned(), ContentTransferEncoding::Base64)
                    .map_err(|_| Unsent::Refused("the body cannot be encoded".to_owned()))?,
            )
            .map_err(|err| Unsent::Refused(err.to_string()))?;
        match self.transport.send(&message) {
            Ok(_) => Ok(()),
            Err(err) if err.is_permanent() => Err(Unsent::Refused(err.to_string())),
            Err(err) => Err(Unsent::Later(err.to_string())),
        }
    }
}

/// A notice put into words.
struct Letter {
    /// The patron's address, if their contact is one.
    to: Option<Mailbox>,
    subject: String,
    body: String,
}

/// The letter for `notice`, or `None` when its cause has gone (the hold was collected,
/// cancelled or expired; the loan came back or was renewed).
fn letter(catalogue: &Catalogue, library: &str, notice: &Notice, now: Timestamp) -> catalogue::Result<Option<Letter>> {
    let Some(patron) = catalogue.patron(notice.patron_id)? else { return Ok(None) };
    let Some(item) = catalogue.item_by_barcode(&notice.item_barcode)? else { return Ok(None) };
    let to = patron.contact.as_deref().and_then(|c| c.trim().parse::<Mailbox>().ok());
    let name = patron.name.trim();
    let (subject, body) = match notice.kind {
        NoticeKind::HoldReady => {
            let ready = catalogue.holds_of_patron(patron.id)?.into_iter().find(|h| {
                matches!(h.state, HoldState::Ready { item_id, until } if item_id == item.id && until == notice.date)
            });
            let Some(hold) = ready else { return Ok(None) };
            let branch = catalogue.branch(&hold.pickup_branch)?.map(|b| b.name_ja).unwrap_or(hold.pickup_branch);
            (
                format!("【{library}】ご予約の資料をご用意しました"),
                format!(
                    "{name} 様\n\nご予約の資料を{branch}でお取り置きしています。\n\
                     お取り置きは {date} まで（この日を過ぎると予約は取り消されます）。\n\
                     利用者カードをお持ちのうえ、カウンターでお受け取りください。\n\n\
                     資料名はこのメールには書いていません。マイページでご確認ください。\n\n{library}\n",
                    date = notice.date,
                ),
            )
        }
        NoticeKind::Overdue => {
            let current = catalogue.loan_of_item(item.id)?;
            let still_out = current.is_some_and(|loan| loan.patron_id == patron.id && loan.due == notice.date);
            if !still_out {
                return Ok(None);
            }
            let today = crate::circulation::jst_today(now);
            (
                format!("【{library}】返却期限を過ぎた資料があります"),
                format!(
                    "{name} 様\n\n返却期限（{date}）を過ぎた資料があります（{today} 現在）。\n\
                     お早めにご返却ください。返却されるまで、新しい貸出はお受けできません。\n\
                     すでにご返却いただいている場合は、行き違いをご容赦ください。\n\n\
                     資料名はこのメールには書いていません。マイページでご確認ください。\n\n{library}\n",
                    date = notice.date,
                ),
            )
        }
    };
    Ok(Some(Letter { to, subject, body }))
}

/// The task `serve` runs when a relay is configured: every [`MAIL_EVERY`], each library's
/// outbox, on a blocking thread.
pub(crate) async fn every_minute(state: AppState, mailer: std::sync::Arc<Mailer>) {
    let mut every = tokio::time::interval(MAIL_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let work = state.clone();
        let mailer = mailer.clone();
        let done = tokio::task::spawn_blocking(move || {
            let now = work.clock().now();
            for library in work.libraries() {
                match mailer.drain(&library.catalogue, &library.tenant, work.base_url(), now) {
                    // Notices left for the staff are there every minute: told only with others.
                    Ok(report) if report.sent + report.obsolete + report.deferred == 0 => {}
                    Ok(report) => tracing::info!(
                        tenant = %library.tenant.code,
                        sent = report.sent,
                        obsolete = report.obsolete,
                        for_staff = report.for_staff,
                        deferred = report.deferred,
                        "notices"
                    ),
                    Err(err) => tracing::error!(tenant = %library.tenant.code, error = %err, "sending notices failed"),
                }
            }
        })
        .await;
        if let Err(err) = done {
            tracing::error!(error = %err, "the mailer panicked");
        }
    }
}
