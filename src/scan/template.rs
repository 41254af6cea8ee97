//! Strings as Terraform and Terragrunt evaluate them, with the on-disk origin of every byte.
//!
//! A version may be written in the scanned file or in a file it reads (an `include`, a
//! `read_terragrunt_config`), so each byte copied verbatim from a literal remembers which file
//! and which offset it came from; bytes produced by escapes or functions remember nothing and
//! so can never be rewritten.

use std::ops::Range;

/// Index of a file in the table of one file's scan; 0 is the scanned file itself.
pub(super) type FileId = usize;

/// Where one byte of an evaluated string is written on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct At {
    pub file: FileId,
    pub offset: usize,
}

#[derive(Debug, Default)]
pub(super) struct Composed {
    pub text: String,
    pub offsets: Vec<Option<At>>,
}

impl Composed {
    pub fn verbatim(text: &str, file: FileId, at: usize) -> Composed {
        Composed {
            text: text.to_string(),
            offsets: (at..at + text.len())
                .map(|offset| Some(At { file, offset }))
                .collect(),
        }
    }

    pub fn unmapped(text: &str) -> Composed {
        Composed {
            text: text.to_string(),
            offsets: vec![None; text.len()],
        }
    }

    /// A quoted-string literal written at on-disk offset `at`, decoded with `unescape` (HCL's
    /// or JSON's rules); bytes produced by an escape have no offset.
    pub fn decode(raw: &str, file: FileId, at: usize, escapes: Escapes) -> Composed {
        let mut out = Composed::default();
        let mut chars = raw.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let doubled_marker = escapes == Escapes::Hcl
                && (c == '$' || c == '%')
                && raw[i + 1..].starts_with(c)
                && raw[i + 2..].starts_with('{');
            if c == '\\' {
                out.append(Composed::unmapped(&unescape(&mut chars, escapes)));
            } else if doubled_marker {
                chars.next();
                out.append(Composed::unmapped(&c.to_string()));
            } else {
                out.text.push(c);
                out.offsets.extend(
                    (at + i..at + i + c.len_utf8()).map(|offset| Some(At { file, offset })),
                );
            }
        }
        out
    }

    pub fn append(&mut self, other: Composed) {
        self.text.push_str(&other.text);
        self.offsets.extend(other.offsets);
    }

    /// File and on-disk span of `range` when it was copied verbatim from one place of one
    /// file, so that replacing those bytes changes exactly that part of the evaluated string.
    pub fn disk_span(&self, range: Range<usize>) -> Option<(FileId, Range<usize>)> {
        let start = (*self.offsets.get(range.start)?)?;
        let contiguous = range.clone().all(|i| {
            self.offsets.get(i)
                == Some(&Some(At {
                    file: start.file,
                    offset: start.offset + i - range.start,
                }))
        });
        (contiguous && !range.is_empty())
            .then(|| (start.file, start.offset..start.offset + range.len()))
    }
}

/// Which escape rules a quoted string follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Escapes {
    /// HCL: `\n`, `\uXXXX`, `\UXXXXXXXX` …, and `$${` / `%%{` for literal markers.
    Hcl,
    /// JSON: `\n`, `\uXXXX` (with surrogate pairs) …
    Json,
}

/// The text of the escape sequence after a `\\`.
fn unescape(chars: &mut std::iter::Peekable<std::str::CharIndices>, escapes: Escapes) -> String {
    let escaped = chars.next().map(|(_, c)| c);
    let digits = match escaped {
        Some('u') => 4,
        Some('U') if escapes == Escapes::Hcl => 8,
        Some('n') => return "\n".to_string(),
        Some('r') => return "\r".to_string(),
        Some('t') => return "\t".to_string(),
        Some('b') if escapes == Escapes::Json => return "\u{8}".to_string(),
        Some('f') if escapes == Escapes::Json => return "\u{c}".to_string(),
        other => return other.map(String::from).unwrap_or_default(),
    };
    let code = hex(chars, digits);
    let high_surrogate = (0xD800..0xDC00).contains(&code);
    if escapes == Escapes::Json && high_surrogate {
        let mut ahead = chars.clone();
        if ahead.next().map(|(_, c)| c) == Some('\\') && ahead.next().map(|(_, c)| c) == Some('u') {
            let low = hex(&mut ahead, 4);
            if (0xDC00..0xE000).contains(&low) {
                *chars = ahead;
                let joined = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                return char::from_u32(joined).map(String::from).unwrap_or_default();
            }
        }
    }
    char::from_u32(code).map(String::from).unwrap_or_default()
}

fn hex(chars: &mut std::iter::Peekable<std::str::CharIndices>, digits: usize) -> u32 {
    let code: String = chars.take(digits).map(|(_, c)| c).collect();
    u32::from_str_radix(&code, 16).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_keeps_offsets_of_verbatim_bytes_only() {
        let decoded = Composed::decode("a\\tb$${c}%%{d}\\u00e9", 0, 10, Escapes::Hcl);
        assert_eq!(decoded.text, "a\tb${c}%{d}\u{e9}");
        let at = |offset| Some(At { file: 0, offset });
        assert_eq!(decoded.offsets[..3], [at(10), None, at(13)]);
        assert_eq!(decoded.disk_span(3..5), None);
        assert_eq!(decoded.disk_span(4..7), Some((0, 16..19)));
    }

    #[test]
    fn json_escapes_join_surrogate_pairs_and_keep_markers() {
        let decoded = Composed::decode("\\ud83d\\ude00$${x}\\/", 2, 0, Escapes::Json);
        assert_eq!(decoded.text, "\u{1F600}$${x}/");
        assert_eq!(decoded.disk_span(4..9), Some((2, 12..17)));
    }

    #[test]
    fn spans_never_join_two_files() {
        let mut composed = Composed::verbatim("ab", 0, 5);
        composed.append(Composed::verbatim("cd", 1, 7));
        assert_eq!(composed.disk_span(0..2), Some((0, 5..7)));
        assert_eq!(composed.disk_span(1..3), None);
    }
}
