//! `patcher report`: environment → scan → resolve → plan → spec.

use crate::cooldown::Cooldown;
use crate::environment::{Environment, EnvironmentError};
use crate::group::{Ask, Groups, Member};
use crate::model::ScanResult;
use crate::plan::{self, Plan, Strategy};
use crate::policy::Policy;
use crate::resolve::VersionLister;
use crate::scan;
use crate::spec::{self, Spec};
use std::collections::BTreeSet;

/// What `report` is asked: the environment, the selection and the rules a plan follows.
pub struct ReportOptions {
    /// The working dir and the globs of the environment to scan.
    pub env: Environment,
    /// The update strategy of every usage not asked for an exact version.
    pub strategy: Strategy,
    /// Only this dependency ID (as the prod workflow of the seed guide passes it).
    pub dependency: Option<String>,
    /// With `dependency`: plan exactly this version (a promotion) instead of the strategy's.
    pub version: Option<String>,
    /// With a group as `dependency`: its members at the exact versions of a promotion.
    pub members: Vec<Member>,
    /// How many version listings (and cooldown date look-ups) run at once.
    pub concurrency: usize,
    /// Ignore rules of the environments file.
    pub policy: Policy,
    /// Groups of the environments file: each is one entry of the spec.
    pub groups: Groups,
    /// `minimum_release_age`; not applied to a promotion's exact versions.
    pub cooldown: Option<Cooldown>,
}

impl ReportOptions {
    /// The dependency or group this run moves, and the exact versions of a promotion.
    pub fn ask(&self) -> Ask<'_> {
        let (dependency, version) = (self.dependency.as_deref(), self.version.as_deref());
        Ask::new(dependency, version, &self.members, &self.groups)
    }
}

/// Why a report cannot be made. Failed listings are not among them: they are the affected
/// dependencies' `error` in the plan.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The environment cannot be scanned (a bad folder glob or working dir).
    #[error(transparent)]
    Environment(#[from] EnvironmentError),
    /// An exact version asked for (a promotion) is not listed or cannot be written.
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    /// The group asked for is unknown, or a dispatch names a dependency that is not its member.
    #[error(transparent)]
    Group(#[from] crate::group::GroupError),
}

/// What `report` found, as a plan and as the spec written from it.
pub struct Report {
    /// Skipped sources and file errors; the usages were moved into `plan`.
    pub scan: ScanResult,
    /// The targets of every dependency selected and not ignored.
    pub plan: Plan,
    /// The spec of the plan, groups bundled into one entry each, the cooldown notes included.
    pub spec: Spec,
    /// What the cooldown held back, or could not apply to.
    pub notes: Vec<String>,
}

/// Scans the environment, lists the versions of what the selected usages use, and plans each
/// toward the strategy's pick or the exact version asked. Wholly ignored dependencies are
/// skipped; the cooldown and the ignore rules' versions narrow what a strategy may pick, never
/// an exact version.
pub fn run(opts: &ReportOptions, lister: &dyn VersionLister) -> Result<Report, ReportError> {
    let ask = opts.ask();
    ask.check()?;
    let mut scan = scan::scan(&opts.env)?;
    scan.usages.retain(|u| ask.selects(&u.source.id));
    opts.policy.skip_ignored(&mut scan);
    let cooldown = opts.cooldown.filter(|_| !ask.is_promotion());
    let listed = crate::cooldown::list(cooldown, &scan.usages, lister, opts.concurrency);
    let usages = std::mem::take(&mut scan.usages);
    let plan = opts.policy.plan(usages, listed.versions(), &|usage| {
        Some(ask.wanted(&usage.source.id, opts.strategy))
    })?;
    let mut spec = spec::from_plan(
        &plan,
        &opts.env.include_dirs,
        &opts.env.exclude_dirs,
        opts.strategy,
        &scan,
    );
    ask.bundle(&mut spec);
    spec.notes = listed.notes.clone();
    Ok(Report {
        scan,
        plan,
        spec,
        notes: listed.notes,
    })
}

/// Set when not one version listing succeeded (network down, a wrong token or registry
/// address): nothing can then be called up to date, so the run fails, after writing what it
/// has. Some failed listings alone are warnings.
pub fn listing_failure(plan: &Plan) -> Option<String> {
    let failed: Vec<&plan::DependencyPlan> = plan
        .dependencies
        .iter()
        .filter(|d| d.error.is_some())
        .collect();
    let first = failed.first()?;
    (failed.len() == plan.dependencies.len()).then(|| {
        format!(
            "no version listing succeeded ({} of {} dependencies failed; first: {}: {}); \
             check the network, the token and the registry settings",
            failed.len(),
            plan.dependencies.len(),
            first.source.id,
            first.error.as_deref().unwrap_or_default()
        )
    })
}

/// What a dependency's target column says: the usages' targets, "up to date", why usages are
/// skipped, or (as the error) the listing error. Both doors' tables show it.
pub fn target_cell(dep: &plan::DependencyPlan) -> Result<String, &str> {
    let skipped: Vec<&str> = dep
        .usages
        .iter()
        .filter_map(|u| u.skipped.as_deref())
        .collect();
    match (&dep.error, dep.has_update(), skipped.as_slice()) {
        (Some(e), _, _) => Err(e),
        (None, true, []) => Ok(targets_of(dep).join(", ")),
        (None, true, some) => Ok(format!(
            "{} ({} skipped)",
            targets_of(dep).join(", "),
            some.len()
        )),
        (None, false, []) => Ok("up to date".into()),
        (None, false, [only]) => Ok(format!("skipped: {only}")),
        (None, false, many) if many.len() == dep.usages.len() => {
            Ok(format!("skipped ({} usages, see Skipped)", many.len()))
        }
        (None, false, many) => Ok(format!("up to date, {} skipped (see Skipped)", many.len())),
    }
}

fn targets_of(dep: &plan::DependencyPlan) -> Vec<String> {
    let set: BTreeSet<&String> = dep
        .usages
        .iter()
        .filter_map(|u| u.target.as_ref())
        .collect();
    set.into_iter().cloned().collect()
}

/// What the user should hear about besides the table: files that did not parse, dependencies
/// whose versions could not be listed, and how many sources were left alone.
pub fn problems(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = report
        .scan
        .errors
        .iter()
        .map(|e| {
            format!(
                "warning: {}:{}:{}: {} (file skipped)",
                e.file.display(),
                e.line,
                e.column,
                e.message
            )
        })
        .collect();
    out.extend(report.scan.lenient.iter().map(|e| {
        format!(
            "note: {}:{}:{}: {}",
            e.file.display(),
            e.line,
            e.column,
            e.message
        )
    }));
    for dep in &report.plan.dependencies {
        if let Some(err) = &dep.error {
            out.push(format!("warning: {}: {err}", dep.source.id));
        }
    }
    out.extend(report.notes.iter().map(|n| format!("note: {n}")));
    if !report.scan.skipped.is_empty() {
        out.push(format!(
            "note: {} module source(s) are not versioned and were skipped (see `Skipped` in the spec)",
            report.scan.skipped.len()
        ));
    }
    let placed = report
        .spec
        .skipped
        .len()
        .saturating_sub(report.scan.skipped.len());
    if placed > 0 {
        out.push(format!(
            "note: {placed} usage(s) are left alone after reading their versions (not a version \
             tag, untagged commit, moving tag, or no published version matches; see `Skipped` \
             in the spec)"
        ));
    }
    out
}
