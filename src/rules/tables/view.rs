//! The evidence as the rules read it: the saved facts with the classes of
//! the rule set's tables added at evaluation time.
//!
//! Each accepted suite and group gets `class` (and `recommended_until` when
//! its row has one), looked up by its code point; each RDAP network with a
//! country gets `classification` (and, for an adequacy country, the
//! decision and its note); the location gets the country table's
//! `table_snapshot` and `table_source`. A value an older report wrote at
//! scan time (schema 1.3/1.4) is replaced, so the saved report is judged
//! by the table in use, not by the one of its scan. A suite or group the
//! table does not list is `not_listed`, as the guideline treats it.

use super::{GroupClass, SuiteClass, Tables};
use serde_json::{Map, Value as Json};

impl Tables {
    /// Adds the classes to a serialized `DomainEvidence`: its endpoints and
    /// its data location.
    pub fn classify_domain(&self, domain: &mut Json) {
        if let Some(endpoints) = domain.get_mut("endpoints").and_then(Json::as_array_mut) {
            endpoints
                .iter_mut()
                .for_each(|endpoint| self.classify_endpoint(endpoint));
        }
        if let Some(location) = domain.get_mut("location") {
            self.classify_location(location);
        }
    }

    /// Adds the classes to a serialized `EndpointEvidence` (its TLS scan).
    pub fn classify_endpoint(&self, endpoint: &mut Json) {
        let Some(scan) = endpoint
            .get_mut("tls_scan")
            .and_then(|attempt| attempt.get_mut("value"))
            .and_then(Json::as_object_mut)
        else {
            return;
        };
        scan.insert(
            "classification".into(),
            Json::String(format!("{} ({})", self.tls.label(), self.tls.date)),
        );
        if let Some(versions) = scan.get_mut("versions").and_then(Json::as_array_mut) {
            for version in versions {
                let sslv2 = version.get("version").and_then(Json::as_str) == Some("SSLv2");
                let suites = version.get_mut("suites").and_then(Json::as_array_mut);
                for suite in suites.into_iter().flatten() {
                    self.classify_suite(suite, sslv2);
                }
            }
        }
        for key in ["tls13_groups", "ecdhe_curves"] {
            let groups = scan.get_mut(key).and_then(Json::as_array_mut);
            for group in groups.into_iter().flatten() {
                self.classify_group(group);
            }
        }
    }

    fn classify_suite(&self, suite: &mut Json, sslv2: bool) {
        let Some(object) = suite.as_object_mut() else {
            return;
        };
        let row = code_point(object).and_then(|id| self.tls.suite(id));
        let (class, until) = match row {
            _ if sslv2 => (self.tls.sslv2_class, None),
            Some(row) => (row.class, row.recommended_until.clone()),
            None => (SuiteClass::NotListed, None),
        };
        set_class(object, json_of(class), until);
    }

    fn classify_group(&self, group: &mut Json) {
        let Some(object) = group.as_object_mut() else {
            return;
        };
        let row = code_point(object).and_then(|id| self.tls.group(id));
        let (class, until) = match row {
            Some(row) => (row.class, row.recommended_until.clone()),
            None => (GroupClass::NotListed, None),
        };
        set_class(object, json_of(class), until);
    }

    fn classify_location(&self, location: &mut Json) {
        let Some(value) = location.get_mut("value").and_then(Json::as_object_mut) else {
            return;
        };
        value.insert("table_snapshot".into(), self.countries.date.clone().into());
        value.insert(
            "table_source".into(),
            format!("{}, {}", self.countries.source, self.countries.edition).into(),
        );
        let addresses = value.get_mut("addresses").and_then(Json::as_array_mut);
        for address in addresses.into_iter().flatten() {
            let Some(network) = address
                .get_mut("rdap")
                .and_then(|attempt| attempt.get_mut("value"))
                .and_then(Json::as_object_mut)
            else {
                continue;
            };
            // A network without a country cannot be classified; a rule
            // example may give the class alone, and keeps it.
            let Some(country) = network.get("country").and_then(Json::as_str) else {
                continue;
            };
            let classified = self.countries.classify(country);
            network.insert("classification".into(), json_of(classified.class));
            for (key, value) in [
                ("adequacy_decision", classified.decision),
                ("note", classified.note),
            ] {
                match value {
                    Some(value) => network.insert(key.into(), value.into()),
                    None => network.remove(key),
                };
            }
        }
    }
}

