//! `patcher action`: one workflow step. Reads the step's inputs and event the way the runner
//! hands them over, runs `report`, `update` or `promote` with the same options the CLI builds,
//! and answers with outputs, a job summary and annotations.

use crate::action::{self, summary, Inputs, Level, Outputs, Printer, Runner};
use crate::cooldown::{self, Cooldown};
use crate::environment::Environment;
use crate::environments_file::{EnvironmentConfig, EnvironmentsFile};
use crate::group::{is_group_id, Groups, Member};
use crate::plan::Strategy;
use crate::policy::Policy;
use crate::promote::{self, Payload, PromoteOptions};
use crate::publish::git::Repo;
use crate::publish::github::{Forge, GitHubClient, IssueTracker};
use crate::pull_limit::{self, PullScope, Selection};
use crate::report::{self, ReportOptions};
use crate::resolve::{ResolveSettings, Resolver, VersionLister};
use crate::spec::{self, Spec};
use crate::status::{self, StatusOptions};
use crate::update::{self, Outcome, PublishOptions, UpdateOptions};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

pub fn run() -> Result<()> {
    let inputs = Inputs::from_env();
    let runner = Runner::from_env();
    let out = Printer::action();
    if let Some(token) = inputs.get("github_token") {
        out.command(&action::add_mask(&token));
    }
    let step = Step::new(inputs, runner)?;
    if step.inputs.flag("debug")? || step.runner.is_debug() {
        step.log_debug();
    }
    match step.command.as_str() {
        "report" | "update" if step.chain_finished.is_some() => {
            let reason = step.chain_finished.as_deref().unwrap_or_default();
            step.out.line(reason);
            step.runner.set_output("has_updates", "false")?;
            step.runner.set_output("dependencies", "[]")?;
            Ok(())
        }
        "report" => step.report(),
        "update" => step.update(),
        "promote" => step.promote(),
        "status" => step.status(),
        other => bail!("patcher_command `{other}` is not one of report, update, promote, status"),
    }
}

struct Step {
    out: Printer,
    inputs: Inputs,
    runner: Runner,
    command: String,
    workspace: PathBuf,
    /// `working_dir`, checked to be inside the workspace.
    working_dir: PathBuf,
    token: Option<String>,
    config: Option<EnvironmentsFile>,
    /// The environment this run works on: the `environment` input, else (with an environments
    /// file) the one after the environment that merged, else the first.
    environment: Option<String>,
    /// The environment's entry of the environments file.
    env_config: Option<EnvironmentConfig>,
    /// Set when the dispatch came from the last environment: nothing left to do.
    chain_finished: Option<String>,
    dependency: Option<String>,
    version: Option<String>,
    /// Registry of host-less addresses in `.tf`/`.hcl` files (input or environments file).
    default_registry: Option<String>,
    /// A dispatched group's members at their exact versions.
    members: Vec<Member>,
}

impl Step {
    fn new(inputs: Inputs, runner: Runner) -> Result<Step> {
        let workspace = runner.workspace();
        let command = inputs
            .get("patcher_command")
            .unwrap_or_else(|| "report".into());
        let token = inputs.get("github_token");
        let working_dir = in_workspace(
            &workspace,
            "working_dir",
            &inputs.get("working_dir").unwrap_or_else(|| ".".into()),
        )?;
        let config = load_config(&workspace, &working_dir, &inputs)?;
        let payload = match runner.event()? {
            Some(event) if runner.event_name().as_deref() == Some("repository_dispatch") => {
                promote::payload_of(&event)?
            }
            _ => None,
        };
        let (dependency, version) = target_of(&inputs, payload.as_ref())?;
        let members = members_of(dependency.as_deref(), payload.as_ref());
        let mut chain_finished = None;
        let environment = match (inputs.get("environment"), &config) {
            (Some(name), _) => Some(name),
            (None, Some(config)) if command != "promote" && !config.environments.is_empty() => {
                match payload.as_ref().and_then(|p| p.environment.as_deref()) {
                    Some(merged) => {
                        let next = config.next(merged)?.map(|e| e.name.clone());
                        if next.is_none() {
                            chain_finished =
                                Some(format!("{merged} is the last environment: nothing to do"));
                        }
                        next
                    }
                    None => config.environments.first().map(|e| e.name.clone()),
                }
            }
            _ => None,
        };
        let env_config = match (&config, &environment) {
            (Some(config), Some(name)) => config.entry(name)?.cloned(),
            _ => None,
        };
        let default_registry = crate::environments_file::default_registry(
            inputs.get("default_registry").as_deref(),
            config.as_ref(),
        )?;
        Ok(Step {
            out: Printer::action(),
            inputs,
            runner,
            command,
            workspace,
            working_dir,
            token,
            config,
            environment,
            env_config,
            chain_finished,
            dependency,
            version,
            default_registry,
            members,
        })
    }

