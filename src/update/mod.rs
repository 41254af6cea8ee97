//! `patcher update`: spec (+ dependency, + optional exact version) → re-scan → edit → publish.
//! What to touch is worked out in `changes`; how it is published in `publish`.

mod changes;
mod publish;

use changes::spec_says_up_to_date;
pub use changes::{apply, is_shared, plan_changes, Changes, SHARED_DIR};
pub use publish::{run_published, PublishError, PublishOptions};

use crate::breaking_readme::ReleaseNotes;
use crate::edit;
use crate::environment::Environment;
use crate::group::{Ask, Groups, Member};
use crate::plan::{self, Strategy};
use crate::resolve::VersionLister;
use crate::spec::Spec;
use std::collections::BTreeSet;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum UpdateError {
    #[error(transparent)]
    Environment(#[from] crate::environment::EnvironmentError),
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    #[error(transparent)]
    Group(#[from] crate::group::GroupError),
    #[error("{file}: {reason}")]
    Edit { file: PathBuf, reason: String },
    /// A file failed its checks, so no file was written.
    #[error("{}: {reason}; no file was changed", .0.file.display(), reason = .0.reason)]
    Rejected(edit::Rejected),
}

pub struct UpdateOptions {
    pub env: Environment,
    pub spec: Option<Spec>,
    pub dependency: Option<String>,
    /// Exact version to move to (promotion); otherwise the spec's or a fresh plan's target.
    pub version: Option<String>,
    /// With a group as `dependency`: its members at the exact versions of a promotion.
    pub members: Vec<Member>,
    pub strategy: Strategy,
    pub allow_shared_files: bool,
    pub concurrency: usize,
    /// Ignore rules of the environments file.
    pub policy: crate::policy::Policy,
    /// Groups of the environments file, for a group asked for without its members.
    pub groups: Groups,
    /// `minimum_release_age` for fresh plans; a promotion's exact versions and a full spec's
    /// targets are not subject to it.
    pub cooldown: Option<crate::cooldown::Cooldown>,
}

impl UpdateOptions {
    pub fn ask(&self) -> Ask<'_> {
        let (dependency, version) = (self.dependency.as_deref(), self.version.as_deref());
        Ask::new(dependency, version, &self.members, &self.groups)
    }
}

/// What an update did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Outcome {
    pub changed: bool,
    pub updated_files: Vec<PathBuf>,
    pub readmes: Vec<PathBuf>,
    pub branch: Option<String>,
    pub pushed: bool,
    pub pull_request_number: Option<u64>,
    pub pull_request_url: Option<String>,
    pub shared_files_not_changed: Vec<PathBuf>,
    /// What the user should read besides the lists above.
    pub notes: Vec<String>,
}

/// What `--dry-run` shows: the diff and the pull request body; nothing is written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Preview {
    pub diff: String,
    pub body: String,
    pub files: Vec<PathBuf>,
    pub notes: Vec<String>,
}

pub fn preview(
    opts: &UpdateOptions,
    environment: Option<&str>,
    lister: &dyn VersionLister,
) -> Result<Preview, UpdateError> {
    let changes = plan_changes(opts, lister)?;
    let diff =
        edit::preview(&opts.env.working_dir, &changes.edits, &changes.scanned).map_err(|r| {
            UpdateError::Edit {
                file: r.file,
                reason: r.reason.to_string(),
            }
        })?;
    let readmes = crate::breaking_readme::readme_paths(&changes.dependencies);
    let body = crate::pull_request::render_body(
        &changes.dependencies,
        &crate::pull_request::BodyContext {
            environment,
            group: opts.ask().group(),
            shared: &changes.shared,
            unreadable: &changes.unreadable,
            readmes: &readmes,
            prefix: std::path::Path::new(""),
        },
    );
    Ok(Preview {
        diff,
        body,
        files: changes.files(),
        notes: notes_of(opts, &changes),
    })
}

/// Says why nothing changed when a dependency was asked for, and which shared files were left.
pub(super) fn notes_of(opts: &UpdateOptions, changes: &Changes) -> Vec<String> {
    let mut notes = changes.cooldown_notes.clone();
    if let Some(id) = opts
        .dependency
        .as_ref()
        .filter(|id| spec_says_up_to_date(opts, id))
    {
        notes.push(format!(
            "`{id}` has no update in the spec: nothing to update"
        ));
    } else if let Some(id) = &opts.dependency {
        // Only what was asked for is planned, so any planned dependency is it (or a member).
        let used = !changes.dependencies.is_empty();
        match (used, changes.shared.is_empty()) {
            (false, true) => notes.push(format!(
                "`{id}` is not used in this environment: nothing to update"
            )),
            (false, false) => notes.push(format!(
                "`{id}` is set only in shared files here, so nothing was changed; change them \
                 with --allow-shared-files once every environment that includes them is ready"
            )),
            (true, _) => {}
        }
    }
    for e in &changes.unreadable {
        notes.push(format!(
            "{}:{}:{}: {}; the file does not parse and was not updated",
            e.file.display(),
            e.line,
            e.column,
            e.message
        ));
    }
    for file in shared_files(changes) {
        notes.push(format!(
            "{}: shared by several environments, not changed; update it on its own when every \
             environment is ready",
            file.display()
        ));
    }
    notes
}

/// Edits the working tree in place (no git, no GitHub).
pub fn run_local(
    opts: &UpdateOptions,
    lister: &dyn VersionLister,
    notes: &dyn ReleaseNotes,
) -> Result<Outcome, UpdateError> {
    let changes = plan_changes(opts, lister)?;
    let updated_files = apply(opts, &changes)?;
    let readmes =
        crate::breaking_readme::write_readmes(&opts.env.working_dir, &changes.dependencies, notes)
            .map_err(|e| UpdateError::Edit {
                file: e.0,
                reason: e.1,
            })?;
    let mut notes = notes_of(opts, &changes);
    notes.extend(readmes.skipped);
    Ok(Outcome {
        changed: !updated_files.is_empty(),
        updated_files,
        readmes: readmes.written,
        shared_files_not_changed: shared_files(&changes),
        notes,
        ..Outcome::default()
    })
}

pub(super) fn shared_files(changes: &Changes) -> Vec<PathBuf> {
    let set: BTreeSet<&PathBuf> = changes.shared.iter().map(|u| &u.file).collect();
    set.into_iter().cloned().collect()
}
