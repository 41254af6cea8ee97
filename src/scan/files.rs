//! The files one scan of a file reads, each loaded once, and how found versions become
//! [`Usage`]s of the file they are written in.

use super::parse::Loaded;
use super::template::{Composed, FileId};
use super::tree::Tree;
use crate::model::{Fingerprint, PinComment, Skipped, Source, Usage, VersionForm};
use crate::source::{default_registry_for, parse_source_in, redact_credentials, Parsed};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Files that many scanned files read (a `root.hcl`, an `_envcommon` file, a `common.hcl`),
/// read and parsed once per scan instead of once per unit.
#[derive(Default)]
pub(super) struct SharedFiles(Mutex<HashMap<PathBuf, Result<Arc<Loaded>, String>>>);

/// Entry 0 is the scanned file; the others are files it includes or reads.
pub(super) struct Files<'r> {
    /// The absolute working dir, when the scanned file is on disk.
    pub root: Option<&'r Path>,
    loaded: RefCell<Vec<Arc<Loaded>>>,
    shared: Option<&'r SharedFiles>,
    /// The configured registry of host-less addresses (`Environment::default_registry`).
    registry: Option<&'r str>,
    /// Where other files are read from.
    pub tree: &'r dyn Tree,
}

#[derive(Default)]
pub(super) struct Found {
    pub usages: Vec<Usage>,
    pub skipped: Vec<Skipped>,
}

impl<'r> Files<'r> {
    pub fn new(
        root: Option<&'r Path>,
        scanned: Loaded,
        shared: Option<&'r SharedFiles>,
        registry: Option<&'r str>,
        tree: &'r dyn Tree,
    ) -> Files<'r> {
        Files {
            root,
            loaded: RefCell::new(vec![Arc::new(scanned)]),
            shared,
            registry,
            tree,
        }
    }

    pub fn get(&self, id: FileId) -> Arc<Loaded> {
        Arc::clone(&self.loaded.borrow()[id])
    }

    /// What each file of the working dir read so far held.
    pub fn fingerprints(&self) -> Vec<(PathBuf, Fingerprint)> {
        self.loaded
            .borrow()
            .iter()
            .filter_map(|file| Some((file.rel.clone()?, file.fingerprint)))
            .collect()
    }

    /// The file at `path` (absolute), read once per scan; symbolic links are not followed.
    pub fn load(&self, path: &Path) -> Result<(FileId, Arc<Loaded>), String> {
        let path = normalize(path);
        let known = self
            .loaded
            .borrow()
            .iter()
            .position(|f| f.path.as_ref() == Some(&path));
        if let Some(id) = known {
            return Ok((id, self.get(id)));
        }
        let loaded = match self.shared {
            Some(shared) => shared.get_or_read(&path, || self.read(&path))?,
            None => self.read(&path)?,
        };
        let mut files = self.loaded.borrow_mut();
        files.push(Arc::clone(&loaded));
        Ok((files.len() - 1, loaded))
    }

    fn read(&self, path: &Path) -> Result<Arc<Loaded>, String> {
        let rel = self
            .root
            .and_then(|root| path.strip_prefix(root).ok())
            .map(Path::to_path_buf);
        let label = rel.clone().unwrap_or_else(|| path.to_path_buf());
        let bytes = self
            .tree
            .read(path)
            .map_err(|err| format!("cannot read {}: {err}", label.display()))?;
        let loaded =
            Loaded::parse(&label, rel, Some(path.to_path_buf()), &bytes).map_err(|err| {
                format!(
                    "{}:{}:{}: {}",
                    label.display(),
                    err.line,
                    err.column,
                    err.message
                )
            })?;
        Ok(Arc::new(loaded))
    }

    /// The usage for `source` (an evaluated `source` string) and, for registry sources, the
    /// evaluated `version` attribute.
    pub fn usage_of(
        &self,
        source: &Composed,
        version: impl FnOnce() -> Option<Result<Composed, String>>,
    ) -> Result<Usage, String> {
        let scanned = self.get(0);
        let name = scanned.rel.as_deref().or(scanned.path.as_deref());
        let registry = default_registry_for(name.unwrap_or(Path::new("")), self.registry);
        match parse_source_in(&source.text, registry) {
            Parsed::Versioned {
                source: parsed,
                version_range,
                form,
                ..
            } => self.usage(source, version_range, parsed, form),
            Parsed::NeedsVersionAttribute(parsed) => {
                let no_version = || "no version constraint".to_string();
                let version = version()
                    .ok_or_else(no_version)?
                    .map_err(|reason| format!("version: {reason}"))?;
                let lead = version.text.len() - version.text.trim_start().len();
                let range = lead..lead + version.text.trim().len();
                if range.is_empty() {
                    return Err(no_version());
                }
                self.usage(&version, range, parsed, VersionForm::RegistryAttribute)
            }
            Parsed::Skipped { reason } => Err(reason),
        }
    }

    fn usage(
        &self,
        composed: &Composed,
        range: Range<usize>,
        source: Source,
        form: VersionForm,
    ) -> Result<Usage, String> {
        let (id, span) = composed.disk_span(range.clone()).ok_or_else(|| {
            "the version comes from an expression that cannot be rewritten".to_string()
        })?;
        let file = self.get(id);
        let rel = file.rel.clone().ok_or_else(|| {
            format!(
                "the version is written in {}, outside the working dir",
                file.path.as_deref().unwrap_or(Path::new("?")).display()
            )
        })?;
        let (line, column) = file.line_column(span.start);
        let pin_comment = match form {
            VersionForm::CommitPin => pin_comment(&file, span.end),
            _ => None,
        };
        Ok(Usage {
            file: rel,
            line,
            column,
            span,
            source: source.into(),
            current: composed.text[range].to_string(),
            form,
            pin_comment,
        })
    }

    /// Records what one `source` attribute (written at `line` of the scanned file) yielded;
    /// `# patcher:ignore` on that line or on the version's line turns a usage into a skip.
    pub fn record(
        &self,
        line: usize,
        shown: String,
        usage: Result<Usage, String>,
        found: &mut Found,
    ) {
        let scanned = self.get(0);
        match usage {
            Ok(usage) => {
                let version_file = self.file_of(&usage);
                let ignored = [(&scanned, line), (&version_file, usage.line)]
                    .into_iter()
                    .find(|(file, line)| {
                        file.line(*line)
                            .is_some_and(crate::policy::has_ignore_comment)
                    });
                // A skip is listed in the scanned file, at the version when it is written there.
                let skip_line = if Arc::ptr_eq(&version_file, &scanned) {
                    usage.line
                } else {
                    line
                };
                match ignored {
                    Some((_, at)) => found.skipped.push(self.skip(
                        skip_line,
                        shown,
                        crate::policy::ignore_comment_reason(at),
                    )),
                    None => found.usages.push(usage),
                }
            }
            Err(reason) => found.skipped.push(self.skip(line, shown, reason)),
        }
    }

    fn file_of(&self, usage: &Usage) -> Arc<Loaded> {
        let files = self.loaded.borrow();
        let id = files
            .iter()
            .position(|f| f.rel.as_ref() == Some(&usage.file))
            .unwrap_or(0);
        Arc::clone(&files[id])
    }

    fn skip(&self, line: usize, source: String, reason: String) -> Skipped {
        Skipped {
            file: self.get(0).rel.clone().unwrap_or_default(),
            line,
            source: redact_credentials(&source),
            reason,
        }
    }
}

