//! The GitHub REST calls of `update` and `promote`: pull requests, labels, release notes and
//! repository dispatch. Plain requests over [`crate::http::Client`] rather than a GitHub SDK: one
//! blocking client and one retry policy for the whole binary, and each failure is turned into a
//! message that says which token permission is missing.

use crate::http::{Client, HttpError, Response};
use serde_json::{json, Value};
use thiserror::Error;

/// A pull request as GitHub's pulls API returns it, reduced to what patcher reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// Number in the repository (`#12`).
    pub number: u64,
    /// Web page of the pull request.
    pub html_url: String,
    /// Title; empty when GitHub sent none.
    pub title: String,
    /// Description (where the metadata block lives); empty when it has none.
    pub body: String,
    /// Names of its labels.
    pub labels: Vec<String>,
    /// Name of its head branch.
    pub head_ref: String,
}

/// The pull request `update` asks GitHub to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPull {
    /// Title.
    pub title: String,
    /// Description, metadata block included.
    pub body: String,
    /// Branch name in the same repository.
    pub head: String,
    /// Branch it is to merge into.
    pub base: String,
}

/// Never contains the token: messages are built from the status and GitHub's redacted `message`.
#[derive(Debug, Error)]
pub enum GitHubError {
    /// GitHub answered 401: the token is missing, expired or wrong.
    #[error("the token was rejected: check github_token")]
    BadToken,
    /// GitHub answered 403 without rate-limit hints: the token lacks a permission.
    #[error("{action} was refused: {hint}")]
    MissingPermission {
        /// What was being done (`creating the pull request`).
        action: String,
        /// GitHub's message and the `permissions:` entry the call needs.
        hint: String,
    },
    /// GitHub answered 404, which is also its answer to a token that may not see the thing.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for, GitHub's message and the permission that would reveal it.
        what: String,
    },
    /// GitHub answered 422 (e.g. a pull request already exists for the branch).
    #[error("GitHub rejected the request: {message}")]
    Validation {
        /// GitHub's message with the details of its `errors` array, redacted.
        message: String,
    },
    /// No answer at all, after the client's retries.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// Any other status, a rate limit that outlasted the retries, or an unreadable answer.
    #[error("GitHub answered {status}: {message}")]
    Api {
        /// HTTP status of the answer (200 when the answer itself is unusable).
        status: u16,
        /// GitHub's message, redacted, or what was wrong with the answer.
        message: String,
    },
}

/// What `update` and `promote` need from the code host.
pub trait Forge {
    /// The open pull request whose head is `head_branch` of this repository, if any.
    fn find_open_pull(&self, head_branch: &str) -> Result<Option<PullRequest>, GitHubError>;
    /// Creates the pull request; when GitHub says one already exists for the branch, returns it.
    fn create_pull(&self, pull: &NewPull) -> Result<PullRequest, GitHubError>;
    /// Replaces the title and description of pull request `number`.
    fn update_pull(&self, number: u64, title: &str, body: &str)
        -> Result<PullRequest, GitHubError>;
    /// Creates the labels the repository does not have yet.
    fn ensure_labels(&self, labels: &[String]) -> Result<(), GitHubError>;
    /// Adds `labels` to pull request `number`, keeping the ones it has.
    fn add_labels(&self, number: u64, labels: &[String]) -> Result<(), GitHubError>;
    /// The body of the release for `tag` in `github_repo` (`owner/name`); `None` without one.
    fn release_notes(&self, github_repo: &str, tag: &str) -> Result<Option<String>, GitHubError>;
    /// Sends `repository_dispatch` `event_type` with `client_payload` to this repository.
    fn dispatch(&self, event_type: &str, client_payload: &Value) -> Result<(), GitHubError>;
}

/// `state` of an issue listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueState {
    /// Only open ones.
    Open,
    /// Only closed ones (merged pull requests included).
    Closed,
    /// Both.
    All,
}

impl IssueState {
    fn as_str(self) -> &'static str {
        match self {
            IssueState::Open => "open",
            IssueState::Closed => "closed",
            IssueState::All => "all",
        }
    }
}

