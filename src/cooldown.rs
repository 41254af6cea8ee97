//! `minimum_release_age`: a version is a candidate only once it has been published that long, so
//! a release that is pulled or fixed within days never reaches an environment. Plain data in,
//! plain data out: the listings a plan sees lose the versions that are too young; the dates
//! come from the lister ([`crate::resolve::VersionLister::release_dates`]) and are asked for
//! only when a cooldown is set. Exact versions (promotions) never pass through here.

use crate::model::{Listings, Origin, Usage};
use crate::plan::{origin_label, Versions};
use crate::resolve::{self, VersionLister};
use crate::version::{parse_constraint, parse_version};
use std::collections::BTreeMap;

/// Publication time (seconds since the epoch) of listed versions, by version text as listed.
pub type Dates = BTreeMap<String, u64>;

/// How young a candidate may not be, measured from `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cooldown {
    /// Seconds a version must have been published before it is a candidate.
    pub minimum_age: u64,
    /// The time ages are measured from, seconds since the epoch (this machine's clock, `from_now`).
    pub now: u64,
}

/// A `minimum_release_age` text that is not a duration; holds the text as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "minimum_release_age `{0}` is not a duration: write a whole number and a unit, e.g. `3d`, \
     `12h`, `1w` or `1d12h` (units: m minutes, h hours, d days, w weeks; 0 for none)"
)]
pub struct AgeError(pub String);

const UNITS: [(char, u64); 4] = [('m', 60), ('h', 3600), ('d', 86_400), ('w', 604_800)];

/// Seconds of a duration such as `3d`, `12h`, `1w` or `1d12h`; `None` for `0` (no cooldown).
pub fn parse_age(text: &str) -> Result<Option<u64>, AgeError> {
    let bad = || AgeError(text.to_string());
    let trimmed = text.trim();
    if trimmed == "0" {
        return Ok(None);
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in trimmed.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = UNITS.iter().find(|(u, _)| *u == c).ok_or_else(bad)?.1;
        let count: u64 = number.parse().map_err(|_| bad())?;
        total = count
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() || trimmed.is_empty() {
        return Err(bad());
    }
    Ok((total > 0).then_some(total))
}

/// The cooldown a run works with: the input or flag, else the environments file's key.
pub fn from_settings(
    given: Option<&str>,
    configured: Option<&str>,
) -> Result<Option<Cooldown>, AgeError> {
    let Some(text) = given.or(configured) else {
        return Ok(None);
    };
    Ok(parse_age(text)?.map(Cooldown::from_now))
}

/// `259200` → `3d`, `129600` → `1d12h`: how durations are written back in notes.
pub fn format_age(seconds: u64) -> String {
    let mut rest = seconds;
    let mut out = String::new();
    for (unit, size) in [('d', 86_400), ('h', 3600), ('m', 60)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    if out.is_empty() {
        out.push_str("0m");
    }
    out
}

/// Everything listed for a run's usages, the versions a strategy may pick from under the
/// cooldown, and what the user should hear about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filtered {
    /// Every version each origin lists; exact versions are looked up here.
    pub listed: Listings,
    /// `listed` without the versions still too young; None when the cooldown held none back.
    pub candidates: Option<Listings>,
    /// One line per origin whose versions were held back or could not be dated; empty when the
    /// cooldown changed nothing (or none is set).
    pub notes: Vec<String>,
}

impl Filtered {
    /// The listings as a plan reads them.
    pub fn versions(&self) -> Versions<'_> {
        Versions {
            listed: &self.listed,
            candidates: self.candidates.as_ref().unwrap_or(&self.listed),
        }
    }
}

/// The usages' listings, one per origin, and their candidates under `cooldown` (no dates are
/// asked for without one).
pub fn list(
    cooldown: Option<Cooldown>,
    usages: &[Usage],
    lister: &dyn VersionLister,
    concurrency: usize,
) -> Filtered {
    let listed = resolve::listings_for(usages, lister, concurrency);
    match cooldown {
        Some(cooldown) => cooldown.filter(usages, listed, lister, concurrency),
        None => Filtered {
            listed,
            candidates: None,
            notes: Vec::new(),
        },
    }
}

impl Cooldown {
    /// A cooldown of `minimum_age` seconds from the clock of this machine.
    pub fn from_now(minimum_age: u64) -> Cooldown {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Cooldown { minimum_age, now }
    }

