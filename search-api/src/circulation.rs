//! Circulation as the staff API, the desk pages, the patrons' OPAC pages and the command
//! line share it: what a loan, a checkin, a hold and a patron look like in answers, the
//! stable codes of the catalogue's refusals, and the daily work (hold expiry, overdue
//! notices) the server runs for every library.
//!
//! Privacy: audit lines of circulation name the item or the hold, never the patron (a loan
//! is forgotten at return; an append-only log must not remember it instead).

use std::time::Duration;

use axum::http::StatusCode;
use catalogue::{Catalogue, CheckinOutcome, Hold, HoldState, Item, Loan, Patron};
use indexer::BibDocument;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use crate::error::ApiError;
use crate::server::AppState;

/// The title of a record, for answers and pages (empty when the record is gone).
pub(crate) fn title_of(catalogue: &Catalogue, bib_id: u64) -> String {
    match catalogue.get(bib_id) {
        Ok(Some(bib)) => match bib.record() {
            Ok(record) => BibDocument::from_record(bib_id, &record).title,
            Err(_) => String::new(),
        },
        _ => String::new(),
    }
}

/// The date in Japan at `now`.
pub(crate) fn jst_today(now: Timestamp) -> Date {
    now.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9))).date()
}

/// An instant as Japanese local time, `2026-04-01 10:00`.
pub(crate) fn jst_minute(at: Timestamp) -> String {
    at.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9))).strftime("%Y-%m-%d %H:%M").to_string()
}

/// A loan as answered: the copy, its record, the borrower's card (staff and the borrower
/// only), the dates in Japan.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LoanView {
    pub(crate) item_barcode: String,
    pub(crate) bib_id: u64,
    pub(crate) title: String,
    pub(crate) patron_card: String,
    /// When it was lent, RFC 3339 in Japan.
    pub(crate) out: String,
    /// The day it is due (JST).
    pub(crate) due: Date,
    pub(crate) renewals: u32,
    /// Due before today (JST).
    pub(crate) overdue: bool,
}

impl LoanView {
    pub(crate) fn of(catalogue: &Catalogue, loan: &Loan, item: &Item, card: &str, now: Timestamp) -> LoanView {
        LoanView {
            item_barcode: item.barcode.clone(),
            bib_id: item.bib_id,
            title: title_of(catalogue, item.bib_id),
            patron_card: card.to_owned(),
            out: loan.out.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9))).to_string(),
            due: loan.due,
            renewals: loan.renewals,
            overdue: loan.due < jst_today(now),
        }
    }
}

/// A hold as answered.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct HoldView {
    pub(crate) id: u64,
    pub(crate) bib_id: u64,
    pub(crate) title: String,
    pub(crate) patron_card: String,
    pub(crate) pickup_branch: String,
    /// `waiting`, `in_transit`, `ready`, `fulfilled`, `cancelled`, `expired`.
    pub(crate) state: &'static str,
    /// The last day a ready copy waits on the hold shelf (JST).
    pub(crate) ready_until: Option<Date>,
    /// The barcode of the copy set aside, if any.
    pub(crate) item_barcode: Option<String>,
    /// When it was placed, RFC 3339 in Japan.
    pub(crate) placed: String,
    /// Its place in the record's queue (1 is next), while stored.
    pub(crate) position: Option<usize>,
}

impl HoldView {
    pub(crate) fn of(catalogue: &Catalogue, hold: &Hold, card: &str) -> HoldView {
        let item_barcode = hold
            .state
            .trapped_item()
            .or(match hold.state {
                HoldState::Fulfilled { item_id } => Some(item_id),
                _ => None,
            })
            .and_then(|id| catalogue.item(id).ok().flatten())
            .map(|item| item.barcode);
        let position = catalogue
            .holds_of_bib(hold.bib_id)
            .ok()
            .and_then(|queue| queue.iter().position(|h| h.id == hold.id))
            .map(|i| i + 1);
        HoldView {
            id: hold.id,
            bib_id: hold.bib_id,
            title: title_of(catalogue, hold.bib_id),
            patron_card: card.to_owned(),
            pickup_branch: hold.pickup_branch.clone(),
            state: hold.state.as_str(),
            ready_until: match hold.state {
                HoldState::Ready { until, .. } => Some(until),
                _ => None,
            },
            item_barcode,
            placed: hold.placed.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9))).to_string(),
            position,
        }
    }
}

