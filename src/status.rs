//! `patcher status`: where every dependency stands in every environment of the chain.
//!
//! environments → scan each (the tree is the truth) → optionally resolve every origin once for
//! all environments together and plan per environment (latest safe / breaking, as `report`)
//! → optionally the labelled pull requests of each environment → `drift` decides the
//! promotion state and the anomalies → [`render`] prints them. The stages meet on the plain
//! data below, which is also the `--output json` format (`docs/status.schema.json`).

pub mod dashboard;
mod drift;
pub mod render;
mod time;

use crate::environment::{Environment, EnvironmentError};
use crate::environments_file::{environment_label, valid_name, EnvironmentsFile};
use crate::model::{FileError, Origin, ScanResult, Skipped, Usage, VersionForm};
use crate::plan::{self, Plan, PlanError, Strategy, Versions, Wanted};
use crate::promote::{valid_dependency_id, valid_version};
use crate::publish::github::{GitHubError, IssueState, IssueTracker, LabelledIssue};
use crate::pull_request::{one_target, parse_metadata};
use crate::resolve::{self, VersionLister};
use crate::source::{parse_source, Parsed};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

pub use time::parse_timestamp;

/// One environment of the chain, in promotion order.
#[derive(Debug, Clone)]
pub struct ChainEnvironment {
    /// Environment name, from the environments file or a `NAME=GLOB` item.
    pub name: String,
    /// Its working dir and folder globs.
    pub env: Environment,
    /// The label `update` puts on this environment's pull requests.
    pub label: String,
}

/// The chain of an environments file, in its order.
pub fn chain_from_config(config: &EnvironmentsFile, working_dir: &Path) -> Vec<ChainEnvironment> {
    config
        .environments
        .iter()
        .map(|e| ChainEnvironment {
            name: e.name.clone(),
            env: e.environment(working_dir),
            label: e
                .labels()
                .into_iter()
                .next()
                .unwrap_or_else(|| environment_label(&e.name)),
        })
        .collect()
}

/// The chain from `NAME=GLOB` items in promotion order; items naming the same environment add
/// globs to it (`{dev,stage}/**` stays one glob: nothing is split).
pub fn chain_from_globs(
    items: &[String],
    working_dir: &Path,
) -> Result<Vec<ChainEnvironment>, StatusError> {
    let mut chain: Vec<ChainEnvironment> = Vec::new();
    for item in items {
        let Some((name, glob)) = item
            .split_once('=')
            .filter(|(n, g)| valid_name(n) && !g.trim().is_empty())
        else {
            return Err(StatusError::EnvironmentItem(item.clone()));
        };
        match chain.iter_mut().find(|c| c.name == name) {
            Some(known) => known.env.include_dirs.push(glob.trim().to_string()),
            None => chain.push(ChainEnvironment {
                name: name.to_string(),
                env: Environment {
                    working_dir: working_dir.to_path_buf(),
                    include_dirs: vec![glob.trim().to_string()],
                    exclude_dirs: Vec::new(),
                    default_registry: None,
                },
                label: environment_label(name),
            }),
        }
    }
    Ok(chain)
}

/// What `status` looks at and how.
pub struct StatusOptions<'a> {
    /// The environments, in promotion order; must not be empty.
    pub chain: Vec<ChainEnvironment>,
    /// The update strategy the targets are planned with, as `report` would.
    pub strategy: Strategy,
    /// Most version listings fetched at once.
    pub concurrency: usize,
    /// Lists versions; `None` is `--offline`.
    pub lister: Option<&'a dyn VersionLister>,
    /// `None` when pull requests are not looked up (offline, or no repository).
    pub pulls: Option<&'a dyn IssueTracker>,
    /// Seconds since the epoch, for ages.
    pub now: u64,
}

