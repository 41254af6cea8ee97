//! A Terraform module registry on 127.0.0.1, following the module registry protocol:
//! service discovery (`GET /.well-known/terraform.json` -> `{"modules.v1":"/v1/modules/"}`)
//! and `GET /v1/modules/{namespace}/{name}/{provider}/versions`; with publication dates
//! ([`Registry::add_dated`]), also the registry API's per-version document
//! (`GET /v1/modules/{namespace}/{name}/{provider}/{version}`, `published_at`) and, for a
//! registry standing in for OpenTofu's, its documentation API's module document
//! (`GET /registry/docs/modules/{namespace}/{name}/{target}/index.json`, `versions[].published`).
//!
//! Modules and versions can be added while it runs (a new release). Tests can inject faults
//! ([`Registry::fail_next`]), slow every answer down ([`Registry::set_latency`]), require a
//! bearer token on module endpoints ([`Registry::require_token`]) and read the request log.
//! Each request is answered on its own thread, so latency does not serialise clients.

use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;
use tiny_http::{Header, Response, Server};

const MODULES_PREFIX: &str = "/v1/modules/";
const OPENTOFU_DOCS_PREFIX: &str = "/registry/docs/modules/";

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
}

#[derive(Debug, Clone)]
struct Fault {
    remaining: usize,
    status: u16,
    retry_after: Option<u64>,
}

#[derive(Debug, Default)]
struct State {
    /// "ns/name/provider" -> versions in insertion order.
    modules: BTreeMap<String, Vec<String>>,
    /// ("ns/name/provider", version) -> `published_at`, RFC 3339.
    published: BTreeMap<(String, String), String>,
    faults: HashMap<String, Fault>,
    latency: Duration,
    token: Option<String>,
    log: Vec<LoggedRequest>,
}

/// The running server; stops when dropped.
pub struct Registry {
    server: Arc<Server>,
    state: Arc<Mutex<State>>,
    acceptor: Option<JoinHandle<()>>,
    port: u16,
}

