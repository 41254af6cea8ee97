//! A stateful GitHub REST API server on 127.0.0.1 for tests: pull requests, issues, labels,
//! releases and repository dispatches, any number of repositories. Every request is checked against GitHub's
//! OpenAPI description (operation, query parameters, body schema): a request that breaks it gets
//! GitHub's 422 answer and is recorded in [`GitHubServer::violations`], so a test can assert that
//! the client speaks the real API. Answers are built from the description's own examples, so they
//! carry every documented field; they are validated too and mismatches are recorded the same way.

use crate::openapi::{self, Operation};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

const DOCS: &str = "https://docs.github.com/rest";

/// A pull request as the server holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pull {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    /// Branch name, without the `owner:` prefix.
    pub head: String,
    pub head_sha: String,
    pub base: String,
    /// `open` or `closed`.
    pub state: String,
    pub merged: bool,
    pub merge_commit_sha: Option<String>,
    pub labels: Vec<String>,
    /// Seconds since the epoch.
    pub created_at: u64,
    pub merged_at: Option<u64>,
}

/// An issue as the server holds it; issues and pull requests share one number sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    pub state_reason: Option<String>,
    pub labels: Vec<String>,
    /// Seconds since the epoch.
    pub created_at: u64,
    pub updated_at: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub name: String,
    pub color: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dispatch {
    pub event_type: String,
    pub client_payload: Value,
}

#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub method: String,
    /// Percent-decoded path, without the query.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Request headers except `Authorization`.
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub status: u16,
}

impl LoggedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Answers the next `times` requests whose method matches and whose path starts with
/// `path_prefix` with `status` (after authentication and schema checks).
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: String,
    pub path_prefix: String,
    pub times: usize,
    pub status: u16,
    pub retry_after: Option<u64>,
    pub message: String,
    /// `resource` and `code` of the `errors` entry of a 422 answer.
    pub error: (String, String),
}

impl Fault {
    pub fn new(method: &str, path_prefix: &str, status: u16) -> Fault {
        Fault {
            method: method.to_ascii_uppercase(),
            path_prefix: path_prefix.to_string(),
            times: 1,
            status,
            retry_after: None,
            message: format!("injected {status}"),
            error: ("PullRequest".into(), "custom".into()),
        }
    }

    /// For 422: the `errors[0]` entry's resource and code, e.g. `("Label", "already_exists")`.
    pub fn error(mut self, resource: &str, code: &str) -> Fault {
        self.error = (resource.into(), code.into());
        self
    }

    pub fn times(mut self, times: usize) -> Fault {
        self.times = times;
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> Fault {
        self.retry_after = Some(seconds);
        self
    }

    pub fn message(mut self, message: &str) -> Fault {
        self.message = message.to_string();
        self
    }
}

#[derive(Default)]
struct RepoState {
    pulls: Vec<Pull>,
    issues: Vec<Issue>,
    labels: Vec<Label>,
    dispatches: Vec<Dispatch>,
    releases: BTreeMap<String, String>,
}

#[derive(Default)]
struct State {
    repos: BTreeMap<String, RepoState>,
    faults: Vec<Fault>,
    /// Bare repositories standing for a repository's git side, by `owner/name`.
    origins: BTreeMap<String, PathBuf>,
    deny_writes: bool,
    /// Nodes per page of GraphQL tag listings (GitHub's largest is 100).
    graphql_page: usize,
    requests: Vec<LoggedRequest>,
    violations: Vec<String>,
    counter: u64,
}

impl State {
    fn repo(&mut self, full_name: &str) -> &mut RepoState {
        self.repos.entry(full_name.to_string()).or_default()
    }

    /// Issues and pull requests are numbered in one sequence, as on GitHub.
    fn next_number(&mut self, repo: &str) -> u64 {
        let repo = self.repo(repo);
        let pulls = repo.pulls.iter().map(|p| p.number);
        pulls
            .chain(repo.issues.iter().map(|i| i.number))
            .max()
            .unwrap_or(0)
            + 1
    }

