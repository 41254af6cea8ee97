//! Promotion: a merged pull request of one environment becomes a `repository_dispatch` that
//! carries the exact dependency and version to the next environment.
//!
//! What is promoted is read from what merged: the dependency's version in the environment's
//! folders at the merge commit. The pull request body is text anyone with write access can
//! edit, so its metadata block (only the one at patcher's fixed place) is a cross-check that
//! must agree, and the environment comes from the step's input or the environments file.

use crate::environment::Environment;
use crate::group::{is_group_id, Groups, Member};
use crate::model::{Usage, VersionForm};
use crate::publish::git::{GitError, Repo};
use crate::publish::github::{Forge, GitHubError};
use crate::pull_request::{common_group, compare_versions, parse_metadata, Metadata};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use thiserror::Error;

/// Largest `client_payload` accepted, in bytes of JSON; ours are a few hundred, a group's up to
/// about a hundred bytes per member.
const MAX_PAYLOAD: usize = 16 * 1024;

/// Most members one group's promotion carries.
pub const MAX_MEMBERS: usize = 100;

/// What travels from one environment to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// A dependency ID, or a group ID (`group-<name>`) with its `members`.
    pub dependency: String,
    /// Absent only when the tree pins no exact version (registry constraints) and there is
    /// no metadata to say which one the constraint was moved for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The commit `version` points at, when the environment pins commits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The environment whose pull request merged; None when the job knows none and an
    /// `event_type` was given instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// `ref`: `refs/heads/<base>`, the branch the pull request merged into; empty when a
    /// received payload has none.
    #[serde(default, rename = "ref")]
    pub git_ref: String,
    /// The merge commit id; empty when a received payload has none.
    #[serde(default)]
    pub sha: String,
    /// The merged pull request's head branch; empty when a received payload has none.
    #[serde(default)]
    pub branch: String,
    /// A group's members, each at the exact version in the merged tree.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
}

impl Payload {
    /// The receiving side's checks, which the sending side runs too before dispatching.
    pub fn check(&self) -> Result<(), PayloadError> {
        if !valid_target_id(&self.dependency) {
            return Err(PayloadError::BadDependency(self.dependency.clone()));
        }
        self.check_members()?;
        if let Some(v) = self.version.as_ref().filter(|v| !valid_version(v)) {
            return Err(PayloadError::BadVersion(v.clone()));
        }
        if let Some(env) = self
            .environment
            .as_ref()
            .filter(|e| !crate::environments_file::valid_name(e))
        {
            return Err(PayloadError::BadEnvironment(env.clone()));
        }
        let branch_ok = |b: &str| crate::publish::refs::check_branch("", b).is_ok();
        let ref_ok = self.git_ref.is_empty()
            || self
                .git_ref
                .strip_prefix("refs/heads/")
                .is_some_and(branch_ok);
        if !ref_ok {
            return Err(PayloadError::BadRef(self.git_ref.clone()));
        }
        if let Some(commit) = self.commit.as_ref().filter(|c| !valid_sha(c)) {
            return Err(PayloadError::BadSha(commit.clone()));
        }
        if !(self.sha.is_empty() || valid_sha(&self.sha)) {
            return Err(PayloadError::BadSha(self.sha.clone()));
        }
        if !(self.branch.is_empty() || branch_ok(&self.branch)) {
            return Err(PayloadError::BadBranch(self.branch.clone()));
        }
        Ok(())
    }

