//! The CLI door: clap's arguments become the request the library runs, and the results are
//! printed as terminal text (`text`).

mod text;

pub use text::report_table;

use crate::action::Printer;
use crate::environments_file::EnvironmentsFile;
use crate::group::Member;
use crate::invocation::{self, Door, Given, Request};
use crate::plan::Strategy;
use crate::promote;
use crate::publish::git::Repo;
use crate::publish::github::{Forge, GitHubClient, IssueTracker};
use crate::publish::refs;
use crate::pull_limit;
use crate::report;
use crate::resolve::VersionLister;
use crate::resolve::{ResolveSettings, Resolver};
use crate::spec;
use crate::status::{self, StatusOptions};
use crate::update::{self, PublishOptions};
use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Keeps Terraform, OpenTofu and Terragrunt module versions current and promotes each update
/// through environments, one reviewed pull request at a time.
#[derive(Parser)]
#[command(name = "patcher", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find every versioned module dependency of an environment and the version it should move to.
    Report(ReportArgs),
    /// Move dependencies of an environment to their target version; with --publish, open or
    /// refresh the pull request.
    Update(UpdateArgs),
    /// On a merged pull request opened by `update`, dispatch the same version to the next
    /// environment.
    Promote(PromoteArgs),
    /// Where every dependency stands in every environment of the chain: versions, latest safe
    /// and breaking releases, update pull requests, promotion state, drift.
    Status(StatusArgs),
    /// Run as a GitHub Action step: inputs from INPUT_*, outputs to $GITHUB_OUTPUT.
    Action,
    /// Walk the whole dev → stage → prod chain offline in a temporary folder.
    Demo(DemoArgs),
}

#[derive(Args)]
struct EnvArgs {
    /// Folder to scan; globs are matched against folders relative to it.
    #[arg(default_value = ".")]
    working_dir: PathBuf,
    /// Glob selecting the environment's folders, e.g. '{*dev*}/**' (repeatable).
    #[arg(long = "include-dirs", value_name = "GLOB")]
    include_dirs: Vec<String>,
    /// Glob of folders to leave out (repeatable).
    #[arg(long = "exclude-dirs", value_name = "GLOB")]
    exclude_dirs: Vec<String>,
    /// Environment name from the config file: its globs, labels and branch prefix.
    #[arg(long)]
    environment: Option<String>,
    /// The environments file.
    #[arg(long, default_value = crate::environments_file::DEFAULT_PATH)]
    config: PathBuf,
    /// next-safe: highest version before the next breaking change; next-breaking: the next
    /// breaking version itself.
    #[arg(long, default_value = "next-safe")]
    update_strategy: Strategy,
    /// Token for GitHub (module repositories over HTTPS, pull requests).
    #[arg(long, env = "GITHUB_TOKEN", hide_env_values = true)]
    github_token: Option<String>,
    /// Registry of host-less module addresses in .tf and .hcl files (registry.opentofu.org for
    /// OpenTofu); .tofu files always use registry.opentofu.org [default: registry.terraform.io]
    #[arg(long, env = "PATCHER_DEFAULT_REGISTRY")]
    default_registry: Option<String>,
}

impl EnvArgs {
    /// The environments file, when there is one; its globs must select folders.
    fn file(&self) -> Result<Option<EnvironmentsFile>> {
        if !self.config.exists() {
            return Ok(None);
        }
        let file = EnvironmentsFile::load(&self.config)?;
        file.check_globs(&self.working_dir)?;
        Ok(Some(file))
    }

    /// What these flags give the request.
    fn given(&self, command: invocation::Command) -> Given {
        Given {
            door: Door::Cli,
            command,
            working_dir: self.working_dir.clone(),
            environment: self.environment.clone(),
            include_dirs: self.include_dirs.clone(),
            exclude_dirs: self.exclude_dirs.clone(),
            default_registry: self.default_registry.clone(),
            strategy: Some(self.update_strategy),
            ..Given::default()
        }
    }
}

