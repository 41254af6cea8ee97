//! What an update touches: the environment scanned again, the dependencies asked for planned
//! to their targets, and the edits that move them, computed without touching a file.

use super::UpdateError;
use super::UpdateOptions;
use crate::edit::{self, Edit};
use crate::model::{FileError, Usage};
use crate::plan::{self, DependencyPlan, Strategy, Wanted};
use crate::resolve::VersionLister;
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
        .retain(|u| selected(opts, &u.source.id) && !spec_says_up_to_date(opts, &u.source.id));
    let matcher = opts.env.matcher()?;
    let (shared, own): (Vec<Usage>, Vec<Usage>) = scan
        .usages
        .drain(..)
        .partition(|u| !opts.allow_shared_files && is_shared(u, &matcher));
    let cooldown = opts.cooldown.filter(|_| !opts.ask().is_promotion());
    let listed = crate::cooldown::list(cooldown, &own, lister, opts.concurrency);
    let planned = opts
        .policy
        .plan(own, listed.versions(), &|usage| wanted_of(opts, usage))?;
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
        cooldown_notes: listed.notes,
    })
}

/// The dependency (or group) asked for, else every dependency of the spec, else all.
fn selected(opts: &UpdateOptions, id: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;
    use crate::model::{PinComment, Source, VersionForm};

    const SPEC: &str = r#"{"Dependencies": [{
        "ID": "acme/mods/vpc", "TargetSafeVersion": "v1.2.0", "TargetVersion": "v1.2.0",
        "Usages": [
            {"File": "live/dev/a.tf", "Line": 1, "CurrentVersion": "v1.0.0",
             "TargetSafeVersion": "v1.1.0", "TargetVersion": "v1.1.0", "Breaking": false},
            {"File": "live/dev/b.tf", "Line": 1, "CurrentVersion": "v1.0.5",
             "TargetBreakingVersion": "v2.0.0", "Breaking": false}
        ]}]}"#;

    fn options(spec: Option<&str>, version: Option<&str>) -> UpdateOptions {
        UpdateOptions {
            env: Environment {
                working_dir: PathBuf::from("."),
                include_dirs: vec!["dev/**".into()],
                exclude_dirs: Vec::new(),
                default_registry: None,
            },
            spec: spec.map(|json| crate::spec::from_json(json, "spec.json").unwrap()),
            dependency: version.map(|_| "acme/mods/vpc".to_string()),
            version: version.map(str::to_string),
            members: Vec::new(),
            strategy: Strategy::NextSafe,
            allow_shared_files: false,
            concurrency: 1,
            policy: Default::default(),
            groups: Default::default(),
            cooldown: None,
        }
    }

    fn usage(file: &str, current: &str) -> Usage {
        crate::plan::tests::git_usage("mods", file, 1, current)
    }

    #[test]
    fn an_exact_version_wins_over_the_spec() {
        let opts = options(Some(SPEC), Some("v1.3.0"));
        assert_eq!(
            wanted_of(&opts, &usage("dev/a.tf", "v1.0.0")),
            Some(Wanted::Exact("v1.3.0"))
        );
    }

    #[test]
    fn a_full_spec_gives_each_usage_its_own_target_else_the_dependency_target() {
        let opts = options(Some(SPEC), None);
        assert_eq!(
            wanted_of(&opts, &usage("dev/a.tf", "v1.0.0")),
            Some(Wanted::Exact("v1.1.0")),
            "matched by the end of the spec's path and the current version"
        );
        assert_eq!(
            wanted_of(&opts, &usage("dev/b.tf", "v1.0.5")),
            Some(Wanted::Exact("v1.2.0")),
            "no safe target of its own: the dependency's"
        );
        assert_eq!(
            wanted_of(&opts, &usage("dev/a.tf", "v0.9.0")),
            Some(Wanted::Exact("v1.2.0")),
            "a usage the spec did not see at that version gets the dependency's target"
        );
        let breaking = UpdateOptions {
            strategy: Strategy::NextBreaking,
            ..options(Some(SPEC), None)
        };
        assert_eq!(
            wanted_of(&breaking, &usage("dev/b.tf", "v1.0.5")),
            Some(Wanted::Exact("v2.0.0"))
        );
    }

    #[test]
    fn a_usage_the_spec_gives_no_target_is_left_out() {
        let spec = r#"{"Dependencies": [{"ID": "acme/mods/vpc", "Usages": [
            {"File": "dev/a.tf", "Line": 1, "CurrentVersion": "v1.0.0", "Breaking": false}]}]}"#;
        let opts = options(Some(spec), None);
        assert_eq!(wanted_of(&opts, &usage("dev/a.tf", "v1.0.0")), None);
    }

    #[test]
    fn without_a_full_spec_entry_the_strategy_picks() {
        let strategy = Some(Wanted::Strategy(Strategy::NextSafe));
        let none = options(None, None);
        assert_eq!(wanted_of(&none, &usage("dev/a.tf", "v1.0.0")), strategy);
        let mut compact = options(Some(SPEC), None);
        compact.spec.as_mut().unwrap().compact = true;
        assert_eq!(wanted_of(&compact, &usage("dev/a.tf", "v1.0.0")), strategy);
        let other = options(Some(&SPEC.replace("acme/mods/vpc", "acme/mods/eks")), None);
        assert_eq!(wanted_of(&other, &usage("dev/a.tf", "v1.0.0")), strategy);
    }

    #[test]
    fn a_commit_pin_moves_with_its_comment() {
        let mut pinned = usage("dev/a.tf", &"a".repeat(40));
        pinned.form = VersionForm::CommitPin;
        pinned.pin_comment = Some(PinComment {
            span: 150..156,
            tag: "v1.0.0".into(),
        });
        let dep = DependencyPlan {
            source: Source::clone(&pinned.source),
            current_versions: vec![pinned.current.clone()],
            latest: None,
            next_breaking: None,
            release_notes_url: None,
            usages: vec![plan::UsagePlan {
                usage: pinned,
                resolved_current: Some("v1.0.0".into()),
                target_safe: Some("v1.1.0".into()),
                target_breaking: None,
                target: Some("v1.1.0".into()),
                breaking: false,
                new_text: Some("b".repeat(40)),
                comment_text: Some("v1.1.0".into()),
                note: None,
                skipped: None,
            }],
            error: None,
        };
        let edits: Vec<_> = edits_of(&dep)
            .into_iter()
            .map(|e| (e.span, e.old, e.new))
            .collect();
        assert_eq!(
            edits,
            [
                (100..140, "a".repeat(40), "b".repeat(40)),
                (150..156, "v1.0.0".into(), "v1.1.0".into())
            ]
        );
    }

    #[test]
    fn shared_files_are_under_envcommon_or_outside_the_environment() {
        let matcher = options(None, None).env.matcher().unwrap();
        assert!(is_shared(&usage("_envcommon/vpc.hcl", "v1"), &matcher));
        assert!(is_shared(&usage("dev/_envcommon/vpc.hcl", "v1"), &matcher));
        assert!(is_shared(&usage("common.hcl", "v1"), &matcher));
        assert!(!is_shared(&usage("dev/vpc/terragrunt.hcl", "v1"), &matcher));
    }
}
