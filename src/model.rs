//! Plain data passed between the stages of DESIGN.md's data flow.
//! Every stage takes and returns these; none of them does I/O.

use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the versions of a module are listed: one listing per unique `Origin`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Origin {
    /// A git repository; `url` is what `git ls-remote` is given (after stripping `git::`,
    /// `//subdir` and the query), e.g. `https://github.com/org/repo.git`,
    /// `git@github.com:org/repo.git`, `ssh://git@host/org/repo.git`.
    Git { url: String },
    /// A module in a Terraform/OpenTofu registry; `host` is e.g. `registry.terraform.io`.
    Registry {
        host: String,
        namespace: String,
        name: String,
        provider: String,
    },
}

/// A parsed, versioned module source address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Source {
    /// Dependency ID, see DESIGN.md (`org/repo/path` or `ns/name/provider`, host-prefixed
    /// when the registry is not the default one).
    pub id: String,
    /// git: organisation/owner; registry: namespace.
    pub org: String,
    /// git: repository name without `.git`; registry: module name.
    pub repo: String,
    /// git: path inside the repository with a leading `modules/` dropped ("" for the root);
    /// registry: provider.
    pub module: String,
    pub origin: Origin,
    /// `owner/repo` when the module lives on github.com, so release notes can be linked.
    pub github_repo: Option<String>,
}

/// How the version is written, which decides how a new version is spliced in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VersionForm {
    /// `?ref=v1.2.3` inside a git source string (also inside a template).
    GitRef,
    /// `version = "1.2.3"` or a constraint such as `~> 5.1` next to a registry source.
    RegistryAttribute,
    /// `tfr://…?version=1.2.3`.
    TfrQuery,
}

/// One place a versioned module is referenced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Path relative to the working dir, `/`-separated.
    pub file: PathBuf,
    /// 1-based line and column of the version text.
    pub line: usize,
    pub column: usize,
    /// Byte span of the version text in the file as it is on disk (BOM included).
    pub span: Range<usize>,
    /// Shared by every usage of the same address (a scan interns them), so a tree of 100,000
    /// usages of a few hundred modules holds a few hundred sources, and a usage clones cheaply.
    pub source: Arc<Source>,
    /// The version text exactly as written (`v1.2.3`, `1.2.3`, `~> 5.1`).
    pub current: String,
    pub form: VersionForm,
}

/// A module reference that is not versioned and therefore not managed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub file: PathBuf,
    pub line: usize,
    pub source: String,
    pub reason: String,
}

/// A file that could not be parsed; the scan goes on without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Everything a scan of one environment found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanResult {
    pub usages: Vec<Usage>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<FileError>,
}

/// The versions (tag names or registry versions, as listed) of every origin of a run, or why
/// they could not be listed. Filled by `resolve`, read by `plan`.
pub type Listings = std::collections::BTreeMap<Origin, Result<Vec<String>, String>>;
