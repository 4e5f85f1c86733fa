//! The circulation desk pages: the checkout and checkin screen driven by a barcode
//! scanner, the patron at the desk, the hold shelf, and the loans due today and overdue.
//!
//! The screen has one input that keeps the focus: a scanner types the barcode and Enter.
//! To lend, the patron's card is scanned first, then each item; to take back, each item.
//! Every scan is a form POST answered by a redirect to the screen (post/redirect/get), so
//! it works without JavaScript; the screen shows the results of the last scans (kept in
//! memory per session, newest first) in an `aria-live` region. `static/desk.js` makes it
//! quicker: it sends the form in the background and swaps the results in, keeping the
//! focus in the input. There is no sound: results are told by text, colour and an icon.

use std::collections::{HashMap, VecDeque};
use std::sync::{LazyLock, Mutex};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use catalogue::Function;
use serde::{Deserialize, Serialize};

use super::circulation::{cancel_hold_now, checkin_now, checkout_now, due_lists, hold_shelf_of, place_hold_now, run};
use super::guard::Staff;
use super::pages::{Ctx, see_other};
use crate::circulation::{HoldView, LoanView, PatronView};
use crate::error::ApiError;
use crate::opac::messages::fill;
use crate::opac::views::Frame;
use crate::server::AppState;

/// Results kept per session.
const LINES_KEPT: usize = 12;
/// Sessions whose results are kept (the oldest are forgotten beyond it).
const SESSIONS_KEPT: usize = 512;

/// One result on the screen.
#[derive(Debug, Clone, Serialize)]
struct Line {
    /// `ok`, `warn` (done, with something to do: a hold to shelve, an item to send) or `error`.
    kind: &'static str,
    /// The icon's text (✓, !, ✗): never colour alone.
    icon: &'static str,
    text: String,
    time: String,
}

/// The results of the last scans, by session (its CSRF token, which is unique to it),
/// with the order sessions were first seen in, to forget the oldest.
static LINES: LazyLock<Mutex<Kept>> = LazyLock::new(|| Mutex::new((HashMap::new(), VecDeque::new())));

/// The lines of each session, and the sessions in the order first seen.
type Kept = (HashMap<String, VecDeque<Line>>, VecDeque<String>);

fn push_line(staff: &Staff, line: Line) {
    let key = staff.session.csrf_token().expose().to_owned();
    let Ok(mut guard) = LINES.lock() else { return };
    let (lines, order) = &mut *guard;
    if !lines.contains_key(&key) {
        order.push_back(key.clone());
        while order.len() > SESSIONS_KEPT {
            if let Some(old) = order.pop_front() {
                lines.remove(&old);
            }
        }
    }
    let kept = lines.entry(key).or_default();
    kept.push_front(line);
    kept.truncate(LINES_KEPT);
}

fn lines_of(staff: &Staff) -> Vec<Line> {
    let key = staff.session.csrf_token().expose();
    LINES.lock().ok().and_then(|guard| guard.0.get(key).map(|l| l.iter().cloned().collect())).unwrap_or_default()
}

/// The screen's state, carried in its URL and hidden fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeskQuery {
    /// `checkout` (default) or `checkin`.
    mode: String,
    /// The card of the patron at the desk (checkout).
    patron: String,
    /// The desk's branch (checkin).
    branch: String,
    /// What was scanned (POST).
    scan: String,
    /// `end`: the patron is done.
    action: String,
}

impl DeskQuery {
    fn checkin(&self) -> bool {
        self.mode == "checkin"
    }

