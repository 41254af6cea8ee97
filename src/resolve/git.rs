//! Tags of a git repository on any host, through the git CLI; for `minimum_release_age`, the
//! dates of a github.com repository's tags through GitHub's GraphQL API.

use super::{ResolveError, ResolveSettings};
use crate::cooldown::{parse_time, Dates};
use crate::gitcmd;
use crate::http::Client;
use crate::model::Listed;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

const ATTEMPTS: u32 = 3;
const FIRST_DELAY: Duration = Duration::from_millis(500);

/// Tags of `url` as `git ls-remote` lists them (sorted by git, not filtered), each with the
/// commit it points at.
pub fn list_tags(url: &str, token: Option<&str>) -> Result<Vec<Listed>, ResolveError> {
    let remote = remote_url(url, token);
    let mut attempt = 1;
    loop {
        match ls_remote(&remote, token) {
            Err(Failure::Transient(_)) if attempt < ATTEMPTS => {
                std::thread::sleep(FIRST_DELAY * 2u32.pow(attempt - 1));
                attempt += 1;
            }
            Err(failure) => return Err(failure.into_error(url)),
            Ok(stdout) => return Ok(parse_tags(&stdout)),
        }
    }
}

/// With a token, github.com ssh addresses are fetched over https, where the token header
/// applies (a runner usually has no ssh key). Without one, the user's ssh setup is used.
fn remote_url(url: &str, token: Option<&str>) -> String {
    if token.is_some_and(|t| !t.is_empty()) {
        for prefix in ["git@github.com:", "ssh://git@github.com/"] {
            if let Some(path) = url.strip_prefix(prefix) {
                return format!("https://github.com/{path}");
            }
        }
    }
    url.to_string()
}

/// Sources come from files anyone may edit in a pull request: never run a command through the
/// `ext::` transport, and give up on a stalled HTTP transfer instead of hanging the run.
const HARDENING: [&str; 6] = [
    "-c",
    "protocol.ext.allow=never",
    "-c",
    "http.lowSpeedLimit=1",
    "-c",
    "http.lowSpeedTime=60",
];

enum Failure {
    NotFound,
    Transient(String),
    Other(String),
}

impl Failure {
    fn into_error(self, url: &str) -> ResolveError {
        match self {
            Failure::NotFound => ResolveError::RepositoryNotFound {
                url: crate::redact::redact(url, None),
            },
            Failure::Transient(message) | Failure::Other(message) => ResolveError::Git {
                url: crate::redact::redact(url, None),
                message,
            },
        }
    }
}

fn ls_remote(remote: &str, token: Option<&str>) -> Result<String, Failure> {
    let output = gitcmd::git(token)
        .args(HARDENING)
        .args(["ls-remote", "--tags", "--", remote])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| Failure::Other(format!("cannot run git: {e}")))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let stderr = crate::redact::redact(&String::from_utf8_lossy(&output.stderr), token);
    Err(classify(&stderr))
}

fn classify(stderr: &str) -> Failure {
    let lower = stderr.to_ascii_lowercase();
    const NOT_FOUND: &[&str] = &[
        "not found",
        "does not exist",
        "does not appear to be a git repository",
        "authentication failed",
        "could not read username",
        "permission denied",
    ];
    const TRANSIENT: &[&str] = &[
        "could not resolve host",
        "empty reply from server",
        "returned error: 5",
        "returned error: 429",
        "connection reset",
        "connection refused",
        "connection timed out",
        "operation timed out",
        "early eof",
        "the remote end hung up unexpectedly",
        "temporary failure",
        "operation too slow",
    ];
    if NOT_FOUND.iter().any(|p| lower.contains(p)) {
        Failure::NotFound
    } else if TRANSIENT.iter().any(|p| lower.contains(p)) {
        Failure::Transient(summary(stderr))
    } else {
        Failure::Other(summary(stderr))
    }
}

/// git's own diagnostics (`ssh:`, `fatal:`, `error:`, `remote:` lines) are the cause; the
/// advice lines around them are not. Without diagnostics, the last line is the best there is.
fn summary(stderr: &str) -> String {
    const CAUSES: [&str; 4] = ["ssh: ", "fatal: ", "error: ", "remote: "];
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let causes: Vec<&str> = lines
        .iter()
        .filter(|l| CAUSES.iter().any(|c| l.starts_with(c)))
        .map(|l| l.trim_start_matches("fatal: "))
        .collect();
    match (causes.is_empty(), lines.last()) {
        (false, _) => causes.join("; "),
        (true, Some(last)) => last.to_string(),
        (true, None) => "git ls-remote failed".to_string(),
    }
}