/// What a checkin did, as answered.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CheckinView {
    pub(crate) item_barcode: String,
    pub(crate) bib_id: u64,
    pub(crate) title: String,
    /// The item's status before and after.
    pub(crate) previous_status: &'static str,
    pub(crate) status: &'static str,
    /// A loan ended.
    pub(crate) returned: bool,
    pub(crate) days_overdue: u32,
    /// The hold the copy is now set aside for (put it on the hold shelf, or send it).
    pub(crate) hold: Option<HoldView>,
    /// Where to send a copy in transit.
    pub(crate) destination: Option<String>,
}

impl CheckinView {
    pub(crate) fn of(catalogue: &Catalogue, outcome: &CheckinOutcome) -> CheckinView {
        let hold = outcome.hold.as_ref().map(|hold| {
            let card = catalogue.patron(hold.patron_id).ok().flatten().map(|p| p.card).unwrap_or_default();
            HoldView::of(catalogue, hold, &card)
        });
        CheckinView {
            item_barcode: outcome.item.barcode.clone(),
            bib_id: outcome.item.bib_id,
            title: title_of(catalogue, outcome.item.bib_id),
            previous_status: outcome.previous_status.as_str(),
            status: outcome.item.status.as_str(),
            returned: outcome.loan.is_some(),
            days_overdue: outcome.days_overdue,
            hold,
            destination: outcome.destination.clone(),
        }
    }
}

/// A patron as staff see it, with loans and holds.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PatronView {
    pub(crate) id: u64,
    pub(crate) card: String,
    pub(crate) name: String,
    pub(crate) name_reading: Option<String>,
    pub(crate) category: &'static str,
    pub(crate) home_branch: String,
    pub(crate) expiry: Option<Date>,
    pub(crate) blocked: Option<String>,
    pub(crate) contact: Option<String>,
    pub(crate) grade: Option<u8>,
    pub(crate) class: Option<String>,
    pub(crate) reading_record: bool,
    /// The patron can log in to the OPAC.
    pub(crate) has_password: bool,
    pub(crate) loans: Vec<LoanView>,
    pub(crate) holds: Vec<HoldView>,
}

impl PatronView {
    pub(crate) fn of(catalogue: &Catalogue, patron: &Patron, now: Timestamp) -> catalogue::Result<PatronView> {
        let (loans, holds) = loans_and_holds(catalogue, patron, now)?;
        Ok(PatronView {
            id: patron.id,
            card: patron.card.clone(),
            name: patron.name.clone(),
            name_reading: patron.name_reading.clone(),
            category: patron.category.as_str(),
            home_branch: patron.home_branch.clone(),
            expiry: patron.expiry,
            blocked: patron.blocked.clone(),
            contact: patron.contact.clone(),
            grade: patron.grade,
            class: patron.class.clone(),
            reading_record: patron.reading_record,
            has_password: catalogue.patron_has_password(patron.id)?,
            loans,
            holds,
        })
    }
}

/// A patron's loans (by due date) and holds (by id).
pub(crate) fn loans_and_holds(
    catalogue: &Catalogue,
    patron: &Patron,
    now: Timestamp,
) -> catalogue::Result<(Vec<LoanView>, Vec<HoldView>)> {
    let mut loans = Vec::new();
    for loan in catalogue.loans_of_patron(patron.id)? {
        if let Some(item) = catalogue.item(loan.item_id)? {
            loans.push(LoanView::of(catalogue, &loan, &item, &patron.card, now));
        }
    }
    loans.sort_by(|a, b| (a.due, &a.item_barcode).cmp(&(b.due, &b.item_barcode)));
    let holds =
        catalogue.holds_of_patron(patron.id)?.iter().map(|hold| HoldView::of(catalogue, hold, &patron.card)).collect();
    Ok((loans, holds))
}

