//! Plain data passed between the stages of DESIGN.md's data flow.
//! Every stage takes and returns these; none of them does I/O.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
    Git {
        /// Repository URL as given to `git ls-remote`.
        url: String,
    },
    /// A module in a Terraform/OpenTofu registry; `host` is e.g. `registry.terraform.io`.
    Registry {
        /// Registry host name, without scheme.
        host: String,
        /// Module namespace (the first part of `ns/name/provider`).
        namespace: String,
        /// Module name.
        name: String,
        /// Provider the module is written for (`aws`, `google`, …).
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
    /// Where the versions of this module are listed.
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
    /// `?ref=<40-hex commit id>`, the tag it stands for read from the listing (and from a
    /// same-line `# v1.2.3` / `# tag=v1.2.3` comment, which moves with it).
    CommitPin,
}

/// The `# v1.2.3` (or `# tag=v1.2.3`) comment on the line of a commit pin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinComment {
    /// Byte span of the tag text in the file as it is on disk.
    pub span: Range<usize>,
    /// The tag as written in the comment (`v1.2.3`).
    pub tag: String,
}

/// One place a versioned module is referenced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Path relative to the working dir, `/`-separated.
    pub file: PathBuf,
    /// 1-based line of the version text.
    pub line: usize,
    /// 1-based column of the version text, counted in characters.
    pub column: usize,
    /// Byte span of the version text in the file as it is on disk (BOM included).
    pub span: Range<usize>,
    /// Shared by every usage of the same address (a scan interns them), so a tree of 100,000
    /// usages of a few hundred modules holds a few hundred sources, and a usage clones cheaply.
    pub source: Arc<Source>,
    /// The version text exactly as written (`v1.2.3`, `1.2.3`, `~> 5.1`).
    pub current: String,
    /// How the version is written, hence how a new one is spliced in.
    pub form: VersionForm,
    /// The tag comment next to a commit pin, rewritten with it; `None` for other forms or a
    /// pin without such a comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_comment: Option<PinComment>,
}

/// A module reference that is not versioned and therefore not managed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The scanned file, relative to the working dir, `/`-separated.
    pub file: PathBuf,
    /// 1-based line of the reference (of its version when written in the scanned file).
    pub line: usize,
    /// The source address as written, credentials redacted.
    pub source: String,
    /// Why it is not managed, for the report (`no version constraint`, a local path, …).
    pub reason: String,
}

/// A file that could not be parsed; the scan goes on without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileError {
    /// The file, relative to the working dir, `/`-separated.
    pub file: PathBuf,
    /// 1-based line of the error; 0 when it has no position (an unreadable file or folder).
    pub line: usize,
    /// 1-based column of the error, in characters; 0 when it has no position.
    pub column: usize,
    /// What is wrong, from the parser or the file system.
    pub message: String,
}

/// Everything a scan of one environment found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanResult {
    /// Every versioned module reference found, the ones to manage.
    pub usages: Vec<Usage>,
    /// Module references left alone, each with its reason.
    pub skipped: Vec<Skipped>,
    /// Files that could not be read or parsed; they hold no usages here.
    pub errors: Vec<FileError>,
    /// The content each file holding a usage had when it was scanned, so that a file someone
    /// else rewrites before the edit is left as it is. Only meaningful within one run.
    #[serde(skip)]
    pub scanned: BTreeMap<PathBuf, Fingerprint>,
    /// Files read leniently: HashiCorp's parser accepts them but hcl-edit does not (a repeated
    /// key inside an object), so the offending keys were renamed for the scan; their module
    /// usages are still found. `line`/`column` point at the first such key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lenient: Vec<FileError>,
}

/// A keyed hash of a file's bytes. The key is drawn at random once per process, so a file
/// crafted to collide with another cannot be made without knowing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(u64);

impl Fingerprint {
    /// Fingerprint of these bytes; comparable only with fingerprints of the same process.
    pub fn of(bytes: &[u8]) -> Fingerprint {
        use std::hash::{BuildHasher, RandomState};
        static KEY: std::sync::OnceLock<RandomState> = std::sync::OnceLock::new();
        Fingerprint(KEY.get_or_init(RandomState::new).hash_one(bytes))
    }
}

/// One tag or registry version as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    /// Tag name or registry version exactly as listed (`v1.2.3`, `1.2.3`).
    pub name: String,
    /// The commit a git tag points at (annotated tags peeled); None for registry versions.
    pub commit: Option<String>,
}

impl Listed {
    /// A registry version, or a tag whose commit is not known.
    pub fn name(name: impl Into<String>) -> Listed {
        Listed {
            name: name.into(),
            commit: None,
        }
    }
}

impl From<&str> for Listed {
    fn from(name: &str) -> Listed {
        Listed::name(name)
    }
}

/// The versions (tag names or registry versions, as listed) of every origin of a run, or why
/// they could not be listed. Filled by `resolve`, read by `plan`.
pub type Listings = std::collections::BTreeMap<Origin, Result<Vec<Listed>, String>>;