    /// A fresh 40-hex id for commits the server invents (no git behind it).
    fn next_sha(&mut self) -> String {
        self.counter += 1;
        format!("{:040x}", 0xfa_c0_00_00_u64 + self.counter)
    }
}

struct Shared {
    state: Mutex<State>,
    token: String,
    base_url: String,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct GitHubServer {
    shared: Arc<Shared>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl GitHubServer {
    /// Starts the server; requests must carry `token` (`Bearer` or `token` scheme).
    pub fn start(token: &str) -> GitHubServer {
        let spec = openapi::github();
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1"));
        let port = server.server_addr().to_ip().expect("ip listener").port();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            token: token.to_string(),
            base_url: format!("http://127.0.0.1:{port}"),
        });
        let thread = {
            let (server, shared) = (server.clone(), shared.clone());
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    serve(&shared, spec, request);
                }
            })
        };
        GitHubServer {
            shared,
            server,
            thread: Some(thread),
        }
    }

    /// The API base URL, e.g. `http://127.0.0.1:PORT` (what `GITHUB_API_URL` holds).
    pub fn url(&self) -> &str {
        &self.shared.base_url
    }

    pub fn inject(&self, fault: Fault) {
        self.shared.lock().faults.push(fault);
    }

    /// Answers every write with 403 "Resource not accessible by integration", as GitHub does for
    /// a workflow token without the needed permission.
    pub fn deny_writes(&self, deny: bool) {
        self.shared.lock().deny_writes = deny;
    }

    /// Backs `repo` with a bare git repository: pull requests then need their head and base
    /// branches to exist there, report the head branch's real sha, and merging creates a real
    /// merge commit on the base branch (what a workflow triggered by the merge would check out).
    /// Its tags answer the GraphQL tag query (a module repository on github.com).
    pub fn attach_origin(&self, repo: &str, bare: &Path) {
        let mut state = self.shared.lock();
        state.origins.insert(repo.into(), bare.to_path_buf());
    }

    /// GraphQL pages hold at most `nodes` tags, so tests see pagination with a few tags.
    pub fn set_graphql_page(&self, nodes: usize) {
        self.shared.lock().graphql_page = nodes;
    }

    pub fn add_release(&self, repo: &str, tag: &str, body: &str) {
        let mut state = self.shared.lock();
        state.repo(repo).releases.insert(tag.into(), body.into());
    }

    /// Opens a pull request directly, as if someone else had.
    /// Panics when an attached origin lacks the head branch.
    pub fn open_pull(&self, repo: &str, head: &str, base: &str, title: &str, body: &str) -> u64 {
        let mut state = self.shared.lock();
        let head_sha = branch_sha(&mut state, repo, head).expect("head branch in the origin");
        create_pull(&mut state, repo, (head, &head_sha), base, title, Some(body)).number
    }

    /// Labels a pull request directly, as a person would.
    pub fn label_pull(&self, repo: &str, number: u64, labels: &[&str]) {
        let mut state = self.shared.lock();
        let names = labels.iter().map(|l| l.to_string()).collect();
        add_pull_labels(&mut state, repo, &number.to_string(), names).expect("pull request");
    }

    /// Merges a pull request directly, as a reviewer would. Returns the merge commit sha.
    pub fn merge(&self, repo: &str, number: u64) -> Option<String> {
        let mut state = self.shared.lock();
        merge_pull(&mut state, repo, number)
    }

    /// The webhook payload of a `pull_request` event for this pull request as it is now
    /// (`closed` once merged), for `GITHUB_EVENT_PATH`.
    pub fn pull_request_event(&self, repo: &str, number: u64) -> Option<Value> {
        let mut state = self.shared.lock();
        sync_heads(&mut state);
        let ctx = Ctx::new(&self.shared.base_url, repo);
        let repo_state = state.repo(repo);
        let pull = repo_state.pulls.iter().find(|p| p.number == number)?;
        let action = if pull.state == "open" {
            "opened"
        } else {
            "closed"
        };
        Some(json!({
            "action": action,
            "number": number,
            "pull_request": pull_json(&ctx, &repo_state.labels, pull),
            "repository": repository_json(&ctx),
            "sender": {"login": "octocat", "type": "User"},
        }))
    }

    /// The webhook payload of the `index`th `repository_dispatch` sent to `repo`.
    pub fn dispatch_event(&self, repo: &str, index: usize) -> Option<Value> {
        let dispatch = self.dispatches(repo).into_iter().nth(index)?;
        let ctx = Ctx::new(&self.shared.base_url, repo);
        Some(json!({
            "action": dispatch.event_type,
            "branch": "main",
            "client_payload": dispatch.client_payload,
            "repository": repository_json(&ctx),
            "sender": {"login": "octocat", "type": "User"},
        }))
    }

    pub fn pulls(&self, repo: &str) -> Vec<Pull> {
        let mut state = self.shared.lock();
        sync_heads(&mut state);
        state.repo(repo).pulls.clone()
    }

    pub fn pull(&self, repo: &str, number: u64) -> Option<Pull> {
        self.pulls(repo).into_iter().find(|p| p.number == number)
    }

    pub fn issues(&self, repo: &str) -> Vec<Issue> {
        self.shared.lock().repo(repo).issues.clone()
    }

    /// Opens an issue directly, as if someone else had; labels are created as needed.
    pub fn open_issue(&self, repo: &str, title: &str, body: &str, labels: &[&str]) -> u64 {
        let mut state = self.shared.lock();
        let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        create_issue(&mut state, repo, title, Some(body), &labels).number
    }

    /// Moves a pull request's creation (and merge) time `seconds` into the past.
    pub fn backdate_pull(&self, repo: &str, number: u64, seconds: u64) {
        let mut state = self.shared.lock();
        if let Some(pull) = state
            .repo(repo)
            .pulls
            .iter_mut()
            .find(|p| p.number == number)
        {
            pull.created_at = pull.created_at.saturating_sub(seconds);
            pull.merged_at = pull.merged_at.map(|t| t.saturating_sub(seconds));
        }
    }

    pub fn labels(&self, repo: &str) -> Vec<Label> {
        self.shared.lock().repo(repo).labels.clone()
    }

    pub fn dispatches(&self, repo: &str) -> Vec<Dispatch> {
        self.shared.lock().repo(repo).dispatches.clone()
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Every way a request (or the server's own answer) broke GitHub's description.
    pub fn violations(&self) -> Vec<String> {
        self.shared.lock().violations.clone()
    }
}

impl Drop for GitHubServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the server answers.
struct Answer {
    status: u16,
    body: Option<Value>,
    headers: Vec<(String, String)>,
}

impl Answer {
    fn json(status: u16, body: Value) -> Answer {
        Answer {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    fn empty(status: u16) -> Answer {
        Answer {
            status,
            body: None,
            headers: Vec::new(),
        }
    }

    fn error(status: u16, message: &str) -> Answer {
        Answer::json(
            status,
            json!({"message": message, "documentation_url": DOCS, "status": status.to_string()}),
        )
    }

    fn validation(resource: &str, code: &str, message: &str) -> Answer {
        let mut error = json!({"resource": resource, "code": code});
        if !message.is_empty() {
            error["message"] = json!(message);
        }
        Answer::json(
            422,
            json!({"message": "Validation Failed", "errors": [error], "documentation_url": DOCS}),
        )
    }

    fn not_found() -> Answer {
        Answer::error(404, "Not Found")
    }
}

/// The parts of a request the handlers look at.
struct Incoming {
    method: String,
    /// As sent (percent-encoded), so segments stay apart when a name holds `%2F`.
    raw_path: String,
    /// Percent-decoded.
    path: String,
    segments: Vec<String>,
    query: Vec<(String, String)>,
    raw_body: String,
    body: Option<Value>,
}

impl Incoming {
    fn read(request: &mut tiny_http::Request) -> Incoming {
        let mut raw_body = String::new();
        let _ = request.as_reader().read_to_string(&mut raw_body);
        let url = request.url().to_string();
        let (raw_path, query) = url.split_once('?').unwrap_or((&url, ""));
        let segments: Vec<String> = raw_path
            .trim_matches('/')
            .split('/')
            .map(|s| decode(s, false))
            .collect();
        Incoming {
            method: request.method().as_str().to_ascii_uppercase(),
            raw_path: raw_path.to_string(),
            path: format!("/{}", segments.join("/")),
            segments,
            query: parse_query(query),
            raw_body,
            body: None,
        }
    }
}

fn serve(shared: &Shared, spec: &openapi::Spec, mut request: tiny_http::Request) {
    let mut incoming = Incoming::read(&mut request);
    let mut authorization = None;
    let mut headers = Vec::new();
    for header in request.headers() {
        let value = header.value.as_str().to_string();
        if header.field.equiv("Authorization") {
            authorization = Some(value);
        } else {
            headers.push((header.field.as_str().as_str().to_string(), value));
        }
    }
    let mut state = shared.lock();
    let answer = match unsupported_version(&headers) {
        Some(answer) => answer,
        None => answer(
            shared,
            &mut state,
            spec,
            authorization.as_deref(),
            &mut incoming,
        ),
    };
    state.requests.push(LoggedRequest {
        method: incoming.method,
        path: incoming.path,
        query: incoming.query,
        headers,
        body: incoming.raw_body,
        status: answer.status,
    });
    drop(state);
    let _ = request.respond(to_response(answer));
}

fn answer(
    shared: &Shared,
    state: &mut State,
    spec: &openapi::Spec,
    authorization: Option<&str>,
    req: &mut Incoming,
) -> Answer {
    if !authorized(authorization, &shared.token) {
        return Answer::error(401, "Bad credentials");
    }
    // GraphQL is not part of the REST description: its one query is checked by `graphql`.
    if req.method == "POST" && req.path == "/graphql" {
        let page = match state.graphql_page {
            0 => crate::graphql::MAX_PAGE,
            n => n,
        };
        let (status, body) = crate::graphql::answer(&state.origins, page, &req.raw_body);
        return Answer::json(status, body);
    }
    let Some(op) = spec.operation(&req.method, &req.raw_path) else {
        let (method, path) = (&req.method, &req.path);
        state.violations.push(format!(
            "{method} {path}: no such operation in GitHub's REST API"
        ));
        return Answer::not_found();
    };
    if op.omitted() {
        state.violations.push(format!(
            "{} {}: {} is outside the committed OpenAPI subset (scripts/github-openapi-subset.py)",
            req.method, req.path, op.template
        ));
        return Answer::not_found();
    }
    match checked_body(spec, op, req) {
        Ok(body) => req.body = body,
        Err((problem, answer)) => {
            state
                .violations
                .push(format!("{} {}: {problem}", req.method, req.path));
            return answer;
        }
    }
    if let Some(answer) = take_fault(state, &req.method, &req.path) {
        return answer;
    }
    if state.deny_writes && req.method != "GET" {
        return Answer::error(403, "Resource not accessible by integration");
    }
    sync_heads(state);
    let answer = route(shared, state, req);
    record_response_violations(state, spec, op, req, &answer);
    answer
}

/// GitHub answers 400 to an API version it does not serve.
fn unsupported_version(headers: &[(String, String)]) -> Option<Answer> {
    let version = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("X-GitHub-Api-Version"))?;
    (version.1 != "2022-11-28")
        .then(|| Answer::error(400, &format!("API version {} is not supported.", version.1)))
}

fn authorized(header: Option<&str>, token: &str) -> bool {
    let Some(header) = header else { return false };
    let mut parts = header.splitn(2, ' ');
    let scheme = parts.next().unwrap_or_default();
    let value = parts.next().unwrap_or_default().trim();
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        && value == token
}

/// The parsed body, or what broke GitHub's description and GitHub's answer to that.
fn checked_body(
    spec: &openapi::Spec,
    op: Operation<'_>,
    req: &Incoming,
) -> Result<Option<Value>, (String, Answer)> {
    let mut problems = spec.query_violations(op, &req.query);
    let body = if req.raw_body.trim().is_empty() {
        None
    } else {
        match serde_json::from_str::<Value>(&req.raw_body) {
            Ok(value) => Some(value),
            Err(e) => {
                let answer = Answer::error(400, "Problems parsing JSON");
                return Err((format!("body is not JSON: {e}"), answer));
            }
        }
    };
    match (spec.request_schema(op), &body) {
        (Some((schema, _)), Some(value)) => problems.extend(spec.validate(schema, value)),
        (Some((_, true)), None) => problems.push("a JSON body is required".into()),
        (None, Some(_)) => problems.push("this operation takes no body".into()),
        _ => {}
    }
    if problems.is_empty() {
        return Ok(body);
    }
    let detail = problems.join("; ");
    let answer = Answer::error(422, &format!("Invalid request.\n\n{detail}"));
    Err((detail, answer))
}

fn take_fault(state: &mut State, method: &str, path: &str) -> Option<Answer> {
    let fault = state
        .faults
        .iter_mut()
        .find(|f| f.times > 0 && f.method == method && path.starts_with(&f.path_prefix))?;
    fault.times -= 1;
    let fault = fault.clone();
    let mut answer = if fault.status == 422 {
        Answer::validation(&fault.error.0, &fault.error.1, &fault.message)
    } else {
        Answer::error(fault.status, &fault.message)
    };
    if let Some(seconds) = fault.retry_after {
        answer
            .headers
            .push(("Retry-After".into(), seconds.to_string()));
    }
    Some(answer)
}

fn record_response_violations(
    state: &mut State,
    spec: &openapi::Spec,
    op: Operation<'_>,
    incoming: &Incoming,
    answer: &Answer,
) {
    let (Some(schema), Some(body)) = (spec.response_schema(op, answer.status), &answer.body) else {
        return;
    };
    for problem in spec.validate(schema, body) {
        state.violations.push(format!(
            "answer to {} {} ({}): {problem}",
            incoming.method, incoming.path, answer.status
        ));
    }
}

fn route(shared: &Shared, state: &mut State, req: &Incoming) -> Answer {
    let seg: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let ["repos", owner, name, rest @ ..] = seg.as_slice() else {
        return Answer::not_found();
    };
    let repo = format!("{owner}/{name}");
    let ctx = Ctx::new(&shared.base_url, &repo);
    match (req.method.as_str(), rest) {
        ("GET", ["pulls"]) => list_pulls(state, &ctx, req),
        ("POST", ["pulls"]) => post_pull(state, &ctx, req),
        ("GET", ["pulls", n]) => get_pull(state, &ctx, n, false),
        ("PATCH", ["pulls", n]) => patch_pull(state, &ctx, n, req),
        ("PUT", ["pulls", n, "merge"]) => put_merge(state, &repo, n, req),
        ("GET", ["labels"]) => {
            let all = state.repo(&repo).labels.iter().map(label_json).collect();
            paginate(&ctx, req, all)
        }
        ("GET", ["labels", label]) => get_label(state, &repo, label),
        ("POST", ["labels"]) => post_label(state, &repo, req),
        ("GET", ["issues"]) => list_issues(state, &ctx, req),
        ("POST", ["issues"]) => post_issue(state, &ctx, req),
        ("GET", ["issues", n]) => get_issue(state, &ctx, n),
        ("PATCH", ["issues", n]) => patch_issue(state, &ctx, n, req),
        ("GET", ["issues", n, "labels"]) => get_pull(state, &ctx, n, true),
        ("POST", ["issues", n, "labels"]) => post_issue_labels(state, &ctx, n, req),
        ("GET", ["releases", "tags", tag]) => get_release(state, &ctx, tag),
        ("POST", ["dispatches"]) => post_dispatch(state, &repo, req),
        _ => Answer::not_found(),
    }
}

/// The repository a request addresses.
struct Ctx<'a> {
    base_url: &'a str,
    repo: &'a str,
    owner: &'a str,
    name: &'a str,
}

impl<'a> Ctx<'a> {
    fn new(base_url: &'a str, repo: &'a str) -> Ctx<'a> {
        let (owner, name) = repo.split_once('/').unwrap_or((repo, repo));
        Ctx {
            base_url,
            repo,
            owner,
            name,
        }
    }
}