    /// `listings` without the candidates published less than `minimum_age` ago. A version with
    /// no known date stays a candidate (the cooldown cannot apply to it) and a note says so.
    pub fn filter(
        &self,
        usages: &[Usage],
        listings: Listings,
        lister: &dyn VersionLister,
        concurrency: usize,
    ) -> Filtered {
        let mut by_origin: BTreeMap<&Origin, Vec<&Usage>> = BTreeMap::new();
        for usage in usages {
            by_origin
                .entry(&usage.source.origin)
                .or_default()
                .push(usage);
        }
        let work: Vec<Work> = by_origin
            .into_iter()
            .filter_map(|(origin, mine)| {
                let listed = listings.get(origin)?.as_ref().ok()?;
                let names: Vec<String> = listed.iter().map(|l| l.name.clone()).collect();
                Work::new(origin, &names, &mine)
            })
            .collect();
        let results = resolve::concurrently(&work, concurrency, |w| {
            lister.release_dates(w.origin, w.github_repo.as_deref(), &w.candidates)
        });
        let mut notes = Vec::new();
        let mut young_by_origin = Vec::new();
        for (work, dates) in work.iter().zip(results) {
            let label = origin_label(work.origin);
            let dates = match dates {
                Ok(dates) => dates,
                Err(why) => {
                    notes.push(self.undated_note(&label, &why));
                    continue;
                }
            };
            let young = self.young(&work.candidates, &dates);
            let undated = work.candidates.iter().filter(|v| !dates.contains_key(*v));
            if let Some(version) = undated.clone().next() {
                let count = undated.count();
                let why = format!("no publication date for {version} ({count} version(s))");
                notes.push(self.undated_note(&label, &why));
            }
            if !young.is_empty() {
                notes.push(format!(
                    "{label}: {} published less than {} ago (minimum_release_age): not a \
                     candidate yet",
                    young.join(", "),
                    format_age(self.minimum_age)
                ));
                young_by_origin.push((work.origin.clone(), young));
            }
        }
        let candidates = (!young_by_origin.is_empty()).then(|| {
            let mut candidates = listings.clone();
            for (origin, young) in young_by_origin {
                if let Some(Ok(versions)) = candidates.get_mut(&origin) {
                    versions.retain(|v| !young.contains(&v.name));
                }
            }
            candidates
        });
        Filtered {
            listed: listings,
            candidates,
            notes,
        }
    }

    fn young(&self, candidates: &[String], dates: &Dates) -> Vec<String> {
        let cutoff = self.now.saturating_sub(self.minimum_age);
        candidates
            .iter()
            .filter(|v| dates.get(*v).is_some_and(|&published| published > cutoff))
            .cloned()
            .collect()
    }

    fn undated_note(&self, label: &str, why: &str) -> String {
        format!(
            "{label}: minimum_release_age {} not applied: {why}",
            format_age(self.minimum_age)
        )
    }
}

/// One origin whose candidates need dates.
struct Work<'a> {
    origin: &'a Origin,
    github_repo: Option<String>,
    /// Listed versions above the lowest version any usage is at: only these can be targets,
    /// so only their dates are asked for (a registry answers one version per request).
    candidates: Vec<String>,
}