    fn log_debug(&self) {
        let env = self.env();
        let facts = [
            format!("command: {}", self.command),
            format!("environment: {:?}", self.environment),
            format!("working_dir: {}", env.working_dir.display()),
            format!("include_dirs: {:?}", env.include_dirs),
            format!("exclude_dirs: {:?}", env.exclude_dirs),
            format!(
                "dependency: {:?}, version: {:?}",
                self.dependency, self.version
            ),
            format!("environments file: {}", self.config.is_some()),
        ];
        for fact in facts {
            self.out.command(&action::debug(&fact));
        }
    }

    fn environment_name(&self) -> Option<String> {
        self.environment.clone()
    }

    fn env(&self) -> Environment {
        self.env_of(self.env_config.as_ref())
    }

    fn env_of(&self, env_config: Option<&EnvironmentConfig>) -> Environment {
        Environment {
            default_registry: self.default_registry.clone(),
            ..self.folders_of(env_config)
        }
    }

    fn folders_of(&self, env_config: Option<&EnvironmentConfig>) -> Environment {
        let working_dir = self.working_dir.clone();
        match env_config {
            Some(env) if self.inputs.list("include_dirs").is_empty() => {
                env.environment(&working_dir)
            }
            _ => Environment {
                working_dir,
                include_dirs: self.inputs.list("include_dirs"),
                exclude_dirs: self.inputs.list("exclude_dirs"),
                default_registry: None,
            },
        }
    }

    fn strategy(&self) -> Result<Strategy> {
        match self.inputs.get("update_strategy").as_deref() {
            None | Some("next-safe") => Ok(Strategy::NextSafe),
            Some("next-breaking") => Ok(Strategy::NextBreaking),
            Some(other) => bail!("update_strategy `{other}` is not next-safe or next-breaking"),
        }
    }

    /// Listings with the token; tag dates from the GraphQL API next to `github_api_url`.
    fn resolver(&self) -> Result<Resolver> {
        let mut config = ResolveSettings::from_env(self.token.clone())?;
        config.github_api_url = self.api_url();
        Ok(Resolver::new(config))
    }

    fn api_url(&self) -> String {
        self.inputs
            .get("github_api_url")
            .unwrap_or_else(|| self.runner.api_url())
    }

    /// The `minimum_release_age` input, else the environment's key in the environments file.
    fn cooldown(&self) -> Result<Option<Cooldown>> {
        let configured = self
            .env_config
            .as_ref()
            .and_then(|e| e.minimum_release_age.as_deref());
        let given = self.inputs.get("minimum_release_age");
        Ok(cooldown::from_settings(given.as_deref(), configured)?)
    }

    fn report(&self) -> Result<()> {
        let resolver = self.resolver()?;
        let concurrency = resolver.config().concurrency;
        let opts = ReportOptions {
            env: self.env(),
            strategy: self.strategy()?,
            dependency: self.dependency.clone(),
            version: self.version.clone(),
            members: self.members.clone(),
            concurrency,
            policy: Policy::from_config(self.config.as_ref())?,
            groups: Groups::from_config(self.config.as_ref())?,
            cooldown: self.cooldown()?,
        };
        self.out.command(&action::group("patcher report"));
        let mut report = report::run(&opts, &resolver)?;
        self.out.text(&crate::cli::report_table(&report.plan));
        self.out.command(&action::endgroup());
        self.annotate_problems(&report, &opts.env.working_dir);
        let selection = self.selection(&report.spec)?;
        report.spec.deferred = selection.deferred.clone();
        if let Some(file) = self.inputs.get("spec_file") {
            let path = in_workspace(&self.workspace, "spec_file", &file)?;
            crate::edit::write_atomic_with(&path, |out| spec::write_json(&report.spec, out))
                .with_context(|| format!("writing spec_file {file}"))?;
        }
        let compact = spec::compact(&report.spec, &selection.listed);
        let mut outputs = Outputs::new();
        outputs
            .set_input_value("spec", spec::to_compact_json(&compact))
            .set("dependencies", serde_json::to_string(&selection.listed)?)
            .set("has_updates", (!selection.listed.is_empty()).to_string());
        outputs.write(
            &self.runner,
            "lower max_pull_requests, or give the update job spec_file instead of spec",
        )?;
        self.runner
            .append_summary(&summary::report(&report.plan, &selection, &report.notes))?;
        match report::listing_failure(&report.plan) {
            Some(message) => bail!(message),
            None => Ok(()),
        }
    }

