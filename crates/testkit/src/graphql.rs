//! The one GraphQL query patcher sends to GitHub (`POST /graphql`): a repository's tags with
//! their dates, paginated, answered from the tags of the bare repository attached to it
//! ([`crate::github::GitHubServer::attach_origin`]). Shapes follow GitHub's GraphQL schema:
//! `Ref.target` is a `Tag` (annotated: `tagger.date`, a GitTimestamp with the tagger's offset)
//! or a `Commit` (lightweight: `committedDate`, UTC); errors come with HTTP 200.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// GitHub's largest page.
pub const MAX_PAGE: usize = 100;

/// The answer to `body` (the request's JSON). `page` bounds the nodes per page.
pub fn answer(origins: &BTreeMap<String, PathBuf>, page: usize, body: &str) -> (u16, Value) {
    let Ok(request) = serde_json::from_str::<Value>(body) else {
        return (400, json!({"message": "Problems parsing JSON"}));
    };
    let query = request["query"].as_str().unwrap_or_default();
    if let Some(problem) = unsupported(query) {
        return (200, json!({"errors": [{"message": problem}]}));
    }
    let variables = &request["variables"];
    let (Some(owner), Some(name)) = (variables["owner"].as_str(), variables["name"].as_str())
    else {
        return (
            200,
            json!({"errors": [{"message": "Variable $owner and $name are required"}]}),
        );
    };
    let repo = format!("{owner}/{name}");
    let Some(bare) = origins.get(&repo) else {
        let message = format!("Could not resolve to a Repository with the name '{repo}'.");
        return (
            200,
            json!({"data": {"repository": null},
                   "errors": [{"type": "NOT_FOUND", "path": ["repository"], "message": message}]}),
        );
    };
    let start = match variables["cursor"].as_str() {
        None => 0,
        Some(cursor) => match cursor.strip_prefix("cursor:").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => {
                return (
                    200,
                    json!({"errors": [{"message": "`after` is not a valid cursor"}]}),
                )
            }
        },
    };
    let tags = tags_of(bare);
    let size = page.clamp(1, MAX_PAGE);
    let end = (start + size).min(tags.len());
    let nodes: Vec<Value> = tags.get(start..end).unwrap_or_default().to_vec();
    let has_next = end < tags.len();
    let refs = json!({
        "pageInfo": {"hasNextPage": has_next, "endCursor": has_next.then(|| format!("cursor:{end}"))},
        "nodes": nodes,
    });
    (200, json!({"data": {"repository": {"refs": refs}}}))
}

/// Patcher's query must ask for tags (`refPrefix: "refs/tags/"`), both kinds of date and the
/// page information; anything else is not what this server knows how to answer.
fn unsupported(query: &str) -> Option<String> {
    let compact: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
    let needed = [
        "repository(owner: $owner, name: $name)",
        "refs(refPrefix: \"refs/tags/\"",
        "after: $cursor",
        "pageInfo { hasNextPage endCursor }",
        "... on Tag { tagger { date } }",
        "... on Commit { committedDate }",
    ];
    let missing: Vec<&str> = needed
        .into_iter()
        .filter(|n| !compact.contains(n))
        .collect();
    (!missing.is_empty()).then(|| format!("unsupported query: missing {missing:?}"))
}

/// `{name, target}` of every tag, sorted by name as GitHub sorts refs (alphabetically).
fn tags_of(bare: &Path) -> Vec<Value> {
    let format = "%(refname:strip=2)%09%(objecttype)%09%(taggerdate:iso-strict)%09\
                  %(committerdate:format-local:%Y-%m-%dT%H:%M:%SZ)";
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(bare)
        .args(["for-each-ref", &format!("--format={format}"), "refs/tags"])
        .env("TZ", "UTC")
        .output()
        .expect("run git for-each-ref");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let [name, kind, tagger, committed] = fields.as_slice() else {
                return None;
            };
            let target = match *kind {
                "tag" => json!({"__typename": "Tag", "tagger": {"date": tagger}}),
                _ => json!({"__typename": "Commit", "committedDate": committed}),
            };
            Some(json!({"name": name, "target": target}))
        })
        .collect()
}
