//! Conversion between the evidence's JSON and CEL values.
//!
//! Evidence goes through `serde_json::Value` first, and numbers become CEL
//! `int` whenever they fit, so rule authors can write `port == 25` and
//! `bits / 8` without `uint` suffixes.

use cel::Value;
use cel::objects::{Key, Map};
use std::collections::HashMap;
use std::sync::Arc;

/// Converts JSON to a CEL value.
pub fn to_cel(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => Value::UInt(u),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(to_cel).collect()))
        }
        serde_json::Value::Object(fields) => {
            let map: HashMap<Key, Value> = fields
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// Renders a CEL value for a finding's detail text.
pub fn display(value: &Value) -> String {
    match value {
        Value::Null => "–".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::String(s) => s.to_string(),
        Value::List(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        Value::Timestamp(t) => t.to_rfc3339(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_become_int_and_lists_render_joined() {
        let value = to_cel(&serde_json::json!({"port": 25, "names": ["a", "b"]}));
        let Value::Map(map) = value else {
            panic!("map")
        };
        assert_eq!(
            map.map.get(&Key::String(Arc::new("port".into()))),
            Some(&Value::Int(25))
        );
        let names = map.map.get(&Key::String(Arc::new("names".into()))).unwrap();
        assert_eq!(display(names), "a, b");
    }
}