    fn url(&self, tenant: &str) -> String {
        let mode = if self.checkin() { "checkin" } else { "checkout" };
        let pairs = [("mode", mode), ("patron", self.patron.trim()), ("branch", self.branch.trim())];
        let kept: Vec<(&str, &str)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let query = serde_urlencoded::to_string(kept).unwrap_or_default();
        format!("/{tenant}/staff/desk?{query}")
    }
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct DeskPage {
    #[serde(flatten)]
    frame: Frame,
    desk_js: String,
    action: String,
    csrf: String,
    checkin: bool,
    checkout_url: String,
    checkin_url: String,
    patron: Option<PatronView>,
    branch: String,
    branches: Vec<Choice>,
    lines: Vec<Line>,
    links: StaffLinks,
}

/// The links every desk page offers.
#[derive(Serialize)]
struct StaffLinks {
    home: String,
    desk: String,
    patron: String,
    hold_shelf: String,
    due: String,
}

impl StaffLinks {
    fn of(staff: &Staff) -> StaffLinks {
        let t = staff.tenant();
        StaffLinks {
            home: format!("/{t}/staff/"),
            desk: format!("/{t}/staff/desk"),
            patron: format!("/{t}/staff/patron"),
            hold_shelf: format!("/{t}/staff/hold-shelf"),
            due: format!("/{t}/staff/due"),
        }
    }
}

fn query_of(raw: Option<&str>) -> DeskQuery {
    raw.and_then(|r| serde_urlencoded::from_str(r).ok()).unwrap_or_default()
}

async fn branch_choices(state: &AppState, staff: &Staff, ctx: &Ctx, selected: &str) -> Result<Vec<Choice>, ApiError> {
    let lang = ctx.lang;
    let selected = selected.to_owned();
    run(state, staff, move |c, _| {
        let branches = c.branches()?;
        Ok((
            branches
                .into_iter()
                .map(|b| Choice {
                    selected: b.code == selected,
                    label: if lang == crate::lang::Lang::En && !b.name_en.is_empty() { b.name_en } else { b.name_ja },
                    value: b.code,
                })
                .collect(),
            None,
        ))
    })
    .await
}

/// `GET /{tenant}/staff/desk`: the scanning screen.
pub(crate) async fn desk(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let query = query_of(raw.as_deref());
    let patron = if query.checkin() || query.patron.trim().is_empty() {
        None
    } else {
        let card = query.patron.clone();
        let found = run(&state, &staff, move |c, now| match c.patron_by_card(&card)? {
            Some(p) => Ok((Some(PatronView::of(c, &p, now)?), None)),
            None => Ok((None, None)),
        })
        .await;
        match found {
            Ok(found) => found,
            Err(err) => return ctx.error(Some(&staff.library), err),
        }
    };
    let branches = match branch_choices(&state, &staff, &ctx, query.branch.trim()).await {
        Ok(b) => b,
        Err(err) => return ctx.error(Some(&staff.library), err),
    };
    let tenant = staff.tenant().to_string();
    let to = |mode: &str| DeskQuery { mode: mode.to_owned(), branch: query.branch.clone(), ..DeskQuery::default() };
    let context = DeskPage {
        frame: ctx.frame(ctx.t("desk_title"), Some(&staff.library)),
        desk_js: crate::opac::assets_url("desk.js"),
        action: format!("/{tenant}/staff/desk"),
        csrf: staff.session.csrf_token().expose().to_owned(),
        checkin: query.checkin(),
        checkout_url: to("checkout").url(&tenant),
        checkin_url: to("checkin").url(&tenant),
        patron,
        branch: query.branch.trim().to_owned(),
        branches,
        lines: lines_of(&staff),
        links: StaffLinks::of(&staff),
    };
    ctx.page(StatusCode::OK, "staff_desk.html", &context)
}

/// `POST /{tenant}/staff/desk` (a scan, or the end of a patron): does it, keeps the
/// result for the screen, and goes back to it.
pub(crate) async fn scan(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    if let Err(err) = staff.require(Function::Circulation) {
        return ctx.error(Some(&staff.library), err);
    }
    let mut form: DeskQuery = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let tenant = staff.tenant().to_string();
    let time = crate::circulation::jst_minute(state.clock().now());
    let line = |kind: &'static str, text: String| Line {
        kind,
        icon: match kind {
            "ok" => "✓",
            "warn" => "!",
            _ => "✗",
        },
        text,
        time: time.clone(),
    };
    if form.action == "end" {
        form.patron.clear();
        return see_other(&form.url(&tenant));
    }
    let scanned = form.scan.trim().to_owned();
    if scanned.is_empty() {
        return see_other(&form.url(&tenant));
    }
    let lang = ctx.lang;
    if form.checkin() {
        let branch = form.branch.trim().to_owned();
        let barcode = scanned.clone();
        let done = run(&state, &staff, move |c, now| {
            checkin_now(c, &barcode, Some(branch.as_str()).filter(|b| !b.is_empty()), now)
        })
        .await;
        let shown = match done {
            Ok(view) => {
                let title = view.title.clone();
                match (&view.hold, &view.destination) {
                    (Some(hold), _) if hold.state == "ready" => line(
                        "warn",
                        fill(
                            ctx.t("desk_checkin_hold_ready"),
                            &[view.item_barcode.clone(), title, hold.patron_card.clone(), date_of(hold)],
                        ),
                    ),
                    (_, Some(destination)) => line(
                        "warn",
                        fill(ctx.t("desk_checkin_transit"), &[view.item_barcode.clone(), title, destination.clone()]),
                    ),
                    _ if view.returned => {
                        let mut text = fill(ctx.t("desk_checkin_ok"), &[view.item_barcode.clone(), title]);
                        if view.days_overdue > 0 {
                            text.push(' ');
                            text.push_str(&fill(ctx.t("desk_days_overdue"), &[view.days_overdue.to_string()]));
                        }
                        line("ok", text)
                    }
                    _ => line(
                        "ok",
                        fill(
                            ctx.t("desk_checkin_not_on_loan"),
                            &[view.item_barcode.clone(), title, view.status.to_owned()],
                        ),
                    ),
                }
            }
            Err(err) => line("error", err.in_lang(lang).message().to_owned()),
        };
        push_line(&staff, shown);
        return see_other(&form.url(&tenant));
    }