    /// A group comes with between one and [`MAX_MEMBERS`] distinct members, each a dependency
    /// at a version; a dependency comes with none.
    fn check_members(&self) -> Result<(), PayloadError> {
        let bad = |why: String| Err(PayloadError::BadMembers(why));
        let group = is_group_id(&self.dependency);
        let has_members = !self.members.is_empty();
        if group != has_members || (group && self.version.is_some()) {
            return bad(format!(
                "a group ID comes with members and no version, a dependency ID with a version \
                 and no members ({:?})",
                self.dependency
            ));
        }
        if self.members.len() > MAX_MEMBERS {
            return bad(format!("more than {MAX_MEMBERS} members"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in &self.members {
            if !valid_dependency_id(&m.dependency) || !seen.insert(&m.dependency) {
                return bad(format!(
                    "{:?} is not a dependency ID, or twice",
                    m.dependency
                ));
            }
            if !valid_version(&m.version) {
                return bad(format!(
                    "{:?} of {} is not a version",
                    m.version, m.dependency
                ));
            }
        }
        Ok(())
    }
}

/// What `promote` does about one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Send a `repository_dispatch` to the next environment.
    Dispatch {
        /// `<environment>_updates_merged`, or the `event_type` given.
        event_type: String,
        /// The `client_payload`, already checked as the receiving side checks it.
        payload: Payload,
    },
    /// Nothing to promote (not a merged patcher pull request, the last environment, no
    /// environment known), and why.
    Skip(String),
}

/// Why a `client_payload` is refused; the values carried are the offending ones.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PayloadError {
    /// The payload's JSON is over 16 KiB.
    #[error("client_payload is larger than {MAX_PAYLOAD} bytes")]
    TooLarge,
    /// The payload does not have the shape of a [`Payload`]; the decoding error.
    #[error("client_payload is not valid: {0}")]
    Malformed(String),
    /// `dependency` is neither a dependency ID nor a group ID.
    #[error("client_payload.dependency {0:?} is not a dependency ID")]
    BadDependency(String),
    /// `version` is not a version tag.
    #[error("client_payload.version {0:?} is not a version")]
    BadVersion(String),
    /// `environment` is not a valid environment name.
    #[error("client_payload.environment {0:?} is not an environment name")]
    BadEnvironment(String),
    /// `ref` is neither empty nor `refs/heads/` followed by a valid branch name.
    #[error("client_payload.ref {0:?} is not refs/heads/<branch>")]
    BadRef(String),
    /// `sha` or `commit` is not a full commit id.
    #[error("client_payload.sha {0:?} is not a commit id")]
    BadSha(String),
    /// `branch` is neither empty nor a valid branch name.
    #[error("client_payload.branch {0:?} is not a branch name")]
    BadBranch(String),
    /// `members` do not fit `dependency` (a group has 1 to [`MAX_MEMBERS`] distinct members at
    /// versions, a dependency none); what is wrong.
    #[error("client_payload.members: {0}")]
    BadMembers(String),
}

/// Why nothing was dispatched although the pull request is patcher's and merged.
#[derive(Debug, Error)]
pub enum PromoteError {
    /// The event, the metadata and the merged tree do not say one valid thing to promote; why.
    #[error("nothing dispatched: {0}")]
    Refused(String),
    /// Sending the dispatch failed.
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    /// The working dir could not be opened as a git repository.
    #[error(transparent)]
    Git(#[from] GitError),
}

fn refused(message: impl Into<String>) -> PromoteError {
    PromoteError::Refused(message.into())
}

/// How a promotion is run: which environment merged, which event to send, and what tells
/// patcher's pull requests and groups apart.
pub struct PromoteOptions {
    /// The environment whose pull request merged: the step's input or the environments file.
    pub environment: Option<String>,
    /// Overrides `<environment>_updates_merged`.
    pub event_type: Option<String>,
    /// The seed guide's `PR_BRANCH_PREFIX`, for pull requests without a metadata block.
    pub branch_prefix: Option<String>,
    /// Environment names in promotion order (from the environments file); empty when unknown.
    /// The last one dispatches nothing.
    pub chain: Vec<String>,
    /// Groups of the environments file: which dependencies of the tree a group promotes.
    pub groups: Groups,
}

/// Where promotion reads what merged.
pub trait MergedTree {
    /// The usages in the environment's folders (shared files left out) at commit `sha`, or why
    /// the tree at hand is not that commit.
    fn usages(&self, sha: &str) -> Result<Vec<Usage>, String>;
}

/// The checkout the promote job made of the merge commit (`actions/checkout` with `ref:` the
/// merge commit): HEAD must be that commit and tracked files as it has them.
pub struct CheckedOutTree<'a> {
    /// The checkout, expected at the merge commit.
    pub repo: &'a Repo,
    /// The environment whose folders are scanned.
    pub env: &'a Environment,
}

impl MergedTree for CheckedOutTree<'_> {
    fn usages(&self, sha: &str) -> Result<Vec<Usage>, String> {
        let head = self.repo.head_sha().map_err(|e| e.to_string())?;
        if head != sha {
            return Err(format!(
                "the checkout is at {head}, not at the merge commit {sha}: check out \
                 `github.event.pull_request.merge_commit_sha` before promote (see \
                 examples/workflows/update-dev.yml)"
            ));
        }
        if !self.repo.is_clean().map_err(|e| e.to_string())? {
            return Err("tracked files of the checkout differ from the merge commit".into());
        }
        let scan = crate::scan::scan(self.env).map_err(|e| e.to_string())?;
        let matcher = self.env.matcher().map_err(|e| e.to_string())?;
        Ok(scan
            .usages
            .into_iter()
            .filter(|u| !crate::update::is_shared(u, &matcher))
            .collect())
    }
}

