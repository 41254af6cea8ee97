//! Promotion: a merged pull request of one environment becomes a `repository_dispatch` that
//! carries the exact dependency and version to the next environment.

use crate::publish::github::{Forge, GitHubError};
use crate::pull_request::parse_metadata;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// Largest `client_payload` accepted, in bytes of JSON; ours are a few hundred.
const MAX_PAYLOAD: usize = 4096;

/// What travels from one environment to the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub dependency: String,
    /// Absent only for pull requests that follow the seed guide's branch-name convention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(default, rename = "ref")]
    pub git_ref: String,
    #[serde(default)]
    pub sha: String,
    #[serde(default)]
    pub branch: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Dispatch {
        event_type: String,
        payload: Payload,
    },
    Skip(String),
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PayloadError {
    #[error("client_payload is larger than {MAX_PAYLOAD} bytes")]
    TooLarge,
    #[error("client_payload is not valid: {0}")]
    Malformed(String),
    #[error("client_payload.dependency `{0}` is not a dependency ID")]
    BadDependency(String),
    #[error("client_payload.version `{0}` is not a version")]
    BadVersion(String),
    #[error("client_payload.environment `{0}` is not an environment name")]
    BadEnvironment(String),
}

pub struct PromoteOptions {
    /// The environment whose pull request merged, when the metadata does not say.
    pub environment: Option<String>,
    /// Overrides `<environment>_updates_merged`.
    pub event_type: Option<String>,
    /// The seed guide's `PR_BRANCH_PREFIX`, for pull requests without a metadata block.
    pub branch_prefix: Option<String>,
    /// Environment names in promotion order (from the environments file); empty when unknown.
    /// The last one dispatches nothing.
    pub chain: Vec<String>,
}

/// Decides, from a `pull_request` event, whether and what to dispatch.
pub fn decide(event: &Value, opts: &PromoteOptions) -> Decision {
    let Some(pr) = event.get("pull_request") else {
        return Decision::Skip("not a pull_request event: nothing to promote".into());
    };
    let number = pr["number"].as_u64().unwrap_or_default();
    if pr["merged"].as_bool() != Some(true) {
        return Decision::Skip(format!(
            "pull request #{number} was not merged: nothing to promote"
        ));
    }
    let branch = pr["head"]["ref"].as_str().unwrap_or_default().to_string();
    let (dependency, version, environment) =
        match parse_metadata(pr["body"].as_str().unwrap_or_default()) {
            Some(meta) => (meta.dependency, Some(meta.version), meta.environment),
            None => match opts
                .branch_prefix
                .as_deref()
                .and_then(|p| branch.strip_prefix(p))
            {
                Some(dep) if !dep.is_empty() => (dep.to_string(), None, None),
                _ => {
                    return Decision::Skip(format!(
                        "pull request #{number} was not opened by patcher: nothing to promote"
                    ))
                }
            },
        };
    let environment = environment.or_else(|| opts.environment.clone());
    if let Some(env) = &environment {
        if opts.chain.last() == Some(env) {
            return Decision::Skip(format!(
                "{env} is the last environment: the chain stops here"
            ));
        }
    }
    let event_type = match (&opts.event_type, &environment) {
        (Some(t), _) => t.clone(),
        (None, Some(env)) => format!("{env}_updates_merged"),
        (None, None) => {
            return Decision::Skip(format!(
                "pull request #{number}: no environment known; set `environment` or `event_type`"
            ))
        }
    };
    let base = pr["base"]["ref"].as_str().unwrap_or_default();
    Decision::Dispatch {
        event_type,
        payload: Payload {
            dependency,
            version,
            environment,
            git_ref: format!("refs/heads/{base}"),
            sha: pr["merge_commit_sha"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            branch,
        },
    }
}

/// Decides and dispatches (nothing is sent when `forge` is `None`, a dry run); returns the
/// line that tells the user what happened.
pub fn run(
    event: &Value,
    opts: &PromoteOptions,
    forge: Option<&dyn Forge>,
) -> Result<String, GitHubError> {
    match decide(event, opts) {
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
    if !valid_dependency_id(&payload.dependency) {
        return Err(PayloadError::BadDependency(payload.dependency));
    }
    if let Some(v) = &payload.version {
        if !valid_version(v) {
            return Err(PayloadError::BadVersion(v.clone()));
        }
    }
    if let Some(env) = &payload.environment {
        if !crate::config::valid_name(env) {
            return Err(PayloadError::BadEnvironment(env.clone()));
        }
    }
    Ok(Some(payload))
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

pub fn valid_version(v: &str) -> bool {
    v.len() <= 64
        && crate::version::parse_version(v).is_some()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merged(body: &str) -> Value {
        json!({"action": "closed", "pull_request": {
            "number": 7, "merged": true, "body": body,
            "head": {"ref": "patcher-dev-updates-acme/mods/sqs"}, "base": {"ref": "main"},
            "merge_commit_sha": "abc123"}})
    }

    fn opts() -> PromoteOptions {
        PromoteOptions {
            environment: None,
            event_type: None,
            branch_prefix: None,
            chain: Vec::new(),
        }
    }

    #[test]
    fn metadata_block_becomes_the_dispatch() {
        let meta = crate::pull_request::Metadata {
            dependency: "acme/mods/sqs".into(),
            version: "v1.4.0".into(),
            environment: Some("dev".into()),
            previous: vec![],
        };
        let d = decide(&merged(&meta.to_comment()), &opts());
        let Decision::Dispatch {
            event_type,
            payload,
        } = d
        else {
            panic!("{d:?}")
        };
        assert_eq!(event_type, "dev_updates_merged");
        assert_eq!(payload.version.as_deref(), Some("v1.4.0"));
        assert_eq!(payload.sha, "abc123");
        assert_eq!(payload.git_ref, "refs/heads/main");
        let last = PromoteOptions {
            chain: vec!["qa".into(), "dev".into()],
            ..opts()
        };
        assert!(
            matches!(decide(&merged(&meta.to_comment()), &last), Decision::Skip(s) if s.contains("last"))
        );
    }

    #[test]
    fn seed_branch_prefix_and_foreign_or_unmerged_prs() {
        let seed = PromoteOptions {
            branch_prefix: Some("patcher-dev-updates-".into()),
            environment: Some("dev".into()),
            ..opts()
        };
        let Decision::Dispatch { payload, .. } = decide(&merged("hand-written"), &seed) else {
            panic!()
        };
        assert_eq!(
            (payload.dependency.as_str(), payload.version),
            ("acme/mods/sqs", None)
        );
        assert!(
            matches!(decide(&merged("hand-written"), &opts()), Decision::Skip(s) if s.contains("not opened by patcher"))
        );
        let mut unmerged = merged("");
        unmerged["pull_request"]["merged"] = json!(false);
        assert!(matches!(decide(&unmerged, &seed), Decision::Skip(s) if s.contains("not merged")));
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
        ] {
            let mut e = ok.clone();
            e["client_payload"][field] = json!(value);
            assert!(payload_of(&e).is_err(), "{field}={value}");
        }
        let mut big = ok.clone();
        big["client_payload"]["branch"] = json!("x".repeat(5000));
        assert_eq!(payload_of(&big), Err(PayloadError::TooLarge));
    }
}
