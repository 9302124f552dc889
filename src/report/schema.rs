//! The JSON Schema of `report.json`, generated from the report model with
//! schemars and committed as `docs/report.schema.json`. A test regenerates
//! it and fails when the shape changed without a bump of
//! [`SCHEMA_VERSION`]: users of JSON reports need a stable shape.

use super::Report;
use crate::evidence::SCHEMA_VERSION;

/// The key in the schema document that records the `schema_version` it
/// describes.
pub const VERSION_KEY: &str = "x-mailaudit-schema-version";

/// The schema of [`Report`], with the schema version it describes.
pub fn generate() -> serde_json::Value {
    let mut schema = schemars::schema_for!(Report).to_value();
    if let Some(object) = schema.as_object_mut() {
        object.insert("title".to_string(), "mailaudit report (report.json)".into());
        object.insert(VERSION_KEY.to_string(), SCHEMA_VERSION.into());
    }
    schema
}

/// The schema as written to `docs/report.schema.json`.
pub fn render() -> String {
    let mut text = serde_json::to_string_pretty(&generate()).unwrap_or_default();
    text.push('\n');
    text
}
