//! `status` for people: a terminal table, and Markdown for the job summary and the dashboard.
//!
//! Versions, file names and refs come from the tree, pull request numbers and versions from
//! pull request bodies: none of it is trusted. In Markdown every such value is a code span
//! (no links, mentions or HTML render inside one) that cannot end early, holds no line break
//! and no HTML comment delimiter, so it can neither inject Markdown nor forge a marker such as
//! the dashboard's or a metadata block. In the terminal, control characters are replaced.

use super::{AnomalyKind, DependencyStatus, EnvironmentStatus, PromotionState, Status};
use crate::text::{columns, escape_cell};
use std::fmt::Write;

/// GitHub refuses an issue body over 65,536 characters; some room is left for the marker.
pub const DASHBOARD_LIMIT: usize = 60_000;

/// The terminal table: one row per dependency, one column per environment, then anomalies.
pub fn table(status: &Status) -> String {
    let mut header: Vec<String> = vec!["DEPENDENCY".into()];
    header.extend(status.environments.iter().map(|e| e.to_uppercase()));
    if status.resolved {
        header.extend(["SAFE".into(), "BREAKING".into(), "LATEST".into()]);
    }
    let mut rows = vec![header];
    for dep in &status.dependencies {
        let mut row = vec![dep.id.clone()];
        row.extend(dep.environments.iter().map(|e| cell(e, &Style::Plain)));
        if status.resolved {
            let (safe, breaking) = entry_targets(dep);
            row.extend([safe, breaking, latest(dep)]);
        }
        rows.push(row.into_iter().map(|c| plain(&c)).collect());
    }
    let mut out = columns(&rows);
    let anomalies: Vec<String> = status
        .dependencies
        .iter()
        .flat_map(|d| d.anomalies.iter().map(move |a| (d, a)))
        .map(|(d, a)| plain(&format!("! {} [{}] {}", d.id, kind_word(a.kind), a.message)))
        .collect();
    if !anomalies.is_empty() {
        out.push_str("\nANOMALIES\n");
        for line in anomalies {
            let _ = writeln!(out, "{line}");
        }
    }
    for e in &status.errors {
        let _ = writeln!(
            out,
            "{}",
            plain(&format!(
                "warning: {}: {}:{}:{}: {} (file skipped)",
                e.environment, e.file, e.line, e.column, e.message
            ))
        );
    }
    out
}

/// Markdown for the job summary and the dashboard, at most `limit` characters: dependencies
/// that do not fit are counted, not listed.
pub fn markdown(status: &Status, title: &str, limit: usize) -> String {
    let mut shown = status.dependencies.len();
    loop {
        let text = markdown_of(status, title, shown);
        if text.chars().count() <= limit || shown == 0 {
            return text;
        }
        shown = shown * 3 / 4;
    }
}

fn markdown_of(status: &Status, title: &str, shown: usize) -> String {
    let mut out = format!("### {title}\n\n");
    let chain: Vec<String> = status.environments.iter().map(|e| code(e)).collect();
    let _ = writeln!(out, "Chain: {}.", chain.join(" → "));
    if !status.resolved {
        out.push_str("Versions not listed (offline).\n");
    }
    if !status.pull_requests {
        out.push_str("Pull requests not looked up.\n");
    }
    out.push('\n');
    if status.dependencies.is_empty() {
        out.push_str("No versioned module dependencies found.\n");
        return out;
    }
    out.push_str(&dependency_table(status, shown));
    let left = status.dependencies.len() - shown;
    if left > 0 {
        let _ = writeln!(
            out,
            "\n…and {left} more dependencies, left out to stay within GitHub's size limit; \
             `patcher status --output json` lists them all."
        );
    }
    write_reviews(&mut out, &status.dependencies[..shown]);
    write_anomalies(&mut out, &status.dependencies[..shown]);
    if !status.errors.is_empty() {
        let _ = writeln!(out, "\n#### Files that do not parse\n");
        for e in &status.errors {
            let _ = writeln!(
                out,
                "- {} {} line {}, column {}: {}",
                code(&e.environment),
                code(&e.file),
                e.line,
                e.column,
                code(&e.message)
            );
        }
    }
    out
}

fn dependency_table(status: &Status, shown: usize) -> String {
    let deps = &status.dependencies[..shown];
    let mut headers: Vec<String> = vec!["Dependency".into()];
    headers.extend(status.environments.iter().map(|e| code(e)));
    if status.resolved {
        headers.extend(["Latest safe".into(), "Latest breaking".into()]);
    }
    let rows = deps.iter().map(|dep| {
        let mut row = vec![code(&dep.id)];
        row.extend(dep.environments.iter().map(|e| cell(e, &Style::Markdown)));
        if status.resolved {
            let (safe, breaking) = entry_targets(dep);
            row.extend([code_or_dash(&safe), code_or_dash(&breaking)]);
        }
        row
    });
    table_of(&headers, rows)
}

/// `markdown_table` takes a fixed width; the number of environments is known only at run time.
fn table_of(headers: &[String], rows: impl Iterator<Item = Vec<String>>) -> String {
    let line = |cells: &[String]| {
        let cells: Vec<String> = cells.iter().map(|c| escape_cell(c)).collect();
        format!("| {} |\n", cells.join(" | "))
    };
    let mut out = line(headers);
    let _ = writeln!(out, "|{}", " --- |".repeat(headers.len()));
    for row in rows {
        out.push_str(&line(&row));
    }
    out
}