/// The `repository` object of webhook payloads, reduced to what workflows read.
fn repository_json(ctx: &Ctx<'_>) -> Value {
    json!({
        "full_name": ctx.repo,
        "name": ctx.name,
        "owner": {"login": ctx.owner},
        "default_branch": "main",
        "html_url": format!("https://github.com/{}", ctx.repo),
        "url": format!("{}/repos/{}", ctx.base_url, ctx.repo),
    })
}

fn list_pulls(state: &mut State, ctx: &Ctx<'_>, req: &Incoming) -> Answer {
    let wanted_state = query(req, "state").unwrap_or("open");
    let head = query(req, "head").map(|h| match h.split_once(':') {
        Some((owner, branch)) => (Some(owner.to_string()), branch.to_string()),
        None => (None, h.to_string()),
    });
    let base = query(req, "base");
    let repo = state.repo(ctx.repo);
    let items = repo
        .pulls
        .iter()
        .rev()
        .filter(|p| wanted_state == "all" || p.state == wanted_state)
        .filter(|p| match &head {
            Some((owner, branch)) => {
                owner
                    .as_deref()
                    .is_none_or(|o| o.eq_ignore_ascii_case(ctx.owner))
                    && &p.head == branch
            }
            None => true,
        })
        .filter(|p| base.is_none_or(|b| p.base == b))
        .map(|p| pull_json(ctx, &repo.labels, p))
        .collect();
    paginate(ctx, req, items)
}