    /// The dependencies this run hands to the update matrix. A promotion (exact versions) is
    /// never deferred; otherwise the open pull requests of the environment are counted.
    fn selection(&self, spec: &Spec) -> Result<Selection> {
        if self.version.is_some() || !self.members.is_empty() {
            return Ok(pull_limit::all(spec));
        }
        let scope = PullScope {
            label: self.labels().into_iter().next(),
            branch_prefix: self.branch_prefix(),
        };
        let forge = match &self.token {
            Some(_) => Some(self.forge()?),
            None => None,
        };
        Ok(pull_limit::count_and_select(
            spec,
            self.max_pull_requests()?,
            forge.as_ref(),
            &scope,
        )?)
    }

    /// The input, else the environments file, else the default.
    fn max_pull_requests(&self) -> Result<usize> {
        if let Some(text) = self.inputs.get("max_pull_requests") {
            return text.parse().map_err(|_| {
                anyhow::anyhow!("max_pull_requests `{text}` is not a whole number (0 for no limit)")
            });
        }
        Ok(self
            .env_config
            .as_ref()
            .and_then(|e| e.max_pull_requests)
            .unwrap_or(pull_limit::DEFAULT_MAX_PULL_REQUESTS))
    }

    fn annotate_problems(&self, report: &report::Report, working_dir: &Path) {
        let files = [
            (
                &report.scan.errors,
                Level::Warning,
                "patcher could not parse this file",
            ),
            (
                &report.scan.lenient,
                Level::Notice,
                "patcher read this file leniently",
            ),
        ];
        for (errors, level, what) in files {
            for e in errors {
                let file = self.relative_to_workspace(&working_dir.join(&e.file));
                self.out.command(&action::annotation(
                    level,
                    Some(&file),
                    Some(e.line),
                    Some(e.column),
                    &format!("{what}: {}", e.message),
                ));
            }
        }
        for dep in &report.plan.dependencies {
            if let Some(err) = &dep.error {
                let msg = format!("{}: {err}", dep.source.id);
                self.out
                    .command(&action::annotation(Level::Warning, None, None, None, &msg));
            }
        }
        for note in &report.notes {
            self.out
                .command(&action::annotation(Level::Notice, None, None, None, note));
        }
    }

    fn relative_to_workspace(&self, path: &Path) -> PathBuf {
        let workspace = self.workspace.canonicalize();
        let workspace = workspace.as_deref().unwrap_or(&self.workspace);
        path.strip_prefix(workspace)
            .unwrap_or(path)
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect()
    }

    /// The spec from the `spec` input (no shell in between), else from `spec_file`.
    fn spec(&self) -> Result<Option<Spec>> {
        if let Some(text) = self.inputs.get("spec") {
            return Ok(Some(spec::from_json(&text, "input `spec`")?));
        }
        let Some(file) = self.inputs.get("spec_file") else {
            return Ok(None);
        };
        let path = in_workspace(&self.workspace, "spec_file", &file)?;
        Ok(Some(spec::read_file(&path)?))
    }

