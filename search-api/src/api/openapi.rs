//! The OpenAPI 3.1 document of the public JSON API, served at `/api/v1/openapi.json`.
//! Written out rather than derived: it is the contract library web pages code against,
//! and schemathesis checks the server against it.

use serde_json::{Value, json};

fn problem() -> Value {
    json!({
        "description": "A problem (RFC 9457) with a stable code and a message in the request's language",
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn tenant_parameter() -> Value {
    json!({
        "name": "tenant", "in": "path", "required": true,
        "description": "The library's code",
        "schema": { "type": "string", "maxLength": 64 }
    })
}

fn lang_parameter() -> Value {
    json!({
        "name": "lang", "in": "query", "required": false,
        "description": "Language of messages: ja (default) or en; other values fall back to Accept-Language, then ja",
        "schema": { "type": "string" }
    })
}

/// The refusals every staff route can answer: no or ended session (401), a session of
/// another library, a role without the function, a one-time password not yet changed or a
/// cookie session without its CSRF token (403), an unknown library (404).
fn staff_refusals(responses: Value) -> Value {
    let mut responses = responses;
    if let Some(map) = responses.as_object_mut() {
        for status in ["401", "403", "404"] {
            map.entry(status).or_insert_with(problem);
        }
    }
    responses
}

/// Bearer token security, for the operations that need a staff session.
fn bearer() -> Value {
    json!([{ "bearer": [] }])
}

/// The staff side: login, who am I, logout, password change, MARC import.
fn staff_paths() -> Value {
    json!({
        "/api/v1/{tenant}/auth/login": {
            "post": {
                "operationId": "login",
                "summary": "Log in as a staff member of the library: a Bearer token for the staff API",
                "parameters": [tenant_parameter()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/LoginRequest" } } } },
                "responses": {
                    "200": { "description": "Logged in", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/LoggedIn" } } } },
                    "400": problem(),
                    "401": problem(),
                    "404": problem(),
                    "413": problem(),
                    "415": problem(),
                    "429": problem()
                }
            }
        },
        "/api/v1/{tenant}/auth/me": {
            "get": {
                "operationId": "me",
                "summary": "The session's account and what it may do in the library",
                "security": bearer(),
                "parameters": [tenant_parameter()],
                "responses": staff_refusals(json!({
                    "200": { "description": "The session", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Me" } } } }
                }))
            }
        },
        "/api/v1/{tenant}/auth/logout": {
            "post": {
                "operationId": "logout",
                "summary": "End this session",
                "security": bearer(),
                "parameters": [tenant_parameter()],
                "responses": staff_refusals(json!({ "204": { "description": "Logged out" }, "413": problem() }))
            }
        },
        "/api/v1/{tenant}/auth/logout-everywhere": {
            "post": {
                "operationId": "logoutEverywhere",
                "summary": "End every session of the account",
                "security": bearer(),
                "parameters": [tenant_parameter()],
                "responses": staff_refusals(json!({ "204": { "description": "Logged out everywhere" }, "413": problem() }))
            }
        },
        "/api/v1/{tenant}/auth/password": {
            "post": {
                "operationId": "changePassword",
                "summary": "Change the session's password (every other session of the account ends)",
                "security": bearer(),
                "parameters": [tenant_parameter()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/PasswordChange" } } } },
                "responses": staff_refusals(json!({
                    "204": { "description": "Changed" },
                    "400": problem(),
                    "413": problem(),
                    "415": problem(),
                    "422": problem(),
                    "429": problem()
                }))
            }
        },
        "/api/v1/{tenant}/import": {
            "post": {
                "operationId": "importMarc",
                "summary": "Import MARC records (ISO 2709 in UTF-8 or MARC-8, or MARCXML; detected from the bytes). Needs the import function",
                "description": "Records with a known 003 + 001 update the stored record. Each bad record is reported with its position and reason while the good ones are stored. The body is limited (64 MiB by default): 413 beyond it.",
                "security": bearer(),
                "parameters": [tenant_parameter()],
                "requestBody": { "required": true, "content": {
                    "application/marc": { "schema": { "type": "string", "format": "binary" } },
                    "application/marcxml+xml": { "schema": { "type": "string" } },
                    "application/octet-stream": { "schema": { "type": "string", "format": "binary" } }
                } },
                "responses": staff_refusals(json!({
                    "200": { "description": "What was stored and what was refused", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ImportReport" } } } },
                    "400": problem(),
                    "413": problem(),
                    "422": problem()
                }))
            }
        }
    })
}

fn json_body(schema: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn json_answer(description: &str, schema: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn path_parameter(name: &str, description: &str, integer: bool) -> Value {
    let schema =
        if integer { json!({ "type": "integer", "minimum": 0 }) } else { json!({ "type": "string", "maxLength": 64 }) };
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": schema })
}

/// A staff operation: bearer security, the library (and more path parameters), the
/// refusals of the guard, and `more` answers (409 for the rules' refusals, 400/415/422 for
/// bodies).
fn staff_operation(id: &str, summary: &str, parameters: Vec<Value>, body: Option<Value>, answers: Value) -> Value {
    let mut parameters = parameters;
    parameters.insert(0, tenant_parameter());
    parameters.push(lang_parameter());
    let mut operation = json!({
        "operationId": id,
        "summary": summary,
        "security": bearer(),
        "parameters": parameters,
        "responses": staff_refusals(answers)
    });
    if let (Some(body), Some(map)) = (body, operation.as_object_mut()) {
        map.insert("requestBody".into(), body);
    }
    operation
}

/// Bodies that can be refused before the catalogue sees them: malformed JSON (400), not
/// JSON (415), too large (413), a value the catalogue refuses (422).
fn body_refusals(mut answers: Value) -> Value {
    if let Some(map) = answers.as_object_mut() {
        for status in ["400", "413", "415", "422"] {
            map.entry(status).or_insert_with(problem);
        }
    }
    answers
}

/// The staff API of circulation (issue 7).
fn circulation_paths() -> Value {
    let barcode = || path_parameter("barcode", "The item's barcode", false);
    let card = || path_parameter("card", "The patron's card number", false);
    let code = || path_parameter("code", "The branch's code", false);
    json!({
        "/api/v1/{tenant}/circulation/checkout": { "post": staff_operation(
            "checkout", "Lend an item to a patron under the loan rules. Needs the circulation function",
            vec![], Some(json_body("CheckoutRequest")),
            body_refusals(json!({ "200": json_answer("The loan", "Loan"), "409": problem() }))) },
        "/api/v1/{tenant}/circulation/checkin": { "post": staff_operation(
            "checkin", "Take an item back; it may be set aside for the first waiting hold. Needs the circulation function",
            vec![], Some(json_body("CheckinRequest")),
            body_refusals(json!({ "200": json_answer("What became of the item", "Checkin"), "409": problem() }))) },
        "/api/v1/{tenant}/circulation/renew": { "post": staff_operation(
            "renew", "Renew a loan; refused (409 hold_waiting) while another patron waits for the record. Needs the circulation function",
            vec![], Some(json_body("RenewRequest")),
            body_refusals(json!({ "200": json_answer("The renewed loan", "Loan"), "409": problem() }))) },
        "/api/v1/{tenant}/circulation/due": { "get": staff_operation(
            "dueLoans", "Loans due today and overdue loans (JST), of one branch's items or all. Needs the circulation function",
            vec![json!({ "name": "branch", "in": "query", "required": false, "schema": { "type": "string", "maxLength": 64 } })], None,
            json!({ "200": json_answer("The lists", "DueLists") })) },
        "/api/v1/{tenant}/notices": { "get": staff_operation(
            "notices", "The notices (hold ready, overdue) not sent yet, oldest first; by_email false: the staff tell the patron. Needs the circulation function",
            vec![], None,
            json!({ "200": { "description": "The outbox", "content": { "application/json": { "schema": {
                "type": "object", "required": ["notices"],
                "properties": { "notices": { "type": "array", "items": { "type": "object",
                    "required": ["id", "kind", "date", "patron_card", "by_email", "item_barcode", "title", "created"],
                    "properties": {
                        "id": { "type": "integer", "minimum": 1 },
                        "kind": { "type": "string", "enum": ["hold_ready", "overdue"] },
                        "date": { "type": "string", "format": "date" },
                        "patron_card": { "type": "string" },
                        "contact": { "type": ["string", "null"] },
                        "by_email": { "type": "boolean" },
                        "item_barcode": { "type": "string" },
                        "title": { "type": "string" },
                        "created": { "type": "string", "format": "date-time" } } } } } } } } } })) },
        "/api/v1/{tenant}/notices/{id}": { "delete": staff_operation(
            "noticeDone", "The staff told the patron themselves: the notice leaves the outbox. Needs the circulation function",
            vec![path_parameter("id", "The notice's id", true)], None,
            json!({ "204": { "description": "Done" }, "400": problem(), "404": problem() })) },
        "/api/v1/{tenant}/patrons/{card}/totp": { "delete": staff_operation(
            "resetPatronTotp", "Turn a patron's two-step verification off (they lost the authenticator and the recovery codes); their sessions end. Needs the patrons function",
            vec![card()], None,
            json!({ "204": { "description": "Turned off" }, "404": problem() })) },
        "/api/v1/{tenant}/holds": { "post": staff_operation(
            "placeHold", "Place a hold on a record for a patron. Needs the holds function",
            vec![], Some(json_body("HoldRequest")),
            body_refusals(json!({ "201": json_answer("The hold", "Hold"), "409": problem() }))) },
        "/api/v1/{tenant}/holds/{id}": { "delete": staff_operation(
            "cancelHold", "Cancel a hold; its copy goes to the next hold or back to the shelf. Needs the holds function",
            vec![path_parameter("id", "The hold's id", true)], None,
            json!({ "200": json_answer("The hold, cancelled", "Hold"), "400": problem(), "409": problem() })) },
        "/api/v1/{tenant}/branches/{code}/hold-shelf": { "get": staff_operation(
            "holdShelf", "The holds ready on a branch's hold shelf. Needs the holds function",
            vec![code()], None,
            json!({ "200": { "description": "The hold shelf", "content": { "application/json": { "schema": {
                "type": "object", "required": ["branch", "holds"],
                "properties": { "branch": { "type": "string" }, "holds": { "type": "array", "items": { "$ref": "#/components/schemas/Hold" } } } } } } } })) },
        "/api/v1/{tenant}/patrons": { "post": staff_operation(
            "createPatron", "Register a patron. Needs the patrons function",
            vec![], Some(json_body("PatronRequest")),
            body_refusals(json!({ "201": json_answer("The patron", "Patron"), "409": problem() }))) },
        "/api/v1/{tenant}/patrons/{card}": {
            "get": staff_operation(
                "patron", "A patron with loans (due dates) and holds. Needs the patrons function",
                vec![card()], None, json!({ "200": json_answer("The patron", "Patron") })),
            "put": staff_operation(
                "updatePatron", "Replace a patron's fields (a card in the body gives a new card number). Needs the patrons function",
                vec![card()], Some(json_body("PatronRequest")),
                body_refusals(json!({ "200": json_answer("The patron", "Patron"), "409": problem() })))
        },
        "/api/v1/{tenant}/patrons/{card}/password": { "put": staff_operation(
            "setPatronPassword", "Set or reset a patron's OPAC password (the staff password rules); ends the patron's sessions. Needs the patrons function",
            vec![card()], Some(json_body("PatronPassword")),
            body_refusals(json!({ "204": { "description": "Set" } }))) },
        "/api/v1/{tenant}/branches": { "get": staff_operation(
            "branches", "The library's branches. Needs the view function",
            vec![], None,
            json!({ "200": { "description": "Branches", "content": { "application/json": { "schema": {
                "type": "object", "required": ["branches"],
                "properties": { "branches": { "type": "array", "items": { "$ref": "#/components/schemas/Branch" } } } } } } } })) },
        "/api/v1/{tenant}/branches/{code}": { "put": staff_operation(
            "putBranch", "Create or rename a branch. Needs the staff_admin function (the library's settings)",
            vec![code()], Some(json_body("BranchRequest")),
            body_refusals(json!({ "200": json_answer("The branch", "Branch") }))) },
        "/api/v1/{tenant}/branches/{code}/calendar": { "put": staff_operation(
            "putCalendar", "Close and reopen days of a branch (JST dates). Needs the staff_admin function",
            vec![code()], Some(json_body("CalendarRequest")),
            body_refusals(json!({ "200": { "description": "How many days changed", "content": { "application/json": { "schema": {
                "type": "object", "required": ["branch", "closed", "opened"],
                "properties": { "branch": { "type": "string" }, "closed": { "type": "integer" }, "opened": { "type": "integer" } } } } } } }))) },
        "/api/v1/{tenant}/policies": {
            "get": staff_operation(
                "policies", "The stored loan rules. Needs the view function",
                vec![], None,
                json!({ "200": { "description": "Rules", "content": { "application/json": { "schema": {
                    "type": "object", "required": ["policies"],
                    "properties": { "policies": { "type": "array", "items": { "$ref": "#/components/schemas/LoanPolicy" } } } } } } } })),
            "put": staff_operation(
                "putPolicy", "Store a loan rule (category x item type; null for any). Needs the staff_admin function",
                vec![], Some(json_body("PolicyRequest")),
                body_refusals(json!({ "200": json_answer("The rule", "LoanPolicy") })))
        },
        "/api/v1/{tenant}/items": { "post": staff_operation(
            "createItem", "Add a copy of a record. Needs the catalogue_edit function",
            vec![], Some(json_body("ItemRequest")),
            body_refusals(json!({ "201": json_answer("The item", "Item"), "409": problem() }))) },
        "/api/v1/{tenant}/items/{barcode}": { "put": staff_operation(
            "updateItem", "Replace a copy's fields (on_loan is checkout's alone). Needs the catalogue_edit function",
            vec![barcode()], Some(json_body("ItemRequest")),
            body_refusals(json!({ "200": json_answer("The item", "Item"), "409": problem() }))) }
    })
}

fn circulation_schemas() -> Value {
    let date = || json!({ "type": "string", "format": "date" });
    let nullable_date = || json!({ "type": ["string", "null"], "format": "date" });
    let text = || json!({ "type": "string" });
    let nullable_text = || json!({ "type": ["string", "null"] });
    let category = || json!({ "type": ["string", "null"], "enum": ["adult", "child", "student", "staff", null] });
    json!({
        "CheckoutRequest": { "type": "object", "required": ["item_barcode", "patron_card"],
            "properties": { "item_barcode": text(), "patron_card": text() } },
        "CheckinRequest": { "type": "object", "required": ["item_barcode"],
            "properties": { "item_barcode": text(), "branch": nullable_text() } },
        "RenewRequest": { "type": "object", "required": ["item_barcode"], "properties": { "item_barcode": text() } },
        "HoldRequest": { "type": "object", "required": ["bib_id", "patron_card", "pickup_branch"],
            "properties": { "bib_id": { "type": "integer", "minimum": 0 }, "patron_card": text(), "pickup_branch": text() } },
        "Loan": { "type": "object", "required": ["item_barcode", "bib_id", "title", "patron_card", "out", "due", "renewals", "overdue"],
            "properties": { "item_barcode": text(), "bib_id": { "type": "integer" }, "title": text(), "patron_card": text(),
                "out": text(), "due": date(), "renewals": { "type": "integer" }, "overdue": { "type": "boolean" } } },
        "Hold": { "type": "object", "required": ["id", "bib_id", "title", "patron_card", "pickup_branch", "state", "ready_until", "item_barcode", "placed", "position"],
            "properties": { "id": { "type": "integer" }, "bib_id": { "type": "integer" }, "title": text(), "patron_card": text(),
                "pickup_branch": text(),
                "state": { "type": "string", "enum": ["waiting", "in_transit", "ready", "fulfilled", "cancelled", "expired"] },
                "ready_until": nullable_date(), "item_barcode": nullable_text(), "placed": text(),
                "position": { "type": ["integer", "null"] } } },
        "Checkin": { "type": "object", "required": ["item_barcode", "bib_id", "title", "previous_status", "status", "returned", "days_overdue", "hold", "destination"],
            "properties": { "item_barcode": text(), "bib_id": { "type": "integer" }, "title": text(), "previous_status": text(),
                "status": text(), "returned": { "type": "boolean" }, "days_overdue": { "type": "integer" },
                "hold": { "anyOf": [{ "$ref": "#/components/schemas/Hold" }, { "type": "null" }] }, "destination": nullable_text() } },
        "DueLists": { "type": "object", "required": ["today", "due_today", "overdue"],
            "properties": { "today": date(),
                "due_today": { "type": "array", "items": { "$ref": "#/components/schemas/Loan" } },
                "overdue": { "type": "array", "items": { "$ref": "#/components/schemas/Loan" } } } },
        "PatronRequest": { "type": "object", "required": ["name", "home_branch"],
            "properties": { "card": nullable_text(), "name": text(), "name_reading": nullable_text(), "category": category(),
                "home_branch": text(), "expiry": nullable_date(), "blocked": nullable_text(), "contact": nullable_text(),
                "grade": { "type": ["integer", "null"], "minimum": 0, "maximum": 255 }, "class": nullable_text(),
                "reading_record": { "type": "boolean" } } },
        "PatronPassword": { "type": "object", "required": ["password"], "properties": { "password": text() } },
        "Patron": { "type": "object",
            "required": ["id", "card", "name", "category", "home_branch", "reading_record", "has_password", "loans", "holds"],
            "properties": { "id": { "type": "integer" }, "card": text(), "name": text(), "name_reading": nullable_text(),
                "category": text(), "home_branch": text(), "expiry": nullable_date(), "blocked": nullable_text(),
                "contact": nullable_text(), "grade": { "type": ["integer", "null"] }, "class": nullable_text(),
                "reading_record": { "type": "boolean" }, "has_password": { "type": "boolean" },
                "loans": { "type": "array", "items": { "$ref": "#/components/schemas/Loan" } },
                "holds": { "type": "array", "items": { "$ref": "#/components/schemas/Hold" } } } },
        "Branch": { "type": "object", "required": ["code", "name_ja", "name_en"],
            "properties": { "code": text(), "name_ja": text(), "name_en": text() } },
        "BranchRequest": { "type": "object", "required": ["name_ja"], "properties": { "name_ja": text(), "name_en": text() } },
        "CalendarRequest": { "type": "object",
            "properties": { "closed": { "type": "array", "items": date() }, "open": { "type": "array", "items": date() }, "note": text() } },
        "LoanPolicy": { "type": "object",
            "required": ["category", "item_type", "loan_days", "max_loans", "max_renewals", "max_holds", "hold_pickup_days", "suspend_while_overdue"],
            "properties": { "category": category(), "item_type": nullable_text(), "loan_days": { "type": "integer" },
                "max_loans": { "type": "integer" }, "max_renewals": { "type": "integer" }, "max_holds": { "type": "integer" },
                "hold_pickup_days": { "type": "integer" }, "suspend_while_overdue": { "type": "boolean" } } },
        "PolicyRequest": { "type": "object",
            "properties": { "category": category(), "item_type": nullable_text(),
                "loan_days": { "type": ["integer", "null"], "minimum": 0 }, "max_loans": { "type": ["integer", "null"], "minimum": 0 },
                "max_renewals": { "type": ["integer", "null"], "minimum": 0 }, "max_holds": { "type": ["integer", "null"], "minimum": 0 },
                "hold_pickup_days": { "type": ["integer", "null"], "minimum": 0 }, "suspend_while_overdue": { "type": ["boolean", "null"] } } },
        "ItemRequest": { "type": "object", "required": ["bib_id", "branch"],
            "properties": { "bib_id": { "type": "integer", "minimum": 0 }, "barcode": nullable_text(), "branch": text(),
                "location": text(), "call_number": text(), "item_type": nullable_text(),
                "status": { "type": ["string", "null"], "enum": ["available", "on_loan", "on_hold_shelf", "in_transit", "missing", "withdrawn", null] } } },
        "Item": { "type": "object", "required": ["id", "bib_id", "barcode", "branch", "location", "call_number", "item_type", "status"],
            "properties": { "id": { "type": "integer" }, "bib_id": { "type": "integer" }, "barcode": text(), "branch": text(),
                "location": text(), "call_number": text(), "item_type": text(), "status": text() } }
    })
}

/// The document.
pub fn openapi_document() -> Value {
    let mut document = public_document();
    if let (Some(paths), Value::Object(staff)) = (document["paths"].as_object_mut(), staff_paths()) {
        paths.extend(staff);
    }
    if let (Some(paths), Value::Object(circulation)) = (document["paths"].as_object_mut(), circulation_paths()) {
        paths.extend(circulation);
    }
    if let (Some(schemas), Value::Object(circulation)) =
        (document["components"]["schemas"].as_object_mut(), circulation_schemas())
    {
        schemas.extend(circulation);
    }
    crate::cataloguing::openapi::extend(&mut document);
    document
}

/// The public, read-only part.
fn public_document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Shiori (栞) OPAC API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Search a library's catalogue, read its records and availability. Read-only endpoints allow cross-origin calls.",
            "license": { "name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0" }
        },
        "paths": {
            "/api/v1/libraries": {
                "get": {
                    "operationId": "listLibraries",
                    "summary": "The libraries this server hosts",
                    "responses": {
                        "200": { "description": "Libraries", "content": { "application/json": { "schema": {
                            "type": "array", "items": { "$ref": "#/components/schemas/Library" } } } } }
                    }
                }
            },
            "/api/v1/{tenant}/search": {
                "get": {
                    "operationId": "search",
                    "summary": "Search the catalogue",
                    "parameters": [
                        tenant_parameter(),
                        { "name": "q", "in": "query", "required": true,
                          "description": "The query: words (AND), \"phrases\", -exclusion, OR, fields such as title:, author:, subject:, isbn:, year:1990-2000",
                          "schema": { "type": "string", "minLength": 1, "maxLength": 1000 } },
                        { "name": "mode", "in": "query", "schema": { "type": "string", "enum": ["keywords", "exact", "prefix", ""], "default": "keywords" },
                          "description": "keywords, exact title (完全一致) or title prefix (前方一致)" },
                        { "name": "page", "in": "query", "description": "empty: the first page",
                          "schema": { "anyOf": [{ "type": "integer", "minimum": 1, "maximum": 100 }, { "type": "string", "maxLength": 0 }], "default": 1 } },
                        { "name": "per_page", "in": "query", "description": "empty: 20",
                          "schema": { "anyOf": [{ "type": "integer", "minimum": 1, "maximum": 100 }, { "type": "string", "maxLength": 0 }], "default": 20 } },
                        { "name": "sort", "in": "query", "description": "empty: relevance",
                          "schema": { "type": "string", "enum": ["relevance", "newest", "oldest", "title", ""], "default": "relevance" } },
                        { "name": "filter", "in": "query", "style": "form", "explode": true,
                          "description": "Facet selections name:value — ndc:9, lang:jpn, material:book, year:1990-2000, decade:1990, author:…, subject:…, branch:CODE (a branch holding a copy), available:* (a copy can be borrowed now, anywhere) or available:CODE (at that branch)",
                          "schema": { "type": "array", "items": { "type": "string", "pattern": "^(|(ndc|lang|material|author|subject):[\\s\\S]+|year:([0-9]{1,4}(-([0-9]{1,4})?)?|-[0-9]{1,4})|decade:[0-9]{1,4}|branch:[a-z0-9-]{1,32}|available:(\\*|[a-z0-9-]{1,32}))$", "description": "empty: no filter" } } },
                        { "name": "facets", "in": "query", "description": "empty: true",
                          "schema": { "anyOf": [{ "type": "boolean" }, { "type": "string", "maxLength": 0 }], "default": true } },
                        lang_parameter()
                    ],
                    "responses": {
                        "200": { "description": "Hits", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SearchResults" } } } },
                        "400": problem(),
                        "404": problem()
                    }
                }
            },
            "/api/v1/{tenant}/suggest": {
                "get": {
                    "operationId": "suggest",
                    "summary": "Titles and names starting with what was typed (writing or reading)",
                    "parameters": [
                        tenant_parameter(),
                        { "name": "q", "in": "query", "required": true, "schema": { "type": "string", "maxLength": 100 } },
                        { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 20, "default": 8 } },
                        lang_parameter()
                    ],
                    "responses": {
                        "200": { "description": "Suggestions", "content": { "application/json": { "schema": {
                            "type": "array", "items": { "$ref": "#/components/schemas/Suggestion" } } } } },
                        "400": problem(),
                        "404": problem()
                    }
                }
            },
            "/api/v1/{tenant}/records/{id}": {
                "get": {
                    "operationId": "record",
                    "summary": "One record: JSON, or MARCXML with a .marcxml suffix, or ISO 2709 with .mrc",
                    "parameters": [
                        tenant_parameter(),
                        { "name": "id", "in": "path", "required": true, "description": "The bib id, optionally with .json, .marcxml or .mrc",
                          "schema": { "type": "string", "pattern": "^[0-9]+(\\.(json|marcxml|mrc))?$" } },
                        lang_parameter()
                    ],
                    "responses": {
                        "200": { "description": "The record", "content": {
                            "application/json": { "schema": { "$ref": "#/components/schemas/Record" } },
                            "application/marcxml+xml": { "schema": { "type": "string" } },
                            "application/marc": { "schema": { "type": "string", "format": "binary" } }
                        } },
                        "404": problem()
                    }
                }
            }
        },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "The token of POST /api/v1/{tenant}/auth/login" }
            },
            "schemas": {
                "LoginRequest": {
                    "type": "object", "required": ["username", "password"],
                    "properties": {
                        "username": { "type": "string" }, "password": { "type": "string" },
                        "totp": { "type": ["string", "null"], "description": "A TOTP code or a recovery code" }
                    }
                },
                "LoggedIn": {
                    "type": "object",
                    "required": ["token", "expires_idle_seconds", "expires", "must_change_password", "account", "used_recovery_code", "recovery_codes_left"],
                    "properties": {
                        "token": { "type": "string" }, "expires_idle_seconds": { "type": "integer" }, "expires": { "type": "string" },
                        "must_change_password": { "type": "boolean" }, "account": { "type": "string" },
                        "used_recovery_code": { "type": "boolean" }, "recovery_codes_left": { "type": "integer" }
                    }
                },
                "Me": {
                    "type": "object",
                    "required": ["account", "tenant", "username", "display_name", "role", "functions", "must_change_password", "logged_in", "expires"],
                    "properties": {
                        "account": { "type": "string" }, "tenant": { "type": ["string", "null"] }, "username": { "type": "string" },
                        "display_name": { "type": ["string", "null"] }, "role": { "type": ["string", "null"] },
                        "functions": { "type": "array", "items": { "type": "string" } },
                        "must_change_password": { "type": "boolean" }, "logged_in": { "type": "string" }, "expires": { "type": "string" }
                    }
                },
                "PasswordChange": {
                    "type": "object", "required": ["current_password", "new_password"],
                    "properties": { "current_password": { "type": "string" }, "new_password": { "type": "string" } }
                },
                "ImportReport": {
                    "type": "object",
                    "required": ["read", "new", "updated", "unchanged", "converted", "rejected", "rejects", "rejects_truncated"],
                    "properties": {
                        "read": { "type": "integer" }, "new": { "type": "integer" }, "updated": { "type": "integer" },
                        "unchanged": { "type": "integer" }, "converted": { "type": "integer" }, "rejected": { "type": "integer" },
                        "rejects": { "type": "array", "items": {
                            "type": "object", "required": ["ordinal", "offset", "reason"],
                            "properties": { "ordinal": { "type": "integer" }, "offset": { "type": "integer" }, "reason": { "type": "string" } }
                        } },
                        "rejects_truncated": { "type": "boolean" }
                    }
                },
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "code", "detail"],
                    "properties": {
                        "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
                        "code": { "type": "string" }, "detail": { "type": "string" }, "lang": { "type": "string" }
                    }
                },
                "Library": {
                    "type": "object", "required": ["code", "name", "records"],
                    "properties": { "code": { "type": "string" }, "name": { "type": "string" }, "records": { "type": "integer" } }
                },
                "Availability": {
                    "type": "object", "required": ["available", "total", "holds"],
                    "properties": { "available": { "type": "integer" }, "total": { "type": "integer" }, "holds": { "type": "integer" } }
                },
                "Hit": {
                    "type": "object",
                    "required": ["id", "control_number", "title", "title_reading", "authors", "publisher", "year", "isbn", "ndc", "availability", "highlights", "highlights_utf16", "url"],
                    "properties": {
                        "id": { "type": "integer" }, "control_number": { "type": "string" },
                        "title": { "type": "string" }, "title_reading": { "type": "string" },
                        "authors": { "type": "array", "items": { "type": "string" } },
                        "publisher": { "type": ["string", "null"] },
                        "year": { "type": ["integer", "null"] },
                        "isbn": { "type": "array", "items": { "type": "string" } },
                        "ndc": { "type": "array", "items": { "type": "string" } },
                        "availability": { "$ref": "#/components/schemas/Availability" },
                        "highlights": { "description": "Ranges [start, end) of `title` that match the query, in UTF-8 bytes.", "type": "array", "items": { "type": "array", "items": { "type": "integer" }, "minItems": 2, "maxItems": 2 } },
                        "highlights_utf16": { "description": "The same ranges in UTF-16 code units, as JavaScript strings count (String.prototype.slice).", "type": "array", "items": { "type": "array", "items": { "type": "integer" }, "minItems": 2, "maxItems": 2 } },
                        "url": { "type": "string" }
                    }
                },
                "FacetCount": {
                    "type": "object", "required": ["value", "label", "count"],
                    "properties": { "value": { "type": "string" }, "label": { "type": "string" }, "count": { "type": "integer" } }
                },
                "SearchResults": {
                    "type": "object",
                    "required": ["total", "page", "per_page", "hits", "facets", "did_you_mean", "relaxed", "near", "unmatched_words"],
                    "properties": {
                        "total": { "type": "integer" }, "page": { "type": "integer" }, "per_page": { "type": "integer" },
                        "hits": { "type": "array", "items": { "$ref": "#/components/schemas/Hit" } },
                        "facets": { "type": "object", "description": "ndc, lang, material, decade, author, subject; branch (branches holding a copy, labelled with the branch's name) and available (* first: a copy can be borrowed now anywhere; then by branch)", "additionalProperties": { "type": "array", "items": { "$ref": "#/components/schemas/FacetCount" } } },
                        "did_you_mean": { "type": ["string", "null"] },
                        "relaxed": { "type": "boolean", "description": "true when no record had every word: the hits are records whose title has most of the characters of each long Japanese word (a title typed without what is bracketed inside it)" },
                        "near": { "type": "boolean", "description": "true when the words as typed found nothing and the hits are near matches: a reading with a slip (dakuten, small kana, long vowels), kanji and kana mixed, romaji of any system, a misspelt Latin word, or all words but one (a word patrons add such as 小説 is never required)" },
                        "unmatched_words": { "type": "array", "items": { "type": "string" }, "description": "with near: the words no record has as typed" }
                    }
                },
                "Suggestion": {
                    "type": "object", "required": ["text", "kind", "count"],
                    "properties": { "text": { "type": "string" }, "kind": { "type": "string" }, "count": { "type": "integer" } }
                },
                "Record": {
                    "type": "object",
                    "required": ["id", "control_number", "title", "title_reading", "authors", "availability", "items", "marc"],
                    "properties": {
                        "id": { "type": "integer" }, "control_number": { "type": "string" },
                        "title": { "type": "string" }, "title_reading": { "type": "string" },
                        "authors": { "type": "array", "items": { "type": "string" } },
                        "availability": { "type": "object" },
                        "items": { "type": "array", "items": { "type": "object" } },
                        "marc": { "type": "array", "items": { "type": "object" } }
                    }
                }
            }
        }
    })
}
