//! Bytes to a parsed file: BOM, UTF-8, HCL (with a lenient retry) or JSON, and positions.

use super::json::{self, Json};
use crate::model::{FileError, Fingerprint};
use hcl_edit::structure::Body;
use std::ops::Range;
use std::path::{Path, PathBuf};

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// hcl-edit rejects a repeated key inside an object constructor; HashiCorp's parser accepts it.
const REPEATED_KEY: &str = "expected unique object key";
/// How many repeated keys of one file are renamed before giving up.
const MAX_RENAMED_KEYS: usize = 64;

/// What a file holds once parsed.
pub(super) enum Syntax {
    Hcl(Body),
    Json(Json),
}

/// One file of a scan, parsed: the scanned file or one it reads.
pub(super) struct Loaded {
    /// Path relative to the working dir, `None` for a file outside it.
    pub rel: Option<PathBuf>,
    /// Absolute path, for a file read from disk.
    pub path: Option<PathBuf>,
    /// The text after any BOM.
    pub text: String,
    /// Bytes before `text` on disk (a BOM).
    pub shift: usize,
    pub syntax: Syntax,
    line_starts: Vec<usize>,
    /// Set when the file was parsed only after renaming repeated object keys.
    pub lenient: Option<FileError>,
    /// The bytes as read, so an edit can tell whether someone rewrote the file since.
    pub fingerprint: Fingerprint,
}

impl Loaded {
    /// Parses `bytes`; `label` names the file in errors, JSON when it ends in `.json`.
    pub fn parse(
        label: &Path,
        rel: Option<PathBuf>,
        path: Option<PathBuf>,
        bytes: &[u8],
    ) -> Result<Loaded, FileError> {
        let shift = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
        let text = std::str::from_utf8(&bytes[shift..])
            .map_err(|err| utf8_error(label, &bytes[shift..], err))?;
        let line_starts = line_starts(text);
        let is_json = label.to_string_lossy().ends_with(".json");
        let (syntax, lenient) = if is_json {
            let value = json::parse(text).map_err(|(offset, message)| {
                let (line, column) = position(text, &line_starts, offset);
                file_error(label, line, column, message)
            })?;
            (Syntax::Json(value), None)
        } else {
            let (body, lenient) = parse_hcl(label, text, &line_starts)?;
            (Syntax::Hcl(body), lenient)
        };
        Ok(Loaded {
            rel,
            path,
            text: text.to_string(),
            shift,
            syntax,
            line_starts,
            lenient,
            fingerprint: Fingerprint::of(bytes),
        })
    }

    /// The folder the file lies in, for a file read from disk.
    pub fn dir(&self) -> Option<PathBuf> {
        self.path.as_deref()?.parent().map(Path::to_path_buf)
    }

    /// 1-based line and column (in characters) of an on-disk offset.
    pub fn line_column(&self, disk_offset: usize) -> (usize, usize) {
        position(
            &self.text,
            &self.line_starts,
            disk_offset.saturating_sub(self.shift),
        )
    }

    /// The text of the 1-based `line`, if it exists.
    pub fn line(&self, line: usize) -> Option<&str> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text.get(start..end)
    }

    /// The text at a span of `text` (not shifted by the BOM).
    pub fn snippet(&self, span: Option<Range<usize>>) -> String {
        span.and_then(|span| self.text.get(span))
            .unwrap_or_default()
            .to_string()
    }
}

/// Parses with hcl-edit; when it rejects only repeated object keys, which HashiCorp's parser
/// accepts, those keys are renamed to unique names of the same length and the file is parsed
/// again, so every span stays right and the file's module blocks are not lost.
fn parse_hcl(
    label: &Path,
    text: &str,
    line_starts: &[usize],
) -> Result<(Body, Option<FileError>), FileError> {
    let error = |err: &hcl_edit::parser::Error| {
        let location = err.location();
        file_error(
            label,
            location.line(),
            location.column(),
            err.message().to_string(),
        )
    };
    let first = match hcl_edit::parser::parse_body(text) {
        Ok(body) => return Ok((body, None)),
        Err(err) => err,
    };
    let mut renamed = text.to_string();
    let mut last = first.clone();
    for n in 0..MAX_RENAMED_KEYS {
        if !last.message().contains(REPEATED_KEY) {
            break;
        }
        let location = last.location();
        let offset = offset_of(&renamed, line_starts, location.line(), location.column());
        if !rename_key(&mut renamed, offset, n) {
            break;
        }
        match hcl_edit::parser::parse_body(&renamed) {
            Ok(body) => {
                let mut note = error(&first);
                note.message = format!(
                    "{}: read leniently (HashiCorp's parser accepts a repeated key), module \
                     sources still found",
                    note.message
                );
                return Ok((body, Some(note)));
            }
            Err(err) => last = err,
        }
    }
    Err(error(&last))
}

