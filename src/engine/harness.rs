//! A harness for tests of checks: the real engine on the chosen checks, with facts seeded
//! beforehand, so that a test need not build a small engine of its own.
//!
//! ```no_run
//! # async fn example(ctx: &acr_doctor::context::Context, args: acr_doctor::cli::CheckArgs) {
//! use acr_doctor::engine::CheckHarness;
//! let run = CheckHarness::new(ctx)
//!     .args(args)
//!     .facts(|f| f.registry_name = Some("contosoreg".into()))
//!     .only("auth.repository")
//!     .run()
//!     .await;
//! assert_eq!(run.codes("auth.repository"), Vec::<&str>::new());
//! # }
//! ```
//!
//! What the engine does is unchanged: prerequisites among the chosen checks are awaited (a
//! needed fact whose provider failed or was skipped skips the check with the reason), panics
//! become crashed checks, every check is bounded in time, and the run by its deadline. Checks
//! not chosen do not run at all (their facts come from the seed, if anywhere), and they are not
//! in the report.

use std::sync::Mutex;

use crate::checks::{Check, CheckCx, Facts, Outcome};
use crate::context::Context;
use crate::finding::RawFinding;
use crate::lang::Lang;
use crate::report::CheckStatus;
use crate::request::{CheckArgs, FailOn};
use crate::CheckRun;

use super::{EngineRun, Ran};

/// The real engine on chosen checks with seeded facts. Build it with [`CheckHarness::new`],
/// then [`run`](CheckHarness::run) it.
pub struct CheckHarness<'a> {
    ctx: &'a Context,
    args: CheckArgs,
    target: Option<String>,
    lang: Lang,
    facts: Facts,
    checks: Option<Vec<Box<dyn Check>>>,
    only: Vec<String>,
}

impl<'a> CheckHarness<'a> {
    /// Every check of [`crate::checks::all`], default options, no facts, English.
    pub fn new(ctx: &'a Context) -> Self {
        CheckHarness {
            ctx,
            args: CheckArgs::default(),
            target: None,
            lang: Lang::En,
            facts: Facts::default(),
            checks: None,
            only: Vec::new(),
        }
    }

    /// The options of the run (the target is their first `--name` unless [`Self::target`] says).
    pub fn args(mut self, args: CheckArgs) -> Self {
        self.args = args;
        self
    }

    /// The registry the run is about, as `--name` gives it.
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    /// Seeds the facts the checks start from (what earlier checks would have learnt).
    pub fn facts(mut self, seed: impl FnOnce(&mut Facts)) -> Self {
        seed(&mut self.facts);
        self
    }

    /// Runs these checks instead of [`crate::checks::all`] (fake checks, in engine tests).
    pub fn checks(mut self, checks: Vec<Box<dyn Check>>) -> Self {
        self.checks = Some(checks);
        self
    }

    /// Runs only the checks with this id, or of this family (`auth` for `auth.*`); repeatable.
    /// Unlike `--only`, it does not add the providers of what they need: seed those facts.
    pub fn only(mut self, pattern: &str) -> Self {
        self.only.push(pattern.trim().to_ascii_lowercase());
        self
    }

    /// A check context over the seeded facts, for calling a check's helper directly.
    pub fn with_cx<R>(self, f: impl FnOnce(&CheckCx<'_>) -> R) -> R {
        let target = self.target_name();
        let facts = Mutex::new(self.facts);
        let timeline = Mutex::new(Vec::new());
        let cx = CheckCx::new(self.ctx, &self.args, &target, self.lang, &facts, &timeline);
        f(&cx)
    }

    fn target_name(&self) -> String {
        self.target
            .clone()
            .or_else(|| self.args.names.first().cloned())
            .unwrap_or_default()
    }

    /// Runs the chosen checks through the engine and builds their report, as `check` does.
    pub async fn run(self) -> HarnessRun {
        let target = self.target_name();
        let only = self.only;
        let mut checks = self.checks.unwrap_or_else(crate::checks::all);
        if !only.is_empty() {
            checks.retain(|c| {
                only.iter()
                    .any(|p| c.id() == p || c.id().starts_with(&format!("{p}.")))
            });
        }
        let (ctx, args, lang) = (self.ctx, &self.args, self.lang);
        let started_at = ctx.clock.now();
        let started = std::time::Instant::now();
        let engine = super::run_seeded(&checks, ctx, args, &target, lang, self.facts).await;
        let input = crate::engine::report::RunInput {
            args,
            target: &target,
            cloud: crate::effective_cloud(args, ctx.env_map()),
            ctx,
            lang,
            started_at,
            elapsed: started.elapsed(),
        };
        let report = crate::engine::report::build_report(&checks, &engine, &input);
        let report = crate::scrub_report(&report, &ctx.redactor);
        let internal_error = engine.results.iter().any(|r| r.crashed);
        HarnessRun {
            engine,
            run: CheckRun {
                report,
                internal_error,
                trace: Vec::new(),
            },
        }
    }
}

/// What a [`CheckHarness`] run gives: the engine's results and facts, and the report.
pub struct HarnessRun {
    /// Each check's outcome as the engine saw it, the facts at the end, the timeline.
    pub engine: EngineRun,
    /// The report `check` would print (scrubbed), and whether a check crashed.
    pub run: CheckRun,
}

// These accessors are for tests: a check that did not run is the test's own mistake.
#[allow(clippy::panic)]
impl HarnessRun {
    /// The engine's record of check `id`. Panics when it was not chosen.
    pub fn ran(&self, id: &str) -> &Ran {
        self.engine
            .results
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("check {id} did not run"))
    }

    /// The outcome of check `id`. Panics when it was not chosen.
    pub fn outcome(&self, id: &str) -> &Outcome {
        &self.ran(id).outcome
    }

    pub fn status(&self, id: &str) -> CheckStatus {
        self.outcome(id).status
    }

    /// The cause codes check `id` found, in order.
    pub fn codes(&self, id: &str) -> Vec<&'static str> {
        self.outcome(id)
            .findings
            .iter()
            .map(|f| f.code.as_str())
            .collect()
    }

    /// The finding `code` of check `id`. Panics when there is none.
    pub fn finding(&self, id: &str, code: &str) -> &RawFinding {
        let outcome = self.outcome(id);
        outcome
            .findings
            .iter()
            .find(|f| f.code.as_str() == code)
            .unwrap_or_else(|| panic!("{id} has no {code}: {outcome:?}"))
    }

    /// Every check's id and outcome, in declared order.
    pub fn outcomes(&self) -> Vec<(&'static str, &Outcome)> {
        self.engine
            .results
            .iter()
            .map(|r| (r.id, &r.outcome))
            .collect()
    }

    /// The exit status `check` would end with.
    pub fn exit_code(&self, fail_on: FailOn) -> i32 {
        self.run.exit_code(fail_on)
    }
}
