//! What an update touches: the environment scanned again, the dependencies asked for planned
//! to their targets, and the edits that move them, computed without touching a file.

use super::UpdateError;
use super::UpdateOptions;
use crate::edit::{self, Edit};
use crate::model::{FileError, Usage};
use crate::plan::{self, DependencyPlan, Strategy, Versions, Wanted};
use crate::resolve::{self, VersionLister};
use crate::scan;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Files under a folder of this name are included by several environments (Terragrunt's
/// convention), so an environment's update leaves them alone unless told otherwise.
pub const SHARED_DIR: &str = "_envcommon";

/// What an update would do, computed without touching a file.
#[derive(Debug, Clone)]
pub struct Changes {
    /// The plans of the dependencies asked for, shared-file usages left out.
    pub dependencies: Vec<DependencyPlan>,
    /// Every splice to make: each moving usage's version, and the tag comment of a commit pin.
    pub edits: Vec<Edit>,
    /// Usages that live in shared files and were left unchanged.
    pub shared: Vec<Usage>,
    /// Files of the environment that do not parse: left untouched, whatever they use.
    pub unreadable: Vec<FileError>,
    /// What each file held at the scan, so a file changed since is refused, not overwritten.
    pub scanned: edit::Scanned,
    /// What the cooldown held back, or could not apply to.
    pub cooldown_notes: Vec<String>,
}

impl Changes {
    /// The files the edits touch, sorted, each once.
    pub fn files(&self) -> Vec<PathBuf> {
        let set: BTreeSet<&PathBuf> = self.edits.iter().map(|e| &e.file).collect();
        set.into_iter().cloned().collect()
    }
}

/// Scans the environment again and works out the edits for the selected dependencies.
pub fn plan_changes(
    opts: &UpdateOptions,
    lister: &dyn VersionLister,
) -> Result<Changes, UpdateError> {
    opts.ask().check()?;
    let mut scan = scan::scan(&opts.env)?;
    opts.policy.skip_ignored(&mut scan);
    // Dependencies the spec says are up to date are dropped before any listing is fetched.
    scan.usages
        .retain(|u| wanted(opts, &u.source.id) && !spec_says_up_to_date(opts, &u.source.id));
    let matcher = opts.env.matcher()?;
    let (shared, own): (Vec<Usage>, Vec<Usage>) = scan
        .usages
        .drain(..)
        .partition(|u| !opts.allow_shared_files && is_shared(u, &matcher));
    scan.usages = own;
    let listings = resolve::listings_for(&scan.usages, lister, opts.concurrency);
    let cooldown = opts.cooldown.filter(|_| !opts.ask().is_promotion());
    // The fresh plan sees the cooldown's listings; exact and spec targets are checked
    // against everything listed.
    let filtered = crate::cooldown::apply(
        cooldown,
        &scan.usages,
        listings.clone(),
        lister,
        opts.concurrency,
    );
    let usages = std::mem::take(&mut scan.usages);
    let versions = Versions {
        listed: &listings,
        candidates: &filtered.listings,
    };
    let planned = opts
        .policy
        .plan(usages, versions, &|usage| wanted_of(opts, usage))?;
    let dependencies = planned.dependencies;
    if let Some(dep) = dependencies.iter().find(|d| d.error.is_some()) {
        return Err(plan::PlanError::Listing {
            id: dep.source.id.clone(),
            message: dep.error.clone().unwrap_or_default(),
        }
        .into());
    }
    let edits = dependencies.iter().flat_map(edits_of).collect();
    Ok(Changes {
        dependencies,
        edits,
        shared,
        unreadable: scan.errors,
        scanned: scan.scanned,
        cooldown_notes: filtered.notes,
    })
}

/// The dependency (or group) asked for, else every dependency of the spec, else all.
fn wanted(opts: &UpdateOptions, id: &str) -> bool {
    match (&opts.dependency, &opts.spec) {
        (Some(_), _) => opts.ask().selects(id),
        (None, Some(spec)) => spec.dependency(id).is_some(),
        (None, None) => true,
    }
}

/// A spec lists only dependencies with an update (a group only its members with one): one it
/// leaves out has nothing to do, unless exact versions are asked for.
pub(super) fn spec_says_up_to_date(opts: &UpdateOptions, id: &str) -> bool {
    !opts.ask().is_promotion()
        && opts
            .spec
            .as_ref()
            .is_some_and(|spec| spec.dependency(id).is_none())
}

/// Whether the usage lives in a file other environments use too: under a [`SHARED_DIR`]
/// folder, or outside the environment's folders (a `common.hcl` that the environment's units
/// read with `read_terragrunt_config`, where the version is written).
pub fn is_shared(usage: &Usage, env: &crate::environment::DirMatcher) -> bool {
    usage.file.components().any(|c| c.as_os_str() == SHARED_DIR)
        || !env.selects_file(&usage.file.to_string_lossy().replace('\\', "/"))
}

/// The exact version wins; then the spec's target for the usage (matched by file and current
/// version), then the spec's target for the dependency, and a usage with neither is left out;
/// without a spec or with a compact one, what the strategy picks, by the same rules as the
/// report's.
fn wanted_of<'o>(opts: &'o UpdateOptions, usage: &Usage) -> Option<Wanted<'o>> {
    let id = &usage.source.id;
    if let Some(version) = opts.ask().exact(id) {
        return Some(Wanted::Exact(version));
    }
    let Some(spec_dep) = opts
        .spec
        .as_ref()
        .filter(|s| !s.compact)
        .and_then(|s| s.dependency(id))
    else {
        return Some(Wanted::Strategy(opts.strategy));
    };
    let in_spec = spec_dep
        .usages
        .iter()
        .find(|u| u.file.ends_with(&usage.file) && u.current_version == usage.current);
    let target = in_spec
        .and_then(|u| {
            pick(
                opts.strategy,
                &u.target_safe_version,
                &u.target_breaking_version,
                &u.target_version,
            )
        })
        .or_else(|| {
            pick(
                opts.strategy,
                &spec_dep.target_safe_version,
                &spec_dep.target_breaking_version,
                &spec_dep.target_version,
            )
        });
    target.map(Wanted::Exact)
}

