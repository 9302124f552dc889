//! The JSON Schema of the evidence as the rules read it: the report's
//! schema with the fields the tables add at evaluation time ([`super::view`]).
//! `rules check` compares the literals of a rule with this one, so a rule
//! comparing `classification` with `'adequate'` is still refused although
//! the saved evidence no longer holds the class (issue 14, GOV-002).

use super::{CountryClass, GroupClass, SuiteClass};
use serde_json::{Value as Json, json};

/// `report` (as `report::schema::generate` writes it) with the classes,
/// "recommended until" dates and table names of the rules' view.
pub fn rule_view(mut report: Json) -> Json {
    let text = json!({ "type": "string" });
    let enum_of = |schema: schemars::Schema| {
        let mut value = schema.to_value();
        if let Some(object) = value.as_object_mut() {
            object.remove("$schema");
            object.remove("title");
        }
        value
    };
    let Some(defs) = report.get_mut("$defs").and_then(Json::as_object_mut) else {
        return report;
    };
    defs.insert(
        "SuiteClass".into(),
        enum_of(schemars::schema_for!(SuiteClass)),
    );
    defs.insert(
        "GroupClass".into(),
        enum_of(schemars::schema_for!(GroupClass)),
    );
    defs.insert(
        "CountryClass".into(),
        enum_of(schemars::schema_for!(CountryClass)),
    );
    let added: [(&str, &[(&str, Json)]); 5] = [
        (
            "SuiteResult",
            &[
                ("class", json!({ "$ref": "#/$defs/SuiteClass" })),
                ("recommended_until", text.clone()),
            ],
        ),
        (
            "GroupResult",
            &[
                ("class", json!({ "$ref": "#/$defs/GroupClass" })),
                ("recommended_until", text.clone()),
            ],
        ),
        (
            "RdapNetwork",
            &[
                ("classification", json!({ "$ref": "#/$defs/CountryClass" })),
                ("adequacy_decision", text.clone()),
                ("note", text.clone()),
            ],
        ),
        ("TlsScanEvidence", &[("classification", text.clone())]),
        (
            "LocationEvidence",
            &[
                ("table_snapshot", text.clone()),
                ("table_source", text.clone()),
            ],
        ),
    ];
    for (definition, fields) in added {
        let properties = defs
            .get_mut(definition)
            .and_then(|d| d.get_mut("properties"))
            .and_then(Json::as_object_mut);
        if let Some(properties) = properties {
            for (name, schema) in fields {
                properties.insert((*name).to_string(), schema.clone());
            }
        }
    }
    report
}