fn write_reviews(out: &mut String, deps: &[DependencyStatus]) {
    let open: Vec<(&DependencyStatus, &EnvironmentStatus)> = deps
        .iter()
        .flat_map(|d| d.environments.iter().map(move |e| (d, e)))
        .filter(|(_, e)| e.pull_request.is_some())
        .collect();
    if open.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n#### Waiting for review\n");
    for (dep, env) in open {
        let Some(pull) = &env.pull_request else {
            continue;
        };
        let breaking = if pull.breaking { " **breaking**" } else { "" };
        let _ = writeln!(
            out,
            "- #{} {} → {} in {}{breaking}, open for {}",
            pull.number,
            code(&dep.id),
            code(&pull.version),
            code(&env.name),
            pull.age_seconds.map_or("?".into(), age)
        );
    }
}

fn write_anomalies(out: &mut String, deps: &[DependencyStatus]) {
    let found: Vec<_> = deps
        .iter()
        .flat_map(|d| d.anomalies.iter().map(move |a| (d, a)))
        .collect();
    if found.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n#### Anomalies\n");
    for (dep, anomaly) in found {
        let _ = writeln!(
            out,
            "- **{}** {} in {}: {}",
            kind_word(anomaly.kind),
            code(&dep.id),
            code(&anomaly.environment),
            code(&anomaly.message)
        );
    }
}

enum Style {
    Plain,
    Markdown,
}

/// One environment's cell: its versions and where it stands.
fn cell(env: &EnvironmentStatus, style: &Style) -> String {
    let value = |text: &str| match style {
        Style::Plain => text.to_string(),
        Style::Markdown => code(text),
    };
    if env.state == PromotionState::Absent {
        return "—".into();
    }
    let mut parts: Vec<String> = env.versions.iter().map(|v| value(&v.version)).collect();
    if !env.pins.is_empty() {
        parts.push(format!("{} pinned", env.pins.len()));
    }
    let state = match (env.state, &env.pull_request) {
        (PromotionState::InReview, Some(pull)) => format!(
            "in review #{} → {}{}",
            pull.number,
            value(&pull.version),
            pull.age_seconds
                .map(|s| format!(", {}", age(s)))
                .unwrap_or_default()
        ),
        (PromotionState::Behind, _) => match &env.waits_on {
            Some(w) => format!(
                "behind, waits on {}'s {}{}",
                value(&w.environment),
                value(&w.version),
                w.age_seconds
                    .map(|s| format!(" merged {} ago", age(s)))
                    .unwrap_or_default()
            ),
            None => "behind".into(),
        },
        (state, _) => state_word(state).into(),
    };
    let versions = parts.join(", ");
    match style {
        Style::Plain => format!("{versions} ({state})"),
        Style::Markdown => format!("{versions}<br>{state}"),
    }
}

fn state_word(state: PromotionState) -> &'static str {
    match state {
        PromotionState::Absent => "absent",
        PromotionState::UpToDate => "up to date",
        PromotionState::UpdateAvailable => "update available",
        PromotionState::Unknown => "unknown",
        PromotionState::InSync => "in sync",
        PromotionState::Behind => "behind",
        PromotionState::InReview => "in review",
        PromotionState::Ahead => "AHEAD",
    }
}

fn kind_word(kind: AnomalyKind) -> &'static str {
    match kind {
        AnomalyKind::Ahead => "ahead",
        AnomalyKind::Split => "split",
        AnomalyKind::Untested => "untested",
        AnomalyKind::Pinned => "pinned",
    }
}

/// The targets where updates enter: the first environment using the dependency.
fn entry_targets(dep: &DependencyStatus) -> (String, String) {
    let entry = dep.environments.iter().find(|e| !e.versions.is_empty());
    let text = |t: Option<&String>| t.cloned().unwrap_or_else(|| "-".into());
    match (&dep.listing_error, entry) {
        (Some(_), _) => ("error".into(), "error".into()),
        (None, Some(e)) => (
            text(e.target_safe.as_ref()),
            text(e.target_breaking.as_ref()),
        ),
        (None, None) => ("-".into(), "-".into()),
    }
}

fn latest(dep: &DependencyStatus) -> String {
    dep.latest.clone().unwrap_or_else(|| "-".into())
}

fn code_or_dash(text: &str) -> String {
    match text {
        "-" => "—".into(),
        other => code(other),
    }
}

/// `3d`, `5h`, `12m`, `<1m`.
pub fn age(seconds: u64) -> String {
    match seconds {
        s if s >= 86_400 => format!("{}d", s / 86_400),
        s if s >= 3600 => format!("{}h", s / 3600),
        s if s >= 60 => format!("{}m", s / 60),
        _ => "<1m".into(),
    }
}

/// Untrusted text as a Markdown code span that cannot end early, span lines, or hold `<!--` /
/// `-->` (a zero-width space goes in between).
pub fn code(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat
        .replace("<!--", "<!\u{200b}--")
        .replace("-->", "--\u{200b}>");
    let longest_run = flat.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') || flat.trim().is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{flat}{pad}{fence}")
}

/// Terminal text without control characters (escape sequences, carriage returns).
fn plain(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_hold_any_text() {
        assert_eq!(code("v1.2.3"), "`v1.2.3`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        let forged = code("x\n<!-- patcher-dashboard --> [link](https://e.example) @team");
        assert!(!forged.contains('\n'));
        assert!(!forged.contains("<!--") && !forged.contains("-->"));
        assert!(forged.starts_with('`') && forged.ends_with('`'));
    }

    #[test]
    fn ages_in_the_largest_unit() {
        assert_eq!(age(30), "<1m");
        assert_eq!(age(3 * 60), "3m");
        assert_eq!(age(5 * 3600 + 10), "5h");
        assert_eq!(age(3 * 86_400 + 7200), "3d");
    }
}
