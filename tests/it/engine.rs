//! The engine driven with fake checks through `CheckHarness`: what a crash, a check past its
//! bound, a missing prerequisite and a `uses` dependency become in the outcomes, the report and
//! the exit status. (`src/engine.rs`'s unit tests cover the run's deadline and a failed
//! prerequisite at the engine's level.)

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use acr_doctor::catalogue::Code;
use acr_doctor::checks::{Check, CheckCx, Fact, Group, Meta, Outcome};
use acr_doctor::cli::FailOn;
use acr_doctor::context::Context;
use acr_doctor::engine::CheckHarness;
use acr_doctor::finding::RawFinding;
use acr_doctor::report::CheckStatus;
use futures::future::BoxFuture;

/// What a fake check does after sleeping.
#[derive(Clone, Copy)]
enum Act {
    Pass,
    Fail,
    Skip,
    Panic,
    /// Writes the registry name fact, then passes.
    ProvideName,
    /// Writes the registry name fact, then fails.
    ProvideNameThenFail,
    /// Passes with the registry name fact as its message (empty when absent).
    EchoName,
}

struct Fake {
    meta: &'static Meta,
    sleep_ms: u64,
    act: Act,
}

impl Check for Fake {
    fn meta(&self) -> &'static Meta {
        self.meta
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(self.sleep_ms)).await;
            let provide = || cx.facts().registry_name = Some("from-provider".into());
            match self.act {
                Act::Pass => Outcome::pass("ok"),
                Act::Fail => Outcome::fail("failed", RawFinding::new(Code::UNEXPECTED_ERROR, "x")),
                Act::Skip => Outcome::skip("nothing to do"),
                Act::Panic => panic!("fake check panicked"),
                Act::ProvideName => {
                    provide();
                    Outcome::pass("provided")
                }
                Act::ProvideNameThenFail => {
                    provide();
                    Outcome::fail("failed", RawFinding::new(Code::UNEXPECTED_ERROR, "x"))
                }
                Act::EchoName => {
                    let name = cx.facts().registry_name.clone().unwrap_or_default();
                    Outcome::pass(name)
                }
            }
        })
    }
}

fn fake(meta: &'static Meta, sleep_ms: u64, act: Act) -> Box<dyn Check> {
    Box::new(Fake {
        meta,
        sleep_ms,
        act,
    })
}

static PROVIDER: Meta = Meta::new("fake.provider", Group::Registry, "provider", "provider")
    .provides(&[Fact::RegistryName]);
static NEEDS: Meta =
    Meta::new("fake.needs", Group::Registry, "needs", "needs").needs(&[Fact::RegistryName]);
static USES: Meta =
    Meta::new("fake.uses", Group::Registry, "uses", "uses").uses(&[Fact::RegistryName]);
static ALONE: Meta = Meta::new("fake.alone", Group::Environment, "alone", "alone");

/// A context with `--timeout SECS` and no environment.
fn ctx(timeout: &str) -> (Context, acr_doctor::cli::CheckArgs) {
    let args = acr_doctor::check_args(&["--name", "fake", "--timeout", timeout]).expect("args");
    let ctx = Context::new(BTreeMap::new(), &args).expect("context");
    (ctx, args)
}

#[tokio::test]
async fn a_panicking_check_is_a_crash_and_exit_status_3() {
    let (ctx, args) = ctx("1");
    let run = CheckHarness::new(&ctx)
        .args(args)
        .checks(vec![
            fake(&ALONE, 0, Act::Panic),
            fake(&NEEDS, 0, Act::Pass),
        ])
        .facts(|f| f.registry_name = Some("seeded".into()))
        .run()
        .await;
    assert!(run.ran("fake.alone").crashed);
    assert_eq!(run.status("fake.alone"), CheckStatus::Fail);
    let f = run.finding("fake.alone", "UNEXPECTED_ERROR");
    assert_eq!(f.evidence["panic"], "fake check panicked");
    // The other check is not disturbed by the crash.
    assert_eq!(run.status("fake.needs"), CheckStatus::Pass);
    // In the report: the finding, and exit status 3 whatever --fail-on says.
    assert!(run.run.internal_error);
    assert!(run
        .run
        .report
        .findings
        .iter()
        .any(|f| f.code == "UNEXPECTED_ERROR" && f.check == "fake.alone"));
    assert_eq!(run.exit_code(FailOn::Error), acr_doctor::exit::INTERNAL);
    assert_eq!(run.exit_code(FailOn::Warning), acr_doctor::exit::INTERNAL);
}