    fn update(&self) -> Result<()> {
        let dependency = self.dependency.clone();
        let version = self.version.clone();
        let resolver = self.resolver()?;
        let concurrency = resolver.config().concurrency;
        let opts = UpdateOptions {
            env: self.env(),
            spec: self.spec()?,
            dependency: dependency.clone(),
            version,
            members: self.members.clone(),
            strategy: self.strategy()?,
            allow_shared_files: false,
            concurrency,
            policy: Policy::from_config(self.config.as_ref())?,
            groups: Groups::from_config(self.config.as_ref())?,
            cooldown: self.cooldown()?,
        };
        let env_name = self.environment_name();
        if self.inputs.flag("dry_run")? {
            let preview = update::preview(&opts, env_name.as_deref(), &resolver)?;
            self.out.command(&action::group("patcher update --dry-run"));
            self.out.text(&preview.diff);
            self.out.line(&preview.body);
            self.out.command(&action::endgroup());
            return self.update_outputs(&Outcome {
                changed: !preview.files.is_empty(),
                updated_files: preview.files,
                notes: preview.notes,
                ..Outcome::default()
            });
        }
        let publish = self.publish_options(dependency.as_deref())?;
        let repo = Repo::open(&opts.env.working_dir, self.token.clone())?;
        let forge = self.forge()?;
        let outcome = update::run_published(&opts, &publish, &repo, &forge, &resolver)?;
        self.update_outputs(&outcome)
    }

    fn publish_options(&self, dependency: Option<&str>) -> Result<PublishOptions> {
        let env = self.environment_name();
        let suffix = dependency.unwrap_or("all");
        let prefix = self.branch_prefix();
        let env_part = env.as_ref().map(|e| format!("[{e}] ")).unwrap_or_default();
        let labels = crate::environments_file::merge_labels(
            self.labels(),
            self.inputs.list("pull_request_labels"),
        );
        Ok(PublishOptions {
            branch: self
                .inputs
                .get("pull_request_branch")
                .unwrap_or_else(|| format!("{prefix}{suffix}")),
            title: self
                .inputs
                .get("pull_request_title")
                .unwrap_or_else(|| format!("[Patcher] {env_part}Update {suffix}")),
            labels,
            base: self
                .inputs
                .get("base_branch")
                .unwrap_or_else(|| "main".into()),
            author: self.inputs.get("commit_author"),
            environment: env,
        })
    }

    fn branch_prefix(&self) -> String {
        crate::environments_file::branch_prefix_of(
            self.env_config.as_ref(),
            self.environment.as_deref(),
        )
    }

    fn labels(&self) -> Vec<String> {
        crate::environments_file::labels_of(self.env_config.as_ref(), self.environment.as_deref())
    }

    fn forge(&self) -> Result<GitHubClient> {
        let repository = self
            .runner
            .repository()
            .context("GITHUB_REPOSITORY is not set: run inside a workflow or set it")?;
        Ok(GitHubClient::new(
            &self.api_url(),
            &repository,
            self.token.clone(),
        ))
    }

    fn update_outputs(&self, outcome: &Outcome) -> Result<()> {
        for note in &outcome.notes {
            self.out
                .command(&action::annotation(Level::Notice, None, None, None, note));
        }
        let files: Vec<String> = outcome
            .updated_files
            .iter()
            .chain(&outcome.readmes)
            .map(|f| f.to_string_lossy().replace('\\', "/"))
            .collect();
        let mut outputs = Outputs::new();
        outputs
            .set("has_updates", outcome.changed.to_string())
            .set("updated_files", serde_json::to_string(&files)?)
            .set(
                "pull_request_number",
                outcome
                    .pull_request_number
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
            )
            .set(
                "pull_request_url",
                outcome.pull_request_url.clone().unwrap_or_default(),
            );
        // The summary lists every file, so it is written even when the outputs cannot be.
        self.runner.append_summary(&summary::update(outcome))?;
        let fix = format!(
            "`updated_files` lists {} files (all of them are in the job summary{}); narrow \
             include_dirs so that one update changes fewer files",
            files.len(),
            match &outcome.pull_request_url {
                Some(url) => format!(" and in the pull request {url}"),
                None => String::new(),
            }
        );
        outputs.write(&self.runner, &fix)
    }

