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

/// The document.
pub fn openapi_document() -> Value {
    let mut document = public_document();
    if let (Some(paths), Value::Object(staff)) = (document["paths"].as_object_mut(), staff_paths()) {
        paths.extend(staff);
    }
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
                          "description": "Facet selections name:value — ndc:9, lang:jpn, material:book, year:1990-2000, decade:1990, author:…, subject:…",
                          "schema": { "type": "array", "items": { "type": "string", "pattern": "^(|(ndc|lang|material|author|subject):[\\s\\S]+|year:([0-9]{1,4}(-([0-9]{1,4})?)?|-[0-9]{1,4})|decade:[0-9]{1,4})$", "description": "empty: no filter" } } },
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
                    "required": ["id", "control_number", "title", "title_reading", "authors", "publisher", "year", "isbn", "ndc", "availability", "highlights", "url"],
                    "properties": {
                        "id": { "type": "integer" }, "control_number": { "type": "string" },
                        "title": { "type": "string" }, "title_reading": { "type": "string" },
                        "authors": { "type": "array", "items": { "type": "string" } },
                        "publisher": { "type": ["string", "null"] },
                        "year": { "type": ["integer", "null"] },
                        "isbn": { "type": "array", "items": { "type": "string" } },
                        "ndc": { "type": "array", "items": { "type": "string" } },
                        "availability": { "$ref": "#/components/schemas/Availability" },
                        "highlights": { "type": "array", "items": { "type": "array", "items": { "type": "integer" }, "minItems": 2, "maxItems": 2 } },
                        "url": { "type": "string" }
                    }
                },
                "FacetCount": {
                    "type": "object", "required": ["value", "label", "count"],
                    "properties": { "value": { "type": "string" }, "label": { "type": "string" }, "count": { "type": "integer" } }
                },
                "SearchResults": {
                    "type": "object",
                    "required": ["total", "page", "per_page", "hits", "facets", "did_you_mean"],
                    "properties": {
                        "total": { "type": "integer" }, "page": { "type": "integer" }, "per_page": { "type": "integer" },
                        "hits": { "type": "array", "items": { "$ref": "#/components/schemas/Hit" } },
                        "facets": { "type": "object", "additionalProperties": { "type": "array", "items": { "$ref": "#/components/schemas/FacetCount" } } },
                        "did_you_mean": { "type": ["string", "null"] }
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