/// Why `status` has no answer.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// An environment cannot be scanned (a bad glob or working dir).
    #[error("environment `{name}`: {source}")]
    Environment {
        /// The environment's name.
        name: String,
        /// What is wrong with it.
        source: EnvironmentError,
    },
    /// An environment's labelled pull requests could not be listed.
    #[error("pull requests of `{name}` ({label}): {source}")]
    Pulls {
        /// The environment's name.
        name: String,
        /// The label its pull requests were looked up by.
        label: String,
        /// The API's error.
        source: GitHubError,
    },
    /// The chain is empty.
    #[error("no environments: give an environments file or NAME=GLOB environments in order")]
    NoEnvironments,
    /// A `NAME=GLOB` item with an invalid name or an empty glob, as given.
    #[error("`{0}` is not NAME=GLOB (NAME: letters, digits, `-` or `_`)")]
    EnvironmentItem(String),
    /// Planning an environment failed (a plan fails only on exact versions, and status asks
    /// for none).
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// The whole answer, as printed by `--output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Environment names in promotion order.
    pub environments: Vec<String>,
    /// Whether versions were listed (false with `--offline`).
    pub resolved: bool,
    /// Whether pull requests were looked up.
    pub pull_requests: bool,
    /// Every dependency used or pinned in any environment, by ID.
    pub dependencies: Vec<DependencyStatus>,
    /// Files that did not parse, per environment.
    pub errors: Vec<EnvironmentFileError>,
}

/// Where one dependency stands along the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DependencyStatus {
    /// Dependency ID.
    pub id: String,
    /// Highest listed version (resolved runs only).
    pub latest: Option<String>,
    /// Why the versions could not be listed.
    pub listing_error: Option<String>,
    /// One entry per environment of the chain, in order, also where the dependency is absent.
    pub environments: Vec<EnvironmentStatus>,
    /// What deserves a human's look, in chain order.
    pub anomalies: Vec<Anomaly>,
}

/// One dependency in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvironmentStatus {
    /// The environment's name.
    pub name: String,
    /// Versions in use, lowest first; empty when the dependency is absent.
    pub versions: Vec<VersionUse>,
    /// Usages pinned to a commit or a branch instead of a version.
    pub pins: Vec<Pin>,
    /// What `report` would move this environment to (resolved runs only).
    pub target_safe: Option<String>,
    /// What `report` would move it to under `next-breaking` (resolved runs only).
    pub target_breaking: Option<String>,
    /// The newest open update pull request of the dependency here; None when there is none
    /// or pull requests were not looked up.
    pub pull_request: Option<OpenPull>,
    /// The latest merged update pull request of this dependency in this environment.
    pub last_merged: Option<MergedPull>,
    /// Where the environment stands against the one before it.
    pub state: PromotionState,
    /// For `behind`: the version of the environment before that has not reached this one.
    pub waits_on: Option<WaitsOn>,
}

/// What a `behind` environment waits for: the highest version of the environment before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitsOn {
    /// The nearest earlier environment that uses the dependency.
    pub environment: String,
    /// Its highest version in use.
    pub version: String,
    /// When that version merged there, from its update pull request (none found: `None`).
    pub merged_at: Option<String>,
    /// Seconds from `merged_at` to the run; None when `merged_at` is None or does not parse.
    pub age_seconds: Option<u64>,
}

/// One version text of a dependency in one environment, and where it is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionUse {
    /// As written: a version, or a registry constraint such as `~> 5.1`.
    pub version: String,
    /// Resolved runs: the listed version the text stands for (for a constraint the lowest one
    /// it allows), which is what environments are compared by.
    pub resolved: Option<String>,
    /// How many usages write this text, including files beyond those listed.
    pub usages: usize,
    /// Files (relative to the working dir) using this version; at most [`MAX_FILES`].
    pub files: Vec<String>,
}

/// Files listed per version; the count says how many there are in all.
pub const MAX_FILES: usize = 20;

/// A usage pinned to a commit or a branch rather than a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pin {
    /// Path relative to the working dir, `/`-separated.
    pub file: String,
    /// 1-based line of the reference.
    pub line: usize,
    /// The `ref` as written.
    #[serde(rename = "ref")]
    pub reference: String,
    /// What the ref looks like.
    pub kind: PinKind,
}

/// What a pinned ref is taken for, from its text alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PinKind {
    /// Seven or more hex digits: a commit id.
    Commit,
    /// Any other ref that names no version: a branch.
    Branch,
}