fn post_pull(state: &mut State, ctx: &Ctx<'_>, req: &Incoming) -> Answer {
    let body = req.body.clone().unwrap_or_default();
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(String::from);
    let (Some(head), Some(base)) = (field("head"), field("base")) else {
        return Answer::validation("PullRequest", "missing_field", "");
    };
    let Some(title) = field("title") else {
        return Answer::validation("PullRequest", "missing_field", "title is required");
    };
    let head = head
        .split_once(':')
        .map_or(head.clone(), |(_, b)| b.to_string());
    let exists = state
        .repo(ctx.repo)
        .pulls
        .iter()
        .any(|p| p.state == "open" && p.head == head && p.base == base);
    if exists {
        let message = format!("A pull request already exists for {}:{head}.", ctx.owner);
        return Answer::validation("PullRequest", "custom", &message);
    }
    let Some(head_sha) = branch_sha(state, ctx.repo, &head) else {
        return Answer::validation("PullRequest", "invalid", "head: no such branch");
    };
    if state.origins.contains_key(ctx.repo) && branch_sha(state, ctx.repo, &base).is_none() {
        return Answer::validation("PullRequest", "invalid", "base: no such branch");
    }
    let head = (head.as_str(), head_sha.as_str());
    let pull = create_pull(
        state,
        ctx.repo,
        head,
        &base,
        &title,
        field("body").as_deref(),
    );
    let json = pull_json(ctx, &state.repo(ctx.repo).labels, &pull);
    let mut answer = Answer::json(201, json);
    let location = format!("{}/repos/{}/pulls/{}", ctx.base_url, ctx.repo, pull.number);
    answer.headers.push(("Location".into(), location));
    answer
}

