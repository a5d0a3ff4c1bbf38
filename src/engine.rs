//! Runs the checks: each as soon as its prerequisites are done, independent ones concurrently,
//! every one bounded in time; reports them in declared order. Never prints.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt, Shared};

use crate::catalogue::Code;
use crate::checks::{Check, CheckCx, Fact, Facts, Outcome};
use crate::finding::RawFinding;
use crate::lang::Lang;
use crate::report::{CheckStatus, TimelineEntry};
use crate::request::CheckArgs;

pub mod harness;
pub mod report;
pub use harness::CheckHarness;

/// One check's result as the engine saw it.
#[derive(Debug, Clone)]
pub struct Ran {
    pub id: &'static str,
    pub outcome: Outcome,
    pub duration: Duration,
    /// True when the check panicked: a bug in acr-doctor (exit status 3).
    pub crashed: bool,
}

/// The state after all checks ran.
pub struct EngineRun {
    pub results: Vec<Ran>,
    pub facts: Facts,
    pub timeline: Vec<TimelineEntry>,
}

/// Which checks to run, from --only / --skip (ids or families such as `docker`).
pub fn selection(checks: &[Box<dyn Check>], args: &CheckArgs) -> BTreeMap<&'static str, Selected> {
    let matches = |pattern: &str, id: &str| {
        let pattern = pattern.trim().to_ascii_lowercase();
        id == pattern || id.starts_with(&format!("{pattern}."))
    };
    let providers = providers(checks);
    let mut chosen: BTreeSet<&'static str> = if args.only.is_empty() {
        checks.iter().map(|c| c.id()).collect()
    } else {
        checks
            .iter()
            .filter(|c| args.only.iter().any(|p| matches(p, c.id())))
            .map(|c| c.id())
            .collect()
    };
    // --only X also runs what X needs.
    if !args.only.is_empty() {
        let mut stack: Vec<&'static str> = chosen.iter().copied().collect();
        while let Some(id) = stack.pop() {
            if let Some(check) = checks.iter().find(|c| c.id() == id) {
                for fact in check.needs().iter().chain(check.consults()) {
                    if let Some(p) = providers.get(fact) {
                        if chosen.insert(p) {
                            stack.push(p);
                        }
                    }
                }
            }
        }
    }
    checks
        .iter()
        .map(|c| {
            let state = if args.skip.iter().any(|p| matches(p, c.id())) {
                Selected::SkippedByFlag
            } else if chosen.contains(c.id()) {
                Selected::Run
            } else {
                Selected::NotSelected
            };
            (c.id(), state)
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selected {
    Run,
    SkippedByFlag,
    NotSelected,
}

fn providers(checks: &[Box<dyn Check>]) -> BTreeMap<Fact, &'static str> {
    let mut map = BTreeMap::new();
    for c in checks {
        for f in c.provides() {
            map.entry(*f).or_insert(c.id());
        }
    }
    map
}

type Done = Arc<Ran>;

/// Runs every check and returns their results in declared order.
pub async fn run(
    checks: &[Box<dyn Check>],
    ctx: &crate::context::Context,
    args: &CheckArgs,
    target: &str,
    lang: Lang,
) -> EngineRun {
    run_seeded(checks, ctx, args, target, lang, Facts::default()).await
}

/// [`run`] starting from `facts` instead of none: what [`CheckHarness`] seeds for tests.
pub async fn run_seeded(
    checks: &[Box<dyn Check>],
    ctx: &crate::context::Context,
    args: &CheckArgs,
    target: &str,
    lang: Lang,
    facts: Facts,
) -> EngineRun {
    let facts = Mutex::new(facts);
    let timeline = Mutex::new(Vec::new());
    let selected = selection(checks, args);
    let providers = providers(checks);
    let (senders, receivers) = completion_signals(&providers);
    let cx = CheckCx::new(ctx, args, target, lang, &facts, &timeline).with_done(&receivers);
    // A check's bound: several network steps in a row, each bounded by --timeout.
    let per_check = ctx.timeout * 4 + Duration::from_secs(2);
    preconnect_selected(checks, &selected, &cx);
    let futures = schedule(checks, &selected, &providers, &senders, &cx, per_check);
    let results = gather(
        checks,
        &futures,
        &providers,
        run_deadline(ctx.timeout),
        lang,
    )
    .await;
    drop(futures);
    EngineRun {
        results,
        facts: facts.into_inner().unwrap_or_else(|p| p.into_inner()),
        timeline: timeline.into_inner().unwrap_or_else(|p| p.into_inner()),
    }
}

/// A check's run, shared by the checks that wait for it.
type Pending<'a> = Shared<BoxFuture<'a, Done>>;
type Signal = tokio::sync::watch::Sender<Option<CheckStatus>>;
type Signals = BTreeMap<&'static str, Signal>;
type Waiters = BTreeMap<Fact, tokio::sync::watch::Receiver<Option<CheckStatus>>>;

/// One completion signal per providing check, and a receiver of it for each fact it provides:
/// for checks that wait lazily (CheckCx::await_fact).
fn completion_signals(providers: &BTreeMap<Fact, &'static str>) -> (Signals, Waiters) {
    let mut senders = Signals::new();
    let mut receivers = Waiters::new();
    for (fact, id) in providers {
        let tx = senders
            .entry(id)
            .or_insert_with(|| tokio::sync::watch::channel(None).0);
        receivers.insert(*fact, tx.subscribe());
    }
    (senders, receivers)
}

/// Connections that the selected checks will need only after their prerequisites: opened now.
fn preconnect_selected(
    checks: &[Box<dyn Check>],
    selected: &BTreeMap<&'static str, Selected>,
    cx: &CheckCx<'_>,
) {
    for check in checks {
        if selected.get(check.id()) == Some(&Selected::Run) {
            if let Some(origin) = check.preconnect(cx) {
                cx.ctx.preconnect(&origin);
            }
        }
    }
}

/// Every check's run, keyed by id, each starting once its prerequisites are done: built in
/// dependency order so that a check's prerequisites are already in the map.
fn schedule<'a>(
    checks: &'a [Box<dyn Check>],
    selected: &BTreeMap<&'static str, Selected>,
    providers: &BTreeMap<Fact, &'static str>,
    senders: &Signals,
    cx: &'a CheckCx<'_>,
    per_check: Duration,
) -> BTreeMap<&'static str, Pending<'a>> {
    let mut futures: BTreeMap<&'static str, Pending<'a>> = BTreeMap::new();
    for index in topological(checks, providers) {
        let check = checks[index].as_ref();
        let prereqs = prerequisites(check, providers, &futures);
        let state = selected
            .get(check.id())
            .copied()
            .unwrap_or(Selected::NotSelected);
        let signal = senders.get(check.id()).cloned();
        let fut = check_run(check, cx, prereqs, state, signal, per_check).boxed();
        futures.insert(check.id(), fut.shared());
    }
    futures
}