    // Checkout: the first scan is the patron's card; then items. A card scanned while a
    // patron is at the desk starts the next patron.
    let patron = form.patron.trim().to_owned();
    let scanned_again = scanned.clone();
    let is_patron = run(&state, &staff, move |c, _| {
        let item = c.item_by_barcode(&scanned_again)?;
        let patron = c.patron_by_card(&scanned_again)?;
        Ok((item.is_none().then_some(patron).flatten(), None))
    })
    .await;
    match is_patron {
        Ok(Some(found)) => {
            form.patron = found.card.clone();
            push_line(&staff, line("ok", fill(ctx.t("desk_patron_ok"), &[found.name.clone(), found.card.clone()])));
            return see_other(&form.url(&tenant));
        }
        Ok(None) => {}
        Err(err) => {
            push_line(&staff, line("error", err.in_lang(lang).message().to_owned()));
            return see_other(&form.url(&tenant));
        }
    }
    if patron.is_empty() {
        let err = ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_patron",
            format!("利用者番号 {scanned} の利用者は見つかりません。先に利用者カードを読み取ってください"),
            format!("no patron {scanned:?}: scan the patron's card first"),
        );
        push_line(&staff, line("error", err.in_lang(lang).message().to_owned()));
        return see_other(&form.url(&tenant));
    }
    let done = run(&state, &staff, move |c, now| checkout_now(c, &scanned, &patron, now)).await;
    let shown = match done {
        Ok(loan) => line("ok", loan_text(&ctx, &loan)),
        Err(err) => line("error", err.in_lang(lang).message().to_owned()),
    };
    push_line(&staff, shown);
    see_other(&form.url(&tenant))
}

fn loan_text(ctx: &Ctx, loan: &LoanView) -> String {
    fill(ctx.t("desk_checkout_ok"), &[loan.item_barcode.clone(), loan.title.clone(), loan.due.to_string()])
}