fn create_pull(
    state: &mut State,
    repo: &str,
    (head, head_sha): (&str, &str),
    base: &str,
    title: &str,
    body: Option<&str>,
) -> Pull {
    let number = state.next_number(repo);
    let repo = state.repo(repo);
    let pull = Pull {
        number,
        title: title.into(),
        body: body.map(String::from),
        head: head.into(),
        head_sha: head_sha.into(),
        base: base.into(),
        state: "open".into(),
        merged: false,
        merge_commit_sha: None,
        labels: Vec::new(),
        created_at: now(),
        merged_at: None,
    };
    repo.pulls.push(pull.clone());
    pull
}

/// The pull request `number` (as written in the path).
fn find_pull<'a>(pulls: &'a mut [Pull], number: &str) -> Option<&'a mut Pull> {
    let number: u64 = number.parse().ok()?;
    pulls.iter_mut().find(|p| p.number == number)
}

fn get_pull(state: &mut State, ctx: &Ctx<'_>, number: &str, labels_only: bool) -> Answer {
    let repo = state.repo(ctx.repo);
    let Some(pull) = find_pull(&mut repo.pulls, number).map(|p| p.clone()) else {
        return Answer::not_found();
    };
    let json = pull_json(ctx, &repo.labels, &pull);
    Answer::json(
        200,
        if labels_only {
            json["labels"].clone()
        } else {
            json
        },
    )
}

fn patch_pull(state: &mut State, ctx: &Ctx<'_>, number: &str, req: &Incoming) -> Answer {
    let body = req.body.clone().unwrap_or_default();
    let text = |name: &str| body.get(name).and_then(Value::as_str).map(String::from);
    let repo = state.repo(ctx.repo);
    let Some(pull) = find_pull(&mut repo.pulls, number) else {
        return Answer::not_found();
    };
    pull.title = text("title").unwrap_or(pull.title.clone());
    pull.body = text("body").or(pull.body.take());
    pull.base = text("base").unwrap_or(pull.base.clone());
    pull.state = text("state").unwrap_or(pull.state.clone());
    let pull = pull.clone();
    Answer::json(200, pull_json(ctx, &repo.labels, &pull))
}

fn put_merge(state: &mut State, repo: &str, number: &str, req: &Incoming) -> Answer {
    let Ok(number) = number.parse() else {
        return Answer::not_found();
    };
    sync_heads(state);
    let Some(pull) = state.repo(repo).pulls.iter().find(|p| p.number == number) else {
        return Answer::not_found();
    };
    let expected = req.body.as_ref().and_then(|b| b["sha"].as_str());
    if expected.is_some_and(|sha| sha != pull.head_sha) {
        return Answer::error(
            409,
            "Head branch was modified. Review and try the merge again.",
        );
    }
    match merge_pull(state, repo, number) {
        Some(sha) => Answer::json(
            200,
            json!({"sha": sha, "merged": true, "message": "Pull Request successfully merged"}),
        ),
        None => Answer::error(405, "Pull Request is not mergeable"),
    }
}

/// Merges an open pull request; `None` when it is not open or does not merge cleanly.
fn merge_pull(state: &mut State, repo: &str, number: u64) -> Option<String> {
    sync_heads(state);
    let pull = state
        .repo(repo)
        .pulls
        .iter()
        .find(|p| p.number == number && p.state == "open")?
        .clone();
    let sha = match state.origins.get(repo) {
        Some(bare) => merge_in_origin(bare, &pull)?,
        None => state.next_sha(),
    };
    let stored = state
        .repo(repo)
        .pulls
        .iter_mut()
        .find(|p| p.number == number)?;
    stored.state = "closed".into();
    stored.merged = true;
    stored.merge_commit_sha = Some(sha.clone());
    stored.merged_at = Some(now());
    Some(sha)
}

/// A merge commit of head into base, as GitHub's merge button makes.
fn merge_in_origin(bare: &Path, pull: &Pull) -> Option<String> {
    let base_ref = format!("refs/heads/{}", pull.base);
    let base = git_in(bare, &["rev-parse", "--verify", "--quiet", &base_ref])?;
    let tree = git_in(bare, &["merge-tree", "--write-tree", &base, &pull.head_sha])?;
    let tree = tree.lines().next()?.to_string();
    let message = format!("Merge pull request #{} from {}", pull.number, pull.head);
    let parents = ["-p", &base, "-p", &pull.head_sha];
    let commit = git_in(
        bare,
        &[&["commit-tree", &tree][..], &parents, &["-m", &message]].concat(),
    )?;
    git_in(bare, &["update-ref", &base_ref, &commit, &base])?;
    Some(commit)
}

