//! `max_pull_requests`: how many dependencies one report hands to the update matrix. The open
//! pull requests of the environment use up the room; a dependency whose pull request is already
//! open is always listed, since refreshing it opens nothing new.

use crate::publish::github::{GitHubClient, GitHubError, PullRequest};
use crate::spec::Spec;

/// Most open pull requests per environment when neither the input nor the environments file sets
/// `max_pull_requests`.
pub const DEFAULT_MAX_PULL_REQUESTS: usize = 10;

/// GitHub runs at most 256 jobs of one matrix.
pub const MATRIX_LIMIT: usize = 256;

/// Which open pull requests are this environment's patcher pull requests.
#[derive(Debug, Clone)]
pub struct PullScope {
    /// The environment's label (`updates-<env>`); without one, the branch prefix decides.
    pub label: Option<String>,
    /// The environment's branch prefix; a dependency's pull request branch is the prefix
    /// followed by its ID.
    pub branch_prefix: String,
}

impl PullScope {
    fn owns(&self, pull: &PullRequest) -> bool {
        match &self.label {
            Some(label) => pull.labels.contains(label),
            None => pull.head_ref.starts_with(&self.branch_prefix),
        }
    }
}

/// What one report lists and what it leaves to a later run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// In order: dependencies with an open pull request, then the others that fit.
    pub listed: Vec<String>,
    /// Dependencies with an update left out by the limit, for a later run.
    pub deferred: Vec<String>,
    /// Open patcher pull requests of the environment when the report ran.
    pub open: usize,
    /// The limit that applied (0: none but the matrix's).
    pub max: usize,
}

/// Every dependency of `spec` with an update, ordered: those with an open pull request, then
/// non-breaking before breaking, then by ID; the first `max - open` new ones are listed (all
/// when `max` is 0), never more than [`MATRIX_LIMIT`] in all.
pub fn select(spec: &Spec, max: usize, open_pulls: &[PullRequest], scope: &PullScope) -> Selection {
    let own: Vec<&PullRequest> = open_pulls.iter().filter(|p| scope.owns(p)).collect();
    let has_open_pull = |id: &str| {
        let branch = format!("{}{id}", scope.branch_prefix);
        own.iter().any(|p| p.head_ref == branch)
    };
    let mut order: Vec<(bool, bool, &str)> = spec
        .dependencies
        .iter()
        .map(|d| (!has_open_pull(&d.id), d.breaking, d.id.as_str()))
        .collect();
    order.sort_unstable();
    let mut room = match max {
        0 => usize::MAX,
        max => max.saturating_sub(own.len()),
    };
    let mut selection = Selection {
        open: own.len(),
        max,
        ..Selection::default()
    };
    for (new, _, id) in order {
        let fits = selection.listed.len() < MATRIX_LIMIT && (!new || room > 0);
        if fits {
            if new {
                room -= 1;
            }
            selection.listed.push(id.to_owned());
        } else {
            selection.deferred.push(id.to_owned());
        }
    }
    selection
}

/// [`select`] after counting the open pull requests through `github`; without a client (no
/// token, no repository) or without a limit nothing is counted.
pub fn count_and_select(
    spec: &Spec,
    max: usize,
    github: Option<&GitHubClient>,
    scope: &PullScope,
) -> Result<Selection, CountError> {
    let open = match github {
        Some(github) if max > 0 && !spec.dependencies.is_empty() => {
            github.open_pulls().map_err(CountError)?
        }
        _ => Vec::new(),
    };
    Ok(select(spec, max, &open, scope))
}

/// The open pull requests could not be listed, so the limit cannot be applied.
#[derive(Debug, thiserror::Error)]
#[error("counting the open pull requests for max_pull_requests (0 turns the limit off)")]
pub struct CountError(#[source] GitHubError);

/// Every dependency listed, none deferred: a promotion moves what was merged, whatever the limit.
pub fn all(spec: &Spec) -> Selection {
    Selection {
        listed: spec.dependencies.iter().map(|d| d.id.clone()).collect(),
        ..Selection::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(deps: &[(&str, bool)]) -> Spec {
        let mut spec = crate::spec::from_json(r#"{"Dependencies":[]}"#, "t").unwrap();
        for (id, breaking) in deps {
            let text = format!(r#"{{"ID":"{id}","Breaking":{breaking}}}"#);
            spec.dependencies.push(serde_json::from_str(&text).unwrap());
        }
        spec
    }

    fn pull(head: &str, label: &str) -> PullRequest {
        PullRequest {
            number: 1,
            html_url: String::new(),
            title: String::new(),
            body: String::new(),
            labels: vec![label.to_owned()],
            head_ref: head.to_owned(),
        }
    }

    fn scope() -> PullScope {
        PullScope {
            label: Some("updates-dev".into()),
            branch_prefix: "patcher-dev-updates-".into(),
        }
    }

    #[test]
    fn open_pull_requests_use_up_the_room_and_breaking_updates_come_last() {
        let spec = spec(&[
            ("a/x/m", true),
            ("b/x/m", false),
            ("c/x/m", false),
            ("d/x/m", false),
        ]);
        let open = [
            pull("patcher-dev-updates-other/x/m", "updates-dev"),
            pull("patcher-stage-updates-b/x/m", "updates-stage"),
        ];
        let s = select(&spec, 3, &open, &scope());
        assert_eq!(s.open, 1);
        assert_eq!(s.listed, ["b/x/m", "c/x/m"]);
        assert_eq!(s.deferred, ["d/x/m", "a/x/m"]);
    }

    #[test]
    fn a_dependency_with_an_open_pull_request_is_listed_whatever_the_room() {
        let spec = spec(&[("a/x/m", false), ("z/x/m", true)]);
        let open = [pull("patcher-dev-updates-z/x/m", "updates-dev")];
        let s = select(&spec, 1, &open, &scope());
        assert_eq!(
            (s.listed, s.deferred),
            (vec!["z/x/m".to_string()], vec!["a/x/m".to_string()])
        );
    }

    #[test]
    fn no_limit_is_still_the_matrix_limit_and_the_order_is_deterministic() {
        let ids: Vec<String> = (0..300)
            .rev()
            .map(|i| format!("org/repo{i:03}/m"))
            .collect();
        let deps: Vec<(&str, bool)> = ids.iter().map(|id| (id.as_str(), false)).collect();
        let s = select(&spec(&deps), 0, &[], &scope());
        assert_eq!(s.listed.len(), MATRIX_LIMIT);
        assert_eq!(s.deferred.len(), 300 - MATRIX_LIMIT);
        assert_eq!(s.listed[0], "org/repo000/m");
        assert_eq!(s.deferred[0], "org/repo256/m");
    }

    #[test]
    fn without_a_label_the_branch_prefix_finds_the_pull_requests() {
        let spec = spec(&[("a/x/m", false), ("b/x/m", false)]);
        let scope = PullScope {
            label: None,
            branch_prefix: "patcher-updates-".into(),
        };
        let open = [pull("patcher-updates-q/x/m", ""), pull("feature", "")];
        let s = select(&spec, 2, &open, &scope);
        assert_eq!((s.open, s.listed.len()), (1, 1));
    }
}