/// What `--dependency`, `--version` and `--member` ask for; the same checks as the action's.
#[derive(Args)]
struct TargetArgs {
    /// Only this dependency ID, or every member of this group (`group-<name>`).
    #[arg(long, value_name = "ID")]
    dependency: Option<String>,
    /// With --dependency: exactly this version (what promotion moves to); it must exist in the
    /// module's source.
    #[arg(long, requires = "dependency")]
    version: Option<String>,
    /// With a group as --dependency: this member at exactly this version, as a promotion
    /// dispatches it (repeatable; then only these members).
    #[arg(long = "member", value_name = "ID=VERSION", requires = "dependency")]
    members: Vec<String>,
}

impl TargetArgs {
    /// The target flags into `given`; the request checks them as it checks the action's.
    fn fill(&self, given: &mut Given) -> Result<()> {
        given.members = self
            .members
            .iter()
            .map(|text| match text.split_once('=') {
                Some((dependency, version)) => Ok(Member {
                    dependency: dependency.to_string(),
                    version: version.to_string(),
                }),
                None => bail!("--member {text:?} is not ID=VERSION"),
            })
            .collect::<Result<Vec<_>>>()?;
        given.dependency = self.dependency.clone();
        given.version = self.version.clone();
        Ok(())
    }
}

#[derive(Args)]
struct ReportArgs {
    #[command(flatten)]
    env: EnvArgs,
    /// Write the upgrade spec JSON to this file.
    #[arg(long, value_name = "FILE")]
    output_spec: Option<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
    /// Print format.
    #[arg(long, default_value = "table")]
    output: Output,
    #[command(flatten)]
    cooldown: CooldownArgs,
    /// Most open patcher pull requests of the environment at once (0: no limit): the
    /// dependencies past the room left go to the spec's `Deferred`. The open ones are counted
    /// through the API when --repository (or GITHUB_REPOSITORY) and a token are set. Without
    /// the flag, the environments file's `max_pull_requests`, else no limit.
    #[arg(long, value_name = "N")]
    max_pull_requests: Option<usize>,
    #[command(flatten)]
    github: GitHubArgs,
}

#[derive(Args)]
struct CooldownArgs {
    /// A version is a candidate only once published this long, e.g. 3d, 12h, 1w (0: none).
    /// Without it, the environments file's `minimum_release_age`. Exact --version ignores it.
    #[arg(long, value_name = "AGE")]
    minimum_release_age: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Table,
    Json,
}

#[derive(Args)]
struct UpdateArgs {
    #[command(flatten)]
    env: EnvArgs,
    /// The spec written by `report --output-spec`; without it a fresh plan is made.
    #[arg(long, value_name = "FILE")]
    spec_file: Option<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    cooldown: CooldownArgs,
    /// Also change files under `_envcommon`, which other environments include too.
    #[arg(long)]
    allow_shared_files: bool,
    /// Branch, commit, push and open or refresh the pull request.
    #[arg(long)]
    publish: bool,
    /// Branch of the pull request; refreshed (force-pushed) when it already exists
    /// [default: the environment's branch prefix + the dependency ID, or `all`].
    #[arg(long, value_name = "BRANCH")]
    pr_branch: Option<String>,
    /// Title of the pull request [default: `[Patcher] [<environment>] Update <dependency|all>`].
    #[arg(long, value_name = "TITLE")]
    pr_title: Option<String>,
    /// Label for the pull request (repeatable), besides the environment's labels (the
    /// environments file's, else `updates-<environment>`).
    #[arg(long = "pr-label", value_name = "LABEL")]
    pr_labels: Vec<String>,
    /// Branch the pull request targets and the update branch starts from [default: main].
    #[arg(long)]
    base: Option<String>,
    /// 'Name <email>' for the commit.
    #[arg(long)]
    commit_author: Option<String>,
    #[command(flatten)]
    github: GitHubArgs,
    /// Print the diff and the pull request it would open; write, push and call nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print format of the outcome.
    #[arg(long, default_value = "table")]
    output: Output,
}