/// An issue or pull request as the issues listing returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledIssue {
    /// Number in the repository (issues and pull requests share the numbering).
    pub number: u64,
    /// Web page of the issue or pull request.
    pub html_url: String,
    /// Title; empty when GitHub sent none.
    pub title: String,
    /// Description; empty when it has none.
    pub body: String,
    /// `open` or `closed`.
    pub state: String,
    /// Whether it is a pull request rather than an issue.
    pub is_pull_request: bool,
    /// When it was opened, as GitHub writes it (ISO 8601); `None` when the answer lacks it.
    pub created_at: Option<String>,
    /// Pull requests only: when it merged.
    pub merged_at: Option<String>,
}

/// What a changed issue gets; `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueEdit {
    /// New description.
    pub body: Option<String>,
    /// New state: `Open` or `Closed`.
    pub state: Option<IssueState>,
    /// `duplicate`, `not_planned` …, sent with `state`.
    pub state_reason: Option<&'static str>,
}

/// Pages of a listing read at most: 100 items each. A status run needs the recent updates of
/// each environment, not the repository's whole history.
pub const MAX_LIST_PAGES: usize = 5;

/// The issue calls of `status` and its dashboard.
pub trait IssueTracker {
    /// Issues and pull requests carrying `label`, most recently updated first.
    fn list_labelled(
        &self,
        label: &str,
        state: IssueState,
    ) -> Result<Vec<LabelledIssue>, GitHubError>;
    /// Opens an issue with these labels (the dashboard issue).
    fn create_issue(
        &self,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<LabelledIssue, GitHubError>;
    /// Applies `edit` to issue `number` and returns it as changed.
    fn edit_issue(&self, number: u64, edit: &IssueEdit) -> Result<LabelledIssue, GitHubError>;
    /// Creates the labels the repository does not have yet.
    fn ensure_issue_labels(&self, labels: &[String]) -> Result<(), GitHubError>;
}

/// The token permission an operation needs, named as in a workflow's `permissions:` block.
#[derive(Debug, Clone, Copy)]
enum Needs {
    PullRequestsRead,
    PullRequestsWrite,
    IssuesRead,
    IssuesWrite,
    ContentsRead,
    ContentsWrite,
}

impl Needs {
    fn permission(self) -> &'static str {
        match self {
            Needs::PullRequestsRead => "pull-requests: read",
            Needs::PullRequestsWrite => "pull-requests: write",
            Needs::IssuesRead => "issues: read` and `pull-requests: read",
            Needs::IssuesWrite => "issues: write",
            Needs::ContentsRead => "contents: read",
            Needs::ContentsWrite => "contents: write",
        }
    }
}

/// One call: what it does (for messages), what it needs, and what a 404 means.
struct Call {
    action: &'static str,
    needs: Needs,
    what: String,
}

/// The GitHub REST API for one repository; the token, when given, goes only to `api_url`.
pub struct GitHubClient {
    api_url: String,
    repository: String,
    token: Option<String>,
    http: Client,
}

impl GitHubClient {
    /// `api_url` is `GITHUB_API_URL` (`https://api.github.com`, or a GHES / test server URL);
    /// `repository` is `owner/name`.
    pub fn new(api_url: &str, repository: &str, token: Option<String>) -> GitHubClient {
        GitHubClient {
            api_url: api_url.trim_end_matches('/').to_string(),
            repository: repository.trim_matches('/').to_string(),
            token: token.filter(|t| !t.is_empty()),
            http: Client::default(),
        }
    }

    /// Replaces the HTTP client, e.g. to change its retry policy.
    pub fn with_http(mut self, http: Client) -> GitHubClient {
        self.http = http;
        self
    }

    fn repo_name(&self) -> String {
        format!("repository {}", self.repository)
    }

    fn owner(&self) -> &str {
        self.repository
            .split_once('/')
            .map_or(self.repository.as_str(), |(o, _)| o)
    }

    /// `/repos/{owner}/{name}` with each part escaped.
    fn repo_path(repository: &str) -> String {
        let parts: Vec<String> = repository.split('/').map(escape).collect();
        format!("/repos/{}", parts.join("/"))
    }

    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Response, HttpError> {
        let mut headers = vec![
            ("Accept", "application/vnd.github+json".to_string()),
            ("X-GitHub-Api-Version", "2022-11-28".to_string()),
        ];
        if let Some(token) = &self.token {
            headers.push(("Authorization", format!("Bearer {token}")));
        }
        let url = format!("{}{path}", self.api_url);
        let body = body.map(Value::to_string);
        self.http.send(method, &url, &headers, body.as_deref())
    }

