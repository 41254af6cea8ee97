//! Replaces version texts in files, changing no other byte.
//!
//! All or nothing: every file must still hold the bytes it was scanned with, every edit must
//! find its `old` text at its span, the result must parse and read back the new version at the
//! new span; only when every file passes is any written, each replaced atomically.

use crate::model::Fingerprint;
use crate::scan::{is_plain_literal_at, scan_file_in};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Replace the bytes at `span` of `file`, which must read `old`, with `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// Relative to the working dir.
    pub file: PathBuf,
    /// Byte span of the version text in the file as it is on disk (a `Usage`'s span).
    pub span: Range<usize>,
    /// The text the span must still hold; anything else rejects the file as changed.
    pub old: String,
    /// The version text written in its place.
    pub new: String,
}

/// Why a file was left untouched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// Its bytes differ from what was scanned, or an edit's span no longer holds its `old` text.
    #[error("the file changed since it was scanned: left as it is")]
    Changed,
    /// The edited content would not parse.
    #[error("the edited file would not parse at {line}:{column}: {message}")]
    NoLongerParses {
        /// 1-based line of the parse error in the edited content.
        line: usize,
        /// 1-based column of the parse error, in characters.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A re-scan of the edited content does not find this new version at its new span.
    #[error("the edited file would not read `{version}` back as a module version")]
    NotReadBack {
        /// The new version text that was not found.
        version: String,
    },
    /// Two edits of one file cover overlapping bytes.
    #[error("two edits of the file overlap")]
    Overlapping,
    /// The path is empty, absolute or holds a `..`, or names no file.
    #[error("the path is not inside the working dir")]
    OutsideWorkingDir,
    /// The file, or a folder on its way below the working dir, is a symbolic link; holds the
    /// path as it was given.
    #[error("{} is a symbolic link: patcher neither reads nor writes through links, left untouched", .0.display())]
    Symlink(PathBuf),
    /// The path names something other than a regular file (or a folder on its way is not one).
    #[error("not a regular file")]
    NotRegular,
    /// Reading, writing or renaming failed; holds the system's message.
    #[error("{0}")]
    Io(String),
}

/// A file left untouched, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", file.display())]
pub struct Rejected {
    /// The file as the edits name it, relative to the working dir.
    pub file: PathBuf,
    /// Why it was not written.
    pub reason: RejectReason,
}

/// What `apply` did.
#[derive(Debug, Clone, Default)]
pub struct ApplyOutcome {
    /// Files written, relative to the working dir.
    pub changed: Vec<PathBuf>,
    /// Files refused. A refusal by the checks means nothing was written; one while writing
    /// (changed meanwhile, I/O) leaves the files written before it in `changed`.
    pub rejected: Vec<Rejected>,
}

/// What each file held when it was scanned (`ScanResult::scanned`), by the path edits name.
pub type Scanned = BTreeMap<PathBuf, Fingerprint>;

/// Applies the edits, or none of them: one rejected file leaves every file untouched.
pub fn apply(working_dir: &Path, edits: &[Edit], scanned: &Scanned) -> ApplyOutcome {
    let mut prepared = Vec::new();
    let mut outcome = ApplyOutcome::default();
    for (file, edits) in by_file(edits) {
        match prepare(working_dir, &file, &edits, scanned) {
            Ok(Some(p)) => prepared.push((file, p)),
            Ok(None) => {}
            Err(reason) => outcome.rejected.push(Rejected { file, reason }),
        }
    }
    if !outcome.rejected.is_empty() {
        return outcome;
    }
    for (file, p) in prepared {
        match write_replacing(&p.path, |f| f.write_all(&p.new), Some(&p.old)) {
            Ok(()) => outcome.changed.push(file),
            Err(reason) => outcome.rejected.push(Rejected { file, reason }),
        }
    }
    outcome
}

/// The diff `apply` would make, checked the same way, without writing anything.
pub fn preview(working_dir: &Path, edits: &[Edit], scanned: &Scanned) -> Result<String, Rejected> {
    let mut out = String::new();
    for (file, edits) in by_file(edits) {
        match prepare(working_dir, &file, &edits, scanned) {
            Ok(Some(p)) => out.push_str(&diff(&file, &p.old, &p.new)),
            Ok(None) => {}
            Err(reason) => return Err(Rejected { file, reason }),
        }
    }
    Ok(out)
}

/// Writes through a temporary file in the same folder and a rename, so readers see the old or
/// the new content, never a mix; keeps the permissions (and, where allowed, the owner).
/// A symbolic link at `path` is refused, not replaced: it is not patcher's to change.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// [`write_atomic`] of what `write` streams into the temporary file (a large spec is never
/// held in memory as one string).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> io::Result<()>,
) -> io::Result<()> {
    write_replacing(path, write, None).map_err(|reason| match reason {
        RejectReason::Io(message) => io::Error::other(message),
        other => io::Error::new(io::ErrorKind::InvalidInput, other.to_string()),
    })
}

/// [`write_atomic_with`]; with `expected`, the file must still hold exactly those bytes right
/// before the rename, so a change made by someone else since it was read is never overwritten.
fn write_replacing(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> io::Result<()>,
    expected: Option<&[u8]>,
) -> Result<(), RejectReason> {
    let io = |err: io::Error| RejectReason::Io(err.to_string());
    let current = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(RejectReason::Symlink(path.to_path_buf()))
        }
        Ok(meta) if !meta.is_file() => return Err(RejectReason::NotRegular),
        Ok(meta) => Some(meta),
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(err) => return Err(io(err)),
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or(RejectReason::OutsideWorkingDir)?;
    let (temp_path, mut temp) = create_temp(dir, &name.to_string_lossy()).map_err(io)?;
    let written = (|| {
        write(&mut temp).map_err(io)?;
        if let Some(meta) = &current {
            temp.set_permissions(meta.permissions()).map_err(io)?;
            keep_owner(&temp_path, meta);
        }
        temp.sync_all().map_err(io)?;
        drop(temp);
        if let Some(expected) = expected {
            if read_regular(path).map_err(io)? != expected {
                return Err(RejectReason::Changed);
            }
        }
        fs::rename(&temp_path, path).map_err(io)
    })();
    if written.is_err() {
        // Best effort: the original error is the one worth reporting.
        let _ = fs::remove_file(&temp_path);
    }
    written
}

fn create_temp(dir: &Path, name: &str) -> io::Result<(PathBuf, fs::File)> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let candidate = dir.join(format!(".{name}.{}-{n}.patcher-tmp", std::process::id()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(file) => return Ok((candidate, file)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
}

/// A container action runs as root on files owned by the runner's user; giving the file back
/// to that user keeps later steps able to write it. Failing to do so is not an error.
#[cfg(unix)]
fn keep_owner(path: &Path, original: &fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    let _ = std::os::unix::fs::chown(path, Some(original.uid()), Some(original.gid()));
}

#[cfg(not(unix))]
fn keep_owner(_path: &Path, _original: &fs::Metadata) {}

fn by_file(edits: &[Edit]) -> BTreeMap<PathBuf, Vec<&Edit>> {
    let mut files: BTreeMap<PathBuf, Vec<&Edit>> = BTreeMap::new();
    for edit in edits {
        files.entry(edit.file.clone()).or_default().push(edit);
    }
    files
}

struct Prepared {
    path: PathBuf,
    old: Vec<u8>,
    new: Vec<u8>,
}

/// The checked new content of one file; `None` when the edits change nothing.
fn prepare(
    working_dir: &Path,
    file: &Path,
    edits: &[&Edit],
    scanned: &Scanned,
) -> Result<Option<Prepared>, RejectReason> {
    let path = regular_path(working_dir, file)?;
    let old = read_regular(&path).map_err(|err| RejectReason::Io(err.to_string()))?;
    // Any byte, not only the version text: an edit made meanwhile is someone else's to finish.
    let plain: PathBuf = file
        .components()
        .filter(|c| c != &Component::CurDir)
        .collect();
    if scanned.get(&plain) != Some(&Fingerprint::of(&old)) {
        return Err(RejectReason::Changed);
    }
    let (new, new_spans) = splice(&old, edits)?;
    if new == old {
        return Ok(None);
    }
    read_back(&path, file, &new, &new_spans)?;
    Ok(Some(Prepared { path, old, new }))
}

/// Where `file` (relative to the working dir) is, checked so that nothing is read or written
/// through a symbolic link: no part of the path below the working dir may be a link, and the
/// file, when it exists, must be a regular file. A file that does not exist yet is allowed (a
/// new README), its folder must then exist.
pub fn regular_path(working_dir: &Path, file: &Path) -> Result<PathBuf, RejectReason> {
    let plain = file
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !plain || file.as_os_str().is_empty() {
        return Err(RejectReason::OutsideWorkingDir);
    }
    let io = |err: io::Error| RejectReason::Io(err.to_string());
    let root = working_dir.canonicalize().map_err(io)?;
    let mut path = root.clone();
    let parts: Vec<_> = file
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let last = i + 1 == parts.len();
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(RejectReason::Symlink(file.to_path_buf()))
            }
            Ok(meta) if last && !meta.is_file() => return Err(RejectReason::NotRegular),
            Ok(meta) if !last && !meta.is_dir() => return Err(RejectReason::NotRegular),
            Ok(_) => {}
            Err(err) if last && err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(io(err)),
        }
    }
    Ok(path)
}

/// The bytes of the regular file at `path`, refusing a symbolic link even if one is swapped in
/// between the check and the open: the opened file must be the one that was checked.
pub fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let checked = fs::symlink_metadata(path)?;
    if checked.file_type().is_symlink() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is a symbolic link: patcher neither reads nor writes through links",
                path.display()
            ),
        ));
    }
    if !checked.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    let mut file = fs::File::open(path)?;
    if !same_file(&checked, &file.metadata()?) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} changed while it was opened", path.display()),
        ));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

#[cfg(not(unix))]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    a.len() == b.len() && b.is_file()
}

/// A new version text and the span it occupies in the edited file.
type Placed = (Range<usize>, String);

/// New content and, per distinct edit, where its new text landed.
fn splice(bytes: &[u8], edits: &[&Edit]) -> Result<(Vec<u8>, Vec<Placed>), RejectReason> {
    let mut edits = edits.to_vec();
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    // A version held in a `locals` entry is the usage of every module that refers to it.
    edits.dedup();
    let mut out = Vec::with_capacity(bytes.len());
    let mut spans = Vec::with_capacity(edits.len());
    let mut copied = 0;
    for edit in edits {
        if edit.span.start < copied {
            return Err(RejectReason::Overlapping);
        }
        if bytes.get(edit.span.clone()) != Some(edit.old.as_bytes()) {
            return Err(RejectReason::Changed);
        }
        out.extend_from_slice(&bytes[copied..edit.span.start]);
        spans.push((out.len()..out.len() + edit.new.len(), edit.new.clone()));
        out.extend_from_slice(edit.new.as_bytes());
        copied = edit.span.end;
    }
    out.extend_from_slice(&bytes[copied..]);
    Ok((out, spans))
}

/// The edited file must parse and yield each new version at its new span, so a tag name with
/// quotes or newlines can never change the file's structure.
fn read_back(path: &Path, file: &Path, bytes: &[u8], spans: &[Placed]) -> Result<(), RejectReason> {
    let root = root_of(path, file);
    let found =
        scan_file_in(&root, file, bytes, None).map_err(|err| RejectReason::NoLongerParses {
            line: err.line,
            column: err.column,
            message: err.message,
        })?;
    for (span, version) in spans {
        let found = found.usages.iter().any(|u| {
            (u.span == *span && u.current == *version)
                || u.pin_comment
                    .as_ref()
                    .is_some_and(|c| c.span == *span && c.tag == *version)
        }) || is_plain_literal_at(file, bytes, span, version);
        if !found {
            return Err(RejectReason::NotReadBack {
                version: version.clone(),
            });
        }
    }
    Ok(())
}

/// The working dir of `path`, the absolute path of the relative `file`.
fn root_of(path: &Path, file: &Path) -> PathBuf {
    let depth = file
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count();
    path.ancestors()
        .nth(depth)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// A unified-style diff of the changed lines (no context lines).
fn diff(file: &Path, old: &[u8], new: &[u8]) -> String {
    let old = lines(old);
    let new = lines(new);
    let name = file.to_string_lossy().replace('\\', "/");
    let mut out = format!("--- a/{name}\n+++ b/{name}\n");
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (old_mid, new_mid) = (
        &old[prefix..old.len() - suffix],
        &new[prefix..new.len() - suffix],
    );
    if old_mid.len() != new_mid.len() {
        hunk(&mut out, prefix, old_mid, new_mid);
        return out;
    }
    let mut i = 0;
    while i < old_mid.len() {
        if old_mid[i] == new_mid[i] {
            i += 1;
            continue;
        }
        let end = (i..old_mid.len())
            .find(|&j| old_mid[j] == new_mid[j])
            .unwrap_or(old_mid.len());
        hunk(&mut out, prefix + i, &old_mid[i..end], &new_mid[i..end]);
        i = end;
    }
    out
}

fn hunk(out: &mut String, first: usize, old: &[String], new: &[String]) {
    let range = |len: usize| match len {
        1 => format!("{}", first + 1),
        _ => format!("{},{len}", first + 1),
    };
    out.push_str(&format!(
        "@@ -{} +{} @@\n",
        range(old.len()),
        range(new.len())
    ));
    for line in old {
        out.push_str(&format!("-{line}\n"));
    }
    for line in new {
        out.push_str(&format!("+{line}\n"));
    }
}

/// Lines as shown in a diff: without BOM and line terminators.
fn lines(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8_lossy(bytes)
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line).to_string())
        .collect()
}
