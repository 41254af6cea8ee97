//! `patcher report`: environment → scan → resolve → plan → spec.

use crate::cooldown::Cooldown;
use crate::environment::{Environment, EnvironmentError};
use crate::group::{Ask, Groups, Member};
use crate::model::ScanResult;
use crate::plan::{self, Plan, Strategy};
use crate::policy::Policy;
use crate::resolve::{self, VersionLister};
use crate::scan;
use crate::spec::{self, Spec};
use std::collections::BTreeSet;

pub struct ReportOptions {
    pub env: Environment,
    pub strategy: Strategy,
    /// Only this dependency ID (as the prod workflow of the seed guide passes it).
    pub dependency: Option<String>,
    /// With `dependency`: plan exactly this version (a promotion) instead of the strategy's.
    pub version: Option<String>,
    /// With a group as `dependency`: its members at the exact versions of a promotion.
    pub members: Vec<Member>,
    pub concurrency: usize,
    /// Ignore rules of the environments file.
    pub policy: Policy,
    /// Groups of the environments file: each is one entry of the spec.
    pub groups: Groups,
    /// `minimum_release_age`; not applied to a promotion's exact versions.
    pub cooldown: Option<Cooldown>,
}

impl ReportOptions {
    pub fn ask(&self) -> Ask<'_> {
        let (dependency, version) = (self.dependency.as_deref(), self.version.as_deref());
        Ask::new(dependency, version, &self.members, &self.groups)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Environment(#[from] EnvironmentError),
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    #[error(transparent)]
    Group(#[from] crate::group::GroupError),
}

pub struct Report {
    /// Skipped sources and file errors; the usages were moved into `plan`.
    pub scan: ScanResult,
    pub plan: Plan,
    pub spec: Spec,
    /// What the cooldown held back, or could not apply to.
    pub notes: Vec<String>,
}

pub fn run(opts: &ReportOptions, lister: &dyn VersionLister) -> Result<Report, ReportError> {
    let ask = opts.ask();
    ask.check()?;
    let mut scan = scan::scan(&opts.env)?;
    scan.usages.retain(|u| ask.selects(&u.source.id));
    opts.policy.skip_ignored(&mut scan);
    let listings = resolve::listings_for(&scan.usages, lister, opts.concurrency);
    let cooldown = opts.cooldown.filter(|_| !ask.is_promotion());
    let filtered =
        crate::cooldown::apply(cooldown, &scan.usages, listings, lister, opts.concurrency);
    let usages = std::mem::take(&mut scan.usages);
    let mut plan = opts.policy.plan(usages, &filtered.listings, opts.strategy);
    for dep in plan.dependencies.iter_mut().filter(|d| d.error.is_none()) {
        if let Some(version) = ask.exact(&dep.source.id) {
            *dep = plan::retarget(dep, version, &filtered.listings)?;
        }
    }
    let mut spec = spec::from_plan(
        &plan,
        &opts.env.include_dirs,
        &opts.env.exclude_dirs,
        opts.strategy,
        &scan,
    );
    ask.bundle(&mut spec);
    spec.notes = filtered.notes.clone();
    Ok(Report {
        scan,
        plan,
        spec,
        notes: filtered.notes,
    })
}

/// The human-readable table printed by the CLI.
pub fn render_table(plan: &Plan) -> String {
    let mut rows = vec![[
        "DEPENDENCY".to_string(),
        "CURRENT".to_string(),
        "TARGET".to_string(),
        "USAGES".to_string(),
        "BREAKING".to_string(),
    ]];
    for dep in &plan.dependencies {
        let target = target_cell(dep).unwrap_or_else(|_| "error".into());
        rows.push([
            dep.source.id.clone(),
            dep.current_versions.join(", "),
            target,
            dep.usages.len().to_string(),
            if dep.is_breaking() { "yes" } else { "no" }.to_string(),
        ]);
    }
    columns(&rows)
}

/// Rows as left-aligned columns two spaces apart, for the terminal tables of `report` and
/// `status`.
pub fn columns<R: AsRef<[String]>>(rows: &[R]) -> String {
    let count = rows.first().map_or(0, |r| r.as_ref().len());
    let widths: Vec<usize> = (0..count)
        .map(|c| {
            let width = |r: &R| r.as_ref()[c].chars().count();
            rows.iter().map(width).max().unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .as_ref()
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The job summary: one row per dependency of the plan.
pub fn render_summary(plan: &Plan) -> String {
    let mut out = String::from("### patcher report\n\n");
    if plan.dependencies.is_empty() {
        out.push_str("No versioned module dependencies found.\n");
        return out;
    }
    let rows = plan.dependencies.iter().map(|dep| {
        let target = target_cell(dep).unwrap_or_else(|e| format!("error: {e}"));
        [
            format!("`{}`", dep.source.id),
            dep.current_versions.join(", "),
            target,
            if dep.is_breaking() { "**yes**" } else { "no" }.into(),
            dep.usages.len().to_string(),
        ]
    });
    out.push_str(&crate::action::markdown_table(
        ["Dependency", "Current", "Target", "Breaking", "Usages"],
        rows,
    ));
    out
}

/// The job summary's list of cooldown notes; empty without any.
pub fn render_notes(notes: &[String]) -> String {
    if notes.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n#### Cooldown (`minimum_release_age`)\n\n");
    for note in notes {
        out.push_str(&format!("* {}\n", crate::pull_request::code(note)));
    }
    out
}

/// The target column: the usages' targets, "up to date", or the listing error.
fn target_cell(dep: &plan::DependencyPlan) -> Result<String, &str> {
    match (&dep.error, dep.has_update()) {
        (Some(e), _) => Err(e),
        (None, true) => Ok(targets_of(dep).join(", ")),
        (None, false) => Ok("up to date".into()),
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
    out
}