impl SharedFiles {
    /// The file at `path` as `read` gives it, read at most once (twice when two threads ask
    /// for it at the same moment, which does no harm).
    fn get_or_read(
        &self,
        path: &Path,
        read: impl FnOnce() -> Result<Arc<Loaded>, String>,
    ) -> Result<Arc<Loaded>, String> {
        let lock = || self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = lock().get(path) {
            return known.clone();
        }
        let loaded = read();
        lock().insert(path.to_path_buf(), loaded.clone());
        loaded
    }
}

/// `path` without `.` and `..` components, so one file has one name in the table.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The `# v1.2.3` (or `# tag=v1.2.3`, `// v1.2.3`) comment after the string that holds a
/// commit pin ending at `disk_end` of `file`, on the same line: the tag the pin stands for,
/// which moves with it.
fn pin_comment(file: &Loaded, disk_end: usize) -> Option<PinComment> {
    let from = disk_end.checked_sub(file.shift)?;
    let line_end = file.text[from..]
        .find('\n')
        .map_or(file.text.len(), |i| from + i);
    let rest = &file.text[from..line_end];
    let after_string = rest.find('"')? + 1;
    let marker = rest[after_string..].trim_start();
    let body = marker
        .strip_prefix('#')
        .or_else(|| marker.strip_prefix("//"))?
        .trim_start();
    let tag_text = body
        .strip_prefix("tag=")
        .or_else(|| body.strip_prefix("tag:"))
        .unwrap_or(body)
        .trim_start();
    let tag = tag_text.split_whitespace().next()?;
    crate::version::parse_version(tag)?;
    // `tag` is a suffix-aligned slice of `rest`, so its offset follows from the lengths.
    let start = from + rest.len() - tag_text.len() + file.shift;
    Some(PinComment {
        span: start..start + tag.len(),
        tag: tag.to_string(),
    })
}
