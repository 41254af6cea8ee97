//! Branch names as `git check-ref-format --branch` accepts them, and never refspecs: a name
//! that reaches `git fetch` or `git push` must mean one branch, `refs/heads/<name>`.

use thiserror::Error;

/// A branch name that `check_branch` refused.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{what} {name:?} is not a branch name: {reason}")]
pub struct BadBranch {
    /// Which branch it was meant to be (`the base branch`, `the pull request branch`).
    pub what: String,
    /// The refused name, as given.
    pub name: String,
    /// The rule it breaks, in words.
    pub reason: &'static str,
}

/// Checks `name` as a short branch name; `what` says where it came from, for the message.
pub fn check_branch(what: &str, name: &str) -> Result<(), BadBranch> {
    match branch_problem(name) {
        None => Ok(()),
        Some(reason) => Err(BadBranch {
            what: what.to_string(),
            name: name.to_string(),
            reason,
        }),
    }
}

fn branch_problem(name: &str) -> Option<&'static str> {
    let forbidden = |c: char| c.is_ascii_control() || " ~^:?*[\\".contains(c);
    if name.is_empty() || name.len() > 255 {
        return Some("it must be 1 to 255 bytes long");
    }
    if name.starts_with('-') || name.starts_with('+') {
        return Some("it may not start with `-` or `+`");
    }
    if name == "@" || name == "HEAD" || name.contains("@{") {
        return Some("`@`, `HEAD` and `@{` are git revision syntax");
    }
    if name.starts_with("refs/") {
        return Some("give the short name, without `refs/`");
    }
    if name.chars().any(forbidden) {
        return Some("it may not contain spaces, control characters or any of ~ ^ : ? * [ \\");
    }
    if name.contains("..") || name.ends_with('.') {
        return Some("it may not contain `..` or end with `.`");
    }
    let bad_part = |part: &str| part.is_empty() || part.starts_with('.') || part.ends_with(".lock");
    if name.split('/').any(bad_part) {
        return Some("each `/`-separated part must be non-empty, not start with `.` and not end with `.lock`");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_git_accepts() {
        for name in [
            "main",
            "patcher-dev-updates-acme/terraform-aws-sqs/sqs",
            "release/v1.2.3",
            "a_b-c.d",
        ] {
            assert_eq!(check_branch("branch", name), Ok(()), "{name}");
        }
    }

    #[test]
    fn refuses_refspecs_options_and_malformed_names() {
        for name in [
            "",
            "main:refs/heads/x",
            "+main",
            "--upload-pack=x",
            "refs/heads/main",
            "a..b",
            "a/.hidden",
            "x.lock",
            "a//b",
            "trailing/",
            "end.",
            "sp ace",
            "new\nline",
            "HEAD",
            "@",
            "a@{1}",
            "star*",
            "back\\slash",
        ] {
            assert!(check_branch("branch", name).is_err(), "{name:?}");
        }
    }
}