/// The runs a check waits for: those of the providers of what it needs (hard) and uses (soft).
fn prerequisites<'a>(
    check: &dyn Check,
    providers: &BTreeMap<Fact, &'static str>,
    futures: &BTreeMap<&'static str, Pending<'a>>,
) -> Vec<(Fact, bool, Pending<'a>)> {
    check
        .needs()
        .iter()
        .map(|f| (*f, true))
        .chain(check.uses().iter().map(|f| (*f, false)))
        .filter_map(|(fact, hard)| {
            let provider = providers.get(&fact)?;
            Some((fact, hard, futures.get(provider)?.clone()))
        })
        .collect()
}

/// One check: waits for its prerequisites, runs (or skips), signals its completion.
async fn check_run(
    check: &dyn Check,
    cx: &CheckCx<'_>,
    prereqs: Vec<(Fact, bool, Pending<'_>)>,
    state: Selected,
    signal: Option<Signal>,
    per_check: Duration,
) -> Done {
    let mut waits = Vec::new();
    for (fact, hard, fut) in prereqs {
        waits.push((fact, hard, fut.await));
    }
    let started = Instant::now();
    let (outcome, crashed) = outcome_of(check, cx, &waits, state, per_check).await;
    if let Some(tx) = signal {
        let _ = tx.send(Some(outcome.status));
    }
    Arc::new(Ran {
        id: check.id(),
        outcome,
        duration: started.elapsed(),
        crashed,
    })
}

/// What became of a check whose prerequisites are done: skipped (by a flag, not requested, or a
/// prerequisite unusable) or run, with whether it crashed.
async fn outcome_of(
    check: &dyn Check,
    cx: &CheckCx<'_>,
    waits: &[(Fact, bool, Done)],
    state: Selected,
    per_check: Duration,
) -> (Outcome, bool) {
    match state {
        Selected::SkippedByFlag => (
            Outcome::skip(cx.t("skipped (--skip)", "スキップしました (--skip)")),
            false,
        ),
        Selected::NotSelected => (
            Outcome::skip(cx.t("not selected (--only)", "対象外です (--only)")),
            false,
        ),
        Selected::Run => {
            // A check nobody asked for says so, whatever became of its prerequisites.
            if let Some(reason) = check.not_requested(cx.args, cx.lang) {
                (Outcome::skip(reason), false)
            } else if let Some(reason) = missing_prerequisite(cx, waits) {
                (Outcome::skip(reason), false)
            } else {
                if let Some(p) = &cx.ctx.progress {
                    p(check.id(), None);
                }
                let own = cx.for_check(check.meta());
                let (outcome, crashed) = run_one(check, &own, per_check).await;
                if let Some(p) = &cx.ctx.progress {
                    p(check.id(), Some(outcome.status));
                }
                (outcome, crashed)
            }
        }
    }
}

/// Every check's result in declared order. The whole run is bounded: what has not finished by
/// the deadline is reported as timed out, with what it was still waiting for, and the report
/// prints what did finish.
async fn gather(
    checks: &[Box<dyn Check>],
    futures: &BTreeMap<&'static str, Pending<'_>>,
    providers: &BTreeMap<Fact, &'static str>,
    deadline: Duration,
    lang: Lang,
) -> Vec<Ran> {
    let all: Vec<_> = checks
        .iter()
        .filter_map(|c| futures.get(c.id()).cloned())
        .collect();
    match tokio::time::timeout(deadline, futures::future::join_all(all)).await {
        Ok(done) => done.into_iter().map(|r| (*r).clone()).collect(),
        Err(_) => checks
            .iter()
            .filter_map(|c| {
                let fut = futures.get(c.id())?;
                Some(match fut.peek() {
                    Some(done) => (**done).clone(),
                    None => unfinished(c.as_ref(), futures, providers, deadline, lang),
                })
            })
            .collect(),
    }
}

/// The bound on a whole run: the longest chain of network steps (login server, challenge,
/// refresh token, access token, permissions, expiry), each bounded by `--timeout`, with room.
pub fn run_deadline(timeout: Duration) -> Duration {
    timeout * 8 + Duration::from_secs(5)
}

/// A check that had not finished when the run's deadline passed, with what it waited for.
fn unfinished(
    check: &dyn Check,
    futures: &BTreeMap<&'static str, Shared<BoxFuture<'_, Done>>>,
    providers: &BTreeMap<Fact, &'static str>,
    deadline: Duration,
    lang: Lang,
) -> Ran {
    let waiting: Vec<String> = check
        .needs()
        .iter()
        .chain(check.uses())
        .chain(check.consults())
        .filter_map(|fact| {
            let provider = providers.get(fact)?;
            let pending = futures.get(provider).is_some_and(|f| f.peek().is_none());
            (pending && *provider != check.id()).then(|| format!("{} ({provider})", fact.name()))
        })
        .collect();
    let secs = deadline.as_secs_f64();
    let (message, what) = if waiting.is_empty() {
        (
            lang.pick(
                format!("did not finish before the run's deadline ({secs:.0} s): still running its own requests"),
                format!("実行全体の期限 ({secs:.0} 秒) までに完了しませんでした: 自身の要求を実行中でした"),
            ),
            "own work".to_string(),
        )
    } else {
        let list = waiting.join(", ");
        (
            lang.pick(
                format!("did not finish before the run's deadline ({secs:.0} s): still waiting for {list}"),
                format!("実行全体の期限 ({secs:.0} 秒) までに完了しませんでした: {list} を待っていました"),
            ),
            list,
        )
    };
    Ran {
        id: check.id(),
        outcome: Outcome::fail(
            message.clone(),
            RawFinding::new(Code::UNEXPECTED_ERROR, message)
                .evidence("run_deadline_s", secs)
                .evidence("waiting_for", what.clone()),
        )
        .evidence("timed_out", true)
        .evidence("waiting_for", what),
        duration: deadline,
        crashed: false,
    }
}

fn missing_prerequisite(cx: &CheckCx<'_>, waits: &[(Fact, bool, Done)]) -> Option<String> {
    for (fact, hard, ran) in waits {
        if !hard {
            continue;
        }
        let usable = matches!(
            ran.outcome.status,
            CheckStatus::Pass | CheckStatus::Warn | CheckStatus::Info
        );
        if !usable {
            let state = match ran.outcome.status {
                CheckStatus::Fail => cx.t("failed", "失敗しました"),
                _ => cx.t("was skipped", "スキップされました"),
            };
            return Some(cx.t(
                format!("needs the {} from {}, which {state}", fact.name(), ran.id),
                format!(
                    "{} の {} が必要ですが、そのチェックは{state}",
                    ran.id,
                    fact.name_in(crate::lang::Lang::Ja)
                ),
            ));
        }
    }
    None
}

async fn run_one(check: &dyn Check, cx: &CheckCx<'_>, bound: Duration) -> (Outcome, bool) {
    let fut = AssertUnwindSafe(check.run(cx)).catch_unwind();
    match tokio::time::timeout(bound, fut).await {
        Ok(Ok(mut outcome)) => {
            // A failed check always names a cause.
            if outcome.status == CheckStatus::Fail && outcome.findings.is_empty() {
                outcome.findings.push(RawFinding::new(
                    Code::UNEXPECTED_ERROR,
                    outcome.message.clone(),
                ));
            }
            (outcome, false)
        }
        Ok(Err(panic)) => {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            let message = cx.t(
                format!("acr-doctor failed inside this check (a bug): {text}"),
                format!("このチェックの内部で acr-doctor が失敗しました (不具合です): {text}"),
            );
            (
                Outcome::fail(
                    message.clone(),
                    RawFinding::new(Code::UNEXPECTED_ERROR, message).evidence("panic", text),
                ),
                true,
            )
        }
        Err(_) => {
            let message = cx.t(
                format!("did not finish within {:.0} s", bound.as_secs_f64()),
                format!("{:.0} 秒以内に完了しませんでした", bound.as_secs_f64()),
            );
            (
                Outcome::fail(
                    message.clone(),
                    RawFinding::new(Code::UNEXPECTED_ERROR, message)
                        .evidence("timeout_s", bound.as_secs_f64()),
                ),
                false,
            )
        }
    }
}

/// Indices of `checks` such that every provider comes before the checks that wait for it.
/// Panics on a cycle: a programming error caught by the tests.
fn topological(checks: &[Box<dyn Check>], providers: &BTreeMap<Fact, &'static str>) -> Vec<usize> {
    let index_of = |id: &str| checks.iter().position(|c| c.id() == id);
    let mut order = Vec::new();
    let mut state = vec![0u8; checks.len()]; // 0 new, 1 visiting, 2 done
    fn visit(
        i: usize,
        checks: &[Box<dyn Check>],
        providers: &BTreeMap<Fact, &'static str>,
        index_of: &dyn Fn(&str) -> Option<usize>,
        state: &mut [u8],
        order: &mut Vec<usize>,
    ) {
        match state[i] {
            2 => return,
            // A cycle is a bug in the check list, caught by the unit test below.
            #[allow(clippy::panic)]
            1 => panic!("check dependency cycle at {}", checks[i].id()),
            _ => {}
        }
        state[i] = 1;
        let c = &checks[i];
        // Consulted facts count for cycles too: a provider must never wait for its consumer.
        for fact in c.needs().iter().chain(c.uses()).chain(c.consults()) {
            if let Some(j) = providers.get(fact).and_then(|p| index_of(p)) {
                if j != i {
                    visit(j, checks, providers, index_of, state, order);
                }
            }
        }
        state[i] = 2;
        order.push(i);
    }
    for i in 0..checks.len() {
        visit(i, checks, providers, &index_of, &mut state, &mut order);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Group, Meta};

    /// A fake check: sleeps, then passes, fails or panics.
    struct Fake {
        meta: &'static Meta,
        sleep_ms: u64,
        behaviour: &'static str,
    }

    impl Check for Fake {
        fn meta(&self) -> &'static Meta {
            self.meta
        }
        fn run<'a>(&'a self, _cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(self.sleep_ms)).await;
                #[allow(clippy::panic)]
                match self.behaviour {
                    "panic" => panic!("fake check panicked"),
                    "fail" => Outcome::fail("failed", RawFinding::new(Code::UNEXPECTED_ERROR, "x")),
                    _ => Outcome::pass("ok"),
                }
            })
        }
    }

    static A: Meta = Meta::new("fake.a", Group::Registry, "a", "a").provides(&[Fact::RegistryName]);
    static B: Meta = Meta::new("fake.b", Group::Registry, "b", "b")
        .needs(&[Fact::RegistryName])
        .provides(&[Fact::LoginServer]);
    static C: Meta = Meta::new("fake.c", Group::Registry, "c", "c")
        .needs(&[Fact::LoginServer])
        .provides(&[Fact::Dns]);
    static D: Meta = Meta::new("fake.d", Group::Registry, "d", "d").needs(&[Fact::Dns]);

    fn fake(meta: &'static Meta, sleep_ms: u64, behaviour: &'static str) -> Box<dyn Check> {
        Box::new(Fake {
            meta,
            sleep_ms,
            behaviour,
        })
    }

    async fn drive(checks: Vec<Box<dyn Check>>, timeout: f64) -> EngineRun {
        let args = CheckArgs {
            timeout,
            ..CheckArgs::default()
        };
        let ctx = crate::context::Context::new(Default::default(), &args).expect("context");
        run(&checks, &ctx, &args, "fake", Lang::En).await
    }

    fn status(run: &EngineRun, id: &str) -> CheckStatus {
        run.results
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.outcome.status)
            .expect("ran")
    }

    #[tokio::test]
    async fn a_panic_is_a_crash_and_its_dependants_are_skipped() {
        let r = drive(
            vec![
                fake(&A, 0, "panic"),
                fake(&B, 0, "pass"),
                fake(&C, 0, "pass"),
            ],
            1.0,
        )
        .await;
        let a = r.results.iter().find(|x| x.id == "fake.a").expect("a");
        assert!(a.crashed);
        assert_eq!(a.outcome.findings[0].code, Code::UNEXPECTED_ERROR);
        assert_eq!(status(&r, "fake.b"), CheckStatus::Skip);
        assert_eq!(status(&r, "fake.c"), CheckStatus::Skip);
    }

    #[tokio::test]
    async fn a_failed_prerequisite_skips_with_the_reason() {
        let r = drive(vec![fake(&A, 0, "fail"), fake(&B, 0, "pass")], 1.0).await;
        assert_eq!(status(&r, "fake.a"), CheckStatus::Fail);
        let b = r.results.iter().find(|x| x.id == "fake.b").expect("b");
        assert_eq!(b.outcome.status, CheckStatus::Skip);
        assert!(
            b.outcome.message.contains("fake.a"),
            "{}",
            b.outcome.message
        );
    }

    /// A chain of checks each within its own bound but together past the run's deadline: the
    /// run still ends at the deadline, with what finished and what each unfinished check was
    /// waiting for.
    #[tokio::test]
    async fn the_whole_run_ends_at_its_deadline() {
        let timeout = 0.05;
        let deadline = run_deadline(Duration::from_secs_f64(timeout));
        let step = 2_000; // under the per-check bound of 4 × 0.05 s + 2 s
        let started = Instant::now();
        let r = drive(
            vec![
                fake(&A, step, "pass"),
                fake(&B, step, "pass"),
                fake(&C, step, "pass"),
                fake(&D, 0, "pass"),
            ],
            timeout,
        )
        .await;
        let took = started.elapsed();
        assert!(took < deadline + Duration::from_secs(2), "{took:?}");
        assert_eq!(status(&r, "fake.a"), CheckStatus::Pass);
        assert_eq!(status(&r, "fake.b"), CheckStatus::Pass);
        let c = r.results.iter().find(|x| x.id == "fake.c").expect("c");
        assert_eq!(c.outcome.status, CheckStatus::Fail);
        assert_eq!(c.outcome.evidence["timed_out"], true);
        assert_eq!(c.outcome.evidence["waiting_for"], "own work");
        let d = r.results.iter().find(|x| x.id == "fake.d").expect("d");
        assert_eq!(d.outcome.status, CheckStatus::Fail);
        let waiting = d.outcome.evidence["waiting_for"].as_str().unwrap_or("");
        assert!(waiting.contains("fake.c"), "{waiting}");
    }

    static E: Meta = Meta::new("fake.e", Group::Registry, "e", "e")
        .needs(&[Fact::LoginServer])
        .uses(&[Fact::Dns])
        .provides(&[Fact::Tls, Fact::Challenge]);

    #[test]
    fn one_completion_signal_per_provider_seen_by_each_fact_it_provides() {
        let checks = vec![
            fake(&A, 0, "pass"),
            fake(&B, 0, "pass"),
            fake(&E, 0, "pass"),
        ];
        let (senders, receivers) = completion_signals(&providers(&checks));
        assert_eq!(
            senders.keys().copied().collect::<Vec<_>>(),
            vec!["fake.a", "fake.b", "fake.e"]
        );
        assert_eq!(
            receivers.keys().copied().collect::<Vec<_>>(),
            vec![
                Fact::RegistryName,
                Fact::LoginServer,
                Fact::Tls,
                Fact::Challenge
            ]
        );
        senders["fake.e"]
            .send(Some(CheckStatus::Warn))
            .expect("receivers are alive");
        for fact in [Fact::Tls, Fact::Challenge] {
            assert_eq!(*receivers[&fact].borrow(), Some(CheckStatus::Warn));
        }
        assert_eq!(*receivers[&Fact::LoginServer].borrow(), None);
    }

    #[test]
    fn prerequisites_are_the_runs_of_the_providers_hard_for_needs_soft_for_uses() {
        let checks = vec![
            fake(&B, 0, "pass"),
            fake(&C, 0, "pass"),
            fake(&E, 0, "pass"),
        ];
        let providers = providers(&checks);
        let done = |id: &'static str| -> Pending<'static> {
            let ran = Arc::new(Ran {
                id,
                outcome: Outcome::pass("ok"),
                duration: Duration::ZERO,
                crashed: false,
            });
            futures::future::ready(ran).boxed().shared()
        };
        let futures: BTreeMap<&'static str, Pending<'static>> =
            [("fake.b", done("fake.b")), ("fake.c", done("fake.c"))].into();
        let e = checks[2].as_ref();
        let found: Vec<(Fact, bool, &str)> = prerequisites(e, &providers, &futures)
            .into_iter()
            .map(|(fact, hard, fut)| (fact, hard, fut.now_or_never().map_or("", |r| r.id)))
            .collect();
        assert_eq!(
            found,
            vec![
                (Fact::LoginServer, true, "fake.b"),
                (Fact::Dns, false, "fake.c")
            ]
        );
        // A prerequisite with no provider among the checks is not waited for.
        let b = checks[0].as_ref();
        assert!(prerequisites(b, &providers, &futures).is_empty());
    }

    #[test]
    fn the_check_list_has_no_cycles_and_unique_ids() {
        let checks = crate::checks::all();
        let providers = providers(&checks);
        let order = topological(&checks, &providers);
        assert_eq!(order.len(), checks.len());
        let ids: BTreeSet<_> = checks.iter().map(|c| c.id()).collect();
        assert_eq!(ids.len(), checks.len(), "duplicate check ids");
        for c in &checks {
            for f in c.needs() {
                assert!(
                    providers.contains_key(f),
                    "{} needs {:?} which nobody provides",
                    c.id(),
                    f
                );
            }
        }
    }
}