/// Renames the object key at `offset` (a name, a quoted string or a parenthesized
/// expression) in place; false when there is no such key there.
fn rename_key(text: &mut String, offset: usize, n: usize) -> bool {
    let rest = &text[offset..];
    let (start, len) = if let Some(quoted) = rest.strip_prefix('"') {
        let end = quoted.find(['"', '\\', '$', '%', '\n']).unwrap_or(0);
        match quoted.as_bytes().get(end) {
            Some(b'"') => (offset + 1, end),
            _ => return false,
        }
    } else if rest.starts_with('(') {
        match closing_paren(rest) {
            Some(end) => (offset, end + 1),
            None => return false,
        }
    } else {
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        (offset, end)
    };
    if len == 0 {
        return false;
    }
    text.replace_range(start..start + len, &unique_name(len, n));
    true
}

/// Offset of the `)` that closes the `(` at the start of `text`, outside quoted strings.
fn closing_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match (quoted, c) {
            (true, _) if escaped => escaped = false,
            (true, '\\') => escaped = true,
            (true, '"') => quoted = false,
            (true, _) => {}
            (false, '"') => quoted = true,
            (false, '(') => depth += 1,
            (false, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            (false, _) => {}
        }
    }
    None
}

/// The `n`-th name of `len` ASCII characters that starts with `_`, so it is a valid key.
fn unique_name(len: usize, n: usize) -> String {
    const LETTERS: &[u8] = b"_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if len == 1 {
        return char::from(LETTERS[n % LETTERS.len()]).to_string();
    }
    let digits = format!("{n:0>width$}", width = len - 1);
    format!("_{}", &digits[digits.len() - (len - 1)..])
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

fn position(text: &str, line_starts: &[usize], offset: usize) -> (usize, usize) {
    let index = line_starts.partition_point(|start| *start <= offset) - 1;
    let line_start = line_starts[index];
    let column = text[line_start..offset.min(text.len())].chars().count() + 1;
    (index + 1, column)
}

/// Byte offset of a 1-based line and column (in characters).
fn offset_of(text: &str, line_starts: &[usize], line: usize, column: usize) -> usize {
    let start = line_starts
        .get(line.saturating_sub(1))
        .copied()
        .unwrap_or(text.len());
    text[start..]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(i, _)| start + i)
}

fn file_error(label: &Path, line: usize, column: usize, message: String) -> FileError {
    FileError {
        file: label.to_path_buf(),
        line,
        column,
        message,
    }
}

fn utf8_error(label: &Path, text: &[u8], err: std::str::Utf8Error) -> FileError {
    let valid = &text[..err.valid_up_to()];
    let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    file_error(
        label,
        valid.iter().filter(|b| **b == b'\n').count() + 1,
        String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1,
        "not valid UTF-8".to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Loaded, FileError> {
        Loaded::parse(Path::new("x.tf"), None, None, text.as_bytes())
    }

    #[test]
    fn repeated_keys_are_renamed_in_place_and_noted() {
        let text = "locals {\n  s = { min_size = 1, max_size = 3, min_size = 2, \"a\" = 1, \"a\" = 2 }\n  t = { (var.k) = 1, (var.k) = 2, x = 1,\n    x = 2 }\n}\n";
        let loaded = load(text).unwrap();
        let note = loaded.lenient.expect("a lenient note");
        assert_eq!((note.line, note.column), (2, 37));
        assert!(note.message.contains("read leniently"), "{note:?}");
        assert_eq!(loaded.text, text);
    }

    #[test]
    fn a_real_syntax_error_after_a_repeated_key_is_the_one_reported() {
        let text = "locals {\n  s = { a = 1, a = 2 }\n  t = = 3\n}\n";
        let err = load(text).err().expect("an error");
        assert_eq!(err.line, 3, "{err:?}");
    }

    #[test]
    fn unique_names_keep_the_length() {
        assert_eq!(unique_name(1, 0), "_");
        assert_eq!(unique_name(1, 1), "a");
        assert_eq!(unique_name(3, 7), "_07");
        assert_eq!(unique_name(2, 123), "_3");
    }

    #[test]
    fn invalid_utf8_is_an_error_at_its_position() {
        let err = Loaded::parse(Path::new("x.tf"), None, None, b"# ok\n# \xff\n")
            .err()
            .expect("an error");
        assert_eq!((err.line, err.column), (2, 3));
    }
}
