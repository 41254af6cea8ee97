//! Tolerant version parsing, breaking-change detection and Terraform version constraints.
//!
//! Tags in module repositories rarely follow semver to the letter (`v1.2.3`, `1.2`,
//! `vpc-v1.2.3`, `modules/vpc/1.2.3`), and registry `version` attributes are Terraform
//! constraints (`~> 5.1`), which no semver crate understands; this module bridges both to
//! `semver::Version`.

use crate::model::VersionForm;
use std::cmp::Ordering;
use std::ops::Range;

/// Characters that end the name part of a tag family (`vpc-`, `vpc_`, `modules/vpc/`).
const SEPARATORS: [char; 3] = ['-', '_', '/'];

/// A listed or written version: the text as it appears and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The version exactly as the tag or attribute writes it, prefix included.
    pub text: String,
    /// What it means: the number after the prefix, parts it does not write as 0.
    pub semver: semver::Version,
    /// How many of major/minor/patch the text writes: `v1` is 1, `v1.2` is 2.
    pub precision: usize,
    /// Length of the text before the number (`vpc-v` in `vpc-v1.2.3`).
    prefix_len: usize,
}

impl Version {
    /// The text before the number (`v`, `vpc-v`, `modules/vpc/` or ""), the "style" of a tag.
    pub fn prefix(&self) -> &str {
        &self.text[..self.prefix_len]
    }

    /// The tag family: the prefix without a `v` that only marks a version, so `vpc-v1.2.3`
    /// and `vpc-1.3.0` are one family, `eks-v1.0.0` another, and `v1.2.3` and `1.2.3` the
    /// family of unnamed tags.
    pub fn family(&self) -> &str {
        family_of(self.prefix())
    }

    /// A tag that names fewer parts than a release (`v1`, and `v1.2` in a repository that
    /// tags `v1.2.0`): a moving tag that points at the latest release it covers.
    pub fn covers(&self, release: &Version) -> bool {
        self.precision < release.precision
            && self.family() == release.family()
            && self.semver.major == release.semver.major
            && (self.precision < 2 || self.semver.minor == release.semver.minor)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        // The text breaks ties so that `v1.2.3` and `1.2.3` are distinct yet ordered.
        self.semver
            .cmp(&other.semver)
            .then_with(|| self.text.cmp(&other.text))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The family a tag prefix belongs to, see [`Version::family`].
pub fn family_of(prefix: &str) -> &str {
    match prefix.strip_suffix(['v', 'V']) {
        Some(name) if name.is_empty() || name.ends_with(SEPARATORS) => name,
        _ => prefix,
    }
}

/// A prefix may name a module (`vpc-`, `modules/vpc/`), mark a version (`v`), or both; it
/// never ends in a letter or digit that could belong to the number (`x1.2.3`, `1.2.3.4`).
fn valid_prefix(prefix: &str) -> bool {
    let charset = prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || SEPARATORS.contains(&c));
    let ends_well =
        prefix.is_empty() || prefix.ends_with(SEPARATORS) || family_of(prefix) != prefix;
    charset && ends_well && prefix.len() <= 100
}

/// Parses `major[.minor[.patch]][-pre][+build]`, padding missing parts. `min_parts` is 2 for
/// releases: a bare `v1` is a moving major tag, not a release.
fn parse_numeric(text: &str, min_parts: usize) -> Option<(semver::Version, usize)> {
    let core_end = text.find(['-', '+']).unwrap_or(text.len());
    let (core, tail) = text.split_at(core_end);
    let parts = core.split('.').count();
    if parts < min_parts || parts > 3 || (parts == 1 && !tail.is_empty()) {
        return None;
    }
    let padding = ".0".repeat(3 - parts);
    let semver = semver::Version::parse(&format!("{core}{padding}{tail}")).ok()?;
    Some((semver, parts))
}

/// Any tag that carries a version number after an optional family prefix, moving tags (`v1`)
/// included.
pub fn parse_tag(text: &str) -> Option<Version> {
    text.char_indices()
        .filter(|(_, c)| c.is_ascii_digit())
        .map(|(at, _)| at)
        .find_map(|at| {
            let prefix = &text[..at];
            if !valid_prefix(prefix) {
                return None;
            }
            let (semver, precision) = parse_numeric(&text[at..], 1)?;
            Some(Version {
                text: text.to_string(),
                semver,
                precision,
                prefix_len: at,
            })
        })
}

/// `v1.2.3`, `1.2.3`, `1.2` (as 1.2.0), `v2.0.0-rc1`, `vpc-v1.2.3`; anything else (branch
/// names, `v1`, `latest`) is not a version.
pub fn parse_version(text: &str) -> Option<Version> {
    parse_tag(text).filter(|v| v.precision >= 2)
}

/// A constraint token may write `v` before its number (`>= v1.2`).
fn split_v(token: &str) -> (&str, &str) {
    let digits = token.strip_prefix(['v', 'V']).unwrap_or(token);
    token.split_at(token.len() - digits.len())
}

/// A breaking change: the major differs, or for 0.x versions the minor differs.
pub fn is_breaking(prev: &semver::Version, next: &semver::Version) -> bool {
    if prev.major == 0 && next.major == 0 {
        prev.minor != next.minor
    } else {
        prev.major != next.major
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Pessimistic,
}

/// Longest operators first so `>=` is not read as `>` followed by `=1.0`.
const OPERATORS: [(&str, Op); 7] = [
    ("~>", Op::Pessimistic),
    (">=", Op::Ge),
    ("<=", Op::Le),
    ("!=", Op::Ne),
    (">", Op::Gt),
    ("<", Op::Lt),
    ("=", Op::Eq),
];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    op: Op,
    version: semver::Version,
    /// How many of major/minor/patch were written; `~>` only lets the last one float.
    precision: usize,
    /// Byte range of the version token in the constraint text, so a rewrite keeps the rest.
    token: Range<usize>,
}

impl Clause {
    fn matches(&self, v: &semver::Version) -> bool {
        let ord = v.cmp_precedence(&self.version);
        match self.op {
            Op::Eq => ord == Ordering::Equal,
            Op::Ne => ord != Ordering::Equal,
            Op::Gt => ord == Ordering::Greater,
            Op::Ge => ord != Ordering::Less,
            Op::Lt => ord == Ordering::Less,
            Op::Le => ord != Ordering::Greater,
            Op::Pessimistic => ord != Ordering::Less && self.same_fixed_parts(v),
        }
    }

