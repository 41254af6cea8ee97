//! A JSON reader that keeps the byte span of every string, for Terraform's and Terragrunt's
//! JSON syntax (`.tf.json`, `.tofu.json`, `terragrunt.hcl.json`). serde_json gives no spans;
//! this reader only needs strings, objects and arrays, everything else is checked and skipped.

use super::files::{Files, Found};
use super::parse::{Loaded, Syntax};
use super::template::{Composed, Escapes};
use super::SOURCE_BLOCKS;
use std::ops::Range;

/// How deep arrays and objects may nest: bounds the recursion on hostile input.
const MAX_DEPTH: usize = 128;

#[derive(Debug, PartialEq)]
pub(super) enum Json {
    Object(Vec<(JsonString, Json)>),
    Array(Vec<Json>),
    String(JsonString),
    /// A number, `true`, `false` or `null`.
    Scalar,
}

/// A string's raw text between the quotes, and where that text is in the file.
#[derive(Debug, PartialEq)]
pub(super) struct JsonString {
    pub raw: String,
    /// Span of `raw` (without the quotes).
    pub span: Range<usize>,
}

impl JsonString {
    /// The decoded value, for keys (which are compared, never rewritten).
    pub fn value(&self) -> String {
        super::template::Composed::decode(&self.raw, 0, 0, super::template::Escapes::Json).text
    }
}

impl Json {
    /// Every value of `key` in this object (Terraform allows a key to repeat).
    pub fn get<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Json> + 'a {
        let items = match self {
            Json::Object(items) => items.as_slice(),
            _ => &[],
        };
        items
            .iter()
            .filter(move |(k, _)| k.value() == key)
            .map(|(_, v)| v)
    }
}

/// Parses `text`; an error is a byte offset and a message.
pub(super) fn parse(text: &str) -> Result<Json, (usize, String)> {
    let mut reader = Reader { text, at: 0 };
    let value = reader.value(0)?;
    reader.space();
    if reader.at < text.len() {
        return Err((reader.at, "unexpected text after the JSON value".into()));
    }
    Ok(value)
}

/// The usages of the scanned file (entry 0 of `files`), which must be JSON: the blocks under
/// the top-level `module`, `terraform`, `unit` and `stack` keys, labelled or not, as objects
/// or arrays of objects, as Terraform's JSON syntax allows.
pub(super) fn extract(files: &Files, found: &mut Found) {
    let scanned = files.get(0);
    let Syntax::Json(root) = &scanned.syntax else {
        return;
    };
    let mut blocks = Vec::new();
    for kind in SOURCE_BLOCKS {
        for value in root.get(kind) {
            collect_blocks(value, &mut blocks);
        }
    }
    for block in blocks {
        extract_block(files, &scanned, block, found);
    }
}

/// Spans of the strings of `value` written without escapes.
pub(super) fn plain_literals(value: &Json) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Json::Object(items) => {
                pending.extend(items.iter().map(|(_, value)| value));
            }
            Json::Array(items) => pending.extend(items),
            Json::String(s) if !s.raw.contains('\\') => found.push(s.span.clone()),
            Json::String(_) | Json::Scalar => {}
        }
    }
    found
}

/// Block bodies are the objects with a string `source`; other objects are labels.
fn collect_blocks<'j>(value: &'j Json, out: &mut Vec<&'j Json>) {
    match value {
        Json::Object(_) if matches!(value.get("source").last(), Some(Json::String(_))) => {
            out.push(value);
        }
        Json::Object(items) => items.iter().for_each(|(_, v)| collect_blocks(v, out)),
        Json::Array(items) => items.iter().for_each(|v| collect_blocks(v, out)),
        Json::String(_) | Json::Scalar => {}
    }
}

fn extract_block(files: &Files, scanned: &Loaded, block: &Json, found: &mut Found) {
    let Some(Json::String(source)) = block.get("source").last() else {
        return;
    };
    let line = scanned.line_column(scanned.shift + source.span.start).0;
    let composed = literal(scanned, source);
    let shown = composed
        .as_ref()
        .map_or_else(|_| source.raw.clone(), |c| c.text.clone());
    let usage = composed.and_then(|composed| {
        files.usage_of(&composed, || match block.get("version").last()? {
            Json::String(version) => Some(literal(scanned, version)),
            _ => Some(Err("not a string".into())),
        })
    });
    files.record(line, shown, usage, found);
}

