//! Finds every versioned module reference of an environment.
//!
//! Files are walked and parsed in parallel with hcl-edit, which keeps byte spans, so each
//! [`Usage`] points at the exact bytes of its version text on disk and `edit` can replace them
//! without touching anything else. Symbolic links are not followed, so a linked folder is never
//! scanned (or edited) twice.

use crate::environment::{DirMatcher, Environment, EnvironmentError};
use crate::model::{FileError, ScanResult, Skipped, Source, Usage, VersionForm};
use crate::source::{parse_source, redact_credentials, Parsed};
use hcl_edit::expr::{Expression, FuncCall, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use hcl_edit::template::Element;
use hcl_edit::Span;
use ignore::{DirEntry, WalkBuilder, WalkState};
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Folders never scanned: git internals and the module copies Terraform and Terragrunt download.
const SKIP_DIRS: [&str; 3] = [".git", ".terraform", ".terragrunt-cache"];
/// Blocks whose `source` attribute names a module: Terraform `module`, Terragrunt `terraform`,
/// and the `unit` and `stack` blocks of Terragrunt stacks.
const SOURCE_BLOCKS: [&str; 4] = ["module", "terraform", "unit", "stack"];
const BOM: &[u8] = b"\xEF\xBB\xBF";
/// How deep `local.a` may refer to `local.b` …; also stops reference cycles.
const MAX_LOCALS_DEPTH: usize = 8;
/// How many Terragrunt `include`s are followed from one file.
const MAX_INCLUDE_DEPTH: usize = 2;

/// Scans the environment's folders; results are sorted by file and line.
pub fn scan(env: &Environment) -> Result<ScanResult, EnvironmentError> {
    let matcher = env.matcher()?;
    let root = absolute_dir(&env.working_dir)?;
    let root = root.as_path();
    let found = Mutex::new(Collected::default());
    WalkBuilder::new(root)
        .standard_filters(false)
        .filter_entry(|entry| !is_skipped_dir(entry))
        .build_parallel()
        .run(|| {
            Box::new(|entry| {
                let outcome = visit(root, &matcher, entry);
                merge(&found, outcome);
                WalkState::Continue
            })
        });
    let mut result = found.into_inner().unwrap_or_else(|e| e.into_inner()).result;
    sort(&mut result);
    Ok(result)
}

/// What the walk found so far, and one shared copy of every source address seen.
#[derive(Default)]
struct Collected {
    result: ScanResult,
    sources: HashSet<Arc<Source>>,
}

/// The working dir as one absolute path without `.` or `..`, so that every path a Terragrunt
/// function yields (`find_in_parent_folders`, `get_terragrunt_dir` …) is absolute and the same
/// whichever spelling (`.`, `./`, `sub/..`, `../name`) the user gave.
fn absolute_dir(dir: &Path) -> Result<PathBuf, EnvironmentError> {
    let unreadable = |message: String| EnvironmentError::WorkingDir {
        path: dir.to_path_buf(),
        message,
    };
    let absolute = dir
        .canonicalize()
        .map_err(|err| unreadable(err.to_string()))?;
    if absolute.is_dir() {
        Ok(absolute)
    } else {
        Err(unreadable("not a readable folder".to_string()))
    }
}

/// Usages and skipped references of one file; `rel_path` is only used to label them. Sources
/// are resolved from the file alone (its `locals`).
pub fn scan_file(rel_path: &Path, bytes: &[u8]) -> Result<(Vec<Usage>, Vec<Skipped>), FileError> {
    scan_bytes(rel_path, bytes, None)
}

/// Like [`scan_file`] for a file that lies in the folder `dir`: Terragrunt `include` blocks and
/// path functions (`find_in_parent_folders`, `dirname`, `get_terragrunt_dir`, `get_repo_root`)
/// are followed, so `${include.envcommon.locals.base_source_url}?ref=v1.2.3` resolves.
pub fn scan_file_in(
    dir: &Path,
    rel_path: &Path,
    bytes: &[u8],
) -> Result<(Vec<Usage>, Vec<Skipped>), FileError> {
    scan_bytes(rel_path, bytes, Some(Disk { dir, depth: 0 }))
}

fn scan_bytes(
    rel_path: &Path,
    bytes: &[u8],
    disk: Option<Disk>,
) -> Result<(Vec<Usage>, Vec<Skipped>), FileError> {
    let (text, shift) = decode(rel_path, bytes)?;
    let body = parse(rel_path, text)?;
    let file = FileScan::new(rel_path, text, shift, &body, disk);
    let mut found = Found::default();
    for block in body
        .blocks()
        .filter(|b| SOURCE_BLOCKS.iter().any(|ident| b.has_ident(ident)))
    {
        file.block(block, &mut found);
    }
    Ok((found.usages, found.skipped))
}

/// The text after any BOM, and the BOM's length.
fn decode<'b>(rel_path: &Path, bytes: &'b [u8]) -> Result<(&'b str, usize), FileError> {
    let shift = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
    std::str::from_utf8(&bytes[shift..])
        .map(|text| (text, shift))
        .map_err(|err| utf8_error(rel_path, &bytes[shift..], err))
}