    fn same_fixed_parts(&self, v: &semver::Version) -> bool {
        let fixed = [(v.major, self.version.major), (v.minor, self.version.minor)];
        fixed
            .iter()
            .take(self.precision.saturating_sub(1))
            .all(|(a, b)| a == b)
    }
}

/// A Terraform version constraint: comma-separated clauses that must all hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    clauses: Vec<Clause>,
}

/// Parses Terraform constraint syntax: `1.2.3`, `= 1.2.3`, `!=`, `>`, `>=`, `<`, `<=`, `~>`,
/// and comma-separated lists of those.
pub fn parse_constraint(text: &str) -> Option<Constraint> {
    let mut clauses = Vec::new();
    let mut offset = 0;
    for part in text.split(',') {
        clauses.push(parse_clause(part, offset)?);
        offset += part.len() + 1;
    }
    Some(Constraint { clauses })
}

fn parse_clause(part: &str, offset: usize) -> Option<Clause> {
    let trimmed = part.trim_start();
    let (op, after_op) = OPERATORS
        .iter()
        .find_map(|(sym, op)| trimmed.strip_prefix(sym).map(|rest| (*op, rest)))
        .unwrap_or((Op::Eq, trimmed));
    let token = after_op.trim();
    if token.is_empty() {
        return None;
    }
    // The token starts a suffix of `part`, so its offset follows from the lengths.
    let token_start = offset + part.len() - after_op.trim_start().len();
    let (_, numeric) = split_v(token);
    let (version, precision) = parse_numeric(numeric, 1)?;
    Some(Clause {
        op,
        version,
        precision,
        token: token_start..token_start + token.len(),
    })
}

impl Constraint {
    /// Terraform rule: a pre-release is only selected by an exact `=` clause naming it.
    pub fn matches(&self, v: &semver::Version) -> bool {
        let prerelease_allowed = v.pre.is_empty()
            || self
                .clauses
                .iter()
                .any(|c| c.op == Op::Eq && c.version.cmp_precedence(v) == Ordering::Equal);
        prerelease_allowed && self.clauses.iter().all(|c| c.matches(v))
    }