#[derive(Args)]
struct PromoteArgs {
    /// The checkout of the merge commit, its environment's folders and the environment name
    /// (the dispatched version is read there; the environments file also gives the chain).
    #[command(flatten)]
    env: EnvArgs,
    /// The `pull_request` event payload (what $GITHUB_EVENT_PATH holds).
    #[arg(long, value_name = "FILE")]
    event: PathBuf,
    /// Event type to send instead of `<environment>_updates_merged`.
    #[arg(long)]
    event_type: Option<String>,
    /// The seed guide's PR_BRANCH_PREFIX, for pull requests without a metadata block.
    #[arg(long, env = "PR_BRANCH_PREFIX")]
    branch_prefix: Option<String>,
    #[command(flatten)]
    github: GitHubArgs,
    /// Print the dispatch instead of sending it.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Args)]
struct GitHubArgs {
    /// GitHub REST API base URL (GitHub Enterprise, tests).
    #[arg(long, env = "GITHUB_API_URL", default_value = "https://api.github.com")]
    github_api_url: String,
    /// owner/name of the repository pull requests and dispatches go to.
    #[arg(long, env = "GITHUB_REPOSITORY")]
    repository: Option<String>,
}

impl GitHubArgs {
    fn client(&self, token: Option<String>) -> Result<GitHubClient> {
        let Some(repository) = &self.repository else {
            bail!("--repository owner/name (or GITHUB_REPOSITORY) is needed to reach GitHub");
        };
        Ok(GitHubClient::new(&self.github_api_url, repository, token))
    }
}

#[derive(Args)]
struct StatusArgs {
    /// Folder to scan; globs are matched against folders relative to it.
    #[arg(default_value = ".")]
    working_dir: PathBuf,
    /// NAME=GLOB, in promotion order (repeat a name for more globs), e.g. --environment
    /// 'dev={*dev*}/**' --environment 'prod={*prod*}/**'. Without it, the environments file.
    #[arg(long = "environment", value_name = "NAME=GLOB")]
    environments: Vec<String>,
    /// The environments file.
    #[arg(long, default_value = crate::environments_file::DEFAULT_PATH)]
    config: PathBuf,
    /// Read the tree only: no version listings, no pull requests, no server needed.
    #[arg(long)]
    offline: bool,
    /// Create or edit the repository's promotion dashboard issue (needs `issues: write`).
    #[arg(long, conflicts_with = "offline")]
    dashboard: bool,
    #[arg(long, default_value = "next-safe")]
    update_strategy: Strategy,
    /// Token for module repositories and the GitHub API.
    #[arg(long, env = "GITHUB_TOKEN", hide_env_values = true)]
    github_token: Option<String>,
    #[command(flatten)]
    github: GitHubArgs,
    /// Print format.
    #[arg(long, default_value = "table")]
    output: Output,
}

#[derive(Args)]
struct DemoArgs {
    /// Keep the demo's repositories in this folder instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
}

/// The `patcher` binary: parses the command line, runs the command, prints any error.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let (out, result) = match cli.command {
        Command::Report(args) => (Printer::cli(), run_report(args)),
        Command::Update(args) => (Printer::cli(), run_update(args)),
        Command::Promote(args) => (Printer::cli(), run_promote(args)),
        Command::Status(args) => (Printer::cli(), run_status(args)),
        Command::Action => (Printer::action(), crate::action::step::run()),
        Command::Demo(args) => (Printer::cli(), crate::demo::run(args.keep.as_deref())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The last net: whatever an error carries from git, GitHub or a registry.
            let message = crate::redact::redact(&format!("{err:#}"), None);
            if out.is_guarded() {
                out.command(&crate::action::annotation(
                    crate::action::Level::Error,
                    None,
                    None,
                    None,
                    &message,
                ));
            }
            out.error_line(&format!("error: {message}"));
            ExitCode::FAILURE
        }
    }
}