fn parse(rel_path: &Path, text: &str) -> Result<Body, FileError> {
    hcl_edit::parser::parse_body(text).map_err(|err| FileError {
        file: rel_path.to_path_buf(),
        line: err.location().line(),
        column: err.location().column(),
        message: err.message().to_string(),
    })
}

/// Whether a file can hold module references: Terraform/OpenTofu files and Terragrunt `.hcl`
/// files (other `.hcl` files only when they mention a `terraform` block).
fn is_module_file(rel: &str, bytes: &[u8]) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if name.ends_with(".tf") || name.ends_with(".tofu") {
        return true;
    }
    if !name.ends_with(".hcl") || name == ".terraform.lock.hcl" {
        return false;
    }
    name == "terragrunt.hcl"
        || name == "terragrunt.stack.hcl"
        || rel.split('/').any(|dir| dir == "_envcommon")
        || contains(bytes, b"terraform") && contains(bytes, b"source")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn is_skipped_dir(entry: &DirEntry) -> bool {
    entry.depth() > 0
        && entry.file_type().is_some_and(|t| t.is_dir())
        && SKIP_DIRS.iter().any(|d| entry.file_name() == *d)
}

enum Outcome {
    Nothing,
    Found(Vec<Usage>, Vec<Skipped>),
    Error(FileError),
}

fn visit(root: &Path, matcher: &DirMatcher, entry: Result<DirEntry, ignore::Error>) -> Outcome {
    let entry = match entry {
        Ok(entry) => entry,
        Err(err) => return Outcome::Error(walk_error(root, &err)),
    };
    let is_link = entry.file_type().is_some_and(|t| t.is_symlink());
    if !is_link && !entry.file_type().is_some_and(|t| t.is_file()) {
        return Outcome::Nothing;
    }
    let rel = relative(root, entry.path());
    let may_hold_modules = rel.ends_with(".tf") || rel.ends_with(".tofu") || rel.ends_with(".hcl");
    if !may_hold_modules || !matcher.selects_file(&rel) {
        return Outcome::Nothing;
    }
    let rel_path = PathBuf::from(&rel);
    if is_link {
        // A link could lead anywhere (`/proc/self/environ`, another checkout): said, not read.
        let message =
            "is a symbolic link: patcher neither reads nor writes through links, left untouched";
        return Outcome::Error(io_error(rel_path, message));
    }
    let dir = entry.path().parent().unwrap_or(root);
    match crate::edit::read_regular(entry.path()) {
        Ok(bytes) if is_module_file(&rel, &bytes) => match scan_file_in(dir, &rel_path, &bytes) {
            Ok((usages, skipped)) => Outcome::Found(usages, skipped),
            Err(err) => Outcome::Error(err),
        },
        Ok(_) => Outcome::Nothing,
        Err(err) => Outcome::Error(io_error(rel_path, &err.to_string())),
    }
}