/// Decides, from a `pull_request` event and the merged tree, whether and what to dispatch.
pub fn decide(
    event: &Value,
    opts: &PromoteOptions,
    tree: &dyn MergedTree,
) -> Result<Decision, PromoteError> {
    let Some(pr) = event.get("pull_request") else {
        return Ok(Decision::Skip(
            "not a pull_request event: nothing to promote".into(),
        ));
    };
    let number = pr["number"].as_u64().unwrap_or_default();
    if pr["merged"].as_bool() != Some(true) {
        return Ok(Decision::Skip(format!(
            "pull request #{number} was not merged: nothing to promote"
        )));
    }
    let branch = pr["head"]["ref"].as_str().unwrap_or_default().to_string();
    let blocks = parse_metadata(pr["body"].as_str().unwrap_or_default());
    let claimed = claimed_dependency(&blocks, number)?;
    let seed_dependency = opts
        .branch_prefix
        .as_deref()
        .and_then(|p| branch.strip_prefix(p))
        .filter(|d| !d.is_empty());
    let dependency = match (claimed, seed_dependency) {
        (Some(claimed), _) => claimed,
        (None, Some(dep)) => dep.to_string(),
        (None, None) => {
            return Ok(Decision::Skip(format!(
                "pull request #{number} was not opened by patcher: nothing to promote"
            )))
        }
    };
    if !valid_target_id(&dependency) {
        return Err(refused(PayloadError::BadDependency(dependency).to_string()));
    }
    let environment = opts.environment.clone();
    for meta in &blocks {
        check_environment(meta, environment.as_deref())?;
    }
    if let Some(env) = environment
        .as_ref()
        .filter(|e| opts.chain.last() == Some(*e))
    {
        return Ok(Decision::Skip(format!(
            "{env} is the last environment: the chain stops here"
        )));
    }
    let event_type = match (&opts.event_type, &environment) {
        (Some(t), _) => t.clone(),
        (None, Some(env)) => format!("{env}_updates_merged"),
        (None, None) => {
            return Ok(Decision::Skip(format!(
                "pull request #{number}: no environment known; set `environment` or `event_type`"
            )))
        }
    };
    if !valid_event_type(&event_type) {
        return Err(refused(format!("{event_type:?} is not an event type")));
    }
    let sha = pr["merge_commit_sha"].as_str().unwrap_or_default();
    if !valid_sha(sha) {
        return Err(refused(format!(
            "pull request #{number} has no merge commit id in the event ({sha:?})"
        )));
    }
    let usages = tree.usages(sha).map_err(refused)?;
    let (version, members, commit) = match is_group_id(&dependency) {
        true => (
            None,
            group_members(&dependency, sha, &usages, &blocks, &opts.groups)?,
            None,
        ),
        false => {
            let own: Vec<Usage> = usages
                .into_iter()
                .filter(|u| u.source.id == dependency)
                .collect();
            let meta = blocks.first();
            let version = merged_version(&dependency, sha, &own, meta)?;
            let commit = own
                .iter()
                .filter(|u| u.form == VersionForm::CommitPin)
                .find(|u| version.is_some() && pinned(u, meta) == version)
                .map(|u| u.current.to_ascii_lowercase());
            (version, Vec::new(), commit)
        }
    };
    let base = pr["base"]["ref"].as_str().unwrap_or_default();
    let payload = Payload {
        dependency,
        version,
        commit,
        environment,
        git_ref: format!("refs/heads/{base}"),
        sha: sha.to_string(),
        branch,
        members,
    };
    payload.check().map_err(|e| refused(e.to_string()))?;
    Ok(Decision::Dispatch {
        event_type,
        payload,
    })
}

