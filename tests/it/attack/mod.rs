//! Attack tests of issue #10, one module per invariant of the README's "Threat model and
//! guarantees", each case named after the attack. Every case runs the real binary (as a CLI or
//! as `patcher action` the way the runner runs it) against a real bare git `origin`, bare module
//! repositories and the GitHub API server on 127.0.0.1, then greps everything the attacker could
//! read afterwards for the token: stdout, stderr, `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`, the
//! origin's refs and every object, the checkout, and the API server's request log.

mod world;

mod concurrency;
mod files;
mod output;
mod promotion;
mod redaction;
mod refs;
mod tags;
mod workspace;