fn merge(found: &Mutex<Collected>, outcome: Outcome) {
    let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
    let Collected { result, sources } = &mut *found;
    match outcome {
        Outcome::Nothing => {}
        Outcome::Found(usages, skipped) => {
            for mut usage in usages {
                match sources.get(&usage.source) {
                    Some(shared) => usage.source = Arc::clone(shared),
                    None => {
                        sources.insert(Arc::clone(&usage.source));
                    }
                }
                result.usages.push(usage);
            }
            result.skipped.extend(skipped);
        }
        Outcome::Error(err) => result.errors.push(err),
    }
}

fn sort(result: &mut ScanResult) {
    result
        .usages
        .sort_by_cached_key(|u| (path_key(&u.file), u.line, u.column));
    result
        .skipped
        .sort_by_cached_key(|s| (path_key(&s.file), s.line));
    result
        .errors
        .sort_by_cached_key(|e| (path_key(&e.file), e.line, e.column));
}

/// Orders like `Path`'s component-wise comparison (a `/` sorts before any other byte) for the
/// plain relative paths a scan yields, at a fraction of the cost on large trees.
fn path_key(path: &Path) -> Vec<u8> {
    path.as_os_str()
        .as_encoded_bytes()
        .iter()
        .map(|&b| if b == b'/' { 0 } else { b })
        .collect()
}

/// `/`-separated path of `path` below `root`.
fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Errors without a position in the file (unreadable file or folder) have line and column 0.
fn io_error(file: PathBuf, message: &str) -> FileError {
    FileError {
        file,
        line: 0,
        column: 0,
        message: message.to_string(),
    }
}

fn walk_error(root: &Path, err: &ignore::Error) -> FileError {
    fn path_of(err: &ignore::Error) -> Option<&Path> {
        match err {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            _ => None,
        }
    }
    let file = path_of(err).map_or_else(PathBuf::new, |p| PathBuf::from(relative(root, p)));
    io_error(file, &err.to_string())
}

fn utf8_error(rel_path: &Path, text: &[u8], err: std::str::Utf8Error) -> FileError {
    let valid = &text[..err.valid_up_to()];
    let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    FileError {
        file: rel_path.to_path_buf(),
        line: valid.iter().filter(|b| **b == b'\n').count() + 1,
        column: String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1,
        message: "not valid UTF-8".to_string(),
    }
}

#[derive(Default)]
struct Found {
    usages: Vec<Usage>,
    skipped: Vec<Skipped>,
}

/// A string as Terraform evaluates it, with the on-disk offset of every byte that was copied
/// verbatim from a literal in this file (`None` for bytes from escapes).
#[derive(Default)]
struct Composed {
    text: String,
    offsets: Vec<Option<usize>>,
}

impl Composed {
    fn verbatim(text: &str, at: usize) -> Composed {
        Composed {
            text: text.to_string(),
            offsets: (at..at + text.len()).map(Some).collect(),
        }
    }

    fn unmapped(text: &str) -> Composed {
        Composed {
            text: text.to_string(),
            offsets: vec![None; text.len()],
        }
    }

    /// A quoted-string literal written at on-disk offset `at`, decoded as HCL does: `\\n`,
    /// `\\uXXXX`, `$${`, `%%{` …; bytes produced by an escape have no offset.
    fn decode(raw: &str, at: usize) -> Composed {
        let mut out = Composed::default();
        let mut chars = raw.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let doubled_marker = (c == '$' || c == '%')
                && raw[i + 1..].starts_with(c)
                && raw[i + 2..].starts_with('{');
            if c == '\\' {
                out.append(Composed::unmapped(&unescape(&mut chars)));
            } else if doubled_marker {
                chars.next();
                out.append(Composed::unmapped(&c.to_string()));
            } else {
                out.text.push(c);
                out.offsets
                    .extend((at + i..at + i + c.len_utf8()).map(Some));
            }
        }
        out
    }

    fn append(&mut self, other: Composed) {
        self.text.push_str(&other.text);
        self.offsets.extend(other.offsets);
    }

    /// On-disk span of `range` when it was copied verbatim from one place of the file, so
    /// that replacing those bytes changes exactly that part of the evaluated string.
    fn disk_span(&self, range: Range<usize>) -> Option<Range<usize>> {
        let start = (*self.offsets.get(range.start)?)?;
        let contiguous = range
            .clone()
            .all(|i| self.offsets.get(i) == Some(&Some(start + i - range.start)));
        (contiguous && !range.is_empty()).then(|| start..start + range.len())
    }
}

