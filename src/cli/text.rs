//! What the CLI prints on the terminal: plain text, aligned columns.

use crate::plan::Plan;
use crate::update::Outcome;

/// `report`'s table: one row per dependency (both doors print it; the action in a log group).
pub fn report_table(plan: &Plan) -> String {
    let mut rows = vec![[
        "DEPENDENCY".to_string(),
        "CURRENT".to_string(),
        "TARGET".to_string(),
        "USAGES".to_string(),
        "BREAKING".to_string(),
    ]];
    for dep in &plan.dependencies {
        let target = crate::report::target_cell(dep).unwrap_or_else(|_| "error".into());
        rows.push([
            dep.source.id.clone(),
            dep.current_versions.join(", "),
            target,
            dep.usages.len().to_string(),
            if dep.is_breaking() { "yes" } else { "no" }.to_string(),
        ]);
    }
    crate::text::columns(&rows)
}

/// What `update` prints: the files it changed and the pull request.
pub fn update_outcome(outcome: &Outcome) -> String {
    let mut out = String::new();
    for file in outcome.updated_files.iter().chain(&outcome.readmes) {
        out.push_str(&format!("updated {}\n", file.display()));
    }
    if let (Some(n), Some(url)) = (outcome.pull_request_number, &outcome.pull_request_url) {
        out.push_str(&format!("pull request #{n}: {url}\n"));
    }
    if !outcome.changed {
        out.push_str("nothing to update\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn an_update_lists_its_files_and_pull_request() {
        let outcome = Outcome {
            changed: true,
            updated_files: vec![PathBuf::from("dev/vpc/terragrunt.hcl")],
            readmes: vec![PathBuf::from("dev/vpc/README-TO-COMPLETE-UPDATE.md")],
            pull_request_number: Some(7),
            pull_request_url: Some("https://github.com/acme/live/pull/7".into()),
            ..Outcome::default()
        };
        assert_eq!(
            update_outcome(&outcome),
            "updated dev/vpc/terragrunt.hcl\n\
             updated dev/vpc/README-TO-COMPLETE-UPDATE.md\n\
             pull request #7: https://github.com/acme/live/pull/7\n"
        );
        assert_eq!(update_outcome(&Outcome::default()), "nothing to update\n");
    }

    #[test]
    fn an_empty_report_is_its_header() {
        let table = report_table(&Plan::default());
        assert_eq!(
            table.split_whitespace().collect::<Vec<_>>(),
            ["DEPENDENCY", "CURRENT", "TARGET", "USAGES", "BREAKING"]
        );
    }
}
