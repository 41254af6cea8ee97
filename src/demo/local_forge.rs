//! The demo's stand-in for GitHub: pull requests, labels and dispatches kept in memory.
//! Only `patcher demo` uses it; the product talks to GitHub through `publish::github`.

use crate::publish::github::{Forge, GitHubError, NewPull, PullRequest};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::sync::Mutex;

/// Pull requests, labels and dispatches kept in memory: the demo's stand-in for GitHub.
#[derive(Default)]
pub struct LocalForge {
    state: Mutex<ForgeState>,
}

#[derive(Default)]
struct ForgeState {
    pulls: Vec<(PullRequest, Option<String>)>,
    dispatches: Vec<(String, Value)>,
}

impl LocalForge {
    pub fn get(&self, number: u64) -> Result<PullRequest> {
        let state = self.state.lock().expect("forge lock");
        state
            .pulls
            .iter()
            .find(|(p, _)| p.number == number)
            .map(|(p, _)| p.clone())
            .context("no such pull request")
    }

    pub fn mark_merged(&self, number: u64, sha: &str) {
        let mut state = self.state.lock().expect("forge lock");
        if let Some(entry) = state.pulls.iter_mut().find(|(p, _)| p.number == number) {
            entry.1 = Some(sha.to_string());
        }
    }

    /// The `pull_request` event GitHub would deliver when the pull request is merged.
    pub fn closed_event(&self, number: u64) -> Result<Value> {
        let state = self.state.lock().expect("forge lock");
        let (pr, merged) = state
            .pulls
            .iter()
            .find(|(p, _)| p.number == number)
            .context("no such pull request")?;
        Ok(
            json!({"action": "closed", "number": number, "pull_request": {
            "number": number, "merged": merged.is_some(), "body": pr.body, "title": pr.title,
            "head": {"ref": pr.head_ref}, "base": {"ref": "main"},
            "merge_commit_sha": merged,
            "labels": pr.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>()}}),
        )
    }

    pub fn take_dispatches(&self) -> Vec<(String, Value)> {
        std::mem::take(&mut self.state.lock().expect("forge lock").dispatches)
    }
}

impl Forge for LocalForge {
    fn find_open_pull(&self, head_branch: &str) -> Result<Option<PullRequest>, GitHubError> {
        let state = self.state.lock().expect("forge lock");
        Ok(state
            .pulls
            .iter()
            .find(|(p, merged)| p.head_ref == head_branch && merged.is_none())
            .map(|(p, _)| p.clone()))
    }

    fn create_pull(&self, pull: &NewPull) -> Result<PullRequest, GitHubError> {
        let mut state = self.state.lock().expect("forge lock");
        let number = state.pulls.len() as u64 + 1;
        let pr = PullRequest {
            number,
            html_url: format!("local://pull/{number}"),
            title: pull.title.clone(),
            body: pull.body.clone(),
            labels: Vec::new(),
            head_ref: pull.head.clone(),
        };
        state.pulls.push((pr.clone(), None));
        Ok(pr)
    }

    fn update_pull(
        &self,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, GitHubError> {
        let mut state = self.state.lock().expect("forge lock");
        let (pr, _) = state
            .pulls
            .iter_mut()
            .find(|(p, _)| p.number == number)
            .ok_or_else(|| GitHubError::NotFound {
                what: format!("pull request #{number}"),
            })?;
        pr.title = title.to_string();
        pr.body = body.to_string();
        Ok(pr.clone())
    }

    fn ensure_labels(&self, _: &[String]) -> Result<(), GitHubError> {
        Ok(())
    }

    fn add_labels(&self, number: u64, labels: &[String]) -> Result<(), GitHubError> {
        let mut state = self.state.lock().expect("forge lock");
        if let Some((pr, _)) = state.pulls.iter_mut().find(|(p, _)| p.number == number) {
            pr.labels.extend(labels.iter().cloned());
        }
        Ok(())
    }

    fn release_notes(&self, _: &str, _: &str) -> Result<Option<String>, GitHubError> {
        Ok(None)
    }

    fn dispatch(&self, event_type: &str, client_payload: &Value) -> Result<(), GitHubError> {
        let mut state = self.state.lock().expect("forge lock");
        state
            .dispatches
            .push((event_type.to_string(), client_payload.clone()));
        Ok(())
    }
}
