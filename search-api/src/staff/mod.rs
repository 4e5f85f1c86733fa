//! Staff sign-in and the routes behind it.
//!
//! Staff log in to their library's staff API (`POST /api/v1/{tenant}/auth/login`, answered
//! with a Bearer token) or its staff pages (`/{tenant}/staff/login`, a cookie session with
//! a CSRF token in every form). Either way the session is `catalogue`'s: its id is 256
//! random bits, rotated at login, ended after 30 idle minutes or 12 hours.
//!
//! Every route that needs a session is an entry of [`STAFF_ROUTES`], and the router mounts
//! exactly those entries, each behind the guard (`guard.rs`): the URL's library must exist
//! (404), a live session must come with the request (401), it must belong to that library
//! and have the entry's [`Access`] there by `Session::may` (403), and a cookie session's
//! state-changing request must carry the session's CSRF token (403). A handler receives the
//! outcome as the `Staff` extractor. The integration tests walk the same list, so a route
//! added to it is checked without anyone remembering to.
//!
//! Login attempts are limited per client address (`limit.rs`) on top of the per-account
//! lockout of `catalogue`.

mod api;
pub(crate) mod circulation;
pub(crate) mod cookies;
mod desk;
pub(crate) mod guard;
mod import;
mod limit;
pub(crate) mod login;
pub(crate) mod pages;

use axum::Router;
use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, post, put};
use catalogue::Function;

use crate::cataloguing::{api as cat_api, pages as cat_pages};
use crate::server::AppState;

pub(crate) use guard::form_field as guard_form_field;
pub(crate) use import::IMPORT_PATH;
pub(crate) use limit::LoginLimiter;

/// What a staff route asks of the session, besides belonging to the URL's library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any live session of the URL's library, whatever its role, even one that must still
    /// change its password (who am I, log out, change the password).
    Session,
    /// A session that may use this function in the URL's library (`Session::may`: the
    /// role's switches, and nothing until a one-time password is changed).
    Function(Function),
}

/// How a route answers, and so how it refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// JSON; refusals are problem objects (401 with `WWW-Authenticate: Bearer`).
    Api,
    /// HTML; a missing session gets the login form (401), a one-time password the page
    /// that changes it (303).
    Page,
}

/// A route that needs a staff session.
#[derive(Debug)]
pub struct StaffRoute {
    /// The method.
    pub method: Method,
    /// The route template; `{tenant}` is the library.
    pub path: &'static str,
    /// What the session needs.
    pub access: Access,
    /// JSON or HTML.
    pub surface: Surface,
    handler: fn() -> MethodRouter<AppState>,
}

impl StaffRoute {
    const fn api(method: Method, path: &'static str, access: Access, handler: fn() -> MethodRouter<AppState>) -> Self {
        Self { method, path, access, surface: Surface::Api, handler }
    }

    const fn page(method: Method, path: &'static str, access: Access, handler: fn() -> MethodRouter<AppState>) -> Self {
        Self { method, path, access, surface: Surface::Page, handler }
    }
}

const CIRCULATION: Access = Access::Function(Function::Circulation);
const HOLDS: Access = Access::Function(Function::Holds);
const PATRONS: Access = Access::Function(Function::Patrons);
const ITEMS: Access = Access::Function(Function::CatalogueEdit);
/// Branches, loan rules and calendars are the library's settings: its administrator's.
const SETTINGS: Access = Access::Function(Function::StaffAdmin);

