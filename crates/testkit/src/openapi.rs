//! GitHub's published OpenAPI description as the contract of the fake GitHub server: find the
//! operation a request addresses, and check bodies and query strings against its schemas with a
//! small JSON-schema validator (the OpenAPI 3.0 subset GitHub's description uses). A fake that
//! checks requests against the vendor's own description catches field-name mistakes that a
//! hand-written fake would share with the code under test.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The committed subset of the description (scripts/github-openapi-subset.py derives it from
/// GitHub's full file), or the file PATCHER_GITHUB_OPENAPI names, e.g. the full description.
fn location() -> PathBuf {
    match std::env::var_os("PATCHER_GITHUB_OPENAPI") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/api.github.com.json"),
    }
}

/// The description of api.github.com, parsed once per test process.
pub fn github() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = location();
        Spec::load(&path)
            .unwrap_or_else(|e| panic!("GitHub OpenAPI description {}: {e}", path.display()))
    })
}

pub struct Spec {
    doc: Value,
}

/// One operation of the description, e.g. `POST /repos/{owner}/{repo}/pulls`.
#[derive(Clone, Copy)]
pub struct Operation<'a> {
    pub template: &'a str,
    op: &'a Value,
}

impl Operation<'_> {
    /// An operation GitHub has but the committed subset keeps only the name of: the fake cannot
    /// check it, so it must not serve it either.
    pub fn omitted(&self) -> bool {
        self.op.get("x-patcher-omitted").and_then(Value::as_bool) == Some(true)
    }
}

impl Spec {
    pub fn load(path: &Path) -> anyhow::Result<Spec> {
        let text = std::fs::read_to_string(path)?;
        Ok(Spec::from_value(serde_json::from_str(&text)?))
    }

    pub fn from_value(doc: Value) -> Spec {
        Spec { doc }
    }