/// A JSON string of the scanned file; Terraform reads it as a template, which is evaluated
/// only when it is a plain literal.
fn literal(scanned: &Loaded, string: &JsonString) -> Result<Composed, String> {
    let composed = Composed::decode(
        &string.raw,
        0,
        scanned.shift + string.span.start,
        Escapes::Json,
    );
    if composed.text.contains("${") || composed.text.contains("%{") {
        return Err("templates inside JSON strings are not evaluated".into());
    }
    Ok(composed)
}

struct Reader<'t> {
    text: &'t str,
    at: usize,
}

impl Reader<'_> {
    fn value(&mut self, depth: usize) -> Result<Json, (usize, String)> {
        if depth > MAX_DEPTH {
            return Err((self.at, "JSON nested too deeply".into()));
        }
        self.space();
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.word("true"),
            Some(b'f') => self.word("false"),
            Some(b'n') => self.word("null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.expected("a JSON value")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, (usize, String)> {
        self.at += 1;
        let mut items = Vec::new();
        if self.next_is(b'}') {
            return Ok(Json::Object(items));
        }
        loop {
            self.space();
            if self.peek() != Some(b'"') {
                return Err(self.expected("a quoted key"));
            }
            let key = self.string()?;
            if !self.next_is(b':') {
                return Err(self.expected("`:`"));
            }
            items.push((key, self.value(depth + 1)?));
            if self.next_is(b'}') {
                return Ok(Json::Object(items));
            }
            if !self.next_is(b',') {
                return Err(self.expected("`,` or `}`"));
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, (usize, String)> {
        self.at += 1;
        let mut items = Vec::new();
        if self.next_is(b']') {
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            if self.next_is(b']') {
                return Ok(Json::Array(items));
            }
            if !self.next_is(b',') {
                return Err(self.expected("`,` or `]`"));
            }
        }
    }

    fn string(&mut self) -> Result<JsonString, (usize, String)> {
        let start = self.at + 1;
        let mut i = start;
        let bytes = self.text.as_bytes();
        loop {
            match bytes.get(i) {
                None => return Err((self.at, "unterminated string".into())),
                Some(b'"') => break,
                Some(b'\\') => {
                    self.check_escape(i)?;
                    i += 2;
                }
                Some(c) if *c < 0x20 => return Err((i, "control character in a string".into())),
                Some(_) => i += 1,
            }
        }
        self.at = i + 1;
        Ok(JsonString {
            raw: self.text[start..i].to_string(),
            span: start..i,
        })
    }

    fn check_escape(&self, backslash: usize) -> Result<(), (usize, String)> {
        let rest = &self.text.as_bytes()[backslash + 1..];
        let valid = match rest.first() {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => true,
            Some(b'u') => rest.len() > 4 && rest[1..5].iter().all(u8::is_ascii_hexdigit),
            _ => false,
        };
        if valid {
            Ok(())
        } else {
            Err((backslash, "invalid escape in a string".into()))
        }
    }

    fn word(&mut self, word: &str) -> Result<Json, (usize, String)> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(Json::Scalar)
        } else {
            Err(self.expected("a JSON value"))
        }
    }

    fn number(&mut self) -> Result<Json, (usize, String)> {
        let rest = &self.text[self.at..];
        let len = rest
            .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
            .unwrap_or(rest.len());
        if rest[..len].parse::<f64>().is_err() {
            return Err(self.expected("a number"));
        }
        self.at += len;
        Ok(Json::Scalar)
    }

    fn space(&mut self) {
        let rest = &self.text[self.at..];
        self.at += rest.len() - rest.trim_start_matches([' ', '\t', '\n', '\r']).len();
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// Skips space; consumes `byte` when it comes next.
    fn next_is(&mut self, byte: u8) -> bool {
        self.space();
        let found = self.peek() == Some(byte);
        if found {
            self.at += 1;
        }
        found
    }

    fn expected(&self, what: &str) -> (usize, String) {
        (self.at, format!("expected {what}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_keep_their_spans() {
        let text = r#"{"module": {"a": {"source": "x\"y", "n": [1, -2.5e3, true, null]}}}"#;
        let json = parse(text).unwrap();
        let module = json.get("module").next().unwrap();
        let Some(Json::String(source)) = module.get("a").next().unwrap().get("source").next()
        else {
            panic!("{json:?}")
        };
        assert_eq!(&text[source.span.clone()], r#"x\"y"#);
    }

    #[test]
    fn errors_have_offsets() {
        assert_eq!(parse(r#"{"a" 1}"#).unwrap_err().0, 5);
        assert_eq!(parse(r#"{"a": "\q"}"#).unwrap_err().0, 7);
        assert!(parse("[1] x").is_err());
        assert!(parse(&"[".repeat(1000)).is_err());
        assert!(parse("\"abc").is_err());
    }
}