impl Registry {
    /// Starts an empty registry on a free port of 127.0.0.1.
    pub fn start() -> Registry {
        let server = Arc::new(Server::http("127.0.0.1:0").expect("cannot bind 127.0.0.1"));
        let port = server
            .server_addr()
            .to_ip()
            .expect("listening on an IP address")
            .port();
        let state = Arc::new(Mutex::new(State::default()));
        let acceptor = {
            let (server, state) = (server.clone(), state.clone());
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    let state = state.clone();
                    std::thread::spawn(move || handle(request, &state));
                }
            })
        };
        Registry {
            server,
            state,
            acceptor: Some(acceptor),
            port,
        }
    }

    /// `http://127.0.0.1:PORT`: the base URL to map a registry host to.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Adds a module (if new) with these versions appended.
    pub fn add_module(&self, namespace: &str, name: &str, provider: &str, versions: &[&str]) {
        let mut state = self.state();
        let entry = state
            .modules
            .entry(format!("{namespace}/{name}/{provider}"))
            .or_default();
        entry.extend(versions.iter().map(|v| v.to_string()));
    }

    /// Adds versions with their publication times (RFC 3339, e.g. `2026-01-01T00:00:00.000Z`).
    pub fn add_dated(
        &self,
        namespace: &str,
        name: &str,
        provider: &str,
        versions: &[(&str, &str)],
    ) {
        let plain: Vec<&str> = versions.iter().map(|(v, _)| *v).collect();
        self.add_module(namespace, name, provider, &plain);
        let address = format!("{namespace}/{name}/{provider}");
        let mut state = self.state();
        for (version, published) in versions {
            state.published.insert(
                (address.clone(), version.to_string()),
                published.to_string(),
            );
        }
    }

    /// Path of a module's versions endpoint, e.g. for [`Registry::fail_next`].
    pub fn versions_path(namespace: &str, name: &str, provider: &str) -> String {
        format!("{MODULES_PREFIX}{namespace}/{name}/{provider}/versions")
    }

    /// The next `count` requests to `path` answer `status` (e.g. 500, 429), with a
    /// `Retry-After: retry_after` header when given.
    pub fn fail_next(&self, path: &str, count: usize, status: u16, retry_after: Option<u64>) {
        self.state().faults.insert(
            path.to_string(),
            Fault {
                remaining: count,
                status,
                retry_after,
            },
        );
    }

    /// Every answer waits this long first.
    pub fn set_latency(&self, latency: Duration) {
        self.state().latency = latency;
    }

    /// Module endpoints answer 401 unless `Authorization: Bearer <token>` is sent.
    pub fn require_token(&self, token: &str) {
        self.state().token = Some(token.to_string());
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state().log.clone()
    }

    /// How many requests were made to `path`.
    pub fn request_count(&self, path: &str) -> usize {
        self.state().log.iter().filter(|r| r.path == path).count()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

struct Answer {
    status: u16,
    body: serde_json::Value,
    retry_after: Option<u64>,
}

impl Answer {
    fn json(status: u16, body: serde_json::Value) -> Answer {
        Answer {
            status,
            body,
            retry_after: None,
        }
    }
}

fn handle(request: tiny_http::Request, state: &Mutex<State>) {
    let path = request
        .url()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    let logged = LoggedRequest {
        method: request.method().to_string(),
        path: path.clone(),
        authorization: request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Authorization"))
            .map(|h| h.value.to_string()),
    };
    let (answer, latency) = {
        let mut state = lock(state);
        state.log.push(logged.clone());
        (answer(&mut state, &logged), state.latency)
    };
    std::thread::sleep(latency);
    let mut response = Response::from_string(answer.body.to_string())
        .with_status_code(answer.status)
        .with_header(header("Content-Type", "application/json"));
    if let Some(seconds) = answer.retry_after {
        response.add_header(header("Retry-After", &seconds.to_string()));
    }
    let _ = request.respond(response);
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header")
}

fn answer(state: &mut State, request: &LoggedRequest) -> Answer {
    if let Some(fault) = state
        .faults
        .get_mut(&request.path)
        .filter(|f| f.remaining > 0)
    {
        fault.remaining -= 1;
        // A careless server echoes what it was sent: callers must redact error bodies.
        let sent = request.authorization.as_deref().unwrap_or("nothing");
        return Answer {
            status: fault.status,
            body: json!({"errors": [format!("injected fault; you sent Authorization: {sent}")]}),
            retry_after: fault.retry_after,
        };
    }
    if request.method != "GET" {
        return Answer::json(405, json!({"errors": ["method not allowed"]}));
    }
    if request.path == "/.well-known/terraform.json" {
        return Answer::json(200, json!({"modules.v1": MODULES_PREFIX}));
    }
    if let Some(address) = request
        .path
        .strip_prefix(OPENTOFU_DOCS_PREFIX)
        .and_then(|rest| rest.strip_suffix("/index.json"))
    {
        return opentofu_document(state, address);
    }
    let Some(rest) = request.path.strip_prefix(MODULES_PREFIX) else {
        return not_found();
    };
    let expected = state.token.as_ref().map(|t| format!("Bearer {t}"));
    if expected.is_some() && request.authorization != expected {
        return Answer::json(401, json!({"errors": ["unauthorized"]}));
    }
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        [ns, name, provider, "versions"] => {
            let address = format!("{ns}/{name}/{provider}");
            match state.modules.get(&address) {
                Some(versions) => Answer::json(200, versions_document(&address, versions)),
                None => not_found(),
            }
        }
        [ns, name, provider, version] => version_document(state, ns, name, provider, version),
        _ => not_found(),
    }
}

fn not_found() -> Answer {
    Answer::json(404, json!({"errors": ["Not Found"]}))
}

/// The registry API's document of one version, shaped as registry.terraform.io answers it;
/// `published_at` only where the test gave a date (a registry without dates has no such key).
fn version_document(state: &State, ns: &str, name: &str, provider: &str, version: &str) -> Answer {
    let address = format!("{ns}/{name}/{provider}");
    let Some(versions) = state.modules.get(&address) else {
        return not_found();
    };
    if !versions.iter().any(|v| v == version) {
        return not_found();
    }
    let mut document = json!({
        "id": format!("{address}/{version}"),
        "owner": "",
        "namespace": ns,
        "name": name,
        "version": version,
        "provider": provider,
        "provider_logo_url": "",
        "description": "",
        "source": format!("https://github.com/{ns}/terraform-{provider}-{name}"),
        "tag": format!("v{version}"),
        "downloads": 0,
        "verified": false,
        "root": {"path": "", "readme": "", "empty": false, "inputs": [], "outputs": [],
                 "dependencies": [], "provider_dependencies": [], "resources": []},
        "submodules": [],
        "examples": [],
        "providers": [provider],
        "versions": versions,
    });
    if let Some(published) = state.published.get(&(address, version.to_string())) {
        document["published_at"] = json!(published);
    }
    Answer::json(200, document)
}