    /// The operation for a concrete request path (no query). Literal segments beat parameters,
    /// so `/repos/o/r/pulls/1/merge` finds `.../pulls/{pull_number}/merge`.
    pub fn operation(&self, method: &str, path: &str) -> Option<Operation<'_>> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let paths = self.doc.get("paths")?.as_object()?;
        paths
            .iter()
            .filter_map(|(template, item)| {
                let literals = template_match(template, &segments)?;
                let op = item.get(method.to_ascii_lowercase())?;
                Some((literals, Operation { template, op }))
            })
            .max_by_key(|(literals, _)| *literals)
            .map(|(_, op)| op)
    }

    /// The JSON request body schema and whether a body is required.
    pub fn request_schema<'a>(&'a self, op: Operation<'a>) -> Option<(&'a Value, bool)> {
        let body = self.resolve(op.op.get("requestBody")?);
        let schema = body.pointer("/content/application~1json/schema")?;
        let required = body.get("required").and_then(Value::as_bool) == Some(true);
        Some((schema, required))
    }

    /// The JSON schema of the answer with this status, if the description has one.
    pub fn response_schema<'a>(&'a self, op: Operation<'a>, status: u16) -> Option<&'a Value> {
        let response = self.resolve(op.op.get("responses")?.get(status.to_string())?);
        response.pointer("/content/application~1json/schema")
    }

    /// A named example of `components/examples`, e.g. `pull-request`.
    pub fn example(&self, name: &str) -> Option<&Value> {
        self.doc
            .get("components")?
            .get("examples")?
            .get(name)?
            .get("value")
    }

    /// Unknown query parameters and values that break their parameter's schema.
    pub fn query_violations(&self, op: Operation<'_>, query: &[(String, String)]) -> Vec<String> {
        let params: Vec<&Value> = op
            .op
            .get("parameters")
            .and_then(Value::as_array)
            .map(|list| list.iter().map(|p| self.resolve(p)).collect())
            .unwrap_or_default();
        let mut out = Vec::new();
        for (name, raw) in query {
            let param = params.iter().find(|p| {
                p.get("in").and_then(Value::as_str) == Some("query")
                    && p.get("name").and_then(Value::as_str) == Some(name)
            });
            let Some(schema) = param.and_then(|p| p.get("schema")) else {
                out.push(format!("query: unknown parameter `{name}`"));
                continue;
            };
            let value = query_value(raw, self.resolve(schema));
            self.check(schema, &value, &format!("query.{name}"), &mut out);
        }
        out
    }

    /// Every way `value` breaks `schema`, as `path: reason` lines; empty when it conforms.
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        self.check(schema, value, "$", &mut out);
        out
    }

    /// Follows `$ref` chains (local references only, which is all GitHub's description uses).
    fn resolve<'a>(&'a self, mut node: &'a Value) -> &'a Value {
        while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            match reference
                .strip_prefix('#')
                .and_then(|ptr| self.doc.pointer(ptr))
            {
                Some(target) => node = target,
                None => break,
            }
        }
        node
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if value.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true) {
            return;
        }
        self.check_combinators(schema, value, at, out);
        if let Some(expected) = schema.get("type") {
            if !type_matches(expected, value) {
                out.push(format!(
                    "{at}: expected type {expected}, got {}",
                    kind(value)
                ));
                return;
            }
        }
        if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
            if !choices.contains(value) {
                out.push(format!(
                    "{at}: {value} is not one of {}",
                    Value::from(choices.clone())
                ));
            }
        }
        match value {
            Value::Object(map) => self.check_object(schema, map, at, out),
            Value::Array(items) => self.check_array(schema, items, at, out),
            Value::String(text) => check_length(schema, text, at, out),
            Value::Number(n) => check_range(schema, n.as_f64().unwrap_or(f64::NAN), at, out),
            _ => {}
        }
    }

    fn check_combinators(&self, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.check(sub, value, at, out);
            }
        }
        let passes = |sub: &Value| {
            let mut errors = Vec::new();
            self.check(sub, value, at, &mut errors);
            errors.is_empty()
        };
        if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
            if !any.iter().any(passes) {
                out.push(format!("{at}: matches none of the anyOf alternatives"));
            }
        }
        if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
            let matching = one.iter().filter(|sub| passes(sub)).count();
            if matching != 1 {
                out.push(format!(
                    "{at}: matches {matching} of the oneOf alternatives, expected exactly 1"
                ));
            }
        }
    }

    fn check_object(
        &self,
        schema: &Value,
        map: &serde_json::Map<String, Value>,
        at: &str,
        out: &mut Vec<String>,
    ) {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap_or_default();
            if !map.contains_key(name) {
                out.push(format!("{at}: missing required property `{name}`"));
            }
        }
        if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64) {
            if map.len() as u64 > max {
                out.push(format!(
                    "{at}: {} properties, at most {max} allowed",
                    map.len()
                ));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, child) in map {
            let child_at = format!("{at}.{name}");
            match (
                properties.and_then(|p| p.get(name)),
                schema.get("additionalProperties"),
            ) {
                (Some(sub), _) => self.check(sub, child, &child_at, out),
                (None, Some(Value::Bool(false))) => {
                    out.push(format!("{at}: unexpected property `{name}`"))
                }
                (None, Some(sub)) if sub.is_object() => self.check(sub, child, &child_at, out),
                _ => {}
            }
        }
    }

    fn check_array(&self, schema: &Value, items: &[Value], at: &str, out: &mut Vec<String>) {
        let len = items.len() as u64;
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
            if len < min {
                out.push(format!("{at}: {len} items, at least {min} required"));
            }
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if len > max {
                out.push(format!("{at}: {len} items, at most {max} allowed"));
            }
        }
        if let Some(sub) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.check(sub, item, &format!("{at}[{i}]"), out);
            }
        }
    }
}

/// Number of literal segments when `template` matches, else `None`.
fn template_match(template: &str, segments: &[&str]) -> Option<usize> {
    let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut literals = 0;
    for (part, segment) in parts.iter().zip(segments) {
        if part.starts_with('{') && part.ends_with('}') {
            if segment.is_empty() {
                return None;
            }
        } else if part == segment {
            literals += 1;
        } else {
            return None;
        }
    }
    Some(literals)
}

/// A query string value typed the way its schema expects, so `per_page=30` checks as 30.
fn query_value(raw: &str, schema: &Value) -> Value {
    let numeric = matches!(
        schema.get("type").and_then(Value::as_str),
        Some("integer" | "number")
    );
    match raw.parse::<i64>() {
        Ok(n) if numeric => Value::from(n),
        _ => match raw {
            "true" | "false" if schema.get("type").and_then(Value::as_str) == Some("boolean") => {
                Value::Bool(raw == "true")
            }
            _ => Value::String(raw.to_string()),
        },
    }
}

