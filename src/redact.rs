//! The one redactor: every error text that comes from GitHub, a registry or git passes through
//! [`redact`] before anyone sees it. Those peers are not trusted to keep credentials out of
//! their answers (an error body may echo the request's `Authorization` header), so it removes
//! the token it is given, every token the process knows of (`GITHUB_TOKEN`,
//! `INPUT_GITHUB_TOKEN`, `GH_TOKEN`, `TF_TOKEN_*`), whatever follows an `Authorization`,
//! `Bearer` or `token=` / `token:`, GitHub token shapes (`ghp_…`, `ghs_…`, `github_pat_…`) and
//! the userinfo of URLs.

const HIDDEN: &str = "***";

/// `text` without anything that looks like a credential.
pub fn redact(text: &str, token: Option<&str>) -> String {
    let mut out = text.to_string();
    let mut secrets = known_secrets();
    secrets.extend(token.map(str::to_string));
    // Longest first, so a secret that contains another is removed whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in secrets.iter().filter(|s| s.trim().len() >= 4) {
        out = out.replace(secret.as_str(), HIDDEN);
        out = out.replace(&crate::gitcmd::basic_credentials(secret), HIDDEN);
    }
    let out = after_keywords(&out);
    let out = token_shapes(&out);
    url_userinfo(&out)
}

/// Values of the variables that hold tokens in this process.
fn known_secrets() -> Vec<String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| {
            ["GITHUB_TOKEN", "INPUT_GITHUB_TOKEN", "GH_TOKEN"].contains(&k.as_str())
                || k.starts_with("TF_TOKEN_")
        })
        .map(|(_, v)| v)
        .collect()
}

fn is_value_char(c: char) -> bool {
    !c.is_whitespace() && !"\"'`,;&<>(){}[]".contains(c)
}

/// Hides the value after `authorization` (to the end of the header value), after `bearer ` and
/// after `token=` / `token:` (as in `access_token=…` or `"token": "…"`).
fn after_keywords(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < text.len() {
        let rest = &lower[i..];
        let hit = [("authorization", true), ("bearer", false), ("token", false)]
            .into_iter()
            .find(|(k, _)| rest.starts_with(k));
        let Some((keyword, whole_header)) = hit else {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let after = i + keyword.len();
        let sep_len = text[after..]
            .chars()
            .take_while(|c| " \t:=\"'".contains(*c))
            .map(char::len_utf8)
            .sum::<usize>();
        let sep = &text[after..after + sep_len];
        let wanted = match keyword {
            "bearer" => sep.starts_with([' ', '\t']) || sep.contains('='),
            _ => sep.contains([':', '=']),
        };
        let start = after + sep_len;
        let value_len: usize = if whole_header {
            text[start..]
                .chars()
                .take_while(|c| !"\r\n\"',}".contains(*c))
                .map(char::len_utf8)
                .sum()
        } else {
            text[start..]
                .chars()
                .take_while(|c| is_value_char(*c))
                .map(char::len_utf8)
                .sum()
        };
        if wanted && value_len > 0 {
            out.push_str(&text[copied..start]);
            out.push_str(HIDDEN);
            copied = start + value_len;
            i = copied;
        } else {
            i = after;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// GitHub's token formats, wherever they appear.
fn token_shapes(text: &str) -> String {
    const PREFIXES: [&str; 6] = ["github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"];
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let starts_word = i == 0 || !text[..i].ends_with(|c: char| c.is_ascii_alphanumeric());
        let prefix = PREFIXES.iter().find(|p| text[i..].starts_with(**p));
        if let (true, Some(prefix)) = (starts_word, prefix) {
            let body: usize = text[i + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .count();
            if body >= 8 {
                out.push_str(HIDDEN);
                i += prefix.len() + body;
                continue;
            }
        }
        let c = text[i..].chars().next().expect("in bounds");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// `scheme://user:password@host` → `scheme://***@host`.
fn url_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || !is_value_char(c))
            .unwrap_or(tail.len());
        match tail[..authority_end].rfind('@') {
            Some(at) => {
                out.push_str(HIDDEN);
                rest = &tail[at..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_the_given_token_and_its_basic_form() {
        let basic = crate::gitcmd::basic_credentials("s3cret-value");
        let out = redact(&format!("a s3cret-value b {basic}"), Some("s3cret-value"));
        assert!(!out.contains("s3cret") && !out.contains(&basic), "{out}");
    }

    #[test]
    fn hides_header_values_and_token_parameters() {
        for (text, secret) in [
            ("Authorization: Bearer abc.def", "abc.def"),
            ("AUTHORIZATION: basic eC1hY2Nlc3M=", "eC1hY2Nlc3M="),
            (r#"{"authorization":"token zz9"}"#, "zz9"),
            ("curl -H 'Bearer qq77'", "qq77"),
            ("?access_token=t0k3n&x=1", "t0k3n"),
            (r#""token": "v4lue""#, "v4lue"),
            ("id ghs_ABCDEFGH12345678 here", "ghs_ABCDEFGH12345678"),
            (
                "github_pat_11ABCDEFG0123456789",
                "github_pat_11ABCDEFG0123456789",
            ),
        ] {
            let out = redact(text, None);
            assert!(!out.contains(secret), "{text} -> {out}");
            assert!(out.contains(HIDDEN), "{text} -> {out}");
        }
    }

    #[test]
    fn hides_url_userinfo_only() {
        let out = redact(
            "fatal: https://user:pw@github.com/o/r.git and https://github.com/a@b",
            None,
        );
        assert_eq!(
            out,
            "fatal: https://***@github.com/o/r.git and https://github.com/a@b"
        );
    }

    #[test]
    fn leaves_plain_words_alone() {
        let text = "the token was rejected: check github_token; tokens: none";
        assert_eq!(redact(text, None), text);
    }
}