/// A row's code point from its `id` (`0xc02f`).
fn code_point(object: &Map<String, Json>) -> Option<u16> {
    let id = object.get("id")?.as_str()?;
    u16::from_str_radix(id.strip_prefix("0x")?, 16).ok()
}

fn set_class(object: &mut Map<String, Json>, class: Json, until: Option<String>) {
    object.insert("class".into(), class);
    match until {
        Some(until) => object.insert("recommended_until".into(), until.into()),
        None => object.remove("recommended_until"),
    };
}

fn json_of(value: impl serde::Serialize) -> Json {
    serde_json::to_value(value).unwrap_or(Json::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn endpoint(suite: &str, group: &str) -> Json {
        json!({ "tls_scan": { "status": "completed", "value": {
            "versions": [
                { "version": "TLSv1.2", "accepted": true, "suites": [{ "id": suite, "name": "x", "class": "broken", "forward_secrecy": true }] },
                { "version": "SSLv2", "accepted": true, "suites": [{ "id": "0x010080", "name": "SSL_CK_RC4_128_WITH_MD5", "forward_secrecy": false }] }
            ],
            "tls13_groups": [{ "id": group, "name": "g", "bits": 256 }]
        } } })
    }

    #[test]
    fn suites_and_groups_get_the_class_of_the_table_in_use_not_the_saved_one() {
        let tables = Tables::embedded().unwrap();
        let mut view = endpoint("0xc02f", "0x0017");
        tables.classify_endpoint(&mut view);
        let scan = &view["tls_scan"]["value"];
        assert_eq!(scan["versions"][0]["suites"][0]["class"], "recommended");
        assert_eq!(
            scan["versions"][0]["suites"][0]["recommended_until"],
            "2031-12-31"
        );
        assert_eq!(scan["versions"][1]["suites"][0]["class"], "broken");
        assert_eq!(scan["tls13_groups"][0]["class"], "recommended");
        assert!(scan["classification"].as_str().unwrap().contains("2026-01"));
    }

    #[test]
    fn an_unknown_code_point_is_not_listed() {
        let tables = Tables::embedded().unwrap();
        let mut view = endpoint("0xfefe", "0xfefe");
        tables.classify_endpoint(&mut view);
        let scan = &view["tls_scan"]["value"];
        assert_eq!(scan["versions"][0]["suites"][0]["class"], "not_listed");
        assert!(
            scan["versions"][0]["suites"][0]
                .get("recommended_until")
                .is_none()
        );
        assert_eq!(scan["tls13_groups"][0]["class"], "not_listed");
    }

    #[test]
    fn a_country_is_classified_and_a_stale_decision_removed() {
        let tables = Tables::embedded().unwrap();
        let mut domain = json!({ "endpoints": [], "location": { "status": "completed", "value": {
            "table_snapshot": "2020-01-01",
            "addresses": [
                { "address": "192.0.2.1", "rdap": { "status": "completed", "value": { "country": "CN", "classification": "adequacy", "adequacy_decision": "old" } } },
                { "address": "192.0.2.2", "rdap": { "status": "completed", "value": { "country": "US" } } },
                { "address": "192.0.2.3", "rdap": { "status": "completed", "value": { "classification": "eea" } } }
            ]
        } } });
        tables.classify_domain(&mut domain);
        let value = &domain["location"]["value"];
        assert_eq!(value["table_snapshot"], tables.countries.date.as_str());
        let network = |i: usize| &value["addresses"][i]["rdap"]["value"];
        assert_eq!(network(0)["classification"], "third-country");
        assert!(network(0).get("adequacy_decision").is_none());
        assert_eq!(network(1)["classification"], "adequacy");
        assert_eq!(network(1)["adequacy_decision"], "(EU) 2023/1795");
        assert_eq!(network(2)["classification"], "eea");
    }
}
