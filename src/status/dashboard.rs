//! The promotion dashboard: one issue per repository, created once and then edited in place.
//!
//! The issue is found by its label and by the marker its body starts with (a label alone can
//! be put on any issue). Two runs at the same moment could both find none and both create one,
//! so after creating, the run looks again: the lowest-numbered dashboard is the one, and every
//! other dashboard is closed as its duplicate. Both runs reach the same answer, so at most one
//! dashboard stays open whatever the timing; the example workflow's `concurrency` group makes
//! even that race rare.

use crate::publish::github::{GitHubError, IssueEdit, IssueState, IssueTracker, LabelledIssue};

/// Title of the dashboard issue when it is created; it is found by label and marker, not title.
pub const TITLE: &str = "Patcher promotion dashboard";
/// Label of the dashboard issue, created in the repository when missing.
pub const LABEL: &str = "patcher-dashboard";
/// The first line of the dashboard's body; nothing else of the body can hold it, since
/// untrusted text is escaped (see `render`).
pub const MARKER: &str = "<!-- patcher-dashboard: this issue is rewritten by patcher status -->";

/// What the run did to the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Issue number of the dashboard kept.
    pub number: u64,
    /// Its web page.
    pub url: String,
    /// Whether this run created the dashboard that was kept.
    pub created: bool,
    /// False when the body already said the same.
    pub updated: bool,
    /// Duplicates closed (created by concurrent runs, perhaps this one).
    pub closed: Vec<u64>,
}

impl Published {
    /// `#5 (edited)`, `#5 (created; closed duplicate #6)`: for the log and the job summary.
    pub fn describe(&self) -> String {
        let what = match (self.created, self.updated) {
            (true, _) => "created",
            (false, true) => "edited",
            (false, false) => "unchanged",
        };
        let closed: Vec<String> = self.closed.iter().map(|n| format!("#{n}")).collect();
        match closed.is_empty() {
            true => format!("#{} ({what})", self.number),
            false => format!(
                "#{} ({what}; closed duplicate {})",
                self.number,
                closed.join(", ")
            ),
        }
    }
}

/// Creates or edits the dashboard so its body is `markdown` (the marker is added here).
pub fn publish(tracker: &dyn IssueTracker, markdown: &str) -> Result<Published, GitHubError> {
    let body = format!("{MARKER}\n{markdown}");
    tracker.ensure_issue_labels(&[LABEL.to_string()])?;
    let mut dashboards = find(tracker)?;
    let mut created = None;
    if dashboards.is_empty() {
        let new = tracker.create_issue(TITLE, &body, &[LABEL.to_string()])?;
        created = Some(new.number);
        dashboards = find(tracker)?;
        // A listing that lags behind the create must not make this run forget its own issue.
        if !dashboards.iter().any(|d| d.number == new.number) {
            dashboards.push(new);
            dashboards.sort_by_key(|d| d.number);
        }
    }
    // Not empty: one was found or just created. The lowest number is the dashboard.
    let keep = dashboards.remove(0);
    let duplicates = dashboards;
    let mut closed = Vec::new();
    for duplicate in duplicates.iter().filter(|d| d.state == "open") {
        let close = IssueEdit {
            state: Some(IssueState::Closed),
            state_reason: Some("duplicate"),
            ..IssueEdit::default()
        };
        tracker.edit_issue(duplicate.number, &close)?;
        closed.push(duplicate.number);
    }
    // A concurrent run's dashboard may be the one kept, and this run's the duplicate.
    let created = created == Some(keep.number);
    let reopen = keep.state != "open";
    let updated = keep.body != body || reopen;
    if updated {
        let edit = IssueEdit {
            body: Some(body),
            state: reopen.then_some(IssueState::Open),
            state_reason: reopen.then_some("reopened"),
        };
        tracker.edit_issue(keep.number, &edit)?;
    }
    Ok(Published {
        number: keep.number,
        url: keep.html_url.clone(),
        created,
        updated: updated && !created,
        closed,
    })
}

/// Every dashboard, open or closed, lowest number first.
fn find(tracker: &dyn IssueTracker) -> Result<Vec<LabelledIssue>, GitHubError> {
    let mut found: Vec<LabelledIssue> = tracker
        .list_labelled(LABEL, IssueState::All)?
        .into_iter()
        .filter(|i| !i.is_pull_request && i.body.starts_with(MARKER))
        .collect();
    found.sort_by_key(|i| i.number);
    Ok(found)
}