/// The folder a scanned file lies in (for Terragrunt, the folder of the child configuration
/// even while reading what it includes), and how many includes led there.
#[derive(Clone, Copy)]
struct Disk<'a> {
    dir: &'a Path,
    depth: usize,
}

/// One parsed file: its text (after any BOM), top-level locals and Terragrunt includes.
struct FileScan<'a> {
    rel_path: &'a Path,
    text: &'a str,
    /// Bytes before `text` on disk (a BOM).
    shift: usize,
    locals: HashMap<&'a str, &'a Expression>,
    /// `include "<label>" { path = … }`: label to path expression.
    includes: HashMap<&'a str, &'a Expression>,
    disk: Option<Disk<'a>>,
    line_starts: Vec<usize>,
}

impl<'a> FileScan<'a> {
    fn new(
        rel_path: &'a Path,
        text: &'a str,
        shift: usize,
        body: &'a Body,
        disk: Option<Disk<'a>>,
    ) -> FileScan<'a> {
        let locals = body
            .get_blocks("locals")
            .flat_map(|block| block.body.attributes())
            .map(|attr| (attr.key.as_str(), &attr.value))
            .collect();
        let includes = body
            .get_blocks("include")
            .filter_map(|block| {
                let label = block.labels.first()?.as_str();
                Some((label, &block.body.get_attribute("path")?.value))
            })
            .collect();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        FileScan {
            rel_path,
            text,
            shift,
            locals,
            includes,
            disk,
            line_starts,
        }
    }

    fn block(&self, block: &Block, found: &mut Found) {
        let Some(attr) = block.body.get_attribute("source") else {
            return;
        };
        let mut shown = self.snippet(&attr.value);
        let usage = self.compose(&attr.value, 0).and_then(|composed| {
            shown.clone_from(&composed.text);
            self.usage_of(block, &composed)
        });
        match usage {
            Ok(usage) => match self.ignore_comment_line(&[self.line_of(&attr.value), usage.line]) {
                Some(line) => found.skipped.push(self.skip(
                    usage.line,
                    shown,
                    crate::policy::ignore_comment_reason(line),
                )),
                None => found.usages.push(usage),
            },
            Err(reason) => {
                let line = self.line_of(&attr.value);
                found.skipped.push(self.skip(line, shown, reason));
            }
        }
    }

    fn usage_of(&self, block: &Block, source_text: &Composed) -> Result<Usage, String> {
        match parse_source(&source_text.text) {
            Parsed::Versioned {
                source,
                version_range,
                form,
                ..
            } => self.usage(source_text, version_range, source, form),
            Parsed::NeedsVersionAttribute(source) => self.registry_usage(block, source),
            Parsed::Skipped { reason } => Err(reason),
        }
    }

    /// A registry module's version: the block's `version` attribute.
    fn registry_usage(&self, block: &Block, source: Source) -> Result<Usage, String> {
        let no_version = || "no version constraint".to_string();
        let attr = block.body.get_attribute("version").ok_or_else(no_version)?;
        let version = self
            .compose(&attr.value, 0)
            .map_err(|reason| format!("version: {reason}"))?;
        let lead = version.text.len() - version.text.trim_start().len();
        let range = lead..lead + version.text.trim().len();
        if range.is_empty() {
            return Err(no_version());
        }
        self.usage(&version, range, source, VersionForm::RegistryAttribute)
    }

    fn usage(
        &self,
        composed: &Composed,
        range: Range<usize>,
        source: Source,
        form: VersionForm,
    ) -> Result<Usage, String> {
        let span = composed.disk_span(range.clone()).ok_or_else(|| {
            "the version comes from an expression that cannot be rewritten".to_string()
        })?;
        let (line, column) = self.line_column(span.start);
        Ok(Usage {
            file: self.rel_path.to_path_buf(),
            line,
            column,
            span,
            source: source.into(),
            current: composed.text[range].to_string(),
            form,
        })
    }

    /// The first of `lines` (1-based) that carries `# patcher:ignore`.
    fn ignore_comment_line(&self, lines: &[usize]) -> Option<usize> {
        lines.iter().copied().find(|&line| {
            let start = self.line_starts.get(line.wrapping_sub(1)).copied();
            let end = self
                .line_starts
                .get(line)
                .copied()
                .unwrap_or(self.text.len());
            start.is_some_and(|start| crate::policy::has_ignore_comment(&self.text[start..end]))
        })
    }

    fn skip(&self, line: usize, source: String, reason: String) -> Skipped {
        Skipped {
            file: self.rel_path.to_path_buf(),
            line,
            source: redact_credentials(&source),
            reason,
        }
    }

    /// Evaluates a string expression as far as it can be known from this file alone.
    fn compose(&self, expr: &Expression, depth: usize) -> Result<Composed, String> {
        match expr {
            Expression::String(s) => Ok(self.literal(s.as_str(), s.span(), 1)),
            Expression::StringTemplate(template) => {
                let mut composed = Composed::default();
                for element in template.iter() {
                    composed.append(self.element(element, depth)?);
                }
                Ok(composed)
            }
            Expression::Parenthesis(inner) => self.compose(inner.inner(), depth),
            Expression::HeredocTemplate(_) => Err("heredoc sources are not supported".into()),
            other => self.resolve_reference(other, depth),
        }
    }

    fn element(&self, element: &Element, depth: usize) -> Result<Composed, String> {
        match element {
            Element::Literal(literal) => Ok(self.literal(literal.as_str(), literal.span(), 0)),
            Element::Interpolation(interpolation) => self.compose(&interpolation.expr, depth),
            Element::Directive(_) => Err("template directives (%{…}) are not supported".into()),
        }
    }

    /// `local.X`, `include.<label>.locals.X` and path functions.
    fn resolve_reference(&self, expr: &Expression, depth: usize) -> Result<Composed, String> {
        if depth >= MAX_LOCALS_DEPTH {
            return Err("locals refer to each other too deeply (or in a cycle)".into());
        }
        let resolved = match (traversal_names(expr).as_deref(), expr) {
            (Some(["local", name]), _) => {
                let value = self.locals.get(name);
                return value.map_or_else(
                    || Err(self.unresolved(expr)),
                    |v| self.compose(v, depth + 1),
                );
            }
            (Some(["include", label, "locals", name]), _) => self.included_local(label, name),
            (_, Expression::FuncCall(call)) => self.call(call, depth),
            _ => None,
        };
        resolved
            .map(|text| Composed::unmapped(&text))
            .ok_or_else(|| self.unresolved(expr))
    }

    fn unresolved(&self, expr: &Expression) -> String {
        format!(
            "cannot resolve `{}` from this file",
            self.snippet(expr).trim()
        )
    }

    /// The value of `locals.<name>` in the file that `include "<label>"` points to.
    fn included_local(&self, label: &str, name: &str) -> Option<String> {
        let disk = self.disk.filter(|disk| disk.depth < MAX_INCLUDE_DEPTH)?;
        let path = disk
            .dir
            .join(self.compose(self.includes.get(label)?, 0).ok()?.text);
        let bytes = std::fs::read(&path).ok()?;
        let (text, shift) = decode(&path, &bytes).ok()?;
        let body = parse(&path, text).ok()?;
        let deeper = Disk {
            dir: disk.dir,
            depth: disk.depth + 1,
        };
        let included = FileScan::new(&path, text, shift, &body, Some(deeper));
        let value = included.locals.get(name)?;
        included
            .compose(value, 0)
            .ok()
            .map(|composed| composed.text)
    }

    /// The Terragrunt functions that locate the files of a source or an include.
    fn call(&self, call: &FuncCall, depth: usize) -> Option<String> {
        let dir = self.disk?.dir;
        let arg = |i: usize| {
            let expr = call.args.get(i)?;
            self.compose(expr, depth + 1).ok().map(|c| c.text)
        };
        let found = match call.name.name.as_str() {
            _ if !call.name.namespace.is_empty() => None,
            "find_in_parent_folders" => {
                let name = arg(0).unwrap_or_else(|| "terragrunt.hcl".to_string());
                dir.ancestors()
                    .skip(1)
                    .map(|folder| folder.join(&name))
                    .find(|candidate| candidate.is_file())
            }
            "dirname" => Path::new(&arg(0)?).parent().map(Path::to_path_buf),
            "get_terragrunt_dir" => Some(dir.to_path_buf()),
            "get_repo_root" => dir
                .ancestors()
                .find(|folder| folder.join(".git").exists())
                .map(Path::to_path_buf),
            _ => None,
        };
        found.map(|path| path.to_string_lossy().into_owned())
    }

    /// A literal whose `span` (in `text`) has `quote` bytes of delimiter on either side; `value`
    /// is what the parser decoded it to.
    fn literal(&self, value: &str, span: Option<Range<usize>>, quote: usize) -> Composed {
        let raw = span
            .as_ref()
            .and_then(|s| self.text.get(s.start + quote..s.end.saturating_sub(quote)));
        match (raw, span) {
            (Some(raw), Some(span)) if raw == value => {
                Composed::verbatim(value, self.shift + span.start + quote)
            }
            (Some(raw), Some(span)) => {
                let decoded = Composed::decode(raw, self.shift + span.start + quote);
                // Trust the mapping only where it agrees with the parser.
                if decoded.text == value {
                    decoded
                } else {
                    Composed::unmapped(value)
                }
            }
            _ => Composed::unmapped(value),
        }
    }

    fn snippet(&self, expr: &Expression) -> String {
        expr.span()
            .and_then(|span| self.text.get(span))
            .unwrap_or_default()
            .to_string()
    }

    fn line_of(&self, expr: &Expression) -> usize {
        expr.span()
            .map_or(0, |span| self.line_column(self.shift + span.start).0)
    }

    /// 1-based line and column (in characters) of an on-disk offset.
    fn line_column(&self, disk_offset: usize) -> (usize, usize) {
        let offset = disk_offset.saturating_sub(self.shift);
        let index = self.line_starts.partition_point(|start| *start <= offset) - 1;
        let line_start = self.line_starts[index];
        let column = self.text[line_start..offset].chars().count() + 1;
        (index + 1, column)
    }
}