fn run_report(args: ReportArgs) -> Result<()> {
    let out = Printer::cli();
    let file = args.env.file()?;
    let mut given = args.env.given(invocation::Command::Report);
    args.target.fill(&mut given)?;
    given.minimum_release_age = args.cooldown.minimum_release_age.clone();
    given.max_pull_requests = args.max_pull_requests;
    let request = Request::resolve(given, file.as_ref())?;
    let resolver = resolver(&args.env, &args.github)?;
    let opts = request.report_options(resolver.config().concurrency);
    let mut report = report::run(&opts, &resolver)?;
    for problem in report::problems(&report) {
        out.error_line(&problem.to_string());
    }
    if !request.target.is_promotion() {
        report.spec.deferred = selection(&request, &args, &report.spec)?.deferred;
        for id in &report.spec.deferred {
            eprintln!("note: {id}: deferred (max_pull_requests)");
        }
    }
    if let Some(path) = &args.output_spec {
        crate::edit::write_atomic_with(path, |file| spec::write_json(&report.spec, file))
            .with_context(|| format!("writing the spec to {}", path.display()))?;
    }
    match args.output {
        Output::Table => out.text(&text::report_table(&report.plan)),
        // Where the runner reads commands the text goes through the guard, which needs it
        // whole; on a terminal it is streamed.
        Output::Json if out.is_guarded() => out.text(&spec::to_json(&report.spec)),
        Output::Json => spec::write_json(&report.spec, std::io::stdout().lock())?,
    }
    match report::listing_failure(&report.plan) {
        Some(message) => bail!(message),
        None => Ok(()),
    }
}

/// Listings with the token, and tag dates from the GraphQL API next to `--github-api-url`.
fn resolver(env: &EnvArgs, github: &GitHubArgs) -> Result<Resolver> {
    let mut config = ResolveSettings::from_env(env.github_token.clone())?;
    config.github_api_url = github.github_api_url.clone();
    Ok(Resolver::new(config))
}

/// The open pull requests are counted through the API when a repository and a token are set.
fn selection(
    request: &Request,
    args: &ReportArgs,
    spec: &spec::Spec,
) -> Result<pull_limit::Selection> {
    let github = match (&args.github.repository, &args.env.github_token) {
        (Some(_), Some(token)) => Some(args.github.client(Some(token.clone()))?),
        _ => None,
    };
    Ok(pull_limit::count_and_select(
        spec,
        request.max_pull_requests,
        github.as_ref(),
        &request.pull_scope,
    )?)
}

fn run_update(args: UpdateArgs) -> Result<()> {
    let file = args.env.file()?;
    let mut given = args.env.given(invocation::Command::Update);
    args.target.fill(&mut given)?;
    given.minimum_release_age = args.cooldown.minimum_release_age.clone();
    given.pr_branch = args.pr_branch.clone();
    given.pr_title = args.pr_title.clone();
    given.pr_labels = args.pr_labels.clone();
    given.base = args.base.clone();
    given.author = args.commit_author.clone();
    let request = Request::resolve(given, file.as_ref())?;
    if args.publish {
        refs::check_branch("--pr-branch", &request.pull_request.branch)?;
        refs::check_branch("--base", &request.pull_request.base)?;
    }
    let out = Printer::cli();
    let resolver = resolver(&args.env, &args.github)?;
    let spec = args.spec_file.as_deref().map(spec::read_file).transpose()?;
    let concurrency = resolver.config().concurrency;
    let opts = request.update_options(spec, args.allow_shared_files, concurrency);
    if args.dry_run {
        let environment = request.environment.as_deref();
        let preview = update::preview(&opts, environment, &resolver)?;
        return print_preview(&args, &request.pull_request, &preview);
    }
    let outcome = if args.publish {
        let forge = args.github.client(args.env.github_token.clone())?;
        let repo = Repo::open(&opts.env.working_dir, args.env.github_token.clone())?;
        update::run_published(&opts, &request.pull_request, &repo, &forge, &resolver)?
    } else {
        update::run_local(&opts, &resolver, &crate::breaking_readme::NoReleaseNotes)?
    };
    print_notes(&outcome.notes);
    match args.output {
        Output::Json => out.line(&serde_json::to_string_pretty(&outcome)?),
        Output::Table => out.text(&text::update_outcome(&outcome)),
    }
    Ok(())
}