/// OpenTofu's documentation API document of a module: every version (`v`-prefixed id) with
/// the time it was published.
fn opentofu_document(state: &State, address: &str) -> Answer {
    let Some(versions) = state.modules.get(address) else {
        return not_found();
    };
    let parts: Vec<&str> = address.split('/').collect();
    let [ns, name, target] = parts.as_slice() else {
        return not_found();
    };
    let listed: Vec<_> = versions
        .iter()
        .rev()
        .filter_map(|v| {
            let published = state.published.get(&(address.to_string(), v.clone()))?;
            Some(json!({"id": format!("v{}", v.trim_start_matches('v')), "published": published}))
        })
        .collect();
    Answer::json(
        200,
        json!({
            "addr": {"display": address, "namespace": ns, "name": name, "target": target},
            "description": "",
            "versions": listed,
            "is_blocked": false,
            "popularity": 0,
            "fork_count": 0,
            "upstream_popularity": 0,
            "upstream_fork_count": 0,
        }),
    )
}

fn versions_document(address: &str, versions: &[String]) -> serde_json::Value {
    let versions: Vec<_> = versions
        .iter()
        .map(|v| json!({"version": v, "submodules": [], "root": {"providers": [], "dependencies": []}}))
        .collect();
    json!({"modules": [{"source": address, "versions": versions}]})
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A raw HTTP/1.0 GET, so these tests do not depend on the client under test.
    fn get(registry: &Registry, path: &str, auth: Option<&str>) -> (u16, String) {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", registry.port)).unwrap();
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        write!(stream, "GET {path} HTTP/1.0\r\nHost: x\r\n{auth}\r\n").unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        let status = text[9..12].parse().unwrap();
        let body = text
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_string();
        (status, body)
    }

    #[test]
    fn serves_discovery_and_versions_with_faults_and_tokens() {
        let registry = Registry::start();
        registry.add_module("acme", "vpc", "aws", &["1.0.0"]);
        registry.add_module("acme", "vpc", "aws", &["1.1.0"]);
        let (status, body) = get(&registry, "/.well-known/terraform.json", None);
        assert_eq!(
            (status, body.as_str()),
            (200, r#"{"modules.v1":"/v1/modules/"}"#)
        );

        let path = Registry::versions_path("acme", "vpc", "aws");
        let (status, body) = get(&registry, &path, None);
        assert_eq!(status, 200);
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(doc["modules"][0]["versions"][1]["version"], "1.1.0");
        assert_eq!(
            get(&registry, "/v1/modules/acme/x/aws/versions", None).0,
            404
        );

        registry.fail_next(&path, 1, 500, Some(0));
        assert_eq!(get(&registry, &path, None).0, 500);
        assert_eq!(get(&registry, &path, None).0, 200);

        registry.add_dated(
            "acme",
            "vpc",
            "aws",
            &[("1.2.0", "2026-01-01T00:00:00.000Z")],
        );
        let (status, body) = get(&registry, "/v1/modules/acme/vpc/aws/1.2.0", None);
        assert_eq!(status, 200);
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(doc["published_at"], "2026-01-01T00:00:00.000Z");
        let (_, body) = get(&registry, "/v1/modules/acme/vpc/aws/1.0.0", None);
        assert!(!body.contains("published_at"), "{body}");
        assert_eq!(
            get(&registry, "/v1/modules/acme/vpc/aws/9.9.9", None).0,
            404
        );
        let (status, body) = get(
            &registry,
            "/registry/docs/modules/acme/vpc/aws/index.json",
            None,
        );
        assert_eq!(status, 200);
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(doc["versions"][0]["id"], "v1.2.0");
        assert_eq!(doc["versions"].as_array().unwrap().len(), 1);

        registry.require_token("s3");
        assert_eq!(get(&registry, &path, Some("Bearer nope")).0, 401);
        assert_eq!(get(&registry, &path, Some("Bearer s3")).0, 200);
        assert_eq!(registry.request_count(&path), 5);
        assert_eq!(
            get(
                &registry,
                "/v1/modules/acme/vpc/aws/1.2.0",
                Some("Bearer s3")
            )
            .0,
            200
        );
    }
}