/// The stable code of a catalogue refusal, and its status: unknown things 404, refusals of
/// the state or the rules 409, malformed values 422, a wrong password 403; faults 500.
pub(crate) fn circulation_error(err: catalogue::Error) -> ApiError {
    use catalogue::Error as E;
    let code: &'static str = match &err {
        E::UnknownBib(_) => "unknown_record",
        E::UnknownBranch(_) => "unknown_branch",
        E::UnknownItem(_) => "unknown_item",
        E::UnknownPatron(_) => "unknown_patron",
        E::UnknownHold(_) => "unknown_hold",
        E::BarcodeInUse(_) => "barcode_in_use",
        E::CardInUse(_) => "card_in_use",
        E::ItemOnLoan { .. } => "item_on_loan",
        E::NotOnLoan(_) => "not_on_loan",
        E::NotLendable { .. } => "not_lendable",
        E::PatronExpired { .. } => "patron_expired",
        E::PatronBlocked { .. } => "patron_blocked",
        E::ItemHeld { .. } => "item_held",
        E::PatronOverdue { .. } => "patron_overdue",
        E::TooManyLoans { .. } => "too_many_loans",
        E::TooManyHolds { .. } => "too_many_holds",
        E::NoRenewalsLeft { .. } => "no_renewals_left",
        E::HoldWaiting { .. } => "hold_waiting",
        E::HoldExists { .. } => "hold_exists",
        E::AlreadyBorrowed { .. } => "already_borrowed",
        E::NotHoldable(_) => "not_holdable",
        E::NoOpenDay { .. } => "no_open_day",
        E::Invalid { .. } => "invalid",
        E::WeakPassword(_) => "weak_password",
        _ => return ApiError::from(err),
    };
    let en = err.to_string();
    let ja = match &err {
        E::WeakPassword(reason) => format!("このパスワードは使えません（{reason}）"),
        other => other.message_ja().unwrap_or_else(|| en.clone()),
    };
    let status = match err.kind() {
        catalogue::ErrorKind::NotFound => StatusCode::NOT_FOUND,
        catalogue::ErrorKind::Conflict => StatusCode::CONFLICT,
        catalogue::ErrorKind::Denied => StatusCode::FORBIDDEN,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, code, ja, en)
}

/// The daily circulation work of one library: holds past their ready-until date expire
/// (their copies go to the next hold or back to the shelf), overdue notices are written
/// to the outbox, expired patron sessions are deleted. Blocking. Returns (holds expired,
/// notices written).
pub fn daily_circulation(state: &AppState, library: &crate::server::Library) -> catalogue::Result<(usize, usize)> {
    let now = state.clock().now();
    let expired = library.catalogue.expire_holds(now)?;
    let notices = library.catalogue.notify_overdue(now)?;
    library.catalogue.prune_patron_logins(now)?;
    if !expired.is_empty() || !notices.is_empty() {
        let event = catalogue::AuditEvent::new("system:circulation", "circulation.daily", "holds and notices").after(
            serde_json::json!({
                "holds_expired": expired.iter().map(|h| h.id).collect::<Vec<_>>(),
                "overdue_notices": notices.len(),
            }),
        );
        state.audit(Some(&library.tenant.code), &event);
    }
    Ok((expired.len(), notices.len()))
}

/// The task `serve` runs: the daily circulation work of every library at start-up, then
/// each day just after midnight in Japan, on a blocking thread.
pub(crate) async fn daily(state: AppState) {
    loop {
        let work = state.clone();
        let done = tokio::task::spawn_blocking(move || {
            for library in work.libraries() {
                match daily_circulation(&work, library) {
                    Ok((holds, notices)) => tracing::info!(
                        tenant = %library.tenant.code,
                        holds_expired = holds,
                        overdue_notices = notices,
                        "daily circulation"
                    ),
                    Err(err) => {
                        tracing::error!(tenant = %library.tenant.code, error = %err, "daily circulation failed")
                    }
                }
            }
        })
        .await;
        if let Err(err) = done {
            tracing::error!(error = %err, "daily circulation panicked");
        }
        let now = state.clock().now();
        // Five minutes past midnight: the Japanese date has turned everywhere.
        let next = next_run(now);
        let wait = Duration::try_from(next.duration_since(now)).unwrap_or(Duration::from_secs(60));
        tokio::time::sleep(wait.max(Duration::from_secs(1))).await;
    }
}

/// 00:05 in Japan, strictly after `now`.
fn next_run(now: Timestamp) -> Timestamp {
    let jst = jiff::tz::TimeZone::fixed(jiff::tz::offset(9));
    let today = now.to_zoned(jst.clone()).date().at(0, 5, 0, 0);
    let candidate = today.to_zoned(jst).map(|z| z.timestamp()).unwrap_or(now);
    if candidate > now { candidate } else { candidate + jiff::SignedDuration::from_hours(24) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_just_after_midnight_in_japan() {
        let at = |s: &str| s.parse::<Timestamp>().unwrap_or_default();
        assert_eq!(next_run(at("2026-03-31T15:04:00Z")), at("2026-03-31T15:05:00Z"));
        assert_eq!(next_run(at("2026-03-31T15:05:00Z")), at("2026-04-01T15:05:00Z"));
    }
}
