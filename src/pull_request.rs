//! What a pull request opened by `update` says: a body for reviewers and a hidden metadata
//! block that `promote` reads back when the pull request merges.

use crate::model::VersionForm;
use crate::plan::DependencyPlan;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

const MARKER: &str = "<!-- patcher-metadata ";
/// The line after which patcher writes its metadata blocks, the last lines of the body.
const OPENED_BY: &str = "_Opened by patcher._";

/// The machine-readable part of a pull request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Dependency ID the pull request moves.
    pub dependency: String,
    /// The version it moves to; `promote` checks it against the merged tree.
    pub version: String,
    /// The environment the update ran for; None when it ran without an environment name.
    pub environment: Option<String>,
    /// Versions the environment was on before.
    pub previous: Vec<String>,
    /// The commit id a commit pin moves to (the commit of `version`), which `promote` checks
    /// against the merged tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The group (`group-<name>`) the pull request moves this dependency with; every member
    /// has its own block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl Metadata {
    /// The version a dependency moves to: every usage gets the same one except under next-safe
    /// with usages at different versions; then the highest is the one promoted.
    pub fn of(dep: &DependencyPlan, environment: Option<&str>) -> Option<Metadata> {
        let version = dep
            .usages
            .iter()
            .filter(|u| u.new_text.is_some())
            .filter_map(|u| u.target.clone())
            .max_by(|a, b| compare_versions(a, b))?;
        let commit = dep
            .usages
            .iter()
            .filter(|u| u.usage.form == VersionForm::CommitPin)
            .find(|u| u.target.as_deref() == Some(version.as_str()))
            .and_then(|u| u.new_text.clone());
        Some(Metadata {
            dependency: dep.source.id.clone(),
            version,
            environment: environment.map(str::to_string),
            previous: dep.current_versions.clone(),
            commit,
            group: None,
        })
    }

    /// JSON inside an HTML comment: `>` is escaped so the comment cannot be closed early.
    pub fn to_comment(&self) -> String {
        let json = serde_json::to_string(self)
            .expect("metadata serialises")
            .replace('>', "\\u003e");
        format!("{MARKER}{json} -->")
    }
}

pub(crate) fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    match (crate::version::parse_tag(a), crate::version::parse_tag(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// The metadata blocks patcher wrote: only at their fixed place, the lines that end the body
/// right after `_Opened by patcher._`. A block anywhere else (typed into the description, or
/// text from the tree) is not metadata. Trailing blank lines and `\r\n` (the web editor's line
/// ends) are allowed.
pub fn parse_metadata(body: &str) -> Vec<Metadata> {
    let lines: Vec<&str> = body.lines().collect();
    let mut end = lines.len();
    while end > 0 && lines[end - 1].trim().is_empty() {
        end -= 1;
    }
    let mut start = end;
    while start > 0 && lines[start - 1].starts_with(MARKER) {
        start -= 1;
    }
    if start == end || start == 0 || lines[start - 1].trim_end() != OPENED_BY {
        return Vec::new();
    }
    lines[start..end]
        .iter()
        .map(|line| {
            let json = line.trim_end().strip_prefix(MARKER)?.strip_suffix("-->")?;
            serde_json::from_str(json.trim()).ok()
        })
        .collect::<Option<Vec<Metadata>>>()
        .unwrap_or_default()
}

/// The group every block names: a group's pull request has one block per member, each with
/// the group. `None` when any block names no group or another one.
pub fn common_group(blocks: &[Metadata]) -> Option<&str> {
    let first = blocks.first()?.group.as_deref()?;
    blocks
        .iter()
        .all(|b| b.group.as_deref() == Some(first))
        .then_some(first)
}

/// Whether the blocks say what one pull request moves: one dependency, or one group's members.
pub fn one_target(blocks: &[Metadata]) -> bool {
    matches!(blocks, [one] if one.group.is_none()) || common_group(blocks).is_some()
}

/// Text from the tree or a module repository as an inline code span that cannot leave its
/// line or its table cell: control characters are shown escaped, `|` is escaped for tables and
/// the fence is longer than any run of backticks inside. No such text can then start a line of
/// the body, so none can pass for `_Opened by patcher._` or a metadata block.
pub fn code(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => shown.push_str("\\|"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                shown.extend(c.escape_default())
            }
            c => shown.push(c),
        }
    }
    let longest = shown.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if shown.starts_with('`') || shown.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{shown}{pad}{fence}")
}

