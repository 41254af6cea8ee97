//! Reading patcher's spec JSON in assertions.

use serde_json::Value;

/// The entry of `Dependencies` whose `ID` is `id`, if any.
pub fn find_dependency<'a>(spec: &'a Value, id: &str) -> Option<&'a Value> {
    spec["Dependencies"]
        .as_array()?
        .iter()
        .find(|d| d["ID"] == id)
}

/// The entry of `Dependencies` whose `ID` is `id`; panics with the spec when there is none.
pub fn dependency<'a>(spec: &'a Value, id: &str) -> &'a Value {
    find_dependency(spec, id).unwrap_or_else(|| panic!("{id} not in {spec:#}"))
}

/// The `ID`s of `Dependencies`, in order.
pub fn dependency_ids(spec: &Value) -> Vec<&str> {
    spec["Dependencies"]
        .as_array()
        .map(|deps| deps.iter().filter_map(|d| d["ID"].as_str()).collect())
        .unwrap_or_default()
}