    /// Sends and returns the parsed JSON of a successful answer, else the matching error.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        call: &Call,
    ) -> Result<Value, GitHubError> {
        let resp = self.send(method, path, body)?;
        answer_of(&resp, call, self.token.as_deref())
    }

    fn ensure_label(&self, name: &str) -> Result<(), GitHubError> {
        let labels = format!("{}/labels", Self::repo_path(&self.repository));
        let resp = self.send("GET", &format!("{labels}/{}", escape(name)), None)?;
        if resp.is_success() {
            return Ok(());
        }
        let call = Call {
            action: "creating label",
            needs: Needs::IssuesWrite,
            what: self.repo_name(),
        };
        if resp.status != 404 {
            return Err(failure(&resp, &call, self.token.as_deref()));
        }
        let body = json!({"name": name, "color": "ededed"});
        let resp = self.send("POST", &labels, Some(&body))?;
        // Someone else may have created it since we looked.
        if resp.is_success() || (resp.status == 422 && resp.body.contains("already_exists")) {
            return Ok(());
        }
        Err(failure(&resp, &call, self.token.as_deref()))
    }
}

impl GitHubClient {
    /// Every open pull request of the repository (at most 5,000: 50 pages of 100), for
    /// `max_pull_requests`.
    pub fn open_pulls(&self) -> Result<Vec<PullRequest>, GitHubError> {
        let call = Call {
            action: "listing open pull requests",
            needs: Needs::PullRequestsRead,
            what: self.repo_name(),
        };
        let mut pulls = Vec::new();
        for page in 1..=50 {
            let path = format!(
                "{}/pulls?state=open&per_page=100&page={page}",
                Self::repo_path(&self.repository)
            );
            let resp = self.send("GET", &path, None)?;
            if !resp.is_success() {
                return Err(failure(&resp, &call, self.token.as_deref()));
            }
            let list: Value = serde_json::from_str(&resp.body).map_err(|e| GitHubError::Api {
                status: resp.status,
                message: format!("{}: unreadable answer: {e}", call.action),
            })?;
            for item in list.as_array().into_iter().flatten() {
                pulls.push(pull_request(item)?);
            }
            let more = resp
                .header("link")
                .is_some_and(|link| link.contains("rel=\"next\""));
            if !more {
                break;
            }
        }
        Ok(pulls)
    }
}

impl Forge for GitHubClient {
    fn find_open_pull(&self, head_branch: &str) -> Result<Option<PullRequest>, GitHubError> {
        let path = format!(
            "{}/pulls?head={}&state=open",
            Self::repo_path(&self.repository),
            escape(&format!("{}:{head_branch}", self.owner())),
        );
        let call = Call {
            action: "listing pull requests",
            needs: Needs::PullRequestsRead,
            what: self.repo_name(),
        };
        let list = self.call("GET", &path, None, &call)?;
        let first = list.as_array().and_then(|items| items.first());
        first.map(pull_request).transpose()
    }

    fn create_pull(&self, pull: &NewPull) -> Result<PullRequest, GitHubError> {
        let path = format!("{}/pulls", Self::repo_path(&self.repository));
        let body =
            json!({"title": pull.title, "body": pull.body, "head": pull.head, "base": pull.base});
        let call = Call {
            action: "creating the pull request",
            needs: Needs::PullRequestsWrite,
            what: self.repo_name(),
        };
        match self.call("POST", &path, Some(&body), &call) {
            Ok(created) => pull_request(&created),
            Err(GitHubError::Validation { message }) if message.contains("already exists") => self
                .find_open_pull(&pull.head)?
                .ok_or(GitHubError::Validation { message }),
            Err(e) => Err(e),
        }
    }