/// Every tag of a repository with the tagger's date (annotated tags) or the commit's date
/// (lightweight tags), 100 per page: one query per repository, whatever its number of tags.
const TAG_DATES_QUERY: &str = "query($owner: String!, $name: String!, $cursor: String) { \
  repository(owner: $owner, name: $name) { \
    refs(refPrefix: \"refs/tags/\", first: 100, after: $cursor) { \
      pageInfo { hasNextPage endCursor } \
      nodes { name target { __typename \
        ... on Tag { tagger { date } } \
        ... on Commit { committedDate } } } } } }";

/// A tag answers pages at most this many times; more means a misbehaving server.
const MAX_TAG_PAGES: usize = 100;

#[derive(Deserialize)]
struct GraphQlAnswer {
    data: Option<TagData>,
    #[serde(default)]
    errors: Vec<GraphQlError>,
}

#[derive(Deserialize)]
struct GraphQlError {
    message: String,
}

#[derive(Deserialize)]
struct TagData {
    repository: Option<TagRepository>,
}

#[derive(Deserialize)]
struct TagRepository {
    refs: TagRefs,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagRefs {
    page_info: PageInfo,
    nodes: Vec<TagNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
struct TagNode {
    name: String,
    target: Option<TagTarget>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagTarget {
    tagger: Option<Tagger>,
    committed_date: Option<String>,
}

#[derive(Deserialize)]
struct Tagger {
    date: Option<String>,
}

impl TagNode {
    fn date(&self) -> Option<u64> {
        let target = self.target.as_ref()?;
        let text = target
            .tagger
            .as_ref()
            .and_then(|t| t.date.as_deref())
            .or(target.committed_date.as_deref())?;
        parse_time(text)
    }
}

/// The date of every tag of `github_repo` (`owner/name`) that has one.
pub fn tag_dates(
    client: &Client,
    config: &ResolveSettings,
    github_repo: &str,
) -> Result<Dates, ResolveError> {
    let failed = |message: String| ResolveError::Git {
        url: format!("https://github.com/{github_repo}"),
        message,
    };
    let Some(token) = config.github_token.as_deref() else {
        return Err(failed(
            "tag dates need a GitHub token (GraphQL API); none is set".into(),
        ));
    };
    let (owner, name) = github_repo
        .split_once('/')
        .ok_or_else(|| failed("not an owner/name repository".into()))?;
    let url = config.github_graphql_url();
    let headers = [("Authorization", format!("Bearer {token}"))];
    let mut dates = Dates::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_TAG_PAGES {
        let body = json!({
            "query": TAG_DATES_QUERY,
            "variables": {"owner": owner, "name": name, "cursor": cursor},
        })
        .to_string();
        let resp = client
            .send("POST", &url, &headers, Some(&body))
            .map_err(|e| failed(crate::redact::redact(&e.to_string(), Some(token))))?;
        if resp.status != 200 {
            return Err(failed(format!(
                "GitHub GraphQL API answered HTTP {}",
                resp.status
            )));
        }
        let refs = parse_tag_page(&resp.body).map_err(failed)?;
        dates.extend(
            refs.nodes
                .iter()
                .filter_map(|n| Some((n.name.clone(), n.date()?))),
        );
        match (refs.page_info.has_next_page, refs.page_info.end_cursor) {
            (true, Some(next)) => cursor = Some(next),
            _ => return Ok(dates),
        }
    }
    Err(failed(format!(
        "GitHub GraphQL API kept paging after {MAX_TAG_PAGES} pages"
    )))
}

fn parse_tag_page(body: &str) -> Result<TagRefs, String> {
    let answer: GraphQlAnswer =
        serde_json::from_str(body).map_err(|e| format!("invalid GitHub GraphQL answer: {e}"))?;
    if let Some(error) = answer.errors.first() {
        return Err(format!("GitHub GraphQL API: {}", error.message));
    }
    answer
        .data
        .and_then(|d| d.repository)
        .map(|r| r.refs)
        .ok_or_else(|| "GitHub GraphQL API: no such repository".to_string())
}

/// Without `--refs`, git lists an annotated tag twice: the tag object, then `name^{}` with the
/// commit it peels to, which is the id a `?ref=<commit>` pin writes.
fn parse_tags(stdout: &str) -> Vec<Listed> {
    let mut tags: Vec<Listed> = Vec::new();
    for (commit, name) in stdout
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .filter_map(|(commit, r)| Some((commit, r.strip_prefix("refs/tags/")?)))
    {
        match name.strip_suffix("^{}") {
            Some(tag) => match tags.iter_mut().rev().find(|t| t.name == tag) {
                Some(listed) => listed.commit = Some(commit.to_string()),
                None => tags.push(tagged(tag, commit)),
            },
            None => tags.push(tagged(name, commit)),
        }
    }
    tags
}

fn tagged(name: &str, commit: &str) -> Listed {
    Listed {
        name: name.to_string(),
        commit: Some(commit.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_keeps_git_diagnostics_and_drops_advice() {
        let stderr = "ssh: Could not resolve hostname github.com: Name or service not known\r\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n";
        assert_eq!(
            summary(stderr),
            "ssh: Could not resolve hostname github.com: Name or service not known; Could not read from remote repository."
        );
        assert_eq!(summary("something odd\n"), "something odd");
    }

    #[test]
    fn github_ssh_addresses_use_https_only_with_a_token() {
        for url in ["git@github.com:o/r.git", "ssh://git@github.com/o/r.git"] {
            assert_eq!(remote_url(url, Some("t")), "https://github.com/o/r.git");
            assert_eq!(remote_url(url, None), url);
            assert_eq!(remote_url(url, Some("")), url);
        }
        let other = "git@gitlab.com:o/r.git";
        assert_eq!(remote_url(other, Some("t")), other);
    }

    #[test]
    fn tags_are_read_from_ls_remote_output() {
        let out = "aaa\trefs/tags/v1.0.0\nbbb\trefs/tags/release/2\nccc\trefs/tags/release/2^{}\nddd\trefs/heads/main\n";
        assert_eq!(
            parse_tags(out),
            [tagged("v1.0.0", "aaa"), tagged("release/2", "ccc")]
        );
    }

    #[test]
    fn tag_dates_come_from_the_tagger_else_the_commit() {
        let page = r#"{"data":{"repository":{"refs":{"pageInfo":{"hasNextPage":false,"endCursor":null},"nodes":[
            {"name":"v1.0.0","target":{"__typename":"Tag","tagger":{"date":"2026-01-01T02:00:00+02:00"}}},
            {"name":"v1.1.0","target":{"__typename":"Commit","committedDate":"2026-01-02T00:00:00Z"}},
            {"name":"odd","target":{"__typename":"Blob"}}]}}}}"#;
        let refs = parse_tag_page(page).unwrap();
        let dates: Vec<Option<u64>> = refs.nodes.iter().map(TagNode::date).collect();
        assert_eq!(
            dates,
            [Some(1_767_225_600), Some(1_767_312_000), None],
            "{dates:?}"
        );
        let missing = r#"{"data":{"repository":null},"errors":[{"type":"NOT_FOUND","message":"Could not resolve to a Repository with the name 'o/x'."}]}"#;
        assert!(matches!(parse_tag_page(missing), Err(e) if e.contains("Could not resolve")));
        assert!(parse_tag_page("<html>").is_err());
    }

    #[test]
    fn failures_are_classified_by_stderr() {
        let missing = "remote: Repository not found.\nfatal: repository 'https://github.com/o/x.git/' not found\n";
        assert!(matches!(classify(missing), Failure::NotFound));
        let dns = "fatal: unable to access 'https://github.com/o/r.git/': Could not resolve host: github.com\n";
        assert!(
            matches!(classify(dns), Failure::Transient(m) if m.contains("Could not resolve host"))
        );
        assert!(matches!(
            classify("fatal: early EOF\n"),
            Failure::Transient(_)
        ));
        assert!(
            matches!(classify("fatal: protocol error: bad line\n"), Failure::Other(m) if m == "protocol error: bad line")
        );
    }
}