    /// The pinned version when the constraint is a single exact clause (`5.1.0`, `= 5.1.0`).
    pub fn exact(&self) -> Option<&semver::Version> {
        match self.clauses.as_slice() {
            [only] if only.op == Op::Eq => Some(&only.version),
            _ => None,
        }
    }
}

/// Why a registry `version` attribute cannot be moved to the target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    /// The attribute's text, which does not parse as a constraint.
    #[error("`{0}` is not a version constraint")]
    InvalidConstraint(String),
    /// The constraint does not allow the target, and no rewrite that keeps its shape would.
    #[error("constraint `{constraint}` does not allow {target} and cannot be rewritten safely")]
    Unsatisfied {
        /// The attribute's text.
        constraint: String,
        /// The target version, as semver.
        target: String,
    },
}

/// New text for a usage's version span, or None when it must stay (constraint already allows
/// target). GitRef/TfrQuery: the target tag text verbatim. RegistryAttribute: exact pin
/// "5.1.0" -> "5.4.0"; "= 5.1.0" -> "= 5.4.0"; "~> 5.1" -> "~> 5.4" (same precision); other
/// constraints: None if satisfied, else Err.
pub fn rewrite(
    current: &str,
    form: VersionForm,
    target: &Version,
) -> Result<Option<String>, RewriteError> {
    match form {
        // A commit pin's new commit id is the target tag's, which only the listing knows.
        VersionForm::GitRef | VersionForm::TfrQuery | VersionForm::CommitPin => {
            Ok(Some(target.text.clone()))
        }
        VersionForm::RegistryAttribute => rewrite_constraint(current, &target.semver),
    }
}

fn rewrite_constraint(
    current: &str,
    target: &semver::Version,
) -> Result<Option<String>, RewriteError> {
    let constraint = parse_constraint(current)
        .ok_or_else(|| RewriteError::InvalidConstraint(current.to_string()))?;
    let unsatisfied = || RewriteError::Unsatisfied {
        constraint: current.to_string(),
        target: target.to_string(),
    };
    if constraint.matches(target) && constraint.clauses.len() > 1 {
        return Ok(None);
    }
    let [only] = constraint.clauses.as_slice() else {
        return shift_range(current, &constraint, target)
            .map(Some)
            .ok_or_else(unsatisfied);
    };
    let precision = match only.op {
        Op::Eq => 3,
        Op::Pessimistic => only.precision,
        _ if constraint.matches(target) => return Ok(None),
        _ => return Err(unsatisfied()),
    };
    let token = &current[only.token.clone()];
    let new_token = format!("{}{}", split_v(token).0, render(target, precision));
    let text = format!(
        "{}{}{}",
        &current[..only.token.start],
        new_token,
        &current[only.token.end..]
    );
    // A pre-release target cannot be reached through `~>`; refuse rather than write a lie.
    match parse_constraint(&text) {
        Some(rewritten) if rewritten.matches(target) => Ok(Some(text)),
        _ => Err(unsatisfied()),
    }
}

/// `>= A, < B` where B is the first breaking version after A (`>= 5.0, < 6.0`,
/// `>= 0.3, < 0.4`) keeps that shape around the target: `>= T, < next breaking after T`, each
/// bound written with the precision it had. Other ranges are not moved.
fn shift_range(current: &str, constraint: &Constraint, target: &semver::Version) -> Option<String> {
    let [first, second] = constraint.clauses.as_slice() else {
        return None;
    };
    let (lower, upper) = match first.op {
        Op::Ge => (first, second),
        _ => (second, first),
    };
    let one_step = lower.op == Op::Ge
        && upper.op == Op::Lt
        && upper.version == breaking_boundary(&lower.version)
        && target > &lower.version;
    if !one_step {
        return None;
    }
    let mut text = current.to_string();
    let mut bounds = [
        (upper, render(&breaking_boundary(target), upper.precision)),
        (lower, render(target, lower.precision)),
    ];
    // From the end of the text, so the earlier token's range still holds.
    bounds.sort_by_key(|(clause, _)| std::cmp::Reverse(clause.token.start));
    for (clause, new) in bounds {
        let token = &current[clause.token.clone()];
        let replacement = format!("{}{new}", split_v(token).0);
        text.replace_range(clause.token.clone(), &replacement);
    }
    let rewritten = parse_constraint(&text)?;
    rewritten.matches(target).then_some(text)
}