#[tokio::test]
async fn a_check_past_its_bound_fails_and_what_uses_it_still_runs() {
    // --timeout 0.05: a check's bound is 4 × 0.05 s + 2 s = 2.2 s; the run's, 5.4 s.
    let (ctx, args) = ctx("0.05");
    let started = Instant::now();
    let run = CheckHarness::new(&ctx)
        .args(args)
        .checks(vec![
            fake(&PROVIDER, 10_000, Act::ProvideName),
            fake(&NEEDS, 0, Act::Pass),
            fake(&USES, 0, Act::EchoName),
        ])
        .run()
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let p = run.outcome("fake.provider");
    assert_eq!(p.status, CheckStatus::Fail);
    assert_eq!(run.codes("fake.provider"), ["UNEXPECTED_ERROR"]);
    assert_eq!(
        run.finding("fake.provider", "UNEXPECTED_ERROR").evidence["timeout_s"],
        2.2
    );
    assert!(!run.ran("fake.provider").crashed);
    // `needs`: skipped with the reason; `uses`: runs (without the fact).
    let needs = run.outcome("fake.needs");
    assert_eq!(needs.status, CheckStatus::Skip);
    assert_eq!(
        needs.message,
        "needs the registry name from fake.provider, which failed"
    );
    assert_eq!(run.status("fake.uses"), CheckStatus::Pass);
    assert_eq!(run.outcome("fake.uses").message, "");
    assert_eq!(run.exit_code(FailOn::Error), acr_doctor::exit::FINDINGS);
}

#[tokio::test]
async fn a_uses_dependency_is_waited_for_even_when_it_fails() {
    let (ctx, args) = ctx("1");
    let run = CheckHarness::new(&ctx)
        .args(args)
        .checks(vec![
            fake(&PROVIDER, 300, Act::ProvideNameThenFail),
            fake(&USES, 0, Act::EchoName),
            fake(&NEEDS, 0, Act::Pass),
        ])
        .run()
        .await;
    assert_eq!(run.status("fake.provider"), CheckStatus::Fail);
    // It started only once the provider was done: it saw the fact written before the failure.
    let uses = run.outcome("fake.uses");
    assert_eq!(
        (uses.status, uses.message.as_str()),
        (CheckStatus::Pass, "from-provider")
    );
    assert_eq!(run.status("fake.needs"), CheckStatus::Skip);
}

#[tokio::test]
async fn a_needed_fact_whose_provider_was_skipped_skips_with_the_reason() {
    let (ctx, args) = ctx("1");
    let run = CheckHarness::new(&ctx)
        .args(args)
        .checks(vec![
            fake(&PROVIDER, 0, Act::Skip),
            fake(&NEEDS, 0, Act::Pass),
            fake(&USES, 0, Act::EchoName),
        ])
        .run()
        .await;
    let needs = run.outcome("fake.needs");
    assert_eq!(needs.status, CheckStatus::Skip);
    assert_eq!(
        needs.message,
        "needs the registry name from fake.provider, which was skipped"
    );
    assert!(needs.findings.is_empty());
    assert_eq!(run.status("fake.uses"), CheckStatus::Pass);
    // Skips are not findings: nothing to fail on.
    assert_eq!(run.exit_code(FailOn::Warning), acr_doctor::exit::OK);
    let report = &run.run.report;
    assert_eq!(
        report.checks.iter().map(|c| c.status).collect::<Vec<_>>(),
        [CheckStatus::Skip, CheckStatus::Skip, CheckStatus::Pass]
    );
}

#[tokio::test]
async fn only_runs_the_chosen_checks_from_seeded_facts() {
    let (ctx, args) = ctx("1");
    let run = CheckHarness::new(&ctx)
        .args(args)
        .checks(vec![
            fake(&PROVIDER, 0, Act::Fail),
            fake(&USES, 0, Act::EchoName),
            fake(&ALONE, 0, Act::Pass),
        ])
        .only("fake.uses")
        .facts(|f| f.registry_name = Some("seeded".into()))
        .run()
        .await;
    assert_eq!(run.outcome("fake.uses").message, "seeded");
    let ids: Vec<_> = run.outcomes().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["fake.uses"]);
    assert_eq!(run.run.report.checks.len(), 1);
}