    fn promote(&self) -> Result<()> {
        let Some(event) = self.runner.event()? else {
            bail!("GITHUB_EVENT_PATH is not set: promote runs on a pull_request closed event");
        };
        let head = event["pull_request"]["head"]["ref"]
            .as_str()
            .unwrap_or_default();
        let env_config = match (&self.env_config, &self.config) {
            (Some(env), _) => Some(env),
            (None, Some(config)) => environment_of_branch(config, head),
            (None, None) => None,
        };
        let opts = PromoteOptions {
            environment: self
                .environment_name()
                .or_else(|| env_config.map(|e| e.name.clone())),
            event_type: self.inputs.get("dispatch_event_type"),
            // The seed guide's convention: the branch is `PR_BRANCH_PREFIX` + dependency ID.
            branch_prefix: self
                .inputs
                .get("pull_request_branch")
                .or_else(|| self.runner.var("PR_BRANCH_PREFIX"))
                .or_else(|| env_config.map(|e| e.branch_prefix())),
            chain: self
                .config
                .as_ref()
                .map(EnvironmentsFile::chain)
                .unwrap_or_default(),
            groups: Groups::from_config(self.config.as_ref())?,
        };
        let forge = if self.inputs.flag("dry_run")? {
            None
        } else {
            Some(self.forge()?)
        };
        let env = self.env_of(env_config);
        let line =
            promote::run_in_checkout(&event, &opts, &env, forge.as_ref().map(|f| f as &dyn Forge))?;
        self.out.line(&line);
        self.runner.append_summary(&summary::promote(&line))?;
        Ok(())
    }
}

impl Step {
    /// `status`: the chain from the environments file, else from `NAME=GLOB` items of
    /// `include_dirs`; versions listed and pull requests looked up unless `offline`.
    fn status(&self) -> Result<()> {
        let working_dir = self.env().working_dir;
        let chain = match &self.config {
            Some(config) => status::chain_from_config(config, &working_dir),
            None => status::chain_from_globs(&self.inputs.list("include_dirs"), &working_dir)?,
        };
        let offline = self.inputs.flag("offline")?;
        let dashboard = self.inputs.flag("dashboard")?;
        if offline && dashboard {
            bail!("`dashboard: true` needs the GitHub API: set `offline: false`");
        }
        let resolver = match offline {
            true => None,
            false => Some(Resolver::from_env(self.token.clone())?),
        };
        let forge = match offline {
            true => None,
            false => Some(self.forge()?),
        };
        let opts = StatusOptions {
            chain,
            strategy: self.strategy()?,
            concurrency: resolver.as_ref().map_or(1, |r| r.config().concurrency),
            lister: resolver.as_ref().map(|r| r as &dyn VersionLister),
            pulls: forge.as_ref().map(|f| f as &dyn IssueTracker),
            now: status::now(),
        };
        let found = status::collect(&opts)?;
        self.print_untrusted("patcher status", &status::render::table(&found))?;
        self.runner.set_output("status", &status_output(&found)?)?;
        let mut summary = status::render::markdown(&found, "patcher status", SUMMARY_CHARS);
        if let (true, Some(forge)) = (dashboard, &forge) {
            let markdown = status::render::markdown(
                &found,
                status::dashboard::TITLE,
                status::render::DASHBOARD_LIMIT,
            );
            let published = status::dashboard::publish(forge, &markdown)?;
            self.runner
                .set_output("dashboard_issue", &published.number.to_string())?;
            summary.push_str(&format!("\nDashboard: {}\n", published.describe()));
        }
        self.runner.append_summary(&summary)?;
        Ok(())
    }

    /// Text from the tree or from pull requests, in a log group with workflow commands off, so
    /// no line of it can act as a command.
    fn print_untrusted(&self, title: &str, text: &str) -> Result<()> {
        let stop = action::stop_commands()?;
        println!("{}", action::group(title));
        println!("{}", stop.stop);
        print!("{text}");
        println!("{}", stop.resume);
        println!("{}", action::endgroup());
        Ok(())
    }
}

/// The job summary's share for `status`; the runner cuts at 1 MiB anyway, this keeps the cut
/// between dependencies.
const SUMMARY_CHARS: usize = 400_000;
/// Outputs count against 1 MB per job: past this, the per-version file lists are left out.
const OUTPUT_BYTES: usize = 512 * 1024;