/// The branch's commit in the attached origin, or a made-up sha when none is attached.
fn branch_sha(state: &mut State, repo: &str, branch: &str) -> Option<String> {
    match state.origins.get(repo) {
        Some(bare) => {
            let full = format!("refs/heads/{branch}");
            git_in(bare, &["rev-parse", "--verify", "--quiet", &full])
        }
        None => Some(state.next_sha()),
    }
}

/// Open pull requests follow pushes to their head branch, as on GitHub.
fn sync_heads(state: &mut State) {
    let origins = state.origins.clone();
    for (repo, bare) in origins {
        let open = state
            .repo(&repo)
            .pulls
            .iter_mut()
            .filter(|p| p.state == "open");
        for pull in open {
            let full = format!("refs/heads/{}", pull.head);
            if let Some(sha) = git_in(&bare, &["rev-parse", "--verify", "--quiet", &full]) {
                pull.head_sha = sha;
            }
        }
    }
}

/// Trimmed stdout of a git command in a bare repository, `None` when it fails.
fn git_in(bare: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(bare)
        .args(["-c", "safe.directory=*"])
        .args(args)
        .env("GIT_AUTHOR_NAME", "GitHub")
        .env("GIT_AUTHOR_EMAIL", "noreply@github.com")
        .env("GIT_COMMITTER_NAME", "GitHub")
        .env("GIT_COMMITTER_EMAIL", "noreply@github.com")
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn get_label(state: &mut State, repo: &str, name: &str) -> Answer {
    let labels = &state.repo(repo).labels;
    match labels.iter().find(|l| l.name.eq_ignore_ascii_case(name)) {
        Some(label) => Answer::json(200, label_json(label)),
        None => Answer::not_found(),
    }
}

fn post_label(state: &mut State, repo: &str, req: &Incoming) -> Answer {
    let body = req.body.clone().unwrap_or_default();
    let name = body["name"].as_str().unwrap_or_default().to_string();
    let labels = &mut state.repo(repo).labels;
    if labels.iter().any(|l| l.name.eq_ignore_ascii_case(&name)) {
        return Answer::validation("Label", "already_exists", "");
    }
    let label = Label {
        name,
        color: body["color"].as_str().unwrap_or("ededed").to_string(),
        description: body["description"].as_str().map(String::from),
    };
    labels.push(label.clone());
    Answer::json(201, label_json(&label))
}

fn post_issue_labels(state: &mut State, ctx: &Ctx<'_>, number: &str, req: &Incoming) -> Answer {
    let body = req.body.clone().unwrap_or_default();
    let names: Vec<String> = body["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str().or_else(|| l["name"].as_str()))
        .map(String::from)
        .collect();
    let Some(pull) = add_pull_labels(state, ctx.repo, number, names) else {
        return Answer::not_found();
    };
    let repo = state.repo(ctx.repo);
    let on_pull: Vec<Value> = pull
        .labels
        .iter()
        .map(|name| labels_json(&repo.labels, name))
        .collect();
    Answer::json(200, Value::Array(on_pull))
}

/// Adds labels to a pull request as GitHub does, creating those the repository lacks; the pull
/// request as it is then, `None` when there is no such pull request.
fn add_pull_labels(
    state: &mut State,
    repo: &str,
    number: &str,
    names: Vec<String>,
) -> Option<Pull> {
    let repo = state.repo(repo);
    let pull = find_pull(&mut repo.pulls, number)?;
    for name in names {
        if !pull.labels.iter().any(|l| l.eq_ignore_ascii_case(&name)) {
            pull.labels.push(name.clone());
        }
        if !repo
            .labels
            .iter()
            .any(|l| l.name.eq_ignore_ascii_case(&name))
        {
            repo.labels.push(Label {
                name,
                color: "ededed".into(),
                description: None,
            });
        }
    }
    Some(pull.clone())
}

fn get_release(state: &mut State, ctx: &Ctx<'_>, tag: &str) -> Answer {
    let Some(body) = state.repo(ctx.repo).releases.get(tag).cloned() else {
        return Answer::not_found();
    };
    let mut release = openapi::github()
        .example("release")
        .cloned()
        .unwrap_or_else(|| json!({}));
    release["tag_name"] = json!(tag);
    release["name"] = json!(tag);
    release["body"] = json!(body);
    release["html_url"] = json!(format!(
        "https://github.com/{}/releases/tag/{tag}",
        ctx.repo
    ));
    release["url"] = json!(format!("{}/repos/{}/releases/1", ctx.base_url, ctx.repo));
    Answer::json(200, release)
}

fn post_dispatch(state: &mut State, repo: &str, req: &Incoming) -> Answer {
    let body = req.body.clone().unwrap_or_default();
    state.repo(repo).dispatches.push(Dispatch {
        event_type: body["event_type"].as_str().unwrap_or_default().to_string(),
        client_payload: body.get("client_payload").cloned().unwrap_or(json!({})),
    });
    Answer::empty(204)
}

/// Issues and pull requests in one list, as `GET /repos/{owner}/{repo}/issues` gives them:
/// filtered by state and by every label of `labels`, sorted by `sort`/`direction`.
fn list_issues(state: &mut State, ctx: &Ctx<'_>, req: &Incoming) -> Answer {
    let wanted_state = query(req, "state").unwrap_or("open");
    let wanted_labels: Vec<&str> = query(req, "labels")
        .map(|l| {
            l.split(',')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let matches = |item_state: &str, labels: &[String]| {
        (wanted_state == "all" || item_state == wanted_state)
            && wanted_labels
                .iter()
                .all(|w| labels.iter().any(|l| l.eq_ignore_ascii_case(w)))
    };
    let repo = state.repo(ctx.repo);
    let mut items: Vec<(u64, u64, Value)> = repo
        .issues
        .iter()
        .filter(|i| matches(&i.state, &i.labels))
        .map(|i| (i.created_at, i.updated_at, issue_json(ctx, &repo.labels, i)))
        .collect();
    for pull in repo.pulls.iter().filter(|p| matches(&p.state, &p.labels)) {
        let updated = pull.merged_at.unwrap_or(pull.created_at);
        items.push((
            pull.created_at,
            updated,
            pull_as_issue_json(ctx, &repo.labels, pull),
        ));
    }
    let by_updated = query(req, "sort") == Some("updated");
    items.sort_by_key(|(created, updated, item)| {
        let time = if by_updated { *updated } else { *created };
        (time, item["number"].as_u64().unwrap_or(0))
    });
    if query(req, "direction") != Some("asc") {
        items.reverse();
    }
    paginate(
        ctx,
        req,
        items.into_iter().map(|(_, _, item)| item).collect(),
    )
}

fn create_issue(
    state: &mut State,
    repo: &str,
    title: &str,
    body: Option<&str>,
    labels: &[String],
) -> Issue {
    let number = state.next_number(repo);
    let repo = state.repo(repo);
    for label in labels {
        ensure_repo_label(&mut repo.labels, label);
    }
    let created = now();
    let issue = Issue {
        number,
        title: title.into(),
        body: body.map(String::from),
        state: "open".into(),
        state_reason: None,
        labels: labels.to_vec(),
        created_at: created,
        updated_at: created,
    };
    repo.issues.push(issue.clone());
    issue
}

fn post_issue(state: &mut State, ctx: &Ctx<'_>, req: &Incoming) -> Answer {
    let body = req.body.clone().unwrap_or_default();
    let Some(title) = body["title"].as_str() else {
        return Answer::validation("Issue", "missing_field", "title is required");
    };
    let labels = label_names(&body["labels"]);
    let issue = create_issue(state, ctx.repo, title, body["body"].as_str(), &labels);
    let repo = state.repo(ctx.repo);
    let mut answer = Answer::json(201, issue_json(ctx, &repo.labels, &issue));
    let location = format!(
        "{}/repos/{}/issues/{}",
        ctx.base_url, ctx.repo, issue.number
    );
    answer.headers.push(("Location".into(), location));
    answer
}

fn get_issue(state: &mut State, ctx: &Ctx<'_>, number: &str) -> Answer {
    let repo = state.repo(ctx.repo);
    let number: Option<u64> = number.parse().ok();
    match repo.issues.iter().find(|i| Some(i.number) == number) {
        Some(issue) => Answer::json(200, issue_json(ctx, &repo.labels, issue)),
        None => Answer::not_found(),
    }
}

fn patch_issue(state: &mut State, ctx: &Ctx<'_>, number: &str, req: &Incoming) -> Answer {
    let body = req.body.clone().unwrap_or_default();
    let repo = state.repo(ctx.repo);
    let number: Option<u64> = number.parse().ok();
    let Some(issue) = repo.issues.iter_mut().find(|i| Some(i.number) == number) else {
        return Answer::not_found();
    };
    if let Some(title) = body["title"].as_str() {
        issue.title = title.into();
    }
    if let Some(text) = body.get("body") {
        issue.body = text.as_str().map(String::from);
    }
    if let Some(new_state) = body["state"].as_str() {
        if new_state != issue.state {
            issue.state = new_state.into();
            issue.state_reason = body["state_reason"].as_str().map(String::from);
        }
    }
    if body.get("labels").is_some() {
        issue.labels = label_names(&body["labels"]);
    }
    issue.updated_at = now();
    let issue = issue.clone();
    for label in &issue.labels {
        ensure_repo_label(&mut repo.labels, label);
    }
    Answer::json(200, issue_json(ctx, &repo.labels, &issue))
}

/// Label names of a request's `labels` (strings or `{name}` objects).
fn label_names(labels: &Value) -> Vec<String> {
    labels
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str().or_else(|| l["name"].as_str()))
        .map(String::from)
        .collect()
}

/// GitHub creates labels that the repository does not have yet.
fn ensure_repo_label(labels: &mut Vec<Label>, name: &str) {
    if !labels.iter().any(|l| l.name.eq_ignore_ascii_case(name)) {
        labels.push(Label {
            name: name.into(),
            color: "ededed".into(),
            description: None,
        });
    }
}

/// An issue in the documented shape: the description's example with our fields over it.
fn issue_json(ctx: &Ctx<'_>, labels: &[Label], issue: &Issue) -> Value {
    let mut out = openapi::github()
        .example("issue")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let Some(fields) = out.as_object_mut() {
        fields.remove("pull_request");
    }
    let api = format!("{}/repos/{}", ctx.base_url, ctx.repo);
    out["id"] = json!(issue.number * 1000 + 1);
    out["number"] = json!(issue.number);
    out["url"] = json!(format!("{api}/issues/{}", issue.number));
    out["repository_url"] = json!(api);
    out["html_url"] = json!(format!(
        "https://github.com/{}/issues/{}",
        ctx.repo, issue.number
    ));
    out["title"] = json!(issue.title);
    out["body"] = json!(issue.body);
    out["state"] = json!(issue.state);
    out["state_reason"] = json!(issue.state_reason);
    out["locked"] = json!(false);
    out["labels"] = issue
        .labels
        .iter()
        .map(|l| labels_json(labels, l))
        .collect();
    out["created_at"] = json!(timestamp(issue.created_at));
    out["updated_at"] = json!(timestamp(issue.updated_at));
    out["closed_at"] = match issue.state.as_str() {
        "closed" => json!(timestamp(issue.updated_at)),
        _ => Value::Null,
    };
    out
}

/// A pull request as the issues listing shows it: an issue with a `pull_request` object.
fn pull_as_issue_json(ctx: &Ctx<'_>, labels: &[Label], pull: &Pull) -> Value {
    let as_issue = Issue {
        number: pull.number,
        title: pull.title.clone(),
        body: pull.body.clone(),
        state: pull.state.clone(),
        state_reason: None,
        labels: pull.labels.clone(),
        created_at: pull.created_at,
        updated_at: pull.merged_at.unwrap_or(pull.created_at),
    };
    let mut out = issue_json(ctx, labels, &as_issue);
    let api = format!("{}/repos/{}", ctx.base_url, ctx.repo);
    let html = format!("https://github.com/{}/pull/{}", ctx.repo, pull.number);
    out["html_url"] = json!(html);
    out["pull_request"] = json!({
        "url": format!("{api}/pulls/{}", pull.number),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "merged_at": pull.merged_at.map(timestamp),
    });
    out
}

/// Seconds since the epoch, now.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// RFC 3339 UTC, as GitHub writes times (`2026-01-01T00:00:00Z`).
pub fn timestamp(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn label_json(label: &Label) -> Value {
    let mut out = openapi::github()
        .example("label")
        .cloned()
        .unwrap_or_else(|| json!({}));
    out["name"] = json!(label.name);
    out["color"] = json!(label.color);
    out["description"] = json!(label.description);
    out["default"] = json!(false);
    out
}

fn labels_json(labels: &[Label], name: &str) -> Value {
    match labels.iter().find(|l| l.name.eq_ignore_ascii_case(name)) {
        Some(label) => label_json(label),
        None => label_json(&Label {
            name: name.into(),
            color: "ededed".into(),
            description: None,
        }),
    }
}

/// A pull request in the documented shape: the description's example with our fields over it.
fn pull_json(ctx: &Ctx<'_>, labels: &[Label], pull: &Pull) -> Value {
    let mut out = openapi::github()
        .example("pull-request")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let api = format!("{}/repos/{}", ctx.base_url, ctx.repo);
    out["id"] = json!(pull.number * 1000);
    out["number"] = json!(pull.number);
    out["url"] = json!(format!("{api}/pulls/{}", pull.number));
    out["html_url"] = json!(format!(
        "https://github.com/{}/pull/{}",
        ctx.repo, pull.number
    ));
    out["title"] = json!(pull.title);
    out["body"] = json!(pull.body);
    out["state"] = json!(pull.state);
    out["draft"] = json!(false);
    out["locked"] = json!(false);
    out["merged"] = json!(pull.merged);
    out["merge_commit_sha"] = json!(pull.merge_commit_sha);
    out["merged_at"] = json!(pull.merged_at.map(timestamp));
    out["created_at"] = json!(timestamp(pull.created_at));
    out["updated_at"] = json!(timestamp(pull.merged_at.unwrap_or(pull.created_at)));
    out["closed_at"] = out["merged_at"].clone();
    out["requested_teams"] = json!([]);
    // Labels inside pull requests document `description` as a string, never null.
    out["labels"] = pull
        .labels
        .iter()
        .map(|l| {
            let mut label = labels_json(labels, l);
            if label["description"].is_null() {
                label["description"] = json!("");
            }
            label
        })
        .collect();
    for (side, branch, sha) in [
        ("head", &pull.head, pull.head_sha.as_str()),
        ("base", &pull.base, ""),
    ] {
        out[side]["ref"] = json!(branch);
        out[side]["label"] = json!(format!("{}:{branch}", ctx.owner));
        if !sha.is_empty() {
            out[side]["sha"] = json!(sha);
        }
        out[side]["repo"]["full_name"] = json!(ctx.repo);
        out[side]["repo"]["name"] = json!(ctx.name);
        out[side]["repo"]["owner"]["login"] = json!(ctx.owner);
    }
    out
}

/// One page of a list, with GitHub's `Link` header when there are more.
fn paginate(ctx: &Ctx<'_>, req: &Incoming, items: Vec<Value>) -> Answer {
    let per_page: usize = query(req, "per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page: usize = query(req, "page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let start = (page - 1) * per_page;
    let slice: Vec<Value> = items.into_iter().skip(start).take(per_page).collect();
    let mut answer = Answer::json(200, Value::Array(slice));
    if page < last {
        let link = |p: usize, rel: &str| {
            let mut query: Vec<(String, String)> = req
                .query
                .iter()
                .filter(|(k, _)| k != "page")
                .cloned()
                .collect();
            query.push(("page".into(), p.to_string()));
            let qs: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            format!(
                "<{}{}?{}>; rel=\"{rel}\"",
                ctx.base_url,
                req.path,
                qs.join("&")
            )
        };
        let header = format!("{}, {}", link(page + 1, "next"), link(last, "last"));
        answer.headers.push(("Link".into(), header));
    }
    answer
}

fn query<'a>(req: &'a Incoming, name: &str) -> Option<&'a str> {
    req.query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn to_response(answer: Answer) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let text = answer.body.map(|b| b.to_string()).unwrap_or_default();
    let mut response = tiny_http::Response::from_string(text).with_status_code(answer.status);
    let mut headers = answer.headers;
    headers.push((
        "Content-Type".into(),
        "application/json; charset=utf-8".into(),
    ));
    headers.push(("X-GitHub-Api-Version-Selected".into(), "2022-11-28".into()));
    for (name, value) in headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(header);
        }
    }
    response
}

/// Decoded `name=value` pairs of a query string.
fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k, true), decode(v, true))
        })
        .collect()
}

fn decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (b'+', _) if plus_is_space => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
