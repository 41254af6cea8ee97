//! A Terraform module registry on 127.0.0.1, following the module registry protocol:
//! service discovery (`GET /.well-known/terraform.json` -> `{"modules.v1":"/v1/modules/"}`)
//! and `GET /v1/modules/{namespace}/{name}/{provider}/versions`.
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

    /// The variable that maps registry.terraform.io to this server for the binary:
    /// `PATCHER_REGISTRY_BASE_URLS`.
    pub fn env(&self) -> (String, String) {
        (
            "PATCHER_REGISTRY_BASE_URLS".into(),
            format!("registry.terraform.io={}", self.url()),
        )
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
    let Some(address) = request
        .path
        .strip_prefix(MODULES_PREFIX)
        .and_then(|rest| rest.strip_suffix("/versions"))
    else {
        return Answer::json(404, json!({"errors": ["Not Found"]}));
    };
    let expected = state.token.as_ref().map(|t| format!("Bearer {t}"));
    if expected.is_some() && request.authorization != expected {
        return Answer::json(401, json!({"errors": ["unauthorized"]}));
    }
    match state.modules.get(address) {
        Some(versions) => Answer::json(200, versions_document(address, versions)),
        None => Answer::json(404, json!({"errors": ["Not Found"]})),
    }
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

        registry.require_token("s3");
        assert_eq!(get(&registry, &path, Some("Bearer nope")).0, 401);
        assert_eq!(get(&registry, &path, Some("Bearer s3")).0, 200);
        assert_eq!(registry.request_count(&path), 5);
    }
}