/// What the metadata says merged: the one block's dependency, or the group every block names
/// (a group's pull request has one block per member).
fn claimed_dependency(blocks: &[Metadata], number: u64) -> Result<Option<String>, PromoteError> {
    match (blocks, common_group(blocks)) {
        ([], _) => Ok(None),
        (_, Some(group)) => Ok(Some(group.to_string())),
        ([one], None) if one.group.is_none() => Ok(Some(one.dependency.clone())),
        (many, None) => Err(refused(format!(
            "pull request #{number} carries {} metadata blocks that name no one group; \
             promote moves one dependency or one group per pull request",
            many.len()
        ))),
    }
}

/// The group's members are the dependencies of the merged tree that the environments file puts
/// in it, each at the version in the tree; every block of the metadata must name one of them
/// and agree on its version.
fn group_members(
    group: &str,
    sha: &str,
    usages: &[Usage],
    blocks: &[Metadata],
    groups: &Groups,
) -> Result<Vec<Member>, PromoteError> {
    let mut by_id: BTreeMap<&str, Vec<Usage>> = BTreeMap::new();
    for usage in usages {
        if groups.group_of(&usage.source.id) == Some(group) {
            by_id
                .entry(&usage.source.id)
                .or_default()
                .push(usage.clone());
        }
    }
    if by_id.is_empty() {
        return Err(refused(format!(
            "no dependency of `{group}` (`groups:` in the environments file) is used in this \
             environment's folders at the merge commit {sha}"
        )));
    }
    if let Some(stray) = blocks
        .iter()
        .find(|b| !by_id.contains_key(b.dependency.as_str()))
    {
        return Err(refused(format!(
            "the pull request's metadata names {:?}, which is not a dependency of `{group}` in \
             this environment's folders at the merge commit {sha}",
            stray.dependency
        )));
    }
    if by_id.len() > MAX_MEMBERS {
        return Err(refused(format!(
            "`{group}` has {} dependencies here; one promotion carries at most {MAX_MEMBERS}",
            by_id.len()
        )));
    }
    by_id
        .into_iter()
        .map(|(id, usages)| {
            let meta = blocks.iter().find(|b| b.dependency == id);
            match merged_version(id, sha, &usages, meta)? {
                Some(version) => Ok(Member {
                    dependency: id.to_string(),
                    version,
                }),
                None => Err(refused(format!(
                    "`{id}` of `{group}` pins no exact version at the merge commit {sha}"
                ))),
            }
        })
        .collect()
}

/// The body may say which environment it was opened for; it must be this job's.
fn check_environment(meta: &Metadata, environment: Option<&str>) -> Result<(), PromoteError> {
    match (meta.environment.as_deref(), environment) {
        (Some(said), Some(env)) if said != env => Err(refused(format!(
            "the pull request's metadata names environment {said:?}, but this job promotes \
             {env:?}; the environment comes from the `environment` input or the \
             environments file, never from the pull request"
        ))),
        _ => Ok(()),
    }
}

