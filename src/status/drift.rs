//! Compares the environments of one dependency along the chain: each environment's promotion
//! state against the one before it, and the anomalies worth a human's look. Pure: the tree's
//! versions decide; pull requests only add what is waiting for review and since when.

use super::{Anomaly, AnomalyKind, DependencyStatus, EnvironmentStatus, PromotionState, WaitsOn};
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
pub(super) fn compare(dep: &mut DependencyStatus, resolved: bool) {
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
        let (state, waits_on) = state_of(&dep.environments[i], before, resolved);
        let untested = untested_from.as_deref().filter(|_| i > 0);
        anomalies.extend(anomalies_of(&dep.environments[i], before, untested));
        let env = &mut dep.environments[i];
        env.state = state;
        env.waits_on = waits_on;
    }
    dep.anomalies = anomalies;
}

fn is_present(env: &EnvironmentStatus) -> bool {
    !env.versions.is_empty() || !env.pins.is_empty()
}

/// The state, and for a version waiting to be promoted here: which one, from where, since when.
fn state_of(
    env: &EnvironmentStatus,
    before: Option<&EnvironmentStatus>,
    resolved: bool,
) -> (PromotionState, Option<WaitsOn>) {
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
    let waits_on = match (base, before) {
        (PromotionState::Behind, Some(prev)) => waits_on(prev),
        _ => None,
    };
    let state = match (&env.pull_request, base) {
        (Some(_), state) if state != PromotionState::Ahead => PromotionState::InReview,
        (_, state) => state,
    };
    (state, waits_on)
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

/// The highest version of the environment before, and when it merged there when its merged
/// update pull request is the one that brought it.
fn waits_on(prev: &EnvironmentStatus) -> Option<WaitsOn> {
    let version = highest(prev)?;
    let merged = prev
        .last_merged
        .as_ref()
        .filter(|m| compare_versions(version, &m.version) == Some(Ordering::Equal));
    Some(WaitsOn {
        environment: prev.name.clone(),
        version: version.to_string(),
        merged_at: merged.map(|m| m.merged_at.clone()),
        age_seconds: merged.and_then(|m| m.age_seconds),
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