fn type_matches(expected: &Value, value: &Value) -> bool {
    match expected {
        Value::Array(options) => options.iter().any(|t| type_matches(t, value)),
        Value::String(name) => match name.as_str() {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "null" => value.is_null(),
            _ => true,
        },
        _ => true,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check_length(schema: &Value, text: &str, at: &str, out: &mut Vec<String>) {
    let len = text.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
        if len < min {
            out.push(format!("{at}: length {len}, at least {min} required"));
        }
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
        if len > max {
            out.push(format!("{at}: length {len}, at most {max} allowed"));
        }
    }
}

fn check_range(schema: &Value, n: f64, at: &str, out: &mut Vec<String>) {
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        if n < min {
            out.push(format!("{at}: {n} is below the minimum {min}"));
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        if n > max {
            out.push(format!("{at}: {n} is above the maximum {max}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Spec {
        Spec::from_value(json!({
            "paths": {
                "/repos/{owner}/{repo}/pulls/{pull_number}": {"get": {"operationId": "get"}},
                "/repos/{owner}/{repo}/pulls/{pull_number}/merge": {"put": {"operationId": "merge"}},
                "/repos/{owner}/{repo}/pulls/comments": {"get": {"operationId": "comments"}}
            },
            "components": {"schemas": {
                "label": {"type": "object", "required": ["name"], "additionalProperties": false,
                          "properties": {"name": {"type": "string", "maxLength": 5},
                                         "color": {"type": ["string", "null"]}}},
                "labels": {"type": "array", "minItems": 1, "items": {"oneOf": [
                    {"type": "string"}, {"$ref": "#/components/schemas/label"}]}}
            }}
        }))
    }

    #[test]
    fn literal_segments_win_over_parameters() {
        let s = spec();
        let op = s.operation("GET", "/repos/o/r/pulls/comments").unwrap();
        assert_eq!(op.template, "/repos/{owner}/{repo}/pulls/comments");
        let op = s.operation("PUT", "/repos/o/r/pulls/7/merge").unwrap();
        assert_eq!(
            op.template,
            "/repos/{owner}/{repo}/pulls/{pull_number}/merge"
        );
        assert!(s.operation("POST", "/repos/o/r/pulls/7").is_none());
    }

    #[test]
    fn validator_reports_each_kind_of_violation() {
        let s = spec();
        let labels = json!({"$ref": "#/components/schemas/labels"});
        assert!(s
            .validate(&labels, &json!(["a", {"name": "b", "color": null}]))
            .is_empty());
        let errors = s.validate(&labels, &json!([{"nam": "x"}, 3, {"name": "toolong"}]));
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert_eq!(s.validate(&labels, &json!([])).len(), 1);
        assert_eq!(s.validate(&labels, &json!({"labels": []})).len(), 1);
    }

    #[test]
    fn github_description_has_the_operations_we_fake() {
        let s = github();
        let op = s.operation("POST", "/repos/o/r/pulls").unwrap();
        let (schema, required) = s.request_schema(op).unwrap();
        assert!(required);
        let ok = json!({"title": "t", "head": "b", "base": "main", "body": "x"});
        assert!(s.validate(schema, &ok).is_empty());
        let errors = s.validate(schema, &json!({"title": "t", "head": "b", "bsae": "main"}));
        assert!(errors.iter().any(|e| e.contains("`base`")), "{errors:?}");
        // The vendor's own example breaks its schema in one place, which the validator sees.
        let mut pr = s.example("pull-request").unwrap().clone();
        let errors = s.validate(s.response_schema(op, 201).unwrap(), &pr);
        assert_eq!(
            errors,
            ["$.requested_teams[0]: missing required property `type`"]
        );
        pr["requested_teams"] = json!([]);
        assert!(s
            .validate(s.response_schema(op, 201).unwrap(), &pr)
            .is_empty());
    }

    #[test]
    fn the_subset_tells_omitted_operations_from_unknown_ones() {
        let s = github();
        let omitted = s.operation("DELETE", "/repos/o/r").unwrap();
        assert!(omitted.omitted());
        assert!(s.request_schema(omitted).is_none());
        assert!(!s
            .operation("POST", "/repos/o/r/dispatches")
            .unwrap()
            .omitted());
        assert!(s.operation("POST", "/repos/o/r/pulls/7").is_none());
    }
}
