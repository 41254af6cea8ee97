//! One request from either door. The CLI (`cli`) and the action (`action::step`) each fill a
//! [`Given`] with what the user wrote (flags, or inputs and the dispatch payload);
//! [`Request::resolve`] applies every precedence rule once, against the environments file, and
//! checks what event data could have forged. Both doors then hand the same [`Request`] to
//! `report`, `update` and `promote`.
//!
//! Precedence, for every field: what the door was given (flag or input), then the dispatch
//! payload, then the environment's entry in the environments file, then the default.

use crate::cooldown::{self, AgeError, Cooldown};
use crate::environment::Environment;
use crate::environments_file::{
    self as file, BadRegistryHost, EnvironmentConfig, EnvironmentsFile, EnvironmentsFileError,
};
use crate::group::{is_group_id, Groups, Member};
use crate::plan::Strategy;
use crate::policy::Policy;
use crate::promote::{self, Payload, PayloadError, PromoteOptions};
use crate::pull_limit::{PullScope, DEFAULT_MAX_PULL_REQUESTS};
use crate::report::ReportOptions;
use crate::spec::Spec;
use crate::update::{PublishOptions, UpdateOptions};
use std::path::PathBuf;
use thiserror::Error;

/// The command a request is for: `promote` finds its environment from the merged branch, the
/// others from the chain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Command {
    /// `report`.
    #[default]
    Report,
    /// `update`.
    Update,
    /// `promote`.
    Promote,
    /// `status`: the whole chain; the request gives only the working dir and strategy.
    Status,
}

/// Which door filled the request: errors name a field the way that door spells it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Door {
    /// Command-line flags (`--dependency`).
    #[default]
    Cli,
    /// Step inputs (`dependency`).
    Action,
}

impl Door {
    fn name(self, field: &str) -> String {
        match self {
            Door::Cli => format!("--{}", field.replace('_', "-")),
            Door::Action => format!("input `{field}`"),
        }
    }
}

/// What a door was given, before any default. Empty strings are absent values.
#[derive(Debug, Clone, Default)]
pub struct Given {
    /// The door, for error messages.
    pub door: Door,
    /// The command to run.
    pub command: Command,
    /// The folder scanned (inside the workspace for the action).
    pub working_dir: PathBuf,
    /// The environment's name.
    pub environment: Option<String>,
    /// Globs of the environment's folders; they replace the environments file's.
    pub include_dirs: Vec<String>,
    /// Globs of folders left out (with `include_dirs`).
    pub exclude_dirs: Vec<String>,
    /// Registry of host-less module addresses in `.tf`/`.hcl` files.
    pub default_registry: Option<String>,
    /// The update strategy.
    pub strategy: Option<Strategy>,
    /// A dependency ID or group ID.
    pub dependency: Option<String>,
    /// An exact version for `dependency`.
    pub version: Option<String>,
    /// A group's members at exact versions.
    pub members: Vec<Member>,
    /// The `repository_dispatch` payload of a promotion, already parsed and checked.
    pub payload: Option<Payload>,
    /// `promote`: the head branch of the merged pull request.
    pub merged_branch: Option<String>,
    /// Pull request branch.
    pub pr_branch: Option<String>,
    /// Pull request title.
    pub pr_title: Option<String>,
    /// Labels added to the environment's.
    pub pr_labels: Vec<String>,
    /// Branch the pull request targets.
    pub base: Option<String>,
    /// `Name <email>` of the commit.
    pub author: Option<String>,
    /// `promote`: the seed guide's `PR_BRANCH_PREFIX`.
    pub branch_prefix: Option<String>,
    /// The cooldown, as written (`3d`).
    pub minimum_release_age: Option<String>,
    /// Most open pull requests of the environment.
    pub max_pull_requests: Option<usize>,
}

/// What to move: the strategy's targets, one dependency (or group), or exact versions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// Only this dependency ID, or every member of this group.
    pub dependency: Option<String>,
    /// Exactly this version of `dependency` (a promotion).
    pub version: Option<String>,
    /// A group's members at exact versions (a group's promotion).
    pub members: Vec<Member>,
}

impl Target {
    /// Exact versions were asked for: no cooldown, nothing deferred.
    pub fn is_promotion(&self) -> bool {
        self.version.is_some() || !self.members.is_empty()
    }
}

