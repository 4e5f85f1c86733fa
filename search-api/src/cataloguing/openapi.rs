//! The cataloguing part of the OpenAPI document (`api/openapi.rs` merges it in): records
//! written through the API, their versions, copies, withdrawal and copy cataloguing.

use serde_json::{Map, Value, json};

fn problem() -> Value {
    json!({
        "description": "A problem (RFC 9457) with a stable code and a message in the request's language",
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

/// A 422 whose `problems` name each field (or form input) at fault.
fn invalid() -> Value {
    json!({
        "description": "The record (or form) has problems, each naming the field at fault",
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/RecordProblems" } } }
    })
}

fn parameter(name: &str, place: &str, required: bool, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": place, "required": required, "description": description, "schema": schema })
}

fn tenant() -> Value {
    parameter("tenant", "path", true, "The library's code", json!({ "type": "string", "maxLength": 64 }))
}

fn lang() -> Value {
    parameter("lang", "query", false, "Language of messages: ja (default) or en", json!({ "type": "string" }))
}

fn id() -> Value {
    parameter("id", "path", true, "The bib id", json!({ "type": "integer", "minimum": 0 }))
}

fn if_match(required: bool) -> Value {
    parameter("If-Match", "header", required, "The ETag the client read (\"v3\")", json!({ "type": "string" }))
}

fn answer(description: &str, schema: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn record_body() -> Value {
    json!({ "required": true, "content": {
        "application/marcxml+xml": { "schema": { "type": "string" } },
        "application/json": { "schema": { "$ref": "#/components/schemas/CatalogueForm" } }
    } })
}

fn json_body(schema: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

/// An operation behind a staff session (`catalogue_edit` unless said otherwise).
fn operation(op: &str, summary: &str, mut parameters: Vec<Value>, body: Option<Value>, answers: Value) -> Value {
    parameters.insert(0, tenant());
    parameters.push(lang());
    let mut responses = answers;
    if let Some(map) = responses.as_object_mut() {
        for status in ["401", "403", "404"] {
            map.entry(status).or_insert_with(problem);
        }
    }
    let mut out = json!({
        "operationId": op, "summary": summary, "security": [{ "bearer": [] }],
        "parameters": parameters, "responses": responses
    });
    if let (Some(body), Some(map)) = (body, out.as_object_mut()) {
        map.insert("requestBody".into(), body);
    }
    out
}

fn saved(status: &str) -> Value {
    json!({
        status: { "description": "The record as stored; ETag is its version",
                  "headers": { "ETag": { "schema": { "type": "string" } } },
                  "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SavedRecord" } } } }
    })
}

fn with(mut answers: Value, more: &[(&str, Value)]) -> Value {
    if let Some(map) = answers.as_object_mut() {
        for (status, value) in more {
            map.insert((*status).to_owned(), value.clone());
        }
    }
    answers
}

fn paths() -> Value {
    let version = || parameter("version", "path", true, "A version number", json!({ "type": "integer", "minimum": 0 }));
    let barcode =
        || parameter("barcode", "path", true, "The copy's barcode", json!({ "type": "string", "maxLength": 64 }));
    let query =
        |name: &str, what: &str| parameter(name, "query", false, what, json!({ "type": "string", "maxLength": 200 }));
    json!({
        "/api/v1/{tenant}/records": { "post": operation(
            "createRecord", "Catalogue a new record: MARCXML, or the cataloguing form as JSON (readings in kana). 201 with Location and ETag",
            vec![], Some(record_body()),
            with(saved("201"), &[("400", problem()), ("409", problem()), ("413", problem()), ("415", problem()), ("422", invalid())])) },
        "/api/v1/{tenant}/records/{id}": {
            "put": operation(
                "replaceRecord", "Replace a record at the version read (If-Match required: 428 without, 412 when someone saved in between)",
                vec![id(), if_match(true)], Some(record_body()),
                with(saved("200"), &[("400", problem()), ("409", problem()), ("412", problem()), ("413", problem()), ("415", problem()), ("422", invalid()), ("428", problem())])),
            "delete": operation(
                "deleteRecord", "Delete a record and its copies; 409 while a copy is on loan or held. Its history is kept",
                vec![id(), if_match(false)], None,
                json!({ "204": { "description": "Deleted" }, "409": problem(), "412": problem() }))
        },
        "/api/v1/{tenant}/records/{id}/versions": { "get": operation(
            "recordVersions", "Every version of a record, newest first: who saved it, when, through which door",
            vec![id()], None, json!({ "200": answer("The versions", "RecordVersions") })) },
        "/api/v1/{tenant}/records/{id}/versions/{version}": { "get": operation(
            "recordVersion", "One version's fields and the changes from the version before",
            vec![id(), version()], None, json!({ "200": answer("The version", "RecordVersion") })) },
        "/api/v1/{tenant}/records/{id}/versions/{version}/restore": { "post": operation(
            "restoreRecordVersion", "Put an earlier version back as a new version (If-Match required)",
            vec![id(), version(), if_match(true)], None,
            with(saved("200"), &[("409", problem()), ("412", problem()), ("422", invalid()), ("428", problem())])) },
        "/api/v1/{tenant}/records/{id}/copies": { "post": operation(
            "addCopies", "Add copies; a barcode left empty comes from the branch's range, a call number left empty is suggested",
            vec![id()], Some(json_body("CopiesRequest")),
            json!({ "201": answer("The copies", "Copies"), "400": problem(), "409": problem(), "422": problem() })) },
        "/api/v1/{tenant}/items/{barcode}/withdraw": { "post": operation(
            "withdrawItem", "Withdraw a copy (除籍) with a reason; refused while on loan or held",
            vec![barcode()], Some(json_body("WithdrawRequest")),
            json!({ "200": answer("The copy", "Copy"), "400": problem(), "409": problem(), "422": problem() })) },
        "/api/v1/{tenant}/cataloguing/targets": {
            "get": operation("copyTargets", "The library's copy-cataloguing targets (SRU servers)", vec![], None,
                json!({ "200": answer("The targets", "CopyTargets") })),
            "put": operation("putCopyTargets", "Replace the copy-cataloguing targets. Needs the staff_admin function", vec![],
                Some(json_body("CopyTargets")),
                json!({ "200": answer("The targets", "CopyTargets"), "400": problem(), "422": problem() }))
        },
        "/api/v1/{tenant}/cataloguing/copy": { "get": operation(
            "copySearch", "Search a copy-cataloguing target over SRU; 504 when it does not answer in time, 502 when it answers with an error",
            vec![query("target", "A target's name (the first when absent)"), query("isbn", "ISBN"), query("title", "Title words"), query("author", "Author")],
            None,
            json!({ "200": answer("What the target found", "CopyResults"), "400": problem(), "502": problem(), "504": problem() })) }
    })
}

fn schemas() -> Value {
    let text = || json!({ "type": "string" });
    let texts = || json!({ "type": "array", "items": { "type": "string" } });
    json!({
        "SavedRecord": { "type": "object", "required": ["id", "version", "control_number", "url", "duplicates"],
            "properties": { "id": { "type": "integer" }, "version": { "type": "integer" }, "control_number": text(), "url": text(),
                "duplicates": { "type": "array", "items": { "type": "integer" }, "description": "Other records with one of its ISBNs" } } },
        "RecordProblems": { "type": "object", "required": ["status", "code", "detail", "problems"],
            "properties": { "type": text(), "title": text(), "status": { "type": "integer" }, "code": text(), "detail": text(), "lang": text(),
                "problems": { "type": "array", "items": { "type": "object", "required": ["code", "ja", "en"],
                    "properties": { "code": text(), "ja": text(), "en": text(), "tag": text(), "input": text(),
                        "field": { "type": ["integer", "null"] }, "subfield": { "type": ["string", "null"] }, "position": { "type": ["integer", "null"] } } } } } },
        "CatalogueForm": { "type": "object", "description": "The cataloguing form: empty strings are not given; readings in kana",
            "properties": {
                "title": text(), "title_reading": text(), "subtitle": text(), "subtitle_reading": text(), "volume": text(),
                "responsibility": text(), "edition": text(), "place": text(), "publisher": text(), "publisher_reading": text(),
                "year": text(), "extent": text(), "size": text(), "series": text(), "series_reading": text(), "series_number": text(),
                "isbn": text(), "price": text(), "ndc": text(), "ndc_edition": text(), "notes": text(), "audience": text(), "language": text(),
                "authors": { "type": "array", "items": { "type": "object", "properties": {
                    "name": text(), "reading": text(), "dates": text(), "corporate": { "type": "boolean" } } } },
                "subjects": { "type": "array", "items": { "type": "object", "properties": { "heading": text(), "reading": text() } } } } },
        "VersionInfo": { "type": "object", "required": ["version", "saved", "by", "source", "current"],
            "properties": { "version": { "type": "integer" }, "saved": { "type": "integer", "description": "Unix seconds" },
                "by": text(), "source": text(), "current": { "type": "boolean" } } },
        "RecordVersions": { "type": "object", "required": ["id", "versions"],
            "properties": { "id": { "type": "integer" }, "versions": { "type": "array", "items": { "$ref": "#/components/schemas/VersionInfo" } } } },
        "RecordVersion": { "type": "object", "required": ["info", "fields", "changes"],
            "properties": { "info": { "$ref": "#/components/schemas/VersionInfo" }, "fields": texts(),
                "changes": { "type": "array", "items": { "type": "object", "required": ["kind", "tag"],
                    "properties": { "kind": { "enum": ["same", "added", "removed", "changed"] }, "tag": text(),
                        "old": { "type": ["string", "null"] }, "new": { "type": ["string", "null"] } } } } } },
        "CopiesRequest": { "type": "object", "required": ["copies"],
            "properties": { "copies": { "type": "array", "minItems": 1, "maxItems": 200, "items": { "type": "object",
                "properties": { "barcode": text(), "branch": text(), "location": text(), "call_number": text(), "item_type": text(),
                    "acquired": { "type": "string", "description": "YYYY-MM-DD; empty for today" } } } } } },
        "Copy": { "type": "object", "required": ["id", "barcode", "branch", "status"],
            "properties": { "id": { "type": "integer" }, "barcode": text(), "branch": text(), "location": text(), "call_number": text(),
                "item_type": text(), "status": text(), "acquired": { "type": ["string", "null"] } } },
        "Copies": { "type": "object", "required": ["copies"], "properties": { "copies": { "type": "array", "items": { "$ref": "#/components/schemas/Copy" } } } },
        "WithdrawRequest": { "type": "object", "required": ["reason"], "properties": { "reason": text() } },
        "CopyTarget": { "type": "object", "required": ["name", "label", "base_url", "schema", "version", "isbn_index", "title_index", "author_index", "timeout_ms"],
            "properties": { "name": text(), "label": text(), "base_url": text(), "schema": { "enum": ["marcxml", "dcndl"] }, "version": text(),
                "isbn_index": text(), "title_index": text(), "author_index": text(), "timeout_ms": { "type": "integer" } } },
        "CopyTargets": { "type": "object", "required": ["targets"], "properties": { "targets": { "type": "array", "items": { "$ref": "#/components/schemas/CopyTarget" } } } },
        "CopyResults": { "type": "object", "required": ["target", "total", "records"],
            "properties": { "target": text(), "total": { "type": "integer" }, "records": { "type": "array", "items": { "type": "object",
                "required": ["position", "title", "marcxml", "fields", "duplicates"],
                "properties": { "position": { "type": "integer" }, "title": text(), "title_reading": text(), "responsibility": text(),
                    "publisher": text(), "year": text(), "isbn": text(), "ndc": text(), "fields": texts(), "marcxml": text(),
                    "duplicates": { "type": "array", "items": { "type": "integer" } } } } } } }
    })
}

/// Adds the cataloguing operations (a path the public document has, such as a record's,
/// gets the new methods beside its own) and schemas.
pub(crate) fn extend(document: &mut Value) {
    if let (Some(paths), Value::Object(more)) = (document["paths"].as_object_mut(), paths()) {
        for (path, operations) in more {
            let entry = paths.entry(path).or_insert_with(|| Value::Object(Map::new()));
            if let (Some(entry), Value::Object(operations)) = (entry.as_object_mut(), operations) {
                entry.extend(operations);
            }
        }
    }
    if let (Some(schemas), Value::Object(more)) = (document["components"]["schemas"].as_object_mut(), schemas()) {
        schemas.extend(more);
    }
}