    fn update_pull(
        &self,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, GitHubError> {
        let path = format!("{}/pulls/{number}", Self::repo_path(&self.repository));
        let what = format!("pull request #{number}");
        let call = Call {
            action: "updating the pull request",
            needs: Needs::PullRequestsWrite,
            what,
        };
        let updated = self.call(
            "PATCH",
            &path,
            Some(&json!({"title": title, "body": body})),
            &call,
        )?;
        pull_request(&updated)
    }

    fn ensure_labels(&self, labels: &[String]) -> Result<(), GitHubError> {
        labels.iter().try_for_each(|name| self.ensure_label(name))
    }

    fn add_labels(&self, number: u64, labels: &[String]) -> Result<(), GitHubError> {
        if labels.is_empty() {
            return Ok(());
        }
        let path = format!(
            "{}/issues/{number}/labels",
            Self::repo_path(&self.repository)
        );
        let what = format!("pull request #{number}");
        let call = Call {
            action: "labelling the pull request",
            needs: Needs::IssuesWrite,
            what,
        };
        self.call("POST", &path, Some(&json!({"labels": labels})), &call)
            .map(drop)
    }

    fn release_notes(&self, github_repo: &str, tag: &str) -> Result<Option<String>, GitHubError> {
        let path = format!(
            "{}/releases/tags/{}",
            Self::repo_path(github_repo),
            escape(tag)
        );
        let call = Call {
            action: "reading release notes",
            needs: Needs::ContentsRead,
            what: format!("release {tag} of {github_repo}"),
        };
        match self.call("GET", &path, None, &call) {
            Ok(release) => Ok(Some(
                release["body"].as_str().unwrap_or_default().to_string(),
            )),
            Err(GitHubError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn dispatch(&self, event_type: &str, client_payload: &Value) -> Result<(), GitHubError> {
        let path = format!("{}/dispatches", Self::repo_path(&self.repository));
        let body = json!({"event_type": event_type, "client_payload": client_payload});
        let call = Call {
            action: "sending repository_dispatch",
            needs: Needs::ContentsWrite,
            what: self.repo_name(),
        };
        self.call("POST", &path, Some(&body), &call).map(drop)
    }
}

impl IssueTracker for GitHubClient {
    fn list_labelled(
        &self,
        label: &str,
        state: IssueState,
    ) -> Result<Vec<LabelledIssue>, GitHubError> {
        let path = format!(
            "{}/issues?labels={}&state={}&sort=updated&direction=desc&per_page=100",
            Self::repo_path(&self.repository),
            escape(label),
            state.as_str()
        );
        let call = Call {
            action: "listing issues and pull requests",
            needs: Needs::IssuesRead,
            what: self.repo_name(),
        };
        let mut out = Vec::new();
        // Pages by number rather than by following `Link`: the token is only ever sent to
        // `api_url`, whatever URL an answer names.
        for page in 1..=MAX_LIST_PAGES {
            let resp = self.send("GET", &format!("{path}&page={page}"), None)?;
            let items = answer_of(&resp, &call, self.token.as_deref())?;
            for item in items.as_array().into_iter().flatten() {
                out.push(labelled_issue(item)?);
            }
            if !resp
                .header("link")
                .is_some_and(|l| l.contains("rel=\"next\""))
            {
                break;
            }
        }
        Ok(out)
    }

    fn create_issue(
        &self,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<LabelledIssue, GitHubError> {
        let path = format!("{}/issues", Self::repo_path(&self.repository));
        let call = Call {
            action: "creating the dashboard issue",
            needs: Needs::IssuesWrite,
            what: self.repo_name(),
        };
        let request = json!({"title": title, "body": body, "labels": labels});
        labelled_issue(&self.call("POST", &path, Some(&request), &call)?)
    }

    fn edit_issue(&self, number: u64, edit: &IssueEdit) -> Result<LabelledIssue, GitHubError> {
        let path = format!("{}/issues/{number}", Self::repo_path(&self.repository));
        let call = Call {
            action: "updating the dashboard issue",
            needs: Needs::IssuesWrite,
            what: format!("issue #{number}"),
        };
        let mut request = json!({});
        if let Some(body) = &edit.body {
            request["body"] = json!(body);
        }
        if let Some(state) = edit.state {
            request["state"] = json!(state.as_str());
            request["state_reason"] = json!(edit.state_reason);
        }
        labelled_issue(&self.call("PATCH", &path, Some(&request), &call)?)
    }

    fn ensure_issue_labels(&self, labels: &[String]) -> Result<(), GitHubError> {
        labels.iter().try_for_each(|name| self.ensure_label(name))
    }
}

/// The parsed JSON of a successful answer, else the matching error.
fn answer_of(resp: &Response, call: &Call, token: Option<&str>) -> Result<Value, GitHubError> {
    if !resp.is_success() {
        return Err(failure(resp, call, token));
    }
    if resp.body.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&resp.body).map_err(|e| GitHubError::Api {
        status: resp.status,
        message: format!("{}: unreadable answer: {e}", call.action),
    })
}

/// The error for a non-2xx answer, carrying GitHub's own explanation, redacted: an answer may
/// echo the request's headers.
fn failure(resp: &Response, call: &Call, token: Option<&str>) -> GitHubError {
    let message = crate::redact::redact(&api_message(&resp.body), token);
    // A 403 that still carries rate-limit hints outlasted the client's retries.
    let rate_limited =
        resp.header("retry-after").is_some() || resp.header("x-ratelimit-remaining") == Some("0");
    match resp.status {
        401 => GitHubError::BadToken,
        403 if rate_limited => GitHubError::Api {
            status: 403,
            message: format!(
                "{}: rate limit still exceeded after retrying: {message}",
                call.action
            ),
        },
        403 => GitHubError::MissingPermission {
            action: call.action.to_string(),
            hint: format!(
                "{message}; the token needs `{}` (workflow `permissions:` or the token's scopes)",
                call.needs.permission()
            ),
        },
        404 => GitHubError::NotFound {
            what: format!(
                "{} (GitHub: {message}; a token without `{}` on it gets the same answer)",
                call.what,
                call.needs.permission()
            ),
        },
        422 => GitHubError::Validation { message },
        status => GitHubError::Api { status, message },
    }
}

/// GitHub's `message` plus the details of its `errors` array, or the raw body when not JSON.
fn api_message(body: &str) -> String {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return body.chars().take(200).collect();
    };
    let mut parts: Vec<String> = value["message"]
        .as_str()
        .map(String::from)
        .into_iter()
        .collect();
    for error in value["errors"].as_array().into_iter().flatten() {
        let detail = match (error["message"].as_str(), error["code"].as_str()) {
            (Some(message), _) => message.to_string(),
            (None, Some(code)) => format!("{} {code}", error["field"].as_str().unwrap_or("")),
            (None, None) => continue,
        };
        parts.push(detail.trim().to_string());
    }
    parts.join(": ")
}

fn pull_request(value: &Value) -> Result<PullRequest, GitHubError> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let number = value["number"].as_u64().ok_or_else(|| GitHubError::Api {
        status: 200,
        message: "pull request without a number in GitHub's answer".into(),
    })?;
    Ok(PullRequest {
        number,
        html_url: text(&value["html_url"]),
        title: text(&value["title"]),
        body: text(&value["body"]),
        labels: value["labels"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| text(&l["name"]))
            .collect(),
        head_ref: text(&value["head"]["ref"]),
    })
}

fn labelled_issue(value: &Value) -> Result<LabelledIssue, GitHubError> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let number = value["number"].as_u64().ok_or_else(|| GitHubError::Api {
        status: 200,
        message: "issue without a number in GitHub's answer".into(),
    })?;
    let pull = value.get("pull_request").filter(|p| p.is_object());
    Ok(LabelledIssue {
        number,
        html_url: text(&value["html_url"]).unwrap_or_default(),
        title: text(&value["title"]).unwrap_or_default(),
        body: text(&value["body"]).unwrap_or_default(),
        state: text(&value["state"]).unwrap_or_default(),
        is_pull_request: pull.is_some(),
        created_at: text(&value["created_at"]),
        merged_at: pull.and_then(|p| text(&p["merged_at"])),
    })
}

/// Percent-encodes one path segment or query value (RFC 3986 unreserved characters stay).
fn escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_message_joins_message_and_error_details() {
        let body = r#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for o:b."}]}"#;
        assert_eq!(
            api_message(body),
            "Validation Failed: A pull request already exists for o:b."
        );
        let body = r#"{"message":"Validation Failed","errors":[{"resource":"Label","code":"already_exists","field":"name"}]}"#;
        assert_eq!(api_message(body), "Validation Failed: name already_exists");
        assert_eq!(api_message("<html>"), "<html>");
    }

    #[test]
    fn escape_keeps_unreserved_and_encodes_the_rest() {
        assert_eq!(escape("patcher/dev/a b&c"), "patcher%2Fdev%2Fa%20b%26c");
        assert_eq!(escape("v1.2.3-rc_1~x"), "v1.2.3-rc_1~x");
    }
}