/// The exact version a usage pins, if it pins one. A commit pin stands for the tag the
/// metadata names when the metadata's commit is the one in the tree, else for its comment's.
fn pinned(usage: &Usage, meta: Option<&Metadata>) -> Option<String> {
    match usage.form {
        VersionForm::GitRef | VersionForm::TfrQuery => {
            crate::version::parse_tag(&usage.current).map(|_| usage.current.clone())
        }
        VersionForm::CommitPin => meta
            .filter(|m| {
                m.commit
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case(&usage.current))
            })
            .map(|m| m.version.clone())
            .or_else(|| usage.pin_comment.as_ref().map(|c| c.tag.clone())),
        VersionForm::RegistryAttribute => crate::version::parse_constraint(&usage.current)?
            .exact()
            .map(ToString::to_string),
    }
}

/// The version in the merged tree (the highest pin, as `update` writes the highest target into
/// the metadata), checked against the metadata's; with constraints only, the metadata's version
/// when every constraint allows it.
fn merged_version(
    dependency: &str,
    sha: &str,
    usages: &[Usage],
    meta: Option<&Metadata>,
) -> Result<Option<String>, PromoteError> {
    if usages.is_empty() {
        return Err(refused(format!(
            "`{dependency}` is not used in this environment's folders at the merge commit {sha}"
        )));
    }
    let tree = usages
        .iter()
        .filter_map(|u| pinned(u, meta))
        .max_by(|a, b| compare_versions(a, b));
    let claimed = meta.map(|m| m.version.as_str());
    let disagree = |tree: &str, claimed: &str| {
        refused(format!(
            "the pull request's metadata says {dependency} {claimed:?}, but the merge commit \
             {sha} has {tree:?} in this environment's folders"
        ))
    };
    match (tree, claimed) {
        (Some(tree), Some(claimed)) if tree != claimed => Err(disagree(&tree, claimed)),
        (Some(tree), _) => Ok(Some(tree)),
        (None, Some(claimed)) => {
            let allowed = crate::version::parse_version(claimed).is_some_and(|v| {
                usages.iter().all(|u| {
                    crate::version::parse_constraint(&u.current)
                        .is_some_and(|c| c.matches(&v.semver))
                })
            });
            match allowed {
                true => Ok(Some(claimed.to_string())),
                false => Err(disagree(&usages[0].current, claimed)),
            }
        }
        (None, None) => Ok(None),
    }
}

/// `run` over the checkout of the merge commit in `env`'s working dir, as the promote job makes
/// it; both doors and the demo promote this way.
pub fn run_in_checkout(
    event: &Value,
    opts: &PromoteOptions,
    env: &Environment,
    forge: Option<&dyn Forge>,
) -> Result<String, PromoteError> {
    let repo = Repo::open(&env.working_dir, None)?;
    run(event, opts, &CheckedOutTree { repo: &repo, env }, forge)
}

/// Decides and dispatches (nothing is sent when `forge` is `None`, a dry run); returns the
/// line that tells the user what happened.
pub fn run(
    event: &Value,
    opts: &PromoteOptions,
    tree: &dyn MergedTree,
    forge: Option<&dyn Forge>,
) -> Result<String, PromoteError> {
    match decide(event, opts, tree)? {
        Decision::Skip(reason) => Ok(reason),
        Decision::Dispatch {
            event_type,
            payload,
        } => {
            let body = serde_json::to_value(&payload).expect("payload serialises");
            let verb = match forge {
                Some(forge) => {
                    forge.dispatch(&event_type, &body)?;
                    "dispatched"
                }
                None => "would dispatch",
            };
            Ok(format!("{verb} `{event_type}` with {body}"))
        }
    }
}

/// The payload of a `repository_dispatch` event, validated before anything uses it.
pub fn payload_of(event: &Value) -> Result<Option<Payload>, PayloadError> {
    let Some(raw) = event.get("client_payload") else {
        return Ok(None);
    };
    if raw.to_string().len() > MAX_PAYLOAD {
        return Err(PayloadError::TooLarge);
    }
    if raw.get("dependency").is_none() {
        return Ok(None);
    }
    let payload: Payload =
        serde_json::from_value(raw.clone()).map_err(|e| PayloadError::Malformed(e.to_string()))?;
    payload.check()?;
    Ok(Some(payload))
}