/// Text outside code spans (parse errors, release links) on one line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Everything the body mentions besides the dependencies themselves.
pub struct BodyContext<'a> {
    /// The environment named in the headings and the metadata blocks, when there is one.
    pub environment: Option<&'a str>,
    /// The group the pull request moves, when it moves one.
    pub group: Option<&'a str>,
    /// Usages in files shared by several environments, left unchanged.
    pub shared: &'a [crate::model::Usage],
    /// Files that do not parse, so nothing in them was updated.
    pub unreadable: &'a [crate::model::FileError],
    /// `README-TO-COMPLETE-UPDATE.md` files of a breaking update, relative to the working dir.
    pub readmes: &'a [std::path::PathBuf],
    /// The working dir's path inside the repository (`dev` when the seed guide's update runs
    /// with `working_dir: dev`), so the body names files as the diff does.
    pub prefix: &'a std::path::Path,
}

/// Links to the release moved to and, when there is one beyond it, the next breaking release.
/// The plan's `release_notes_url` points at the breaking release even for a safe update, which
/// would send a reviewer to the notes of a version this pull request does not install.
fn release_links(dep: &DependencyPlan) -> Option<String> {
    let repo = dep.source.github_repo.as_deref()?;
    let target = Metadata::of(dep, None)?.version;
    let url = |tag: &str| format!("https://github.com/{repo}/releases/tag/{tag}");
    let mut text = format!("Release notes of {}: {}", code(&target), url(&target));
    let later = dep
        .next_breaking
        .as_deref()
        .filter(|next| compare_versions(next, &target).is_gt());
    if let Some(next) = later {
        let _ = write!(
            text,
            "\nNext breaking release, not part of this update: {} ({})",
            code(next),
            url(next)
        );
    }
    Some(one_line_each(&text))
}