fn date_of(hold: &HoldView) -> String {
    hold.ready_until.map(|d| d.to_string()).unwrap_or_default()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CardQuery {
    card: String,
    branch: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PatronQuery {
    card: String,
    /// What was just done (`hold_placed`, `hold_cancelled`), told once after the redirect.
    done: String,
}

/// `GET /{tenant}/staff/patron?card=`: a patron with loans and holds, a form placing a
/// hold for them and a button cancelling each of theirs.
pub(crate) async fn patron(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let query: PatronQuery = raw.as_deref().and_then(|r| serde_urlencoded::from_str(r).ok()).unwrap_or_default();
    let done = match query.done.as_str() {
        "hold_placed" => Some(ctx.t("desk_hold_placed")),
        "hold_cancelled" => Some(ctx.t("desk_hold_cancelled")),
        _ => None,
    };
    patron_page(&state, &staff, &ctx, &query.card, done.map(str::to_owned), None, StatusCode::OK).await
}

/// The patron page for `card`, with a note of what was done or of what was refused.
async fn patron_page(
    state: &AppState,
    staff: &Staff,
    ctx: &Ctx,
    card: &str,
    done: Option<String>,
    refused: Option<(StatusCode, String)>,
    status: StatusCode,
) -> Response {
    #[derive(Serialize)]
    struct PatronPage {
        #[serde(flatten)]
        frame: Frame,
        action: String,
        hold_action: String,
        cancel_action: String,
        csrf: String,
        card: String,
        patron: Option<PatronView>,
        /// The patron's category and home branch by name, not code (issue #16).
        category_name: String,
        home_branch_name: String,
        branches: Vec<Choice>,
        message: Option<String>,
        done: Option<String>,
        links: StaffLinks,
    }
    let card = card.trim().chars().take(64).collect::<String>();
    let (patron, mut message) = if card.is_empty() {
        (None, None)
    } else {
        let lookup = card.clone();
        let found = run(state, staff, move |c, now| match c.patron_by_card(&lookup)? {
            Some(p) => Ok((Some(PatronView::of(c, &p, now)?), None)),
            None => Ok((None, None)),
        })
        .await;
        match found {
            Ok(Some(p)) => (Some(p), None),
            Ok(None) => (None, Some(fill(ctx.t("desk_no_patron"), std::slice::from_ref(&card)))),
            Err(err) => return ctx.error(Some(&staff.library), err),
        }
    };
    let mut status = if message.is_some() { StatusCode::NOT_FOUND } else { status };
    if let Some((refusal, text)) = refused {
        status = refusal;
        message = Some(text);
    }
    let home = patron.as_ref().map(|p| p.home_branch.clone()).unwrap_or_default();
    let branches = match branch_choices(state, staff, ctx, &home).await {
        Ok(b) => b,
        Err(err) => return ctx.error(Some(&staff.library), err),
    };
    let home_branch_name = branches.iter().find(|b| b.value == home).map_or(home.clone(), |b| b.label.clone());
    let category_name = match patron.as_ref().map(|p| p.category) {
        Some("adult") => ctx.t("patron_category_adult").to_owned(),
        Some("child") => ctx.t("patron_category_child").to_owned(),
        Some("student") => ctx.t("patron_category_student").to_owned(),
        Some("staff") => ctx.t("patron_category_staff").to_owned(),
        other => other.unwrap_or_default().to_owned(),
    };
    let tenant = staff.tenant();
    let context = PatronPage {
        frame: ctx.frame(ctx.t("desk_patron_title"), Some(&staff.library)),
        category_name,
        home_branch_name,
        action: format!("/{tenant}/staff/patron"),
        hold_action: format!("/{tenant}/staff/patron/holds"),
        cancel_action: format!("/{tenant}/staff/patron/holds/cancel"),
        csrf: staff.session.csrf_token().expose().to_owned(),
        card,
        patron,
        branches,
        message,
        done,
        links: StaffLinks::of(staff),
    };
    ctx.page(status, "staff_patron.html", &context)
}

/// The patron page's hold forms.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HoldForm {
    /// The patron's card.
    card: String,
    /// An item's barcode, or a record number (書誌番号), of what to hold.
    record: String,
    /// The branch to collect it at.
    pickup: String,
    /// The hold to cancel.
    hold: String,
}

/// Where the patron page goes after a hold form: the patron, and what was done.
fn patron_url(tenant: &str, card: &str, done: &str) -> String {
    let query = serde_urlencoded::to_string([("card", card.trim()), ("done", done)]).unwrap_or_default();
    format!("/{tenant}/staff/patron?{query}")
}

/// `POST /{tenant}/staff/patron/holds` (card, record, pickup): places a hold for the
/// patron at the desk on the record of a scanned copy, or on a record number; back to the
/// patron (303), or the patron page with the reason it was refused.
pub(crate) async fn place_hold(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    if let Err(err) = staff.require(Function::Holds) {
        return ctx.error(Some(&staff.library), err);
    }
    let form: HoldForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let (card, record, pickup) = (form.card.trim().to_owned(), form.record.trim().to_owned(), form.pickup.clone());
    let done = run(&state, &staff, move |c, now| {
        let bib_id = match c.item_by_barcode(&record)? {
            Some(item) => item.bib_id,
            None => match record.parse::<u64>() {
                Ok(bib_id) if c.get(bib_id)?.is_some() => bib_id,
                _ => return Err(catalogue::Error::UnknownItem(record)),
            },
        };
        place_hold_now(c, bib_id, &card, pickup.trim(), now)
    })
    .await;
    back_to_patron(&state, &staff, &ctx, &form.card, done.map(|_| "hold_placed")).await
}

/// `POST /{tenant}/staff/patron/holds/cancel` (card, hold): cancels one of the patron's
/// holds; a copy set aside for it goes to the next hold or back to the shelf.
pub(crate) async fn cancel_hold(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    if let Err(err) = staff.require(Function::Holds) {
        return ctx.error(Some(&staff.library), err);
    }
    let form: HoldForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let card = form.card.trim().to_owned();
    let hold = form.hold.trim().parse::<u64>().ok();
    let done = run(&state, &staff, move |c, now| {
        // Only a hold of the patron on the page: a mistyped number never cancels another's.
        let patron = c.patron_by_card(&card)?.ok_or_else(|| catalogue::Error::UnknownPatron(card.clone()))?;
        let held = match hold {
            Some(id) => c.hold(id)?.filter(|h| h.patron_id == patron.id),
            None => None,
        };
        let held = held.ok_or_else(|| catalogue::Error::UnknownHold(hold.unwrap_or(0)))?;
        cancel_hold_now(c, held.id, now)
    })
    .await;
    back_to_patron(&state, &staff, &ctx, &form.card, done.map(|_| "hold_cancelled")).await
}

/// After a hold form: back to the patron with what was done (303), or the patron page
/// with the reason it was refused (and its status).
async fn back_to_patron(
    state: &AppState,
    staff: &Staff,
    ctx: &Ctx,
    card: &str,
    done: Result<&'static str, ApiError>,
) -> Response {
    match done {
        Ok(done) => see_other(&patron_url(staff.tenant().as_str(), card, done)),
        Err(err) => {
            let err = err.in_lang(ctx.lang);
            let refused = Some((err.status, err.message().to_owned()));
            patron_page(state, staff, ctx, card, None, refused, StatusCode::OK).await
        }
    }
}

/// `GET /{tenant}/staff/hold-shelf?branch=`: the holds waiting on a branch's hold shelf.
pub(crate) async fn hold_shelf(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    #[derive(Serialize)]
    struct ShelfPage {
        #[serde(flatten)]
        frame: Frame,
        action: String,
        branches: Vec<Choice>,
        holds: Option<Vec<HoldView>>,
        links: StaffLinks,
    }
    let ctx = Ctx::new(&uri, &headers);
    let query: CardQuery = raw.as_deref().and_then(|r| serde_urlencoded::from_str(r).ok()).unwrap_or_default();
    let mut branches = match branch_choices(&state, &staff, &ctx, query.branch.trim()).await {
        Ok(b) => b,
        Err(err) => return ctx.error(Some(&staff.library), err),
    };
    if !branches.iter().any(|b| b.selected)
        && let Some(first) = branches.first_mut()
    {
        first.selected = true;
    }
    let branch = branches.iter().find(|b| b.selected).map(|b| b.value.clone());
    let holds = match branch {
        Some(branch) => match run(&state, &staff, move |c, _| Ok((hold_shelf_of(c, &branch)?, None))).await {
            Ok(holds) => Some(holds),
            Err(err) => return ctx.error(Some(&staff.library), err),
        },
        None => None,
    };
    let context = ShelfPage {
        frame: ctx.frame(ctx.t("desk_hold_shelf_title"), Some(&staff.library)),
        action: format!("/{}/staff/hold-shelf", staff.tenant()),
        branches,
        holds,
        links: StaffLinks::of(&staff),
    };
    ctx.page(StatusCode::OK, "staff_hold_shelf.html", &context)
}

/// `GET /{tenant}/staff/due?branch=`: loans due today and overdue loans.
pub(crate) async fn due(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    #[derive(Serialize)]
    struct DuePage {
        #[serde(flatten)]
        frame: Frame,
        action: String,
        branches: Vec<Choice>,
        today: String,
        due_today: Vec<LoanView>,
        overdue: Vec<LoanView>,
        links: StaffLinks,
    }
    let ctx = Ctx::new(&uri, &headers);
    let query: CardQuery = raw.as_deref().and_then(|r| serde_urlencoded::from_str(r).ok()).unwrap_or_default();
    let branch = query.branch.trim().to_owned();
    let mut branches = match branch_choices(&state, &staff, &ctx, &branch).await {
        Ok(b) => b,
        Err(err) => return ctx.error(Some(&staff.library), err),
    };
    branches.insert(
        0,
        Choice { value: String::new(), label: ctx.t("desk_all_branches").to_owned(), selected: branch.is_empty() },
    );
    let lists = match run(&state, &staff, move |c, now| {
        Ok((due_lists(c, Some(&branch).filter(|b| !b.is_empty()).map(String::as_str), now)?, None))
    })
    .await
    {
        Ok(lists) => lists,
        Err(err) => return ctx.error(Some(&staff.library), err),
    };
    let context = DuePage {
        frame: ctx.frame(ctx.t("desk_due_title"), Some(&staff.library)),
        action: format!("/{}/staff/due", staff.tenant()),
        branches,
        today: lists.today.to_string(),
        due_today: lists.due_today,
        overdue: lists.overdue,
        links: StaffLinks::of(&staff),
    };
    ctx.page(StatusCode::OK, "staff_due.html", &context)
}