/// The spec's target for the strategy, else the one it chose.
fn pick<'s>(
    strategy: Strategy,
    safe: &'s Option<String>,
    breaking: &'s Option<String>,
    chosen: &'s Option<String>,
) -> Option<&'s str> {
    match strategy {
        Strategy::NextSafe => safe.as_deref(),
        Strategy::NextBreaking => breaking.as_deref(),
    }
    .or(chosen.as_deref())
}

/// The version of each usage that moves, and the `# v1.2.3` comment of a commit pin with it.
fn edits_of(dep: &DependencyPlan) -> Vec<Edit> {
    dep.usages
        .iter()
        .flat_map(|u| {
            let version = u.new_text.as_ref().map(|new| Edit {
                file: u.usage.file.clone(),
                span: u.usage.span.clone(),
                old: u.usage.current.clone(),
                new: new.clone(),
            });
            let comment = u.usage.pin_comment.as_ref().zip(u.comment_text.as_ref());
            let comment = comment.map(|(comment, new)| Edit {
                file: u.usage.file.clone(),
                span: comment.span.clone(),
                old: comment.tag.clone(),
                new: new.clone(),
            });
            version.into_iter().chain(comment)
        })
        .collect()
}

/// Applies every edit or none; a file that changed since the scan or would no longer parse is
/// an error.
pub fn apply(opts: &UpdateOptions, changes: &Changes) -> Result<Vec<PathBuf>, UpdateError> {
    let mut outcome = edit::apply(&opts.env.working_dir, &changes.edits, &changes.scanned);
    if outcome.rejected.is_empty() {
        return Ok(outcome.changed);
    }
    let rejected = outcome.rejected.swap_remove(0);
    if outcome.changed.is_empty() {
        return Err(UpdateError::Rejected(rejected));
    }
    Err(UpdateError::Edit {
        file: rejected.file,
        reason: rejected.reason.to_string(),
    })
}
