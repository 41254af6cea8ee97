//! The job summary (`$GITHUB_STEP_SUMMARY`) of each command, in GitHub-flavoured Markdown. Text
//! from the tree and from listings goes through `text::escape_cell` or a code span.

use crate::plan::Plan;
use crate::pull_limit::Selection;
use crate::report::target_cell;
use crate::text::{escape_cell, markdown_table};
use crate::update::Outcome;

/// `report`'s summary: the plan's table, what was deferred, and the cooldown's notes.
pub fn report(plan: &Plan, selection: &Selection, notes: &[String]) -> String {
    let mut out = report_table(plan);
    out.push_str(&deferred(selection));
    out.push_str(&cooldown_notes(notes));
    out
}

/// The job summary: one row per dependency of the plan.
fn report_table(plan: &Plan) -> String {
    let mut out = String::from("### patcher report\n\n");
    if plan.dependencies.is_empty() {
        out.push_str("No versioned module dependencies found.\n");
        return out;
    }
    let rows = plan.dependencies.iter().map(|dep| {
        let target = target_cell(dep).unwrap_or_else(|e| format!("error: {e}"));
        [
            format!("`{}`", dep.source.id),
            dep.current_versions.join(", "),
            target,
            if dep.is_breaking() { "**yes**" } else { "no" }.into(),
            dep.usages.len().to_string(),
        ]
    });
    out.push_str(&markdown_table(
        ["Dependency", "Current", "Target", "Breaking", "Usages"],
        rows,
    ));
    out
}

/// The job summary's list of cooldown notes; empty without any.
fn cooldown_notes(notes: &[String]) -> String {
    if notes.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n#### Cooldown (`minimum_release_age`)\n\n");
    for note in notes {
        out.push_str(&format!("* {}\n", crate::pull_request::code(note)));
    }
    out
}

/// The job summary's section on deferred dependencies; empty when none is deferred.
fn deferred(selection: &Selection) -> String {
    if selection.deferred.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n#### Deferred to the next run\n\n{} open patcher pull request(s), `max_pull_requests` \
         {}: these {} dependencies get their pull requests once there is room.\n\n",
        selection.open,
        selection.max,
        selection.deferred.len()
    );
    for id in &selection.deferred {
        out.push_str(&format!("- `{}`\n", escape_cell(id)));
    }
    out
}

/// The job summary of an update: the pull request, or why there is none.
pub fn update(outcome: &Outcome) -> String {
    let mut out = String::from("### patcher update\n\n");
    match (&outcome.pull_request_url, outcome.changed) {
        (Some(url), _) => out.push_str(&format!(
            "Pull request #{}: {url}\n\n",
            outcome.pull_request_number.unwrap_or_default()
        )),
        (None, true) => out.push_str("Files changed (no pull request opened).\n\n"),
        (None, false) => out.push_str("Nothing to update.\n\n"),
    }
    for file in outcome.updated_files.iter().chain(&outcome.readmes) {
        out.push_str(&format!("- `{}`\n", file.display()));
    }
    for note in &outcome.notes {
        out.push_str(&format!("\n> {}\n", escape_cell(note)));
    }
    out
}

/// `promote`'s summary: the line it printed.
pub fn promote(line: &str) -> String {
    format!("### patcher promote\n\n{}\n", escape_cell(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deferred_dependencies_are_listed_in_order_as_code() {
        let selection = Selection {
            listed: vec!["b/x/m".into()],
            deferred: vec!["d/x/m".into(), "a/x|m".into()],
            open: 1,
            max: 2,
        };
        let text = deferred(&selection);
        assert!(
            text.contains("1 open patcher pull request(s), `max_pull_requests` 2"),
            "{text}"
        );
        assert!(text.contains("- `d/x/m`\n- `a/x\\|m`"), "{text}");
    }

    #[test]
    fn nothing_deferred_writes_no_section() {
        assert!(deferred(&Selection::default()).is_empty());
        assert!(cooldown_notes(&[]).is_empty());
    }

    #[test]
    fn an_update_without_changes_says_so() {
        let text = update(&Outcome::default());
        assert!(text.contains("Nothing to update."), "{text}");
    }
}