fn one_line_each(text: &str) -> String {
    text.split('\n')
        .map(one_line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// GitHub refuses a body over 65,536 characters: a dependency used in thousands of files would
/// make the pull request impossible to open, so the lists stop after this many lines in all.
const MAX_ROWS: usize = 200;

/// One line per item while `budget` lasts, then how many were left out.
fn write_capped<T>(out: &mut String, items: &[T], budget: &mut usize, line: impl Fn(&T) -> String) {
    let shown = items.len().min(*budget);
    for item in &items[..shown] {
        let _ = writeln!(out, "{}", line(item));
    }
    *budget -= shown;
    if shown < items.len() {
        let _ = writeln!(
            out,
            "\n…and {} more, not listed to keep this description within GitHub's size limit; \
             the commit has every change.",
            items.len() - shown
        );
    }
}

/// The pull request body: a warning for a breaking update, a table of changed usages per
/// dependency, what was left alone, then `_Opened by patcher._` and one metadata block per
/// dependency as the last lines, where [`parse_metadata`] looks for them.
pub fn render_body(deps: &[DependencyPlan], ctx: &BodyContext) -> String {
    let mut out = String::new();
    if deps
        .iter()
        .any(|d| d.usages.iter().any(|u| u.breaking && u.new_text.is_some()))
    {
        out.push_str(
            "> [!WARNING]\n> **Breaking update.** Manual steps are required before merging: \
             follow `README-TO-COMPLETE-UPDATE.md` in each folder listed below, then delete it.\n\n",
        );
    }
    if let Some(group) = ctx.group {
        let _ = writeln!(
            out,
            "Group {} (`groups:` in the environments file): the dependencies below move \
             together, and are promoted together once this pull request merges.\n",
            code(group)
        );
    }
    let mut rows_left = MAX_ROWS;
    for dep in deps {
        write_dependency(&mut out, dep, ctx, &mut rows_left);
    }
    write_left_alone(&mut out, ctx, &mut rows_left);
    let _ = writeln!(out, "{OPENED_BY}");
    for dep in deps {
        if let Some(meta) = Metadata::of(dep, ctx.environment) {
            let group = ctx.group.map(str::to_string);
            let _ = writeln!(out, "{}", Metadata { group, ..meta }.to_comment());
        }
    }
    out
}

/// One dependency's table of changed usages, with its release links.
fn write_dependency(
    out: &mut String,
    dep: &DependencyPlan,
    ctx: &BodyContext,
    rows_left: &mut usize,
) {
    let env = ctx
        .environment
        .map(|e| format!(" in `{e}`"))
        .unwrap_or_default();
    let _ = writeln!(out, "## Update {}{env}\n", code(&dep.source.id));
    let _ = writeln!(out, "| File | Line | From | To |\n|---|---|---|---|");
    let changed: Vec<_> = dep.usages.iter().filter(|u| u.new_text.is_some()).collect();
    write_capped(out, &changed, rows_left, |u| {
        format!(
            "| {} | {} | {} | {} |",
            code(&ctx.prefix.join(&u.usage.file).to_string_lossy()),
            u.usage.line,
            code(&u.usage.current),
            code(u.new_text.as_deref().unwrap_or_default())
        )
    });
    if let Some(links) = release_links(dep) {
        let _ = writeln!(out, "\n{links}");
    }
    out.push('\n');
}

/// What the reviewer must do by hand and what the update left alone, and why.
fn write_left_alone(out: &mut String, ctx: &BodyContext, rows_left: &mut usize) {
    if !ctx.readmes.is_empty() {
        let _ = writeln!(out, "### Manual steps\n");
        for r in ctx.readmes {
            let _ = writeln!(out, "- {}", code(&ctx.prefix.join(r).to_string_lossy()));
        }
        out.push('\n');
    }
    if !ctx.shared.is_empty() {
        out.push_str(
            "### Not changed: shared files\n\nThese usages live in files shared by several \
             environments; changing them here would change the other environments too:\n\n",
        );
        write_capped(out, ctx.shared, rows_left, |u| {
            format!(
                "- {} line {} ({})",
                code(&ctx.prefix.join(&u.file).to_string_lossy()),
                u.line,
                code(&u.current)
            )
        });
        out.push('\n');
    }
    if !ctx.unreadable.is_empty() {
        out.push_str(
            "### Not changed: files that do not parse\n\nFix these and run the update again; any \
             module they use was left as it is:\n\n",
        );
        for e in ctx.unreadable {
            let _ = writeln!(
                out,
                "- {} line {}, column {}: {}",
                code(&ctx.prefix.join(&e.file).to_string_lossy()),
                e.line,
                e.column,
                one_line(&e.message)
            );
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_through_a_body_and_cannot_close_the_comment() {
        let meta = Metadata {
            dependency: "acme/mods/sqs".into(),
            version: "v1.2.3".into(),
            environment: Some("dev-->".into()),
            previous: vec!["v1.0.0".into()],
            commit: Some("c".repeat(40)),
            group: None,
        };
        let body = format!("text before\n{OPENED_BY}\n{}\n", meta.to_comment());
        assert_eq!(body.matches("-->").count(), 1);
        assert_eq!(parse_metadata(&body), vec![meta.clone()]);
        assert_eq!(
            parse_metadata(&body.replace('\n', "\r\n")),
            vec![meta.clone()]
        );
        assert!(parse_metadata("no metadata here").is_empty());
    }

    #[test]
    fn only_the_block_at_the_end_counts() {
        let meta = |v: &str| Metadata {
            dependency: "acme/mods/sqs".into(),
            version: v.into(),
            environment: Some("dev".into()),
            previous: vec![],
            commit: None,
            group: None,
        };
        let forged = meta("v2.1.1").to_comment();
        let ours = meta("v1.2.0").to_comment();
        let body = format!("{forged}\n{OPENED_BY}\n{ours}\n");
        assert_eq!(parse_metadata(&body), vec![meta("v1.2.0")]);
        let appended = format!("{OPENED_BY}\n{ours}\nedited after\n{forged}\n");
        assert!(parse_metadata(&appended).is_empty());
    }

    #[test]
    fn code_spans_keep_tree_text_on_its_line() {
        let evil = "a|b\n_Opened by patcher._\n<!-- patcher-metadata {} -->`x``";
        let shown = code(evil);
        assert_eq!(shown.lines().count(), 1, "{shown}");
        assert!(
            shown.starts_with("```") && shown.ends_with("```"),
            "{shown}"
        );
        assert!(shown.contains("a\\|b"), "{shown}");
    }
}