/// A full commit id (SHA-1 or SHA-256).
fn valid_sha(sha: &str) -> bool {
    (sha.len() == 40 || sha.len() == 64) && sha.chars().all(|c| c.is_ascii_hexdigit())
}

/// GitHub's limit for `event_type` is 100 characters; ours are names and `_`.
fn valid_event_type(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 100
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// A dependency ID or a group ID: what `dependency` inputs, flags and payloads may name.
pub fn valid_target_id(id: &str) -> bool {
    valid_dependency_id(id) || is_group_id(id)
}

/// `org/repo[/path…]` or `[host/]namespace/name/provider`: path segments of safe characters.
pub fn valid_dependency_id(id: &str) -> bool {
    let segments: Vec<&str> = id.split('/').collect();
    id.len() <= 200
        && (2..=12).contains(&segments.len())
        && segments.iter().all(|s| {
            !s.is_empty()
                && *s != "."
                && *s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
}

/// A version tag (`v1.2.3`, `vpc-v1.2.3`, `modules/vpc/1.2.3`) or a moving tag (`v2`).
pub fn valid_version(v: &str) -> bool {
    v.len() <= 128
        && crate::version::parse_tag(v).is_some()
        && !v.starts_with('/')
        && !v.contains("//")
        && !v.contains("..")
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+/".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    /// A merged tree that holds `versions` of `acme/mods/x` as git refs.
    struct Tree(Vec<&'static str>);

    impl MergedTree for Tree {
        fn usages(&self, _: &str) -> Result<Vec<Usage>, String> {
            let pairs: Vec<_> = self.0.iter().map(|v| ("acme/mods/x", *v)).collect();
            GroupTree(pairs).usages(SHA)
        }
    }

    /// A merged tree that holds each `(dependency, version)` as a git ref.
    struct GroupTree(Vec<(&'static str, &'static str)>);

    impl MergedTree for GroupTree {
        fn usages(&self, _: &str) -> Result<Vec<Usage>, String> {
            let text = self
                .0
                .iter()
                .map(|(dependency, v)| {
                    let (repo, module) = dependency.rsplit_once('/').unwrap();
                    format!("terraform {{\n  source = \"git::https://github.com/{repo}.git//modules/{module}?ref={v}\"\n}}\n")
                })
                .collect::<String>();
            let found = crate::scan::scan_file_in(
                std::path::Path::new("."),
                std::path::Path::new("dev/x/terragrunt.hcl"),
                text.as_bytes(),
                None,
            )
            .map_err(|e| e.message)?;
            Ok(found.usages)
        }
    }

    fn merged(body: &str) -> Value {
        json!({"action": "closed", "pull_request": {
            "number": 7, "merged": true, "body": body,
            "head": {"ref": "patcher-dev-updates-acme/mods/x"}, "base": {"ref": "main"},
            "merge_commit_sha": SHA}})
    }

    fn opts() -> PromoteOptions {
        PromoteOptions {
            environment: Some("dev".into()),
            event_type: None,
            branch_prefix: None,
            chain: Vec::new(),
            groups: Default::default(),
        }
    }

    fn body(version: &str, env: &str) -> String {
        let meta = Metadata {
            dependency: "acme/mods/x".into(),
            version: version.into(),
            environment: Some(env.into()),
            previous: vec![],
            commit: None,
            group: None,
        };
        format!("## Update\n\n_Opened by patcher._\n{}\n", meta.to_comment())
    }

    fn pinned_body(version: &str, commit: &str) -> String {
        let meta = Metadata {
            dependency: "acme/mods/x".into(),
            version: version.into(),
            environment: Some("dev".into()),
            previous: vec![],
            commit: Some(commit.into()),
            group: None,
        };
        format!("## Update\n\n_Opened by patcher._\n{}\n", meta.to_comment())
    }

    #[test]
    fn a_commit_pin_promotes_its_tag_and_commit() {
        const PIN: &str = "cccccccccccccccccccccccccccccccccccccccc";
        let pin = PIN.to_string();
        let tree = Tree(vec![PIN]);
        let d = decide(&merged(&pinned_body("v1.4.0", &pin)), &opts(), &tree).unwrap();
        let Decision::Dispatch { payload, .. } = d else {
            panic!("{d:?}")
        };
        assert_eq!(payload.version.as_deref(), Some("v1.4.0"));
        assert_eq!(payload.commit.as_deref(), Some(pin.as_str()));
        let other = "d".repeat(40);
        let refused = decide(&merged(&pinned_body("v1.4.0", &other)), &opts(), &tree);
        assert!(
            matches!(&refused, Err(PromoteError::Refused(m)) if m.contains("v1.4.0")),
            "{refused:?}"
        );
    }

    #[test]
    fn the_merged_tree_decides_and_the_metadata_agrees() {
        let d = decide(
            &merged(&body("v1.4.0", "dev")),
            &opts(),
            &Tree(vec!["v1.4.0"]),
        )
        .unwrap();
        let Decision::Dispatch {
            event_type,
            payload,
        } = d
        else {
            panic!("{d:?}")
        };
        assert_eq!(event_type, "dev_updates_merged");
        assert_eq!(payload.version.as_deref(), Some("v1.4.0"));
        assert_eq!(payload.sha, SHA);
        assert_eq!(payload.git_ref, "refs/heads/main");
        let last = PromoteOptions {
            chain: vec!["qa".into(), "dev".into()],
            ..opts()
        };
        let d = decide(
            &merged(&body("v1.4.0", "dev")),
            &last,
            &Tree(vec!["v1.4.0"]),
        )
        .unwrap();
        assert!(matches!(d, Decision::Skip(s) if s.contains("last")));
    }

    #[test]
    fn metadata_that_disagrees_with_the_tree_dispatches_nothing() {
        let err = decide(
            &merged(&body("v2.1.1", "dev")),
            &opts(),
            &Tree(vec!["v1.2.0"]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("v1.2.0"), "{err}");
        let err = decide(
            &merged(&body("v1.2.0", "stage")),
            &opts(),
            &Tree(vec!["v1.2.0"]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("never from the pull request"),
            "{err}"
        );
    }

    #[test]
    fn seed_branch_prefix_takes_the_version_from_the_tree() {
        let seed = PromoteOptions {
            branch_prefix: Some("patcher-dev-updates-".into()),
            ..opts()
        };
        let Decision::Dispatch { payload, .. } = decide(
            &merged("hand-written"),
            &seed,
            &Tree(vec!["v1.0.0", "v1.3.0"]),
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(payload.dependency, "acme/mods/x");
        assert_eq!(payload.version.as_deref(), Some("v1.3.0"));
        let d = decide(&merged("hand-written"), &opts(), &Tree(vec![])).unwrap();
        assert!(matches!(d, Decision::Skip(s) if s.contains("not opened by patcher")));
        let mut unmerged = merged("");
        unmerged["pull_request"]["merged"] = json!(false);
        let d = decide(&unmerged, &seed, &Tree(vec![])).unwrap();
        assert!(matches!(d, Decision::Skip(s) if s.contains("not merged")));
    }

    #[test]
    fn tampered_payloads_are_rejected() {
        let ok = json!({"client_payload": {"dependency": "acme/mods/sqs", "version": "v1.2.3"}});
        assert!(payload_of(&ok).unwrap().is_some());
        for (field, value) in [
            ("dependency", "../../etc/passwd"),
            ("dependency", "acme/mods;rm -rf"),
            ("version", "v1.2.3$(id)"),
            ("version", "main"),
            ("environment", "dev\nprod"),
            ("ref", "refs/heads/main:refs/heads/x"),
            ("sha", "$(id)"),
            ("branch", "a..b"),
        ] {
            let mut e = ok.clone();
            e["client_payload"][field] = json!(value);
            assert!(payload_of(&e).is_err(), "{field}={value}");
        }
        let mut big = ok.clone();
        big["client_payload"]["branch"] = json!("x".repeat(MAX_PAYLOAD + 1));
        assert_eq!(payload_of(&big), Err(PayloadError::TooLarge));
    }

    fn group_opts() -> PromoteOptions {
        let config = crate::environments_file::EnvironmentsFile::parse(
            "groups:\n  - name: acme\n    dependencies: ['acme/*']\n",
            std::path::Path::new(".github/patcher.yml"),
        )
        .unwrap();
        PromoteOptions {
            groups: Groups::from_config(Some(&config)).unwrap(),
            ..opts()
        }
    }

    fn group_body(members: &[(&str, &str)]) -> String {
        let blocks: Vec<String> = members
            .iter()
            .map(|(dependency, version)| {
                Metadata {
                    dependency: dependency.to_string(),
                    version: version.to_string(),
                    environment: Some("dev".into()),
                    previous: vec![],
                    commit: None,
                    group: Some("group-acme".into()),
                }
                .to_comment()
            })
            .collect();
        format!("## Update\n\n_Opened by patcher._\n{}\n", blocks.join("\n"))
    }

    #[test]
    fn a_group_carries_every_member_at_the_version_in_the_tree() {
        let tree = GroupTree(vec![
            ("acme/a/x", "v1.2.0"),
            ("acme/b/y", "v2.0.1"),
            ("acme/b/y", "v2.0.0"),
            ("other/c/z", "v9.0.0"),
        ]);
        let both = group_body(&[("acme/a/x", "v1.2.0"), ("acme/b/y", "v2.0.1")]);
        let Decision::Dispatch { payload, .. } =
            decide(&merged(&both), &group_opts(), &tree).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (payload.dependency.as_str(), payload.version.as_deref()),
            ("group-acme", None)
        );
        let members: Vec<(&str, &str)> = payload
            .members
            .iter()
            .map(|m| (m.dependency.as_str(), m.version.as_str()))
            .collect();
        assert_eq!(members, [("acme/a/x", "v1.2.0"), ("acme/b/y", "v2.0.1")]);
        payload.check().unwrap();

        let forged = group_body(&[("acme/a/x", "v1.3.0")]);
        let err = decide(&merged(&forged), &group_opts(), &tree).unwrap_err();
        assert!(err.to_string().contains("\"v1.2.0\""), "{err}");
        let stray = group_body(&[("other/c/z", "v9.0.0")]);
        let err = decide(&merged(&stray), &group_opts(), &tree).unwrap_err();
        assert!(
            err.to_string().contains("not a dependency of `group-acme`"),
            "{err}"
        );
        let err = decide(&merged(&both), &opts(), &tree).unwrap_err();
        assert!(
            err.to_string().contains("no dependency of `group-acme`"),
            "{err}"
        );
        let mixed = format!(
            "{}{}",
            group_body(&[("acme/a/x", "v1.2.0")]),
            body("v1.2.0", "dev").lines().last().unwrap()
        );
        let err = decide(&merged(&mixed), &group_opts(), &tree).unwrap_err();
        assert!(err.to_string().contains("no one group"), "{err}");
    }

    #[test]
    fn group_payloads_are_checked_member_by_member() {
        let ok = json!({"client_payload": {"dependency": "group-acme",
            "members": [{"dependency": "acme/a/x", "version": "v1.2.0"}]}});
        assert_eq!(payload_of(&ok).unwrap().unwrap().members.len(), 1);
        for (key, value) in [
            ("members", json!([])),
            (
                "members",
                json!([{"dependency": "../x", "version": "v1.0.0"}]),
            ),
            (
                "members",
                json!([{"dependency": "acme/a/x", "version": "v1$(id)"}]),
            ),
            (
                "members",
                json!([{"dependency": "acme/a/x", "version": "v1.0.0"},
                              {"dependency": "acme/a/x", "version": "v1.0.0"}]),
            ),
            ("version", json!("v1.0.0")),
            ("dependency", json!("acme/a/x")),
        ] {
            let mut e = ok.clone();
            e["client_payload"][key] = value;
            assert!(payload_of(&e).is_err(), "{key}: {e}");
        }
    }
}
