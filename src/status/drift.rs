//! Compares the environments of one dependency along the chain: each environment's promotion
//! state against the one before it, and the anomalies worth a human's look. Pure: the tree's
//! versions decide; pull requests only add what is waiting for review and since when.

use super::{Anomaly, AnomalyKind, DependencyStatus, EnvironmentStatus, PromotionState};
use crate::version::parse_version;
use std::cmp::Ordering;

/// Versions first, by what they mean; texts that are not versions (constraints) after them.
pub(super) fn compare_texts(a: &str, b: &str) -> Ordering {
    match (parse_version(a), parse_version(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// `a` against `b` when both are versions.
fn compare_versions(a: &str, b: &str) -> Option<Ordering> {
    Some(parse_version(a)?.semver.cmp(&parse_version(b)?.semver))
}

/// The highest version in use, when it is a version.
fn highest(env: &EnvironmentStatus) -> Option<&str> {
    crate::plan::highest(env.versions.iter().map(|v| Some(v.meaning())))
}

/// `resolved`: the dependency's versions were listed, so the first environment can be
/// compared with its releases.
pub(super) fn compare(dep: &mut DependencyStatus, now: u64, resolved: bool) {
    let mut anomalies = Vec::new();
    // Updates enter the chain in its first environment; without the dependency there, no
    // environment tests them.
    let untested_from = dep
        .environments
        .first()
        .filter(|first| !is_present(first))
        .map(|first| first.name.clone());
    for i in 0..dep.environments.len() {
        let before = dep.environments[..i]
            .iter()
            .rev()
            .find(|e| !e.versions.is_empty());
        let (state, waiting) = state_of(&dep.environments[i], before, now, resolved);
        let untested = untested_from.as_deref().filter(|_| i > 0);
        anomalies.extend(anomalies_of(&dep.environments[i], before, untested));
        let env = &mut dep.environments[i];
        env.state = state;
        if let Some((since, seconds)) = waiting {
            env.waiting_since = Some(since);
            env.waiting_seconds = seconds;
        }
    }
    dep.anomalies = anomalies;
}

fn is_present(env: &EnvironmentStatus) -> bool {
    !env.versions.is_empty() || !env.pins.is_empty()
}

/// The state, and for a version waiting to be promoted here: since when (and how long ago).
fn state_of(
    env: &EnvironmentStatus,
    before: Option<&EnvironmentStatus>,
    now: u64,
    resolved: bool,
) -> (PromotionState, Option<(String, Option<u64>)>) {
    if env.versions.is_empty() {
        let state = match env.pins.is_empty() {
            true => PromotionState::Absent,
            false => PromotionState::Unknown,
        };
        return (state, None);
    }
    let base = match before {
        None if resolved => against_releases(env),
        None => PromotionState::Unknown,
        Some(prev) => match highest(env)
            .zip(highest(prev))
            .map(|(a, b)| compare_versions(a, b))
        {
            Some(Some(Ordering::Equal)) => PromotionState::InSync,
            Some(Some(Ordering::Less)) => PromotionState::Behind,
            Some(Some(Ordering::Greater)) => PromotionState::Ahead,
            _ => PromotionState::Unknown,
        },
    };
    let waiting = match (base, before) {
        (PromotionState::Behind, Some(prev)) => merged_into(prev, now),
        _ => None,
    };
    let state = match (&env.pull_request, base) {
        (Some(_), state) if state != PromotionState::Ahead => PromotionState::InReview,
        (_, state) => state,
    };
    (state, waiting)
}

/// The first environment (or the first one using the dependency) is compared with releases.
fn against_releases(env: &EnvironmentStatus) -> PromotionState {
    let Some(current) = highest(env) else {
        return PromotionState::Unknown;
    };
    let targets = [&env.target_safe, &env.target_breaking];
    let newer = targets
        .iter()
        .filter_map(|t| t.as_deref())
        .any(|t| compare_versions(t, current) == Some(Ordering::Greater));
    match newer {
        true => PromotionState::UpdateAvailable,
        false => PromotionState::UpToDate,
    }
}

/// When the environment before got its highest version, from its merged update pull request.
fn merged_into(prev: &EnvironmentStatus, now: u64) -> Option<(String, Option<u64>)> {
    let merged = prev.last_merged.as_ref()?;
    let same = highest(prev)
        .is_some_and(|v| compare_versions(v, &merged.version) == Some(Ordering::Equal));
    same.then(|| {
        let seconds = super::parse_timestamp(&merged.merged_at).map(|t| now.saturating_sub(t));
        (merged.merged_at.clone(), seconds)
    })
}

fn anomalies_of(
    env: &EnvironmentStatus,
    before: Option<&EnvironmentStatus>,
    untested_from: Option<&str>,
) -> Vec<Anomaly> {
    let anomaly = |kind, message: String| Anomaly {
        kind,
        environment: env.name.clone(),
        message,
    };
    let mut out = Vec::new();
    if let Some(first) = untested_from.filter(|_| is_present(env)) {
        out.push(anomaly(
            AnomalyKind::Untested,
            format!(
                "used in {} but not in {first}: nothing tests its updates before they reach {}",
                env.name, env.name
            ),
        ));
    }
    if let (Some(prev), Some(current)) = (before, highest(env)) {
        let prev_highest = highest(prev).unwrap_or_default();
        if compare_versions(current, prev_highest) == Some(Ordering::Greater) {
            out.push(anomaly(
                AnomalyKind::Ahead,
                format!(
                    "{} runs {current}, ahead of {} ({prev_highest}): {current} skipped testing there",
                    env.name, prev.name
                ),
            ));
        }
    }
    if env.versions.len() > 1 {
        let versions: Vec<&str> = env.versions.iter().map(|v| v.version.as_str()).collect();
        out.push(anomaly(
            AnomalyKind::Split,
            format!(
                "{} uses {} versions: {}",
                env.name,
                versions.len(),
                versions.join(", ")
            ),
        ));
    }
    for pin in &env.pins {
        let kind = match pin.kind {
            super::PinKind::Commit => "commit",
            super::PinKind::Branch => "branch",
        };
        out.push(anomaly(
            AnomalyKind::Pinned,
            format!(
                "{}:{} is pinned to {kind} {}: no update can be proposed",
                pin.file, pin.line, pin.reference
            ),
        ));
    }
    out
}