fn print_preview(
    args: &UpdateArgs,
    pull_request: &PublishOptions,
    preview: &update::Preview,
) -> Result<()> {
    let out = Printer::cli();
    print_notes(&preview.notes);
    if let Output::Json = args.output {
        out.line(&serde_json::to_string_pretty(preview)?);
        return Ok(());
    }
    out.text(&preview.diff);
    if args.publish {
        out.line(&format!(
            "\nWould open or refresh pull request `{}` on branch `{}`:\n",
            pull_request.title, pull_request.branch
        ));
        out.line(&preview.body);
    }
    Ok(())
}

fn print_notes(notes: &[String]) {
    let out = Printer::cli();
    for note in notes {
        out.error_line(&format!("note: {note}"));
    }
}

fn run_promote(args: PromoteArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.event)
        .with_context(|| format!("reading {}", args.event.display()))?;
    let event: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", args.event.display()))?;
    let file = args.env.file()?;
    let mut given = args.env.given(invocation::Command::Promote);
    given.branch_prefix = args.branch_prefix.clone();
    given.merged_branch = event["pull_request"]["head"]["ref"]
        .as_str()
        .map(str::to_string);
    let request = Request::resolve(given, file.as_ref())?;
    let opts = request.promote_options(args.event_type.clone());
    let forge = match args.dry_run {
        true => None,
        false => Some(args.github.client(args.env.github_token.clone())?),
    };
    let forge = forge.as_ref().map(|f| f as &dyn Forge);
    let line = promote::run_in_checkout(&event, &opts, &request.env, forge)?;
    Printer::cli().line(&line);
    Ok(())
}

fn run_status(args: StatusArgs) -> Result<()> {
    let chain = if args.environments.is_empty() && args.config.exists() {
        let config = EnvironmentsFile::load(&args.config)?;
        config.check_globs(&args.working_dir)?;
        status::chain_from_config(&config, &args.working_dir)
    } else {
        status::chain_from_globs(&args.environments, &args.working_dir)?
    };
    let resolver = match args.offline {
        true => None,
        false => Some(Resolver::from_env(args.github_token.clone())?),
    };
    let forge = match (args.offline, &args.github.repository) {
        (false, Some(_)) => Some(args.github.client(args.github_token.clone())?),
        (false, None) if args.dashboard => bail!("--dashboard needs --repository owner/name"),
        (false, None) => {
            Printer::cli().error_line(
                "note: no --repository (or GITHUB_REPOSITORY): pull requests not looked up",
            );
            None
        }
        (true, _) => None,
    };
    let opts = StatusOptions {
        chain,
        strategy: args.update_strategy,
        concurrency: resolver.as_ref().map_or(1, |r| r.config().concurrency),
        lister: resolver.as_ref().map(|r| r as &dyn VersionLister),
        pulls: forge.as_ref().map(|f| f as &dyn IssueTracker),
        now: status::now(),
    };
    let status = status::collect(&opts)?;
    let out = Printer::cli();
    match args.output {
        Output::Table => out.text(&status::render::table(&status)),
        Output::Json => out.line(&serde_json::to_string_pretty(&status)?),
    }
    if let (true, Some(forge)) = (args.dashboard, &forge) {
        let markdown = status::render::markdown(
            &status,
            status::dashboard::TITLE,
            status::render::DASHBOARD_LIMIT,
        );
        let published = status::dashboard::publish(forge, &markdown)?;
        out.error_line(&format!(
            "dashboard {}: {}",
            published.describe(),
            published.url
        ));
    }
    Ok(())
}