/// An open update pull request, as its metadata block describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenPull {
    /// Pull request number.
    pub number: u64,
    /// Its web page.
    pub url: String,
    /// The version its metadata block says it moves to.
    pub version: String,
    /// Whether that version is a breaking change from the highest version in use.
    pub breaking: bool,
    /// When it was opened, GitHub's UTC timestamp; None when the API gave none.
    pub opened_at: Option<String>,
    /// Seconds from `opened_at` to the run; None when that is unknown or does not parse.
    pub age_seconds: Option<u64>,
}

/// A merged update pull request, as its metadata block describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergedPull {
    /// Pull request number.
    pub number: u64,
    /// Its web page.
    pub url: String,
    /// The version its metadata block says it moved to.
    pub version: String,
    /// When it merged, GitHub's UTC timestamp.
    pub merged_at: String,
    /// Seconds from `merged_at` to the run; None when it does not parse.
    pub age_seconds: Option<u64>,
}

/// Where an environment stands against the one before it (the first: against new releases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionState {
    /// The dependency is not used here.
    Absent,
    /// First environment, resolved: nothing newer to move to (under the strategy).
    UpToDate,
    /// First environment, resolved: `report` would open an update.
    UpdateAvailable,
    /// First environment, offline: nothing to compare with.
    Unknown,
    /// On the same highest version as the environment before.
    InSync,
    /// The environment before is on a higher version that was not promoted here yet.
    Behind,
    /// An update pull request is open here, waiting for review.
    InReview,
    /// On a higher version than the environment before: that version skipped testing.
    Ahead,
}

/// Something about a dependency's place in the chain that deserves a human's look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    /// Which kind of problem.
    pub kind: AnomalyKind,
    /// The environment where it shows.
    pub environment: String,
    /// One line for people, naming the versions or the file involved.
    pub message: String,
}

/// The kinds of [`Anomaly`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// A later environment runs a version no earlier environment runs.
    Ahead,
    /// One environment uses more than one version.
    Split,
    /// Used in a later environment but not in the first one, where updates are tested.
    Untested,
    /// Pinned to a commit or branch: no update can be proposed.
    Pinned,
}

/// A file of an environment that could not be parsed or read, so its usages are missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvironmentFileError {
    /// The environment's name.
    pub environment: String,
    /// Path relative to the working dir, `/`-separated.
    pub file: String,
    /// 1-based line of the error; 0 when the file could not be read.
    pub line: usize,
    /// 1-based column of the error; 0 when the file could not be read.
    pub column: usize,
    /// What went wrong.
    pub message: String,
}

/// What one environment holds, before the environments are compared.
struct Holding {
    scan: ScanResult,
    plan: Option<Plan>,
    open: Vec<LabelledPull>,
    merged: Vec<LabelledPull>,
}

/// A labelled pull request with a metadata block: what it says it moves to.
#[derive(Debug, Clone)]
struct LabelledPull {
    issue: LabelledIssue,
    dependency: String,
    version: String,
}

