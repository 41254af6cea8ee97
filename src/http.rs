//! The one HTTP client of the binary (registry protocol and GitHub REST API), with a single
//! retry policy: transport errors, 5xx and rate limits (429, or 403 with `Retry-After` /
//! `x-ratelimit-remaining: 0`) are retried a bounded number of times; `Retry-After` is honoured
//! up to a cap so a misbehaving server cannot stall a run.

use std::time::Duration;
use thiserror::Error;

/// An answer of the server, read in full; error statuses are answers too, not `HttpError`s.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Header names and values in the order received; a value that is not text is empty.
    pub headers: Vec<(String, String)>,
    /// Body as text (at most 64 MiB).
    pub body: String,
}

impl Response {
    /// Value of the first header named `name` (case-insensitive), `None` when absent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// How often and how long `Client::send` retries transport errors, 5xx and rate limits.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total attempts, the first one included.
    pub attempts: u32,
    /// Wait before the first retry when the server gives no `Retry-After`; doubles with each
    /// further attempt (at most 64 times the base).
    pub base_delay: Duration,
    /// Longest wait honoured from a `Retry-After` header.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(250),
            max_wait: Duration::from_secs(60),
        }
    }
}

/// A request that could not get an answer. Never contains header values (tokens): the URL and
/// the transport's message go through the redactor.
#[derive(Debug, Error)]
pub enum HttpError {
    /// No answer after the last attempt: connection, TLS, timeout or unreadable body.
    #[error("{method} {url}: {message}")]
    Transport {
        /// HTTP method of the request.
        method: String,
        /// Requested URL, redacted.
        url: String,
        /// The transport's error text, redacted.
        message: String,
    },
}

/// HTTP client shared by the registry and GitHub API callers; cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
    /// Retry policy applied to every `send`.
    pub retry: RetryPolicy,
}

impl Default for Client {
    fn default() -> Self {
        Client::new(RetryPolicy::default())
    }
}

impl Client {
    /// A client with a 60 s timeout per request and a `patcher/<version>` user agent.
    pub fn new(retry: RetryPolicy) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .user_agent(concat!("patcher/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent: config.into(),
            retry,
        }
    }

    /// Sends the request, retrying what is worth retrying. The last answer is returned even
    /// when it is an error status, so callers can turn it into a precise message.
    pub fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Option<&str>,
    ) -> Result<Response, HttpError> {
        let mut attempt = 1;
        loop {
            let outcome = self.send_once(method, url, headers, body);
            let wait = match &outcome {
                Ok(resp) => retry_wait(resp, attempt, &self.retry),
                Err(_) => Some(backoff(attempt, &self.retry)),
            };
            match wait {
                Some(wait) if attempt < self.retry.attempts => {
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                _ => return outcome,
            }
        }
    }

    fn send_once(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Option<&str>,
    ) -> Result<Response, HttpError> {
        let transport = |message: String| HttpError::Transport {
            method: method.to_string(),
            url: crate::redact::redact(url, None),
            message: crate::redact::redact(&message, None),
        };
        let mut builder = ureq::http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, value.as_str());
        }
        if body.is_some() {
            builder = builder.header("Content-Type", "application/json");
        }
        let request = builder
            .body(body.unwrap_or_default().as_bytes().to_vec())
            .map_err(|e| transport(e.to_string()))?;
        let mut resp = self
            .agent
            .run(request)
            .map_err(|e| transport(e.to_string()))?;
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| transport(e.to_string()))?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

fn backoff(attempt: u32, policy: &RetryPolicy) -> std::time::Duration {
    policy.base_delay * 2u32.pow(attempt.saturating_sub(1).min(6))
}

/// How long to wait before retrying this answer, or `None` when it is final.
fn retry_wait(resp: &Response, attempt: u32, policy: &RetryPolicy) -> Option<Duration> {
    let retry_after = resp
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s).min(policy.max_wait));
    let rate_limited = resp.status == 429
        || (resp.status == 403
            && (retry_after.is_some() || resp.header("x-ratelimit-remaining") == Some("0")));
    if rate_limited {
        return Some(retry_after.unwrap_or_else(|| backoff(attempt, policy)));
    }
    (resp.status >= 500).then(|| retry_after.unwrap_or_else(|| backoff(attempt, policy)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, headers: &[(&str, &str)]) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: String::new(),
        }
    }

    #[test]
    fn final_answers_are_not_retried() {
        let p = RetryPolicy::default();
        for status in [200, 201, 204, 400, 401, 404, 422] {
            assert_eq!(retry_wait(&resp(status, &[]), 1, &p), None, "{status}");
        }
        assert_eq!(retry_wait(&resp(403, &[]), 1, &p), None);
    }

    #[test]
    fn rate_limits_honour_retry_after_up_to_the_cap() {
        let p = RetryPolicy::default();
        let wait = retry_wait(&resp(403, &[("Retry-After", "2")]), 1, &p);
        assert_eq!(wait, Some(Duration::from_secs(2)));
        let capped = retry_wait(&resp(429, &[("retry-after", "99999")]), 1, &p);
        assert_eq!(capped, Some(p.max_wait));
        let exhausted = retry_wait(&resp(403, &[("X-RateLimit-Remaining", "0")]), 2, &p);
        assert_eq!(exhausted, Some(p.base_delay * 2));
    }

    #[test]
    fn server_errors_back_off_exponentially() {
        let p = RetryPolicy::default();
        assert_eq!(retry_wait(&resp(502, &[]), 1, &p), Some(p.base_delay));
        assert_eq!(retry_wait(&resp(500, &[]), 3, &p), Some(p.base_delay * 4));
    }
}