/// The text of the escape sequence after a `\\`.
fn unescape(chars: &mut std::iter::Peekable<std::str::CharIndices>) -> String {
    let escaped = chars.next().map(|(_, c)| c);
    let digits = match escaped {
        Some('u') => 4,
        Some('U') => 8,
        Some('n') => return "\n".to_string(),
        Some('r') => return "\r".to_string(),
        Some('t') => return "\t".to_string(),
        other => return other.map(String::from).unwrap_or_default(),
    };
    let code: String = chars.take(digits).map(|(_, c)| c).collect();
    u32::from_str_radix(&code, 16)
        .ok()
        .and_then(char::from_u32)
        .map(String::from)
        .unwrap_or_default()
}

/// `["include", "envcommon", "locals", "x"]` for `include.envcommon.locals.x`.
fn traversal_names(expr: &Expression) -> Option<Vec<&str>> {
    let Expression::Traversal(traversal) = expr else {
        return None;
    };
    let mut names = vec![traversal.expr.as_variable()?.as_str()];
    for op in &traversal.operators {
        match op.value() {
            TraversalOperator::GetAttr(name) => names.push(name.as_str()),
            _ => return None,
        }
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Origin;

    fn scan_text(text: &str) -> (Vec<Usage>, Vec<Skipped>) {
        scan_file(Path::new("dev/app/main.tf"), text.as_bytes()).unwrap()
    }

    fn at(text: &str, usage: &Usage) -> String {
        text[usage.span.clone()].to_string()
    }

    #[test]
    fn git_ref_span_points_at_the_version_text() {
        let text = "module \"sqs\" {\n  source = \"git::https://github.com/acme/mods.git//modules/sqs?ref=v0.12.1\"\n}\n";
        let (usages, skipped) = scan_text(text);
        assert!(skipped.is_empty());
        let [usage] = usages.as_slice() else {
            panic!("{usages:?}")
        };
        assert_eq!(at(text, usage), "v0.12.1");
        assert_eq!(usage.current, "v0.12.1");
        let line2 = text.lines().nth(1).unwrap();
        assert_eq!(
            (usage.line, usage.column),
            (2, line2.find("v0.12.1").unwrap() + 1)
        );
        assert_eq!(usage.source.id, "acme/mods/sqs");
        assert_eq!(usage.form, VersionForm::GitRef);
    }

    #[test]
    fn registry_version_attribute_is_the_span() {
        let text = "module \"vpc\" {\n  source  = \"terraform-aws-modules/vpc/aws\"\n  version = \"~> 5.1\"\n}\nmodule \"nov\" {\n  source = \"terraform-aws-modules/iam/aws\"\n}\n";
        let (usages, skipped) = scan_text(text);
        let [usage] = usages.as_slice() else {
            panic!("{usages:?}")
        };
        assert_eq!(
            (at(text, usage).as_str(), usage.line, usage.column),
            ("~> 5.1", 3, 14)
        );
        assert_eq!(usage.form, VersionForm::RegistryAttribute);
        assert_eq!(skipped[0].reason, "no version constraint");
        assert_eq!(skipped[0].line, 6);
    }

    #[test]
    fn template_literal_ref_is_rewritable_and_origin_comes_from_locals() {
        let text = "locals {\n  base_source_url = \"git::git@github.com:acme/mods.git//modules/vpc\"\n}\nterraform {\n  source = \"${local.base_source_url}?ref=v1.2.3\"\n}\n";
        let (usages, skipped) = scan_text(text);
        assert!(skipped.is_empty(), "{skipped:?}");
        let [usage] = usages.as_slice() else {
            panic!("{usages:?}")
        };
        assert_eq!(at(text, usage), "v1.2.3");
        assert_eq!(usage.line, 5);
        assert_eq!(usage.source.id, "acme/mods/vpc");
        assert_eq!(
            usage.source.origin,
            Origin::Git {
                url: "git@github.com:acme/mods.git".into()
            }
        );
    }

    #[test]
    fn version_held_in_a_local_points_into_the_locals_block() {
        let text = "locals {\n  ver = \"v2.0.0\"\n}\nmodule \"a\" {\n  source = \"github.com/acme/mods//x?ref=${local.ver}\"\n}\n";
        let (usages, _) = scan_text(text);
        let [usage] = usages.as_slice() else {
            panic!("{usages:?}")
        };
        assert_eq!((at(text, usage).as_str(), usage.line), ("v2.0.0", 2));
    }

    #[test]
    fn unknown_interpolations_are_skipped_with_a_reason() {
        let text = "terraform {\n  source = \"${include.envcommon.locals.base}?ref=v1.0.0\"\n}\n";
        let (usages, skipped) = scan_text(text);
        assert!(usages.is_empty());
        assert_eq!(
            skipped[0].reason,
            "cannot resolve `include.envcommon.locals.base` from this file"
        );
        assert_eq!(
            skipped[0].source,
            "\"${include.envcommon.locals.base}?ref=v1.0.0\""
        );
    }

    #[test]
    fn locals_cycle_is_skipped_not_looping() {
        let text = "locals {\n  a = \"${local.b}\"\n  b = \"${local.a}\"\n}\nmodule \"m\" {\n  source = \"${local.a}?ref=v1.0.0\"\n}\n";
        let (_, skipped) = scan_text(text);
        assert!(skipped[0].reason.contains("cycle"), "{skipped:?}");
    }

    #[test]
    fn version_written_with_an_escape_is_read_but_not_rewritten() {
        let text = "module \"m\" {\n  source = \"github.com/acme/mods?ref=v1.0.\\u0030\"\n}\n";
        let (usages, skipped) = scan_text(text);
        assert!(usages.is_empty(), "{usages:?}");
        assert_eq!(skipped[0].source, "github.com/acme/mods?ref=v1.0.0");
        assert!(skipped[0].reason.contains("cannot be rewritten"));
    }

    #[test]
    fn terragrunt_stack_units_are_usages() {
        let text = "unit \"vpc\" {\n  source = \"git::git@github.com:acme/units.git//vpc?ref=v1.0.0\"\n  path   = \"vpc\"\n}\n";
        let (usages, _) = scan_text(text);
        assert_eq!(usages.len(), 1);
        assert_eq!(
            (usages[0].source.id.as_str(), at(text, &usages[0]).as_str()),
            ("acme/units/vpc", "v1.0.0")
        );
    }

    #[test]
    fn escapes_elsewhere_in_the_string_keep_the_version_rewritable() {
        let text = "module \"m\" {\n  source = \"git::https://github.com/acme/mods.git//modules/a\\u002fb?ref=v1.0.0&x=\\\"q\\\"\"\n}\n";
        let (usages, skipped) = scan_text(text);
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(usages[0].source.id, "acme/mods/a/b");
        assert_eq!(at(text, &usages[0]), "v1.0.0");
    }

    #[test]
    fn decode_keeps_offsets_of_verbatim_bytes_only() {
        let decoded = Composed::decode("a\\tb$${c}%%{d}\\u00e9", 10);
        assert_eq!(decoded.text, "a\tb${c}%{d}\u{e9}");
        assert_eq!(decoded.offsets[..3], [Some(10), None, Some(13)]);
        assert_eq!(decoded.disk_span(3..5), None);
        assert_eq!(decoded.disk_span(4..7), Some(16..19));
    }

    #[test]
    fn bom_shifts_spans_by_its_length() {
        let text = "\u{feff}module \"m\" {\n  source = \"github.com/acme/mods?ref=v1.0.0\"\n}\n";
        let (usages, _) = scan_text(text);
        assert_eq!(at(text, &usages[0]), "v1.0.0");
        assert_eq!(usages[0].line, 2);
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let text = "module \"m\" {\n  source = \"github.com/a/b?ref=v1\"\n  version = = 3\n}\n";
        let err = scan_file(Path::new("x.tf"), text.as_bytes()).unwrap_err();
        assert_eq!((err.file.as_path(), err.line), (Path::new("x.tf"), 3));
        assert!(err.column > 1, "{err:?}");
        assert!(!err.message.is_empty());
    }

    #[test]
    fn invalid_utf8_is_an_error_at_its_position() {
        let err = scan_file(Path::new("x.tf"), b"# ok\n# \xff\n").unwrap_err();
        assert_eq!((err.line, err.column), (2, 3));
    }

    #[test]
    fn sort_key_orders_like_paths() {
        let mut paths = [
            "dev/a/main.tf",
            "dev/a-b/main.tf",
            "dev/a.tf",
            "dev/a/b/x.tf",
            "d.tf",
        ]
        .map(PathBuf::from)
        .to_vec();
        let mut by_key = paths.clone();
        by_key.sort_by_key(|p| path_key(p));
        paths.sort();
        assert_eq!(by_key, paths);
    }

    #[test]
    fn hcl_files_are_picked_by_name_or_terraform_block() {
        assert!(is_module_file("a/terragrunt.hcl", b""));
        assert!(is_module_file("a/terragrunt.stack.hcl", b""));
        assert!(is_module_file("_envcommon/vpc.hcl", b""));
        assert!(is_module_file(
            "a/x.hcl",
            b"terraform {\n source = \"x\"\n}"
        ));
        assert!(!is_module_file("a/account.hcl", b"locals { id = 1 }"));
        assert!(!is_module_file(
            "a/.terraform.lock.hcl",
            b"terraform source"
        ));
        assert!(is_module_file("a/main.tofu", b""));
        assert!(!is_module_file("a/vars.tfvars", b""));
    }
}
