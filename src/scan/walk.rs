//! The parallel walk over the environment's folders.

use super::files::SharedFiles;
use super::tree::Disk;
use super::{is_module_file, scan_file_sharing, FileFindings};
use crate::environment::{DirMatcher, Environment, EnvironmentError};
use crate::model::{FileError, ScanResult, Source};
use ignore::{DirEntry, WalkBuilder, WalkState};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Folders never scanned: git internals and the module copies Terraform and Terragrunt download.
const SKIP_DIRS: [&str; 3] = [".git", ".terraform", ".terragrunt-cache"];
/// Names of files that may hold module blocks (others are never read).
const MODULE_FILE_ENDINGS: [&str; 5] = [".tf", ".tofu", ".hcl", ".tf.json", ".tofu.json"];

/// Scans the environment's folders; results are sorted by file and line.
pub fn scan(env: &Environment) -> Result<ScanResult, EnvironmentError> {
    let matcher = env.matcher()?;
    let root = absolute_dir(&env.working_dir)?;
    let root = root.as_path();
    let found = Mutex::new(Collected::default());
    let shared = SharedFiles::default();
    WalkBuilder::new(root)
        .standard_filters(false)
        .filter_entry(|entry| !is_skipped_dir(entry))
        .build_parallel()
        .run(|| {
            Box::new(|entry| {
                let outcome = visit(
                    root,
                    &matcher,
                    &shared,
                    env.default_registry.as_deref(),
                    entry,
                );
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

fn is_skipped_dir(entry: &DirEntry) -> bool {
    entry.depth() > 0
        && entry.file_type().is_some_and(|t| t.is_dir())
        && SKIP_DIRS.iter().any(|d| entry.file_name() == *d)
}

enum Outcome {
    Nothing,
    Found(FileFindings),
    Error(FileError),
}

fn visit(
    root: &Path,
    matcher: &DirMatcher,
    shared: &SharedFiles,
    registry: Option<&str>,
    entry: Result<DirEntry, ignore::Error>,
) -> Outcome {
    let entry = match entry {
        Ok(entry) => entry,
        Err(err) => return Outcome::Error(walk_error(root, &err)),
    };
    let is_link = entry.file_type().is_some_and(|t| t.is_symlink());
    if !is_link && !entry.file_type().is_some_and(|t| t.is_file()) {
        return Outcome::Nothing;
    }
    let rel = relative(root, entry.path());
    let may_hold_modules = MODULE_FILE_ENDINGS.iter().any(|end| rel.ends_with(end))
        || rel.ends_with("terragrunt.hcl.json")
        || rel.ends_with("terragrunt.stack.hcl.json");
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
    match crate::edit::read_regular(entry.path()) {
        Ok(bytes) if is_module_file(&rel, &bytes) => {
            match scan_file_sharing(root, &rel_path, &bytes, Some(shared), registry, &Disk) {
                Ok(findings) => Outcome::Found(findings),
                Err(err) => Outcome::Error(err),
            }
        }
        Ok(_) => Outcome::Nothing,
        Err(err) => Outcome::Error(io_error(rel_path, &err.to_string())),
    }
}

fn merge(found: &Mutex<Collected>, outcome: Outcome) {
    let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
    let Collected { result, sources } = &mut *found;
    match outcome {
        Outcome::Nothing => {}
        Outcome::Found(findings) => {
            for mut usage in findings.usages {
                match sources.get(&usage.source) {
                    Some(shared) => usage.source = Arc::clone(shared),
                    None => {
                        sources.insert(Arc::clone(&usage.source));
                    }
                }
                result.usages.push(usage);
            }
            result.skipped.extend(findings.skipped);
            result.lenient.extend(findings.lenient);
            result.scanned.extend(findings.scanned);
        }
        Outcome::Error(err) => result.errors.push(err),
    }
}

fn sort(result: &mut ScanResult) {
    result
        .usages
        .sort_by_cached_key(|u| (path_key(&u.file), u.line, u.column));
    // A version written once (in a `common.hcl`, an included file) that several files read is
    // one place to change.
    result.usages.dedup();
    result
        .skipped
        .sort_by_cached_key(|s| (path_key(&s.file), s.line));
    for errors in [&mut result.errors, &mut result.lenient] {
        errors.sort_by_cached_key(|e| (path_key(&e.file), e.line, e.column));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