impl<'a> Work<'a> {
    fn new(origin: &'a Origin, listed: &[String], mine: &[&Usage]) -> Option<Work<'a>> {
        let floor = mine
            .iter()
            .filter_map(|u| floor_of(&u.current, listed))
            .min();
        let current: std::collections::BTreeSet<&str> =
            mine.iter().map(|u| u.current.as_str()).collect();
        let candidates: Vec<String> = listed
            .iter()
            .filter(|text| !current.contains(&text.as_str()))
            .filter(|text| match (parse_version(text), &floor) {
                (Some(v), Some(floor)) => v.semver > *floor,
                (Some(_), None) => true,
                (None, _) => false,
            })
            .cloned()
            .collect();
        (!candidates.is_empty()).then(|| Work {
            origin,
            github_repo: mine.first().and_then(|u| u.source.github_repo.clone()),
            candidates,
        })
    }
}

/// The version a usage's text stands for: the version itself, or a constraint's lowest listed
/// match.
fn floor_of(current: &str, listed: &[String]) -> Option<semver::Version> {
    if let Some(v) = parse_version(current) {
        return Some(v.semver);
    }
    let constraint = parse_constraint(current)?;
    listed
        .iter()
        .filter_map(|text| parse_version(text))
        .map(|v| v.semver)
        .filter(|v| constraint.matches(v))
        .min()
}

/// Seconds since the epoch of an RFC 3339 time as registries and GitHub write them: UTC `Z` or
/// an offset (`+02:00`), with or without fractional seconds.
pub fn parse_time(text: &str) -> Option<u64> {
    let (base, rest) = (text.get(..19)?, text.get(19..)?);
    let rest = match rest.strip_prefix('.') {
        Some(fraction) => fraction.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    };
    let seconds = crate::status::parse_timestamp(&format!("{base}Z"))?;
    if rest == "Z" || rest == "z" {
        return Some(seconds);
    }
    let (sign, offset) = match rest.as_bytes().first()? {
        b'+' => (1i64, &rest[1..]),
        b'-' => (-1i64, &rest[1..]),
        _ => return None,
    };
    let (hours, minutes) = offset.split_once(':')?;
    let (hours, minutes): (i64, i64) = (hours.parse().ok()?, minutes.parse().ok()?);
    let shift = sign * (hours * 3600 + minutes * 60);
    u64::try_from(seconds as i64 - shift).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_minutes_hours_days_and_weeks() {
        assert_eq!(parse_age("3d"), Ok(Some(259_200)));
        assert_eq!(parse_age("12h"), Ok(Some(43_200)));
        assert_eq!(parse_age("1w"), Ok(Some(604_800)));
        assert_eq!(parse_age(" 1d12h "), Ok(Some(129_600)));
        assert_eq!(parse_age("90m"), Ok(Some(5_400)));
        assert_eq!(parse_age("0"), Ok(None));
        assert_eq!(parse_age("0d"), Ok(None));
        for bad in [
            "",
            "3",
            "d",
            "3 days",
            "3x",
            "-1d",
            "1.5d",
            "99999999999999999999w",
        ] {
            let err = parse_age(bad).unwrap_err().to_string();
            assert!(
                err.contains(&format!("`{bad}`")) && err.contains("3d"),
                "{err}"
            );
        }
        assert_eq!(format_age(259_200), "3d");
        assert_eq!(format_age(129_600), "1d12h");
        assert_eq!(format_age(5_400), "1h30m");
    }

    /// Dates for registry versions: 1.1.0 ten days old, 1.2.0 an hour old; records what is asked.
    struct Dated(std::sync::Mutex<Vec<String>>);

    impl VersionLister for Dated {
        fn list(&self, _: &Origin) -> Result<Vec<crate::model::Listed>, resolve::ResolveError> {
            unreachable!("the cooldown only asks for dates")
        }

        fn release_dates(
            &self,
            _: &Origin,
            _: Option<&str>,
            versions: &[String],
        ) -> Result<Dates, String> {
            self.0.lock().unwrap().extend(versions.iter().cloned());
            let now = 100 * 86_400;
            Ok(Dates::from([
                ("1.1.0".to_string(), now - 10 * 86_400),
                ("1.2.0".to_string(), now - 3600),
            ]))
        }
    }

    #[test]
    fn only_candidates_above_the_floor_are_dated_and_young_ones_dropped() {
        let text = "module \"a\" {\n  source  = \"acme/net/aws\"\n  version = \"~> 1.1\"\n}\n";
        let usages = crate::scan::scan_file(std::path::Path::new("main.tf"), text.as_bytes())
            .expect("parses")
            .usages;
        let origin = usages[0].source.origin.clone();
        let listed = ["1.0.0", "1.1.0", "1.2.0"]
            .map(crate::model::Listed::name)
            .to_vec();
        let listings = Listings::from([(origin.clone(), Ok(listed))]);
        let lister = Dated(Default::default());
        let cooldown = Cooldown {
            minimum_age: 3 * 86_400,
            now: 100 * 86_400,
        };
        let filtered = cooldown.filter(&usages, listings, &lister, 2);
        assert_eq!(
            *lister.0.lock().unwrap(),
            ["1.2.0"],
            "the floor of ~> 1.1 is 1.1.0"
        );
        assert_eq!(
            filtered.versions().candidates[&origin],
            Ok(vec!["1.0.0".into(), "1.1.0".into()])
        );
        assert_eq!(
            filtered.versions().listed[&origin].as_ref().unwrap().len(),
            3
        );
        assert_eq!(filtered.notes.len(), 1, "{:?}", filtered.notes);
    }

    #[test]
    fn the_sample_environments_file_sets_a_cooldown() {
        let config = crate::environments_file::EnvironmentsFile::parse(
            include_str!("../examples/patcher.yml"),
            std::path::Path::new("examples/patcher.yml"),
        )
        .unwrap();
        let dev = config.entry("dev").unwrap().unwrap();
        assert_eq!(dev.minimum_release_age.as_deref(), Some("3d"));
    }

    #[test]
    fn times_with_offsets_and_fractions() {
        let utc = parse_time("2026-01-02T03:04:05Z").unwrap();
        assert_eq!(parse_time("2026-01-02T03:04:05.123456Z"), Some(utc));
        assert_eq!(parse_time("2026-01-02T05:04:05+02:00"), Some(utc));
        assert_eq!(parse_time("2026-01-01T22:04:05-05:00"), Some(utc));
        assert_eq!(parse_time("2026-01-02T03:04:05"), None);
        assert_eq!(parse_time("yesterday"), None);
    }
}