/// Everything a command needs to know, resolved.
pub struct Request {
    /// The command.
    pub command: Command,
    /// The environment worked on, when one is known.
    pub environment: Option<String>,
    /// Its folders and default registry.
    pub env: Environment,
    /// The update strategy.
    pub strategy: Strategy,
    /// What to move.
    pub target: Target,
    /// Where `update --publish` puts its work.
    pub pull_request: PublishOptions,
    /// Which open pull requests count against `max_pull_requests`.
    pub pull_scope: PullScope,
    /// Most open pull requests of the environment (0: no limit).
    pub max_pull_requests: usize,
    /// The cooldown of strategy targets.
    pub cooldown: Option<Cooldown>,
    /// Ignore rules of the environments file.
    pub policy: Policy,
    /// Groups of the environments file.
    pub groups: Groups,
    /// Environment names in promotion order.
    pub chain: Vec<String>,
    /// `promote`: the branch prefix of pull requests without a metadata block.
    pub branch_prefix: Option<String>,
    /// Set when a dispatch came from the last environment: nothing is left to do.
    pub finished: Option<String>,
}

/// A request that cannot be run.
#[derive(Debug, Error)]
pub enum RequestError {
    /// A dependency, version or member that is not one.
    #[error("{0}")]
    Target(String),
    /// The environments file does not know the environment, or is invalid.
    #[error(transparent)]
    File(#[from] EnvironmentsFileError),
    /// A `minimum_release_age` that is not a duration.
    #[error(transparent)]
    Age(#[from] AgeError),
    /// A `default_registry` that is not a host.
    #[error(transparent)]
    Registry(#[from] BadRegistryHost),
}

impl Request {
    /// Applies the precedence rules to what the door was given.
    pub fn resolve(given: Given, file: Option<&EnvironmentsFile>) -> Result<Request, RequestError> {
        let target = target(&given)?;
        let (environment, finished) = environment(&given, file)?;
        let entry = entry(&given, file, environment.as_deref())?;
        let environment = environment.or_else(|| entry.map(|e| e.name.clone()));
        let env = Environment {
            default_registry: file::default_registry(given.default_registry.as_deref(), file)?,
            ..folders(&given, entry)
        };
        let configured_age = entry.and_then(|e| e.minimum_release_age.as_deref());
        let cooldown =
            cooldown::from_settings(given.minimum_release_age.as_deref(), configured_age)?;
        let name = environment.as_deref();
        Ok(Request {
            command: given.command,
            pull_request: pull_request(&given, entry, name, target.dependency.as_deref()),
            pull_scope: PullScope {
                label: file::labels_of(entry, name).into_iter().next(),
                branch_prefix: file::branch_prefix_of(entry, name),
            },
            max_pull_requests: given
                .max_pull_requests
                .or(entry.and_then(|e| e.max_pull_requests))
                .unwrap_or(DEFAULT_MAX_PULL_REQUESTS),
            branch_prefix: given
                .branch_prefix
                .clone()
                .or_else(|| entry.map(EnvironmentConfig::branch_prefix)),
            strategy: given.strategy.unwrap_or(Strategy::NextSafe),
            policy: Policy::from_config(file)?,
            groups: Groups::from_config(file)?,
            chain: file.map(EnvironmentsFile::chain).unwrap_or_default(),
            environment,
            env,
            target,
            cooldown,
            finished,
        })
    }
}

impl Request {
    /// What `report` scans and plans.
    pub fn report_options(&self, concurrency: usize) -> ReportOptions {
        ReportOptions {
            env: self.env.clone(),
            strategy: self.strategy,
            dependency: self.target.dependency.clone(),
            version: self.target.version.clone(),
            members: self.target.members.clone(),
            concurrency,
            policy: self.policy.clone(),
            groups: self.groups.clone(),
            cooldown: self.cooldown,
        }
    }

    /// What `update` scans, plans and edits; `spec` is the report's, when there is one.
    pub fn update_options(
        &self,
        spec: Option<Spec>,
        allow_shared_files: bool,
        concurrency: usize,
    ) -> UpdateOptions {
        UpdateOptions {
            env: self.env.clone(),
            spec,
            dependency: self.target.dependency.clone(),
            version: self.target.version.clone(),
            members: self.target.members.clone(),
            strategy: self.strategy,
            allow_shared_files,
            concurrency,
            policy: self.policy.clone(),
            groups: self.groups.clone(),
            cooldown: self.cooldown,
        }
    }

    /// What `promote` reads the merged tree with; `event_type` overrides the dispatch's.
    pub fn promote_options(&self, event_type: Option<String>) -> PromoteOptions {
        PromoteOptions {
            environment: self.environment.clone(),
            event_type,
            branch_prefix: self.branch_prefix.clone(),
            chain: self.chain.clone(),
            groups: self.groups.clone(),
        }
    }
}

/// The environment's name: given; else, with an environments file, the one after the
/// environment a dispatch came from, else the first. `promote` finds its own from the branch.
fn environment(
    given: &Given,
    file: Option<&EnvironmentsFile>,
) -> Result<(Option<String>, Option<String>), RequestError> {
    let chain = file.filter(|f| !f.environments.is_empty());
    match (&given.environment, chain) {
        (Some(name), _) => Ok((Some(name.clone()), None)),
        (None, Some(_)) if given.command == Command::Promote => Ok((None, None)),
        (None, Some(file)) => match given
            .payload
            .as_ref()
            .and_then(|p| p.environment.as_deref())
        {
            Some(merged) => {
                let next = file.next(merged)?.map(|e| e.name.clone());
                let finished = next
                    .is_none()
                    .then(|| format!("{merged} is the last environment: nothing to do"));
                Ok((next, finished))
            }
            None => Ok((file.environments.first().map(|e| e.name.clone()), None)),
        },
        (None, None) => Ok((None, None)),
    }
}

/// The environment's entry; for `promote` without a name, the entry whose branch prefix the
/// merged branch carries (the longest, should prefixes nest).
fn entry<'a>(
    given: &Given,
    file: Option<&'a EnvironmentsFile>,
    name: Option<&str>,
) -> Result<Option<&'a EnvironmentConfig>, RequestError> {
    let Some(file) = file else { return Ok(None) };
    if let Some(name) = name {
        return Ok(file.entry(name)?);
    }
    let branch = given.merged_branch.as_deref().unwrap_or_default();
    Ok(file
        .environments
        .iter()
        .filter(|_| given.command == Command::Promote)
        .filter(|e| branch.starts_with(&e.branch_prefix()))
        .max_by_key(|e| e.branch_prefix().len()))
}

/// Given globs win over the entry's; with neither, the whole working dir.
fn folders(given: &Given, entry: Option<&EnvironmentConfig>) -> Environment {
    match entry {
        Some(entry) if given.include_dirs.is_empty() => entry.environment(&given.working_dir),
        _ => Environment {
            working_dir: given.working_dir.clone(),
            include_dirs: given.include_dirs.clone(),
            exclude_dirs: given.exclude_dirs.clone(),
            default_registry: None,
        },
    }
}

/// Branch `<prefix><dependency|all>`, title `[Patcher] [<env>] Update <dependency|all>`, the
/// environment's labels followed by the given ones, base `main`.
fn pull_request(
    given: &Given,
    entry: Option<&EnvironmentConfig>,
    environment: Option<&str>,
    dependency: Option<&str>,
) -> PublishOptions {
    let suffix = dependency.unwrap_or("all");
    let env_part = environment.map(|e| format!("[{e}] ")).unwrap_or_default();
    PublishOptions {
        branch: given
            .pr_branch
            .clone()
            .unwrap_or_else(|| format!("{}{suffix}", file::branch_prefix_of(entry, environment))),
        title: given
            .pr_title
            .clone()
            .unwrap_or_else(|| format!("[Patcher] {env_part}Update {suffix}")),
        labels: file::merge_labels(
            file::labels_of(entry, environment),
            given.pr_labels.iter().cloned(),
        ),
        base: given.base.clone().unwrap_or_else(|| "main".into()),
        author: given.author.clone(),
        environment: environment.map(str::to_string),
    }
}

/// The dependency and version: given, else the dispatch payload's; both checked, since
/// workflows fill them from event data anyone who can dispatch controls.
fn target(given: &Given) -> Result<Target, RequestError> {
    let payload = given.payload.as_ref();
    let name = |field| given.door.name(field);
    let bad = |text: String| Err(RequestError::Target(text));
    let dependency = given
        .dependency
        .clone()
        .or_else(|| payload.map(|p| p.dependency.clone()));
    let version = given
        .version
        .clone()
        .or_else(|| payload.and_then(|p| p.version.clone()));
    if let Some(id) = dependency
        .as_deref()
        .filter(|id| !promote::valid_target_id(id))
    {
        return bad(format!(
            "{} {id:?} is not a dependency ID or a group ID (group-<name>)",
            name("dependency")
        ));
    }
    if let Some(v) = &version {
        if !promote::valid_version(v) {
            return bad(format!("{} {v:?} is not a version", name("version")));
        }
        match dependency.as_deref() {
            None => return bad(format!("{} `{v}` needs a dependency", name("version"))),
            Some(id) if is_group_id(id) => {
                return bad(format!(
                    "{} `{v}` for group `{id}`: a group's members carry their own versions \
                     (give each with {})",
                    name("version"),
                    name("member")
                ))
            }
            Some(_) => {}
        }
    }
    if let Some(pv) = payload
        .and_then(|p| p.version.as_ref())
        .filter(|pv| Some(*pv) != version.as_ref())
    {
        return bad(format!(
            "{} {} differs from the dispatched version {pv}: refusing to guess",
            name("version"),
            version.unwrap_or_default()
        ));
    }
    let members = members(given, dependency.as_deref())?;
    Ok(Target {
        dependency,
        version,
        members,
    })
}

/// The given members (checked as a dispatch would be), else a dispatched group's when the
/// request works on that group (the payload was checked when parsed).
fn members(given: &Given, dependency: Option<&str>) -> Result<Vec<Member>, RequestError> {
    if !given.members.is_empty() {
        let payload = Payload {
            dependency: dependency.unwrap_or_default().to_string(),
            members: given.members.clone(),
            ..Default::default()
        };
        payload.check().map_err(|e: PayloadError| {
            RequestError::Target(format!("{}: {e}", given.door.name("member")))
        })?;
        return Ok(given.members.clone());
    }
    Ok(given
        .payload
        .as_ref()
        .filter(|p| Some(p.dependency.as_str()) == dependency)
        .map(|p| p.members.clone())
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const FILE: &str = "environments:\n  - name: dev\n    include_dirs: ['dev/**']\n    labels: [team-dev-updates]\n    branch_prefix: team-dev-\n    max_pull_requests: 3\n    minimum_release_age: 2d\n  - name: stage\n    include_dirs: ['stage/**']\n  - name: prod\n    include_dirs: ['prod/**']\n";

    fn file() -> EnvironmentsFile {
        EnvironmentsFile::parse(FILE, Path::new(".github/patcher.yml")).unwrap()
    }

    fn given() -> Given {
        Given {
            working_dir: PathBuf::from("."),
            ..Given::default()
        }
    }

    fn refused(given: Given, file: Option<&EnvironmentsFile>) -> String {
        match Request::resolve(given, file) {
            Ok(_) => panic!("the request was accepted"),
            Err(e) => e.to_string(),
        }
    }

    fn dispatched(environment: &str, dependency: &str, version: &str) -> Payload {
        Payload {
            dependency: dependency.into(),
            version: Some(version.into()),
            environment: Some(environment.into()),
            ..Payload::default()
        }
    }

    #[test]
    fn the_environments_file_gives_branch_title_labels_and_globs() {
        let r = Request::resolve(
            Given {
                dependency: Some("acme/mods/sqs".into()),
                ..given()
            },
            Some(&file()),
        )
        .unwrap();
        assert_eq!(r.environment.as_deref(), Some("dev"));
        assert_eq!(r.env.include_dirs, ["dev/**"]);
        assert_eq!(r.pull_request.branch, "team-dev-acme/mods/sqs");
        assert_eq!(r.pull_request.title, "[Patcher] [dev] Update acme/mods/sqs");
        assert_eq!(r.pull_request.labels, ["team-dev-updates"]);
        assert_eq!(r.pull_request.base, "main");
        assert_eq!(r.max_pull_requests, 3);
        assert!(r.cooldown.is_some());
        assert_eq!(r.pull_scope.branch_prefix, "team-dev-");
    }

    #[test]
    fn what_the_door_was_given_wins_over_the_file() {
        let r = Request::resolve(
            Given {
                environment: Some("dev".into()),
                include_dirs: vec!["x/**".into()],
                pr_branch: Some("mine".into()),
                pr_title: Some("My title".into()),
                pr_labels: vec!["extra".into(), "team-dev-updates".into()],
                base: Some("develop".into()),
                max_pull_requests: Some(0),
                minimum_release_age: Some("0".into()),
                ..given()
            },
            Some(&file()),
        )
        .unwrap();
        assert_eq!(r.env.include_dirs, ["x/**"]);
        assert_eq!(
            (
                r.pull_request.branch.as_str(),
                r.pull_request.title.as_str()
            ),
            ("mine", "My title")
        );
        assert_eq!(r.pull_request.labels, ["team-dev-updates", "extra"]);
        assert_eq!(r.pull_request.base, "develop");
        assert_eq!(r.max_pull_requests, 0);
        assert!(r.cooldown.is_none());
    }

    #[test]
    fn without_a_file_the_defaults_apply() {
        let r = Request::resolve(given(), None).unwrap();
        assert_eq!(r.environment, None);
        assert_eq!(r.pull_request.branch, "patcher-updates-all");
        assert_eq!(r.pull_request.title, "[Patcher] Update all");
        assert!(r.pull_request.labels.is_empty());
        assert_eq!(r.max_pull_requests, DEFAULT_MAX_PULL_REQUESTS);
        assert_eq!(r.strategy, Strategy::NextSafe);
        let named = Request::resolve(
            Given {
                environment: Some("qa".into()),
                ..given()
            },
            None,
        )
        .unwrap();
        assert_eq!(named.pull_request.labels, ["updates-qa"]);
        assert_eq!(named.pull_request.branch, "patcher-qa-updates-all");
    }

    #[test]
    fn a_dispatch_moves_to_the_next_environment_at_its_exact_version() {
        let r = Request::resolve(
            Given {
                payload: Some(dispatched("dev", "acme/mods/sqs", "v1.2.0")),
                ..given()
            },
            Some(&file()),
        )
        .unwrap();
        assert_eq!(r.environment.as_deref(), Some("stage"));
        assert_eq!(r.target.version.as_deref(), Some("v1.2.0"));
        assert!(r.target.is_promotion());
        let last = Request::resolve(
            Given {
                payload: Some(dispatched("prod", "acme/mods/sqs", "v1.2.0")),
                ..given()
            },
            Some(&file()),
        )
        .unwrap();
        assert!(last.finished.is_some());
    }

    #[test]
    fn given_versions_that_differ_from_the_dispatch_are_refused() {
        let err = refused(
            Given {
                door: Door::Action,
                version: Some("v9.9.9".into()),
                payload: Some(dispatched("dev", "acme/mods/sqs", "v1.2.0")),
                ..given()
            },
            Some(&file()),
        );
        assert!(err.contains("refusing to guess"), "{err}");
    }

    #[test]
    fn targets_are_checked_and_named_as_each_door_spells_them() {
        let bad = |door, dependency: &str, version: Option<&str>| {
            refused(
                Given {
                    door,
                    dependency: Some(dependency.into()),
                    version: version.map(str::to_string),
                    ..given()
                },
                None,
            )
        };
        assert!(bad(Door::Cli, "../x", None).starts_with("--dependency \"../x\""));
        assert!(bad(Door::Action, "../x", None).starts_with("input `dependency`"));
        assert!(bad(Door::Cli, "a/b/c", Some("v1; rm")).contains("is not a version"));
        assert!(bad(Door::Cli, "group-net", Some("v1.0.0")).contains("--member"));
    }

    #[test]
    fn promote_finds_its_environment_from_the_merged_branch() {
        let r = Request::resolve(
            Given {
                command: Command::Promote,
                merged_branch: Some("team-dev-acme/mods/sqs".into()),
                ..given()
            },
            Some(&file()),
        )
        .unwrap();
        assert_eq!(r.environment.as_deref(), Some("dev"));
        assert_eq!(r.branch_prefix.as_deref(), Some("team-dev-"));
        assert_eq!(r.env.include_dirs, ["dev/**"]);
    }
}
