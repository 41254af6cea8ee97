//! How the binary runs the git CLI. Settings are passed through git's environment config
//! (`GIT_CONFIG_COUNT`/`KEY_n`/`VALUE_n`) so they never reach `.git/config`, argv or a log:
//! the token as an HTTP `Authorization` header (as actions/checkout does), and
//! `safe.directory=*` because in a container the workspace belongs to another uid.

use std::process::Command;

/// A `git` command with the token (if any) and `safe.directory` set for this process only.
pub fn git(token: Option<&str>) -> Command {
    let mut entries: Vec<(String, String)> = vec![("safe.directory".into(), "*".into())];
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        let basic = basic_credentials(token);
        let key = format!("http.{}/.extraheader", server_url());
        // actions/checkout leaves its own header in .git/config; an empty value clears the
        // list first, or git sends two Authorization headers and GitHub answers 400.
        entries.push((key.clone(), String::new()));
        entries.push((key, format!("AUTHORIZATION: basic {basic}")));
    }
    let mut cmd = Command::new("git");
    let start: usize = std::env::var("GIT_CONFIG_COUNT")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    for (i, (key, value)) in entries.iter().enumerate() {
        cmd.env(format!("GIT_CONFIG_KEY_{}", start + i), key);
        cmd.env(format!("GIT_CONFIG_VALUE_{}", start + i), value);
    }
    cmd.env("GIT_CONFIG_COUNT", (start + entries.len()).to_string());
    // Never wait for a password prompt in CI.
    cmd.env("GIT_TERMINAL_PROMPT", "0");
    cmd
}

/// The GitHub server the token belongs to: the runner's `GITHUB_SERVER_URL` (GitHub
/// Enterprise Server has its own host), else github.com.
fn server_url() -> String {
    std::env::var("GITHUB_SERVER_URL")
        .ok()
        .filter(|u| u.starts_with("https://"))
        .map(|u| u.trim_end_matches('/').to_string())
        .unwrap_or_else(|| "https://github.com".into())
}

/// Standard base64 with padding (RFC 4648), enough for one header value.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The base64 credentials git sends for `token` (`x-access-token:<token>`), so the redactor
/// can hide them too.
pub fn basic_credentials(token: &str) -> String {
    base64(format!("x-access-token:{token}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