/// Scans every environment, lists and plans when a lister is given, looks up the labelled pull
/// requests when a tracker is given, then compares the environments dependency by dependency.
pub fn collect(opts: &StatusOptions) -> Result<Status, StatusError> {
    if opts.chain.is_empty() {
        return Err(StatusError::NoEnvironments);
    }
    let scans = opts
        .chain
        .iter()
        .map(|c| {
            crate::scan::scan(&c.env)
                .map(pins_apart)
                .map_err(|source| StatusError::Environment {
                    name: c.name.clone(),
                    source,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let plans = opts
        .lister
        .map(|lister| plan_all(&scans, lister, opts.concurrency, opts.strategy))
        .transpose()?;
    let mut holdings = Vec::new();
    for (i, (scan, chain_env)) in scans.into_iter().zip(&opts.chain).enumerate() {
        let (open, merged) = match opts.pulls {
            Some(pulls) => pulls_of(pulls, chain_env)?,
            None => (Vec::new(), Vec::new()),
        };
        let plan = plans.as_ref().map(|p| p[i].clone());
        holdings.push(Holding {
            scan,
            plan,
            open,
            merged,
        });
    }
    Ok(assemble(opts, &holdings))
}

/// One listing per unique origin for every environment together, then one plan each.
fn plan_all(
    scans: &[ScanResult],
    lister: &dyn VersionLister,
    concurrency: usize,
    strategy: Strategy,
) -> Result<Vec<Plan>, PlanError> {
    let usages: Vec<_> = scans.iter().flat_map(|s| s.usages.clone()).collect();
    let listings = resolve::listings_for(&usages, lister, concurrency);
    let by_strategy = |_: &Usage| Some(Wanted::Strategy(strategy));
    scans
        .iter()
        .map(|scan| plan::plan(&scan.usages, Versions::all(&listings), &by_strategy))
        .collect()
}

/// The environment's open and merged update pull requests that carry a metadata block for
/// this environment (a block naming another environment was not written for this label).
fn pulls_of(
    pulls: &dyn IssueTracker,
    chain_env: &ChainEnvironment,
) -> Result<(Vec<LabelledPull>, Vec<LabelledPull>), StatusError> {
    let fetch = |state| {
        pulls
            .list_labelled(&chain_env.label, state)
            .map_err(|source| StatusError::Pulls {
                name: chain_env.name.clone(),
                label: chain_env.label.clone(),
                source,
            })
    };
    let ours = |issues: Vec<LabelledIssue>| -> Vec<LabelledPull> {
        issues
            .into_iter()
            .filter(|i| i.is_pull_request)
            .flat_map(|issue| {
                // A group's pull request counts for each of its members.
                let metas = parse_metadata(&issue.body);
                let metas = match one_target(&metas) {
                    true => metas,
                    false => Vec::new(),
                };
                metas.into_iter().map(move |meta| (issue.clone(), meta))
            })
            .filter_map(|(issue, meta)| {
                let env_ok = meta
                    .environment
                    .as_deref()
                    .is_none_or(|e| e == chain_env.name);
                // A body anyone with write access can edit: shown only when well-formed.
                let well_formed =
                    valid_dependency_id(&meta.dependency) && valid_version(&meta.version);
                (env_ok && well_formed).then_some(LabelledPull {
                    dependency: meta.dependency,
                    version: meta.version,
                    issue,
                })
            })
            .collect()
    };
    let open = ours(fetch(IssueState::Open)?);
    let merged = ours(fetch(IssueState::Closed)?)
        .into_iter()
        .filter(|p| p.issue.merged_at.is_some())
        .collect();
    Ok((open, merged))
}

fn assemble(opts: &StatusOptions, holdings: &[Holding]) -> Status {
    let mut ids: Vec<String> = holdings
        .iter()
        .flat_map(|h| {
            let used = h.scan.usages.iter().map(|u| u.source.id.clone());
            let pinned = h.scan.skipped.iter().filter_map(pinned_id);
            used.chain(pinned).collect::<Vec<_>>()
        })
        .collect();
    ids.sort();
    ids.dedup();
    let dependencies = ids
        .iter()
        .map(|id| dependency_status(id, opts, holdings))
        .collect();
    let errors = holdings
        .iter()
        .zip(&opts.chain)
        .flat_map(|(h, c)| h.scan.errors.iter().map(|e| file_error(&c.name, e)))
        .collect();
    Status {
        environments: opts.chain.iter().map(|c| c.name.clone()).collect(),
        resolved: opts.lister.is_some(),
        pull_requests: opts.pulls.is_some(),
        dependencies,
        errors,
    }
}

fn dependency_status(id: &str, opts: &StatusOptions, holdings: &[Holding]) -> DependencyStatus {
    let deps: Vec<Option<&plan::DependencyPlan>> = holdings
        .iter()
        .map(|h| h.plan.as_ref().and_then(|p| find_dependency(p, id)))
        .collect();
    let environments = holdings
        .iter()
        .zip(&opts.chain)
        .zip(&deps)
        .map(|((h, c), dep)| environment_status(id, &c.name, h, *dep, opts.now))
        .collect();
    let resolved = deps.iter().flatten();
    let mut status = DependencyStatus {
        id: id.to_string(),
        latest: resolved.clone().find_map(|d| d.latest.clone()),
        listing_error: resolved.clone().find_map(|d| d.error.clone()),
        environments,
        anomalies: Vec::new(),
    };
    let listed = opts.lister.is_some() && status.listing_error.is_none();
    drift::compare(&mut status, listed);
    status
}

fn find_dependency<'p>(plan: &'p Plan, id: &str) -> Option<&'p plan::DependencyPlan> {
    plan.dependencies.iter().find(|d| d.source.id == id)
}

fn environment_status(
    id: &str,
    name: &str,
    holding: &Holding,
    dep: Option<&plan::DependencyPlan>,
    now: u64,
) -> EnvironmentStatus {
    let versions = versions_in_use(id, &holding.scan, dep);
    let highest = versions.last().map(|v| v.meaning().to_string());
    let highest_usage = |pick: fn(&plan::UsagePlan) -> Option<&String>| {
        dep.and_then(|d| plan::highest(d.usages.iter().map(|u| pick(u).map(String::as_str))))
            .map(str::to_string)
    };
    EnvironmentStatus {
        name: name.to_string(),
        pins: pins_of(id, &holding.scan.skipped),
        target_safe: highest_usage(|u| u.target_safe.as_ref()),
        target_breaking: highest_usage(|u| u.target_breaking.as_ref()),
        pull_request: open_pull(id, &holding.open, highest.as_deref(), now),
        last_merged: last_merged(id, &holding.merged, now),
        state: PromotionState::Unknown,
        waits_on: None,
        versions,
    }
}

impl VersionUse {
    /// What the text stands for: the resolved version when known.
    pub fn meaning(&self) -> &str {
        self.resolved.as_deref().unwrap_or(&self.version)
    }
}

/// Versions in use, lowest first (texts that stand for no known version after the versions).
fn versions_in_use(
    id: &str,
    scan: &ScanResult,
    dep: Option<&plan::DependencyPlan>,
) -> Vec<VersionUse> {
    let resolved = |text: &str| {
        dep?.usages
            .iter()
            .find(|u| u.usage.current == text)
            .and_then(|u| u.resolved_current.clone())
    };
    let mut by_version: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for usage in scan.usages.iter().filter(|u| u.source.id == id) {
        by_version
            .entry(usage.current.as_str())
            .or_default()
            .push(display_path(&usage.file));
    }
    let mut out: Vec<VersionUse> = by_version
        .into_iter()
        .map(|(version, files)| VersionUse {
            resolved: resolved(version),
            version: version.to_string(),
            usages: files.len(),
            files: files.into_iter().take(MAX_FILES).collect(),
        })
        .collect();
    out.sort_by(|a, b| drift::compare_texts(a.meaning(), b.meaning()));
    out
}

fn display_path(path: &std::path::Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Commit and branch refs are usages to the plan, whose listing tells what they are; the
/// status shows them as pins beside the versions.
fn pins_apart(mut scan: ScanResult) -> ScanResult {
    let is_pin = |u: &Usage| match u.form {
        VersionForm::CommitPin => true,
        VersionForm::GitRef => crate::version::parse_tag(&u.current).is_none(),
        _ => false,
    };
    let (pins, versions): (Vec<Usage>, Vec<Usage>) = std::mem::take(&mut scan.usages)
        .into_iter()
        .partition(is_pin);
    scan.usages = versions;
    scan.skipped.extend(pins.into_iter().filter_map(|u| {
        let Origin::Git { url } = &u.source.origin else {
            return None;
        };
        Some(Skipped {
            source: format!("git::{url}//{}?ref={}", u.source.module, u.current),
            file: u.file,
            line: u.line,
            reason: "pinned to a commit or a branch".into(),
        })
    }));
    scan
}

/// The dependency a skipped source would have if its ref were a version: commit and branch
/// pins are skipped by the scan, yet they are usages of a known dependency.
fn pinned_id(skipped: &Skipped) -> Option<String> {
    pin_of(skipped).map(|(id, _, _)| id)
}

fn pin_of(skipped: &Skipped) -> Option<(String, String, PinKind)> {
    let (before, after) = skipped.source.split_once("ref=")?;
    if !(before.ends_with('?') || before.ends_with('&')) {
        return None;
    }
    let end = after.find('&').unwrap_or(after.len());
    let reference = &after[..end];
    if reference.is_empty() {
        return None;
    }
    // A placeholder version makes the address parse as the versioned source it stands for.
    let probe = format!("{before}ref=v0.0.0{}", &after[end..]);
    let Parsed::Versioned { source, .. } = parse_source(&probe) else {
        return None;
    };
    let is_commit = reference.len() >= 7 && reference.chars().all(|c| c.is_ascii_hexdigit());
    let kind = if is_commit {
        PinKind::Commit
    } else {
        PinKind::Branch
    };
    Some((source.id, reference.to_string(), kind))
}

fn pins_of(id: &str, skipped: &[Skipped]) -> Vec<Pin> {
    skipped
        .iter()
        .filter_map(|s| {
            let (pin_id, reference, kind) = pin_of(s)?;
            (pin_id == id).then(|| Pin {
                file: display_path(&s.file),
                line: s.line,
                reference,
                kind,
            })
        })
        .collect()
}

/// The newest open update pull request of the dependency (highest number).
fn open_pull(id: &str, open: &[LabelledPull], highest: Option<&str>, now: u64) -> Option<OpenPull> {
    let pull = open
        .iter()
        .filter(|p| p.dependency == id)
        .max_by_key(|p| p.issue.number)?;
    let breaking = match (
        highest.and_then(crate::version::parse_version),
        crate::version::parse_version(&pull.version),
    ) {
        (Some(from), Some(to)) => crate::version::is_breaking(&from.semver, &to.semver),
        _ => false,
    };
    Some(OpenPull {
        number: pull.issue.number,
        url: pull.issue.html_url.clone(),
        version: pull.version.clone(),
        breaking,
        opened_at: pull.issue.created_at.clone(),
        age_seconds: age(pull.issue.created_at.as_deref(), now),
    })
}

/// The most recently merged update pull request of the dependency.
fn last_merged(id: &str, merged: &[LabelledPull], now: u64) -> Option<MergedPull> {
    merged
        .iter()
        .filter(|p| p.dependency == id)
        .filter_map(|p| {
            let at = p.issue.merged_at.clone()?;
            Some((parse_timestamp(&at).unwrap_or(0), p, at))
        })
        .max_by_key(|(t, p, _)| (*t, p.issue.number))
        .map(|(_, p, at)| MergedPull {
            number: p.issue.number,
            url: p.issue.html_url.clone(),
            version: p.version.clone(),
            age_seconds: age(Some(&at), now),
            merged_at: at,
        })
}

/// Seconds since the epoch, now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn age(timestamp: Option<&str>, now: u64) -> Option<u64> {
    timestamp
        .and_then(parse_timestamp)
        .map(|t| now.saturating_sub(t))
}

fn file_error(environment: &str, e: &FileError) -> EnvironmentFileError {
    EnvironmentFileError {
        environment: environment.to_string(),
        file: display_path(&e.file),
        line: e.line,
        column: e.column,
        message: e.message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn skipped(source: &str) -> Skipped {
        Skipped {
            file: PathBuf::from("prod/a/main.tf"),
            line: 2,
            source: source.into(),
            reason: "branch or commit".into(),
        }
    }

    #[test]
    fn commit_and_branch_pins_name_their_dependency() {
        let commit = skipped("git::https://github.com/acme/mods.git//modules/vpc?ref=0123456789abcdef0123456789abcdef01234567");
        assert_eq!(
            pin_of(&commit),
            Some((
                "acme/mods/vpc".into(),
                "0123456789abcdef0123456789abcdef01234567".into(),
                PinKind::Commit
            ))
        );
        let branch = skipped("github.com/acme/mods//modules/sqs?depth=1&ref=main");
        assert_eq!(
            pin_of(&branch),
            Some(("acme/mods/sqs".into(), "main".into(), PinKind::Branch))
        );
        assert_eq!(pin_of(&skipped("./modules/local")), None);
        assert_eq!(pin_of(&skipped("github.com/acme/mods?xref=main")), None);
    }
}