/// The `status` output: the JSON of `--output json`, compact, without file lists when large.
fn status_output(found: &status::Status) -> Result<String> {
    let json = serde_json::to_string(found)?;
    if json.len() <= OUTPUT_BYTES {
        return Ok(json);
    }
    let mut slim = found.clone();
    for version in slim
        .dependencies
        .iter_mut()
        .flat_map(|d| d.environments.iter_mut())
        .flat_map(|e| e.versions.iter_mut())
    {
        version.files.clear();
    }
    Ok(serde_json::to_string(&slim)?)
}

/// With an environments file and no `environment` input, the environment whose branch prefix
/// the merged branch carries (the longest, should prefixes nest). The version promoted is still
/// read from that environment's folders at the merge commit.
fn environment_of_branch<'a>(
    config: &'a EnvironmentsFile,
    branch: &str,
) -> Option<&'a EnvironmentConfig> {
    config
        .environments
        .iter()
        .filter(|e| branch.starts_with(&e.branch_prefix()))
        .max_by_key(|e| e.branch_prefix().len())
}

/// `value` of a path input, resolved (symbolic links included) inside the workspace; a path
/// that does not exist yet (a spec_file to write) must have its folder there.
fn in_workspace(workspace: &Path, input: &str, value: &str) -> Result<PathBuf> {
    let root = workspace
        .canonicalize()
        .with_context(|| format!("GITHUB_WORKSPACE {} does not exist", workspace.display()))?;
    let joined = root.join(value);
    let resolved = match joined.canonicalize() {
        Ok(path) => path,
        Err(_) => match (joined.parent().map(Path::canonicalize), joined.file_name()) {
            (Some(Ok(dir)), Some(name)) => dir.join(name),
            _ => bail!(
                "input `{input}` ({value:?}) names a folder that does not exist in the workspace"
            ),
        },
    };
    if !resolved.starts_with(&root) {
        bail!(
            "input `{input}` ({value:?}) resolves to {} outside GITHUB_WORKSPACE ({}): give a \
             path inside the workspace",
            resolved.display(),
            root.display()
        );
    }
    Ok(resolved)
}

/// The environments file, when there is one.
fn load_config(
    workspace: &Path,
    working_dir: &Path,
    inputs: &Inputs,
) -> Result<Option<EnvironmentsFile>> {
    let name = inputs
        .get("config_file")
        .unwrap_or_else(|| crate::environments_file::DEFAULT_PATH.into());
    if !workspace.join(&name).exists() {
        return Ok(None);
    }
    let file = in_workspace(workspace, "config_file", &name)?;
    let config = EnvironmentsFile::load(&file)?;
    config.check_globs(working_dir)?;
    Ok(Some(config))
}

/// A dispatched group's members, when the run works on that group (the payload was checked).
fn members_of(dependency: Option<&str>, payload: Option<&Payload>) -> Vec<Member> {
    payload
        .filter(|p| Some(p.dependency.as_str()) == dependency)
        .map(|p| p.members.clone())
        .unwrap_or_default()
}

/// The dependency and version to work on: the inputs, else the dispatch payload; both checked,
/// since workflows fill them from event data anyone who can dispatch controls.
fn target_of(
    inputs: &Inputs,
    payload: Option<&Payload>,
) -> Result<(Option<String>, Option<String>)> {
    let dependency = inputs
        .get("dependency")
        .or_else(|| payload.map(|p| p.dependency.clone()));
    let version = inputs
        .get("version")
        .or_else(|| payload.and_then(|p| p.version.clone()));
    if let Some(id) = &dependency {
        if !promote::valid_target_id(id) {
            bail!("dependency {id:?} is not a dependency ID or a group ID (group-<name>)");
        }
    }
    if let (Some(id), Some(v)) = (dependency.as_deref().filter(|id| is_group_id(id)), &version) {
        bail!("version `{v}` for group `{id}`: a group's members carry their own versions");
    }
    if let Some(v) = &version {
        if !promote::valid_version(v) {
            bail!("version {v:?} is not a version");
        }
        if dependency.is_none() {
            bail!("version `{v}` needs a dependency");
        }
        if let Some(pv) = payload
            .and_then(|p| p.version.as_ref())
            .filter(|pv| *pv != v)
        {
            bail!(
                "input `version` {v} differs from the dispatched version {pv}: refusing to guess"
            );
        }
    }
    Ok((dependency, version))
}