/// Every route that needs a staff session. The router is built from this list, and the
/// tests prove each entry refuses an anonymous request, a session of another library and
/// a role without the function.
pub static STAFF_ROUTES: &[StaffRoute] = &[
    StaffRoute::api(Method::GET, "/api/v1/{tenant}/auth/me", Access::Session, || get(api::me)),
    StaffRoute::api(Method::POST, "/api/v1/{tenant}/auth/logout", Access::Session, || post(api::logout)),
    StaffRoute::api(Method::POST, "/api/v1/{tenant}/auth/logout-everywhere", Access::Session, || {
        post(api::logout_everywhere)
    }),
    StaffRoute::api(Method::POST, "/api/v1/{tenant}/auth/password", Access::Session, || post(api::change_password)),
    StaffRoute::api(Method::GET, "/api/v1/{tenant}/staff/accounts", Access::Function(Function::StaffAdmin), || {
        get(api::accounts)
    }),
    StaffRoute::api(Method::GET, "/api/v1/{tenant}/staff/roles", Access::Function(Function::StaffAdmin), || {
        get(api::roles)
    }),
    StaffRoute::api(Method::PUT, "/api/v1/{tenant}/staff/roles", Access::Function(Function::StaffAdmin), || {
        put(api::switch_role_function)
    }),
    StaffRoute::api(Method::GET, "/api/v1/{tenant}/audit/verify", Access::Function(Function::Audit), || {
        get(api::verify_audit)
    }),
    StaffRoute::api(Method::POST, IMPORT_PATH, Access::Function(Function::Import), || post(import::import)),
    StaffRoute::api(Method::POST, "/api/v1/{tenant}/circulation/checkout", CIRCULATION, || post(circulation::checkout)),
    StaffRoute::api(Method::POST, "/api/v1/{tenant}/circulation/checkin", CIRCULATION, || post(circulation::checkin)),
    StaffRoute::api(Method::POST, "/api/v1/{tenant}/circulation/renew", CIRCULATION, || post(circulation::renew)),
    StaffRoute::api(Method::GET, "/api/v1/{tenant}/circulation/due", CIRCULATION, || get(circulation::due)),
    StaffRoute::api(Method::GET, "/api/v1/{tenant}/notices", CIRCULATION, || get(circulation::notices)),
    StaffRoute::api(Method::DELETE, "/api/v1/{tenant}/notices/{id}", CIRCULATION, || delete(circulation::notice_done)),
    StaffRoute::api(Method::POST, "/api/v1/{tenant}/holds", HOLDS, || post(circulation::place_hold)),
    StaffRoute::api(Method::DELETE, "/api/v1/{tenant}/holds/{id}", HOLDS, || delete(circulation::cancel_hold)),
    StaffRoute::api(Method::GET, "/api/v1/{tenant}/branches/{code}/hold-shelf", HOLDS, || get(circulation::hold_shelf)),
    StaffRoute::api(Method::POST, "/api/v1/{tenant}/patrons", PATRONS, || post(circulation::create_patron)),
    StaffRoute::api(Method::GET, "/api/v1/{tenant}/patrons/{card}", PATRONS, || get(circulation::patron)),
    StaffRoute::api(Method::PUT, "/api/v1/{tenant}/patrons/{card}", PATRONS, || put(circulation::update_patron)),
    StaffRoute::api(Method::PUT, "/api/v1/{tenant}/patrons/{card}/password", PATRONS, || {
        put(circulation::set_patron_password)
    }),
    StaffRoute::api(Method::DELETE, "/api/v1/{tenant}/patrons/{card}/totp", PATRONS, || {
        delete(circulation::reset_patron_totp)
    }),
    StaffRoute::api(Method::GET, "/api/v1/{tenant}/branches", Access::Function(Function::View), || {
        get(circulation::branches)
    }),
    StaffRoute::api(Method::PUT, "/api/v1/{tenant}/branches/{code}", SETTINGS, || put(circulation::put_branch)),
    StaffRoute::api(Method::PUT, "/api/v1/{tenant}/branches/{code}/calendar", SETTINGS, || {
        put(circulation::put_calendar)
    }),
    StaffRoute::api(Method::GET, "/api/v1/{tenant}/policies", Access::Function(Function::View), || {
        get(circulation::policies)
    }),
    StaffRoute::api(Method::PUT, "/api/v1/{tenant}/policies", SETTINGS, || put(circulation::put_policy)),
    StaffRoute::api(Method::POST, "/api/v1/{tenant}/items", ITEMS, || post(circulation::create_item)),
    StaffRoute::api(Method::PUT, "/api/v1/{tenant}/items/{barcode}", ITEMS, || put(circulation::update_item)),
    // Cataloguing (crate::cataloguing): records, versions, copies, copy cataloguing.
    StaffRoute::api(Method::POST, "/api/v1/{tenant}/records", ITEMS, || post(cat_api::create)),
    StaffRoute::api(Method::PUT, "/api/v1/{tenant}/records/{id}", ITEMS, || put(cat_api::replace)),
    StaffRoute::api(Method::DELETE, "/api/v1/{tenant}/records/{id}", ITEMS, || delete(cat_api::remove)),
    StaffRoute::api(Method::GET, "/api/v1/{tenant}/records/{id}/versions", ITEMS, || get(cat_api::versions)),
    StaffRoute::api(Method::GET, "/api/v1/{tenant}/records/{id}/versions/{version}", ITEMS, || get(cat_api::version)),
    StaffRoute::api(Method::POST, "/api/v1/{tenant}/records/{id}/versions/{version}/restore", ITEMS, || {
        post(cat_api::restore)
    }),
    StaffRoute::api(Method::POST, "/api/v1/{tenant}/records/{id}/copies", ITEMS, || post(cat_api::add_copies)),
    StaffRoute::api(Method::POST, "/api/v1/{tenant}/items/{barcode}/withdraw", ITEMS, || post(cat_api::withdraw)),
    StaffRoute::api(Method::GET, "/api/v1/{tenant}/cataloguing/targets", ITEMS, || get(cat_api::targets)),
    StaffRoute::api(Method::PUT, "/api/v1/{tenant}/cataloguing/targets", SETTINGS, || put(cat_api::put_targets)),
    StaffRoute::api(Method::GET, "/api/v1/{tenant}/cataloguing/copy", ITEMS, || get(cat_api::copy)),
    StaffRoute::page(Method::GET, "/{tenant}/staff/records/new", ITEMS, || get(cat_pages::new_form)),
    StaffRoute::page(Method::POST, "/{tenant}/staff/records/new", ITEMS, || post(cat_pages::create)),
    StaffRoute::page(Method::GET, "/{tenant}/staff/records/{id}", ITEMS, || get(cat_pages::record)),
    StaffRoute::page(Method::GET, "/{tenant}/staff/records/{id}/form", ITEMS, || get(cat_pages::edit_form)),
    StaffRoute::page(Method::POST, "/{tenant}/staff/records/{id}/form", ITEMS, || post(cat_pages::save_form)),
    StaffRoute::page(Method::GET, "/{tenant}/staff/records/{id}/marc", ITEMS, || get(cat_pages::editor)),
    StaffRoute::page(Method::POST, "/{tenant}/staff/records/{id}/marc", ITEMS, || post(cat_pages::save_editor)),
    StaffRoute::page(Method::POST, "/{tenant}/staff/records/{id}/copies", ITEMS, || post(cat_pages::add_copies)),
    StaffRoute::page(Method::POST, "/{tenant}/staff/records/{id}/withdraw", ITEMS, || post(cat_pages::withdraw)),
    StaffRoute::page(Method::POST, "/{tenant}/staff/records/{id}/delete", ITEMS, || post(cat_pages::delete)),
    StaffRoute::page(Method::GET, "/{tenant}/staff/records/{id}/history", ITEMS, || get(cat_pages::history)),
    StaffRoute::page(Method::POST, "/{tenant}/staff/records/{id}/history", ITEMS, || post(cat_pages::restore)),
    StaffRoute::page(Method::GET, "/{tenant}/staff/copy-cataloguing", ITEMS, || get(cat_pages::copy_search)),
    StaffRoute::page(Method::POST, "/{tenant}/staff/copy-cataloguing", ITEMS, || post(cat_pages::copy_take)),
    StaffRoute::page(Method::GET, "/{tenant}/staff/", Access::Function(Function::View), || get(pages::home)),
    StaffRoute::page(Method::GET, "/{tenant}/staff/desk", CIRCULATION, || get(desk::desk)),
    StaffRoute::page(Method::POST, "/{tenant}/staff/desk", CIRCULATION, || post(desk::scan)),
    StaffRoute::page(Method::GET, "/{tenant}/staff/patron", PATRONS, || get(desk::patron)),
    StaffRoute::page(Method::POST, "/{tenant}/staff/patron/holds", HOLDS, || post(desk::place_hold)),
    StaffRoute::page(Method::POST, "/{tenant}/staff/patron/holds/cancel", HOLDS, || post(desk::cancel_hold)),
    StaffRoute::page(Method::GET, "/{tenant}/staff/hold-shelf", HOLDS, || get(desk::hold_shelf)),
    StaffRoute::page(Method::GET, "/{tenant}/staff/due", CIRCULATION, || get(desk::due)),
    StaffRoute::page(Method::GET, "/{tenant}/staff/password", Access::Session, || get(pages::password_form)),
    StaffRoute::page(Method::POST, "/{tenant}/staff/password", Access::Session, || post(pages::change_password)),
    StaffRoute::page(Method::POST, "/{tenant}/staff/logout", Access::Session, || post(pages::logout)),
];

/// The login routes (open to anyone) and every staff route, each behind the guard.
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let mut router = Router::new()
        .route("/api/v1/{tenant}/auth/login", post(api::login))
        .route("/{tenant}/staff/login", get(pages::login_form).post(pages::login));
    for route in STAFF_ROUTES {
        let guarded =
            (route.handler)().route_layer(axum::middleware::from_fn_with_state((state.clone(), route), guard::guard));
        router = router.route(route.path, guarded);
    }
    router
}