/// The lowest version that is a breaking change from `v`.
fn breaking_boundary(v: &semver::Version) -> semver::Version {
    match v.major {
        0 => semver::Version::new(0, v.minor + 1, 0),
        major => semver::Version::new(major + 1, 0, 0),
    }
}

fn render(v: &semver::Version, precision: usize) -> String {
    match precision {
        1 => v.major.to_string(),
        2 => format!("{}.{}", v.major, v.minor),
        _ => semver::Version {
            build: semver::BuildMetadata::EMPTY,
            ..v.clone()
        }
        .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sv(text: &str) -> semver::Version {
        semver::Version::parse(text).unwrap()
    }

    fn v(text: &str) -> Version {
        parse_version(text).unwrap()
    }

    fn c(text: &str) -> Constraint {
        parse_constraint(text).unwrap_or_else(|| panic!("{text} should parse"))
    }

    #[test]
    fn parses_prefixed_and_plain_versions() {
        assert_eq!(v("v1.2.3").semver, sv("1.2.3"));
        assert_eq!(v("1.2.3").semver, sv("1.2.3"));
        assert_eq!(v("V1.2.3").semver, sv("1.2.3"));
        assert_eq!(v("release-4.5.6").semver, sv("4.5.6"));
        assert_eq!(v("v1.2.3").text, "v1.2.3");
        assert_eq!(v("v1.2.3").prefix(), "v");
        assert_eq!(v("1.2.3").prefix(), "");
    }

    #[test]
    fn pads_missing_patch() {
        assert_eq!(v("1.2").semver, sv("1.2.0"));
        assert_eq!(v("v0.9").semver, sv("0.9.0"));
        assert_eq!(v("1.2-rc.1").semver, sv("1.2.0-rc.1"));
    }

    #[test]
    fn parses_prereleases_and_build_metadata() {
        assert_eq!(v("v2.0.0-rc1").semver, sv("2.0.0-rc1"));
        assert_eq!(v("2.0.0+build.5").semver, sv("2.0.0+build.5"));
        assert!(v("v2.0.0-beta.2") < v("v2.0.0"));
    }

    #[test]
    fn rejects_non_versions() {
        for text in [
            "main", "latest", "v1", "1", "1.2.3.4", "", "v", "x1.2.3", "1.a.3", "01.2.3", " 1.2.3",
        ] {
            assert!(parse_version(text).is_none(), "{text:?} is not a version");
        }
    }

    #[test]
    fn orders_by_semver_then_text() {
        let mut list = [v("v1.10.0"), v("1.9.0"), v("v1.2.0"), v("1.10.0")];
        list.sort();
        let texts: Vec<_> = list.iter().map(|x| x.text.as_str()).collect();
        assert_eq!(texts, ["v1.2.0", "1.9.0", "1.10.0", "v1.10.0"]);
    }

    #[test]
    fn breaking_is_major_change_or_minor_change_below_one() {
        assert!(is_breaking(&sv("1.9.0"), &sv("2.0.0")));
        assert!(!is_breaking(&sv("1.0.0"), &sv("1.9.9")));
        assert!(is_breaking(&sv("0.61.1"), &sv("0.62.0")));
        assert!(!is_breaking(&sv("0.61.0"), &sv("0.61.1")));
        assert!(is_breaking(&sv("0.9.3"), &sv("1.0.0")));
        assert!(!is_breaking(&sv("2.0.0-rc1"), &sv("2.0.0")));
        assert!(!is_breaking(&sv("0.5.0-beta"), &sv("0.5.0")));
    }

    #[test]
    fn plain_version_is_an_exact_constraint() {
        let pin = c("5.1.0");
        assert!(pin.matches(&sv("5.1.0")));
        assert!(!pin.matches(&sv("5.1.1")));
        assert_eq!(pin.exact(), Some(&sv("5.1.0")));
        assert_eq!(c("= 5.1").exact(), Some(&sv("5.1.0")));
        assert_eq!(c(">= 5.1").exact(), None);
    }

    #[test]
    fn comparison_operators() {
        let cases = [
            ("!= 1.2.0", "1.2.0", false),
            ("!= 1.2.0", "1.2.1", true),
            ("> 1.2.0", "1.2.0", false),
            ("> 1.2.0", "1.2.1", true),
            (">= 1.2.0", "1.2.0", true),
            (">= 1.2", "1.1.9", false),
            ("< 2.0", "1.99.0", true),
            ("< 2.0", "2.0.0", false),
            ("<= 2.0", "2.0.0", true),
            ("<= 2.0", "2.0.1", false),
            ("=1.0.0", "1.0.0", true),
            (">=1.0,<2.0", "1.5.0", true),
            (">= 1.0, < 2.0", "2.0.0", false),
            (">= 1.0, < 2.0, != 1.3.0", "1.3.0", false),
            ("v1.2.3", "1.2.3", true),
        ];
        for (constraint, version, expected) in cases {
            assert_eq!(
                c(constraint).matches(&sv(version)),
                expected,
                "{constraint} vs {version}"
            );
        }
    }

    #[test]
    fn pessimistic_operator_lets_only_the_last_written_part_float() {
        let minor = c("~> 5.1");
        assert!(minor.matches(&sv("5.1.0")));
        assert!(minor.matches(&sv("5.99.3")));
        assert!(!minor.matches(&sv("5.0.9")));
        assert!(!minor.matches(&sv("6.0.0")));
        let patch = c("~> 5.1.0");
        assert!(patch.matches(&sv("5.1.7")));
        assert!(!patch.matches(&sv("5.2.0")));
        assert!(!patch.matches(&sv("5.0.9")));
        let major = c("~> 5");
        assert!(major.matches(&sv("5.3.0")));
        assert!(major.matches(&sv("6.0.0")));
        assert!(!major.matches(&sv("4.9.0")));
    }

    #[test]
    fn prereleases_only_match_an_exact_clause() {
        assert!(!c(">= 1.0").matches(&sv("2.0.0-rc1")));
        assert!(!c("~> 2.0").matches(&sv("2.0.1-rc1")));
        assert!(c("2.0.0-rc1").matches(&sv("2.0.0-rc1")));
        assert!(c("= 2.0.0-rc1, >= 1.0").matches(&sv("2.0.0-rc1")));
    }

    #[test]
    fn rejects_malformed_constraints() {
        for text in [
            "",
            "~>",
            ">= 1.0,",
            "=> 1.0",
            "~> x",
            "1.2.3.4",
            ">= 1.0 < 2.0",
            ",",
        ] {
            assert!(parse_constraint(text).is_none(), "{text:?} must not parse");
        }
    }

    fn rw(current: &str, target: &str) -> Result<Option<String>, RewriteError> {
        rewrite(current, VersionForm::RegistryAttribute, &v(target))
    }

    #[test]
    fn git_and_tfr_forms_take_the_tag_verbatim() {
        for form in [VersionForm::GitRef, VersionForm::TfrQuery] {
            assert_eq!(
                rewrite("v1.0.0", form, &v("v1.4.0")),
                Ok(Some("v1.4.0".to_string()))
            );
        }
    }

    #[test]
    fn exact_pins_move_to_the_target() {
        assert_eq!(rw("5.1.0", "5.4.0"), Ok(Some("5.4.0".into())));
        assert_eq!(rw("= 5.1.0", "5.4.0"), Ok(Some("= 5.4.0".into())));
        assert_eq!(rw("=5.1", "5.4.2"), Ok(Some("=5.4.2".into())));
        assert_eq!(rw(" 5.1.0 ", "6.0.0"), Ok(Some(" 6.0.0 ".into())));
        assert_eq!(rw("5.1.0", "6.0.0-rc1"), Ok(Some("6.0.0-rc1".into())));
    }

    #[test]
    fn pessimistic_constraints_keep_their_precision() {
        assert_eq!(rw("~> 5.1", "5.4.0"), Ok(Some("~> 5.4".into())));
        assert_eq!(rw("~> 5.1.0", "5.4.0"), Ok(Some("~> 5.4.0".into())));
        assert_eq!(rw("~>5.1.0", "5.4.3"), Ok(Some("~>5.4.3".into())));
        assert_eq!(rw("~> 5", "6.2.0"), Ok(Some("~> 6".into())));
        assert_eq!(rw("  ~>  5.1  ", "5.4.0"), Ok(Some("  ~>  5.4  ".into())));
        assert_eq!(rw("~> 5.1", "6.0.0"), Ok(Some("~> 6.0".into())));
    }

    #[test]
    fn pessimistic_constraint_cannot_reach_a_prerelease() {
        assert!(matches!(
            rw("~> 5.1", "6.0.0-rc1"),
            Err(RewriteError::Unsatisfied { .. })
        ));
    }

    #[test]
    fn ranges_stay_when_satisfied_and_fail_otherwise() {
        assert_eq!(rw(">= 1.0, < 2.0", "1.5.0"), Ok(None));
        assert_eq!(rw(">= 1.0", "3.0.0"), Ok(None));
        assert_eq!(
            rw(">= 1.0, < 1.5", "2.0.0"),
            Err(RewriteError::Unsatisfied {
                constraint: ">= 1.0, < 1.5".into(),
                target: "2.0.0".into()
            })
        );
        assert!(rw("< 2.0", "2.1.0").is_err());
    }

    #[test]
    fn one_step_ranges_move_with_the_breaking_target() {
        assert_eq!(
            rw(">= 5.0, < 6.0", "6.0.0"),
            Ok(Some(">= 6.0, < 7.0".into()))
        );
        assert_eq!(rw(">=5.2.1,<6", "6.3.0"), Ok(Some(">=6.3.0,<7".into())));
        assert_eq!(
            rw("< 0.4, >= 0.3", "0.4.2"),
            Ok(Some("< 0.5, >= 0.4".into()))
        );
        assert!(
            rw(">= 5.0, < 5.5", "6.0.0").is_err(),
            "not one breaking step wide"
        );
        assert!(rw(">= 5.0, <= 6.0", "7.0.0").is_err());
        assert!(rw(">= 5.0, < 6.0, != 5.3.0", "6.0.0").is_err());
    }

    #[test]
    fn tags_of_a_family_keep_their_prefix() {
        for (text, prefix, family) in [
            ("vpc-v1.2.3", "vpc-v", "vpc-"),
            ("vpc-1.3.0", "vpc-", "vpc-"),
            ("vpc/v1.2.3", "vpc/v", "vpc/"),
            ("modules/vpc/1.2.3", "modules/vpc/", "modules/vpc/"),
            ("vpc_1.2.3", "vpc_", "vpc_"),
            ("s3-bucket-v0.4.0", "s3-bucket-v", "s3-bucket-"),
            ("release-4.5.6", "release-", "release-"),
            ("v1.2.3", "v", ""),
            ("1.2.3", "", ""),
        ] {
            let parsed = v(text);
            assert_eq!(
                (parsed.prefix(), parsed.family()),
                (prefix, family),
                "{text}"
            );
        }
        assert_eq!(v("s3-bucket-v0.4.0").semver, sv("0.4.0"));
        assert_eq!(v("modules/vpc/1.2.3").semver, sv("1.2.3"));
        assert!(
            parse_version("dev1.2.3").is_none(),
            "`dev` is no family separator"
        );
    }

    #[test]
    fn moving_tags_cover_their_releases() {
        let major = parse_tag("v1").unwrap();
        assert_eq!((major.precision, major.semver.clone()), (1, sv("1.0.0")));
        assert!(parse_version("v1").is_none());
        assert!(major.covers(&v("v1.4.2")));
        assert!(!major.covers(&v("v2.0.0")));
        assert!(!major.covers(&v("vpc-v1.0.0")));
        let minor = v("v1.2");
        assert!(minor.covers(&v("1.2.7")));
        assert!(!minor.covers(&v("v1.3.0")));
        assert!(!minor.covers(&v("v1.2")));
        assert!(parse_tag("v1-beta").is_none());
    }

    #[test]
    fn invalid_constraint_is_reported() {
        assert_eq!(
            rw("latest", "1.0.0"),
            Err(RewriteError::InvalidConstraint("latest".into()))
        );
    }
}
