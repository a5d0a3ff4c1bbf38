//! `auth.lock`: with `--need push` or `--need delete`, the repository's attributes (and the
//! tag's or manifest's, when `--repository` names one) must allow the write. ACR keeps
//! `writeEnabled` and `deleteEnabled` on each; when one is false the registry refuses the write
//! whatever the identity's role, with `405 REGISTRY_DISALLOWED_OPERATION` ("The operation is
//! disallowed on this registry, repository or image."). The attributes are read through ACR's
//! own API (`GET /acr/v1/<repo>`, `/_tags/<tag>`, `/_manifests/<digest>`, scope
//! `repository:<repo>:metadata_read`, which the access token already asks for); nothing is
//! written. An attribute that cannot be read is reported as not checked, never guessed.

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::probes::{errors_text, probe_inputs, probe_line, registry_get};
use super::repository_needs;
use crate::catalogue::Code;
use crate::checks::{
    evidence_of, Check, CheckCx, Fact, Group, LoginServer, Meta, Outcome, WriteRefusal,
};
use crate::finding::RawFinding;
use crate::lang::Lang;
use crate::protocol::registry_name::ImageRef;
use crate::redact::Secret;
use crate::request::{CheckArgs, Need};

pub struct AuthLock;

fn writes_needed(args: &CheckArgs) -> bool {
    args.need
        .iter()
        .any(|n| matches!(n, Need::Push | Need::Delete))
}

impl Check for AuthLock {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "auth.lock",
            Group::Authorization,
            "repository and image locks",
            "リポジトリとイメージのロック",
        )
        .needs(&[Fact::Permissions]);
        &META
    }
    fn not_requested(&self, args: &CheckArgs, lang: Lang) -> Option<String> {
        if args.repository.is_none() {
            return Some(
                lang.pick(
                    "no --repository given: locks not checked",
                    "--repository が指定されていないため、ロックは確認していません",
                )
                .to_string(),
            );
        }
        (!writes_needed(args)).then(|| {
            lang.pick(
                "no --need push or delete: locks only stop writes",
                "--need に push も delete もありません。ロックが止めるのは書き込みだけです",
            )
            .to_string()
        })
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { auth_lock(cx).await })
    }
}

/// What ACR's API said about one item.
#[derive(Clone)]
pub(super) enum Read {
    /// `changeableAttributes`.
    Attributes(Value),
    /// 404: the item does not exist (the registry's error code).
    Absent(String),
    /// Not readable (why).
    Unreadable(String),
}

/// The item a set of attributes belongs to.
struct Item {
    /// `repository`, `tag` or `manifest`.
    level: &'static str,
    /// As `az acr repository update` takes it: `--repository app` or `--image app:1.0`.
    flag: &'static str,
    name: String,
    path: String,
    /// Where `changeableAttributes` sits in the answer (`None`: at the top).
    field: Option<&'static str>,
}

async fn read(cx: &CheckCx<'_>, login: &LoginServer, token: &Secret, item: &Item) -> (Read, Value) {
    let mut calls = Vec::new();
    let r = read_into(cx, login, token, item, &mut calls).await;
    (r, calls.pop().unwrap_or(Value::Null))
}

async fn read_into(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    item: &Item,
    calls: &mut Vec<Value>,
) -> Read {
    let r = match registry_get(cx, login, token, &item.path, &[], calls).await {
        Ok(r) => r,
        Err(e) => return Read::Unreadable(e),
    };
    let said = errors_text(&r);
    match r.status {
        200 => {
            let attrs = r.json().and_then(|j| {
                let holder = match item.field {
                    Some(f) => j.get(f)?.clone(),
                    None => j,
                };
                holder.get("changeableAttributes").cloned()
            });
            match attrs {
                Some(a) if a.is_object() => {
                    calls.push(probe_line("GET", &item.path, Some(200), &a.to_string()));
                    Read::Attributes(a)
                }
                _ => {
                    calls.push(probe_line(
                        "GET",
                        &item.path,
                        Some(200),
                        "no changeableAttributes in the answer",
                    ));
                    Read::Unreadable(cx.t(
                        "the answer holds no changeableAttributes",
                        "応答に changeableAttributes がありません",
                    ))
                }
            }
        }
        404 => {
            calls.push(probe_line("GET", &item.path, Some(404), &said));
            let code = r
                .registry_errors()
                .first()
                .map(|(c, _)| c.clone())
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| "404".into());
            Read::Absent(code)
        }
        s => {
            calls.push(probe_line("GET", &item.path, Some(s), &said));
            let why = match s {
                401 | 403 => cx.t(
                    format!("the registry refused to show the attributes ({s}: {said}); reading them needs metadata_read on the repository"),
                    format!("レジストリが属性の表示を拒否しました ({s}: {said})。読み取りにはリポジトリの metadata_read が必要です"),
                ),
                _ => cx.t(
                    format!("the registry answered {s} ({said})"),
                    format!("レジストリの応答は {s} ({said}) でした"),
                ),
            };
            Read::Unreadable(why)
        }
    }
}

/// `repository app`, `tag app:1.0`, `manifest app@sha256:…`, in the run's language.
fn named(cx: &CheckCx<'_>, level: &str, name: &str) -> String {
    let ja = match level {
        "repository" => "リポジトリ",
        "tag" => "タグ",
        _ => "マニフェスト",
    };
    cx.t(format!("{level} {name}"), format!("{ja} {name}"))
}

fn flag(attrs: &Value, name: &str) -> Option<bool> {
    attrs.get(name).and_then(Value::as_bool)
}

/// The items whose attributes matter: the repository, and the tag or manifest named.
fn items_of(image: &ImageRef) -> Vec<Item> {
    let repo = &image.repository;
    let mut items = vec![Item {
        level: "repository",
        flag: "--repository",
        name: repo.clone(),
        path: format!("/acr/v1/{repo}"),
        field: None,
    }];
    if let Some(tag) = &image.tag {
        items.push(Item {
            level: "tag",
            flag: "--image",
            name: format!("{repo}:{tag}"),
            path: format!("/acr/v1/{repo}/_tags/{tag}"),
            field: Some("tag"),
        });
    }
    if let Some(digest) = &image.digest {
        items.push(Item {
            level: "manifest",
            flag: "--image",
            name: format!("{repo}@{digest}"),
            path: format!("/acr/v1/{repo}/_manifests/{digest}"),
            field: Some("manifest"),
        });
    }
    items
}

/// Whether the run reads locks (`--need push` or `delete` on a `--repository`).
pub(super) fn wanted(args: &CheckArgs) -> bool {
    args.repository.is_some() && writes_needed(args)
}

/// The attributes of every item of `image`, read at once and only once per run: auth.repository
/// starts this beside its own probes (so a healthy run waits no extra round trip) and auth.lock
/// takes the same answers.
pub(super) async fn attributes(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    image: &ImageRef,
) -> Vec<(Read, Value)> {
    let key = format!("acr-v1-attributes:{}:{}", login.authority(), image.image());
    cx.ctx
        .once(&key, || async {
            let items = items_of(image);
            futures::future::join_all(items.iter().map(|i| read(cx, login, token, i))).await
        })
        .await
}

async fn auth_lock(cx: &CheckCx<'_>) -> Outcome {
    let Some(image) = cx.args.image() else {
        return Outcome::skip("no --repository");
    };
    let (token, login, ..) = match probe_inputs(cx) {
        Ok(inputs) => inputs,
        Err(skip) => return *skip,
    };
    let needs = write_needs(cx.args);
    let items = items_of(&image);
    let (reads, calls): (Vec<Read>, Vec<Value>) = attributes(cx, &login, &token, &image)
        .await
        .into_iter()
        .unzip();
    let locks = Locks::of(cx, &items, &reads, &needs);
    let refusals: Vec<WriteRefusal> = cx.facts().write_refusals.clone();
    let granted = cx
        .facts()
        .repository_access
        .as_ref()
        .map(|a| Value::from(a.granted.clone()))
        .unwrap_or(Value::Null);
    Verdict {
        repo: image.repository.clone(),
        needs,
        items,
        reads,
        calls,
        locks,
        refusals,
        granted,
    }
    .outcome(cx)
}

/// The writes `--need` asks for that a lock can stop: push and delete.
fn write_needs(args: &CheckArgs) -> Vec<&'static str> {
    repository_needs(args)
        .into_iter()
        .filter(|n| matches!(*n, "push" | "delete"))
        .collect()
}

/// Everything auth.lock decides from: the writes needed, the items and what was read about
/// them, the locks that makes, the registry's refusals of write probes, and what the access
/// token granted.
struct Verdict {
    repo: String,
    needs: Vec<&'static str>,
    items: Vec<Item>,
    reads: Vec<Read>,
    calls: Vec<Value>,
    locks: Locks,
    refusals: Vec<WriteRefusal>,
    granted: Value,
}

impl Verdict {
    /// A lock stops a needed write; else the registry refused a write anyway; else the locks
    /// could not all be read; else no lock stops the writes.
    fn outcome(&self, cx: &CheckCx<'_>) -> Outcome {
        if !self.locks.locked.is_empty() {
            let (msg, f) = locked_finding(
                cx,
                &self.items,
                &self.locks.locked,
                &self.needs,
                &self.granted,
                &self.refusals,
            );
            return self.decorate(Outcome::fail(msg, f));
        }
        if !self.refusals.is_empty() {
            let (msg, f) = disallowed_finding(cx, &self.refusals, self.checked(), &self.granted);
            return self.decorate(Outcome::fail(msg, f));
        }
        let summary = self.summary(cx);
        if !self.checked() {
            return self.decorate(self.not_checked(cx, &summary));
        }
        self.decorate(self.no_lock(cx, &summary))
    }

    /// Every attribute could be read.
    fn checked(&self) -> bool {
        self.locks.not_read.is_empty()
    }

    fn decorate(&self, o: Outcome) -> Outcome {
        o.evidence("repository", self.repo.clone())
            .evidence("needed", self.needs.clone())
            .evidence("attributes", Value::Object(self.locks.attributes.clone()))
            .evidence("locked", self.locks.locked.clone())
            .evidence("checked", self.checked())
            .evidence("registry_refusals", evidence_of(&self.refusals))
            .evidence("registry_calls", self.calls.clone())
    }

    /// `tag app:1.0: writeEnabled=true, deleteEnabled=true` for every item read.
    fn summary(&self, cx: &CheckCx<'_>) -> Vec<String> {
        self.items
            .iter()
            .zip(&self.reads)
            .filter_map(|(item, r)| match r {
                Read::Attributes(a) => Some(format!(
                    "{}: writeEnabled={}, deleteEnabled={}",
                    named(cx, item.level, &item.name),
                    flag(a, "writeEnabled").map_or("-".into(), |b| b.to_string()),
                    flag(a, "deleteEnabled").map_or("-".into(), |b| b.to_string())
                )),
                _ => None,
            })
            .collect()
    }

    fn not_checked(&self, cx: &CheckCx<'_>, summary: &[String]) -> Outcome {
        let not_read = &self.locks.not_read;
        Outcome::info(cx.t(
            format!(
                "locks not checked: {}{}",
                not_read.join("; "),
                if summary.is_empty() {
                    String::new()
                } else {
                    format!(" (read: {})", summary.join("; "))
                }
            ),
            format!(
                "ロックは確認できませんでした: {}{}",
                not_read.join("; "),
                if summary.is_empty() {
                    String::new()
                } else {
                    format!(" (読み取り済み: {})", summary.join("; "))
                }
            ),
        ))
    }

    fn no_lock(&self, cx: &CheckCx<'_>, summary: &[String]) -> Outcome {
        let (absent, needs) = (&self.locks.absent, &self.needs);
        let absent_en = if absent.is_empty() {
            String::new()
        } else {
            format!(
                "; {} not in the registry yet (no attributes of its own)",
                absent.join(", ")
            )
        };
        let absent_ja = if absent.is_empty() {
            String::new()
        } else {
            format!(
                "。{} はまだレジストリにないため、独自の属性はありません",
                absent.join("、")
            )
        };
        Outcome::pass(cx.t(
            format!(
                "no lock stops {}: {}{absent_en}",
                needs.join(" or "),
                summary.join("; ")
            ),
            format!(
                "{} を止めるロックはありません: {}{absent_ja}",
                needs.join("、"),
                summary.join("; ")
            ),
        ))
    }
}

/// What the attributes read say: which attribute stops which needed write (`locked`), the
/// attributes per level, what could not be read, and what is not in the registry yet.
struct Locks {
    locked: Vec<Value>,
    attributes: serde_json::Map<String, Value>,
    not_read: Vec<String>,
    absent: Vec<String>,
}

impl Locks {
    /// `writeEnabled: false` stops pushes and deletes; `deleteEnabled: false` stops deletes. A
    /// manifest is never pushed to by digest.
    fn of(cx: &CheckCx<'_>, items: &[Item], reads: &[Read], needs: &[&'static str]) -> Locks {
        let mut locked = Vec::new();
        let mut attributes = serde_json::Map::new();
        let mut not_read = Vec::new();
        let mut absent = Vec::new();
        for (item, r) in items.iter().zip(reads) {
            match r {
                Read::Attributes(a) => {
                    attributes.insert(item.level.into(), a.clone());
                    for (attr, stops) in [
                        ("writeEnabled", &["push", "delete"][..]),
                        ("deleteEnabled", &["delete"][..]),
                    ] {
                        if flag(a, attr) != Some(false) {
                            continue;
                        }
                        let blocked: Vec<&str> = needs
                            .iter()
                            .copied()
                            .filter(|n| stops.contains(n))
                            .filter(|n| !(item.level == "manifest" && *n == "push"))
                            .collect();
                        if !blocked.is_empty() {
                            locked.push(json!({
                                "on": item.level, "name": item.name, "attribute": attr,
                                "value": false, "blocks": blocked,
                            }));
                        }
                    }
                }
                // Without the repository there are no attributes to read at all; a tag or manifest
                // that is not there yet has none of its own (the repository's still apply).
                Read::Absent(code) if item.level == "repository" => {
                    attributes.insert(item.level.into(), json!({"absent": code}));
                    not_read.push(cx.t(
                        format!(
                            "{}: not in the registry yet ({code}), so it has no attributes to read",
                            named(cx, item.level, &item.name)
                        ),
                        format!(
                            "{}: まだレジストリにない ({code}) ため、読み取る属性がありません",
                            named(cx, item.level, &item.name)
                        ),
                    ));
                }
                Read::Absent(code) => {
                    attributes.insert(item.level.into(), json!({"absent": code}));
                    absent.push(format!("{} ({code})", named(cx, item.level, &item.name)));
                }
                Read::Unreadable(why) => {
                    attributes.insert(item.level.into(), json!({"unreadable": why}));
                    not_read.push(format!("{}: {why}", named(cx, item.level, &item.name)));
                }
            }
        }
        Locks {
            locked,
            attributes,
            not_read,
            absent,
        }
    }
}

/// ARTIFACT_LOCKED: the locks that stop the needed writes, with one `az acr repository update`
/// per locked item.
fn locked_finding(
    cx: &CheckCx<'_>,
    items: &[Item],
    locked: &[Value],
    needs: &[&'static str],
    granted: &Value,
    refusals: &[WriteRefusal],
) -> (String, RawFinding) {
    let registry = cx.registry_name();
    let lines: Vec<String> = locked
        .iter()
        .map(|l| {
            let what = named(
                cx,
                l["on"].as_str().unwrap_or(""),
                l["name"].as_str().unwrap_or(""),
            );
            let attr = l["attribute"].as_str().unwrap_or("");
            cx.t(
                format!("{what} has {attr}=false"),
                format!("{what} の {attr} が false です"),
            )
        })
        .collect();
    let blocked: Vec<&str> = needs
        .iter()
        .copied()
        .filter(|n| {
            locked.iter().any(|l| {
                l["blocks"]
                    .as_array()
                    .is_some_and(|b| b.iter().any(|x| x.as_str() == Some(n)))
            })
        })
        .collect();
    let msg = cx.t(
        format!(
            "{}: the registry refuses {} although the identity's role allows it",
            lines.join("; "),
            blocked.join(" and ")
        ),
        format!(
            "{}。ID のロールでは許可されていますが、レジストリは {} を拒否します",
            lines.join("。"),
            blocked.join("、")
        ),
    );
    let mut f = RawFinding::new(Code::ARTIFACT_LOCKED, msg.clone())
        .evidence("locked", locked.to_vec())
        .evidence("granted", granted.clone())
        .evidence("registry_refusals", evidence_of(&refusals));
    // One `az acr repository update` per locked item, the repository first (its lock has
    // to go before an image's can be lifted).
    for item in items {
        let on_item: Vec<&Value> = locked
            .iter()
            .filter(|l| l["on"].as_str() == Some(item.level))
            .collect();
        if on_item.is_empty() {
            continue;
        }
        let mut cmd = format!(
            "az acr repository update --name {registry} {} {}",
            item.flag, item.name
        );
        for (attr, option) in [
            ("writeEnabled", "--write-enabled"),
            ("deleteEnabled", "--delete-enabled"),
        ] {
            if on_item
                .iter()
                .any(|l| l["attribute"].as_str() == Some(attr))
            {
                cmd.push_str(&format!(" {option} true"));
            }
        }
        f = f.command(format!(
            "az acr repository show --name {registry} {} {} --query changeableAttributes",
            item.flag, item.name
        ));
        f = f.command(cmd);
    }
    f = f.step(cx.t(
        "Locks are usually set on purpose to keep released images unchanged: ask whoever set them before lifting one, or push under a new tag instead.",
        "ロックは通常、リリース済みのイメージを変えないために意図して設定されています。外す前に設定した人に確認するか、新しいタグでプッシュしてください。",
    ));
    (msg, f)
}

/// ARTIFACT_LOCKED, inferred: the registry refused a write probe with the lock's words, but the
/// attributes read show no lock (or could not be read): the same words come back over the
/// storage quota.
fn disallowed_finding(
    cx: &CheckCx<'_>,
    refusals: &[WriteRefusal],
    checked: bool,
    granted: &Value,
) -> (String, RawFinding) {
    let said: Vec<String> = refusals
        .iter()
        .map(|r| format!("{} → {} {}", r.call, r.status, r.code))
        .collect();
    let msg = cx.t(
        format!(
            "the registry refused a write as disallowed ({}), and the attributes {}",
            said.join("; "),
            if checked {
                "show no lock: the registry may be over its storage quota"
            } else {
                "could not be read"
            }
        ),
        format!(
            "レジストリは書き込みを許可されていない操作として拒否しました ({})。属性は{}",
            said.join("; "),
            if checked {
                "ロックを示していません。レジストリがストレージの上限に達している可能性があります"
            } else {
                "読み取れませんでした"
            }
        ),
    );
    let f = RawFinding::new(Code::ARTIFACT_LOCKED, msg.clone())
        .inferred(&[])
        .evidence("registry_refusals", evidence_of(&refusals))
        .evidence("granted", granted.clone());
    (msg, f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CheckStatus;

    #[test]
    fn locks_matter_only_for_writes() {
        let args = |extra: &[&str]| {
            let mut argv = vec!["--name", "x"];
            argv.extend_from_slice(extra);
            crate::check_args(&argv).unwrap()
        };
        let check = AuthLock;
        assert!(check.not_requested(&args(&[]), Lang::En).is_some());
        assert!(check
            .not_requested(&args(&["--repository", "app"]), Lang::En)
            .is_some());
        assert!(check
            .not_requested(
                &args(&["--repository", "app", "--need", "pull,push"]),
                Lang::En
            )
            .is_none());
        assert!(check
            .not_requested(
                &args(&["--repository", "app:1", "--need", "delete"]),
                Lang::En
            )
            .is_none());
    }

    fn verdict(cx: &CheckCx<'_>, reads: Vec<Read>, refusals: Vec<WriteRefusal>) -> Verdict {
        let image = ImageRef {
            repository: "app".into(),
            tag: Some("1.0".into()),
            digest: None,
        };
        let needs = write_needs(cx.args);
        let items = items_of(&image);
        let locks = Locks::of(cx, &items, &reads, &needs);
        Verdict {
            repo: image.repository.clone(),
            needs,
            items,
            calls: vec![Value::Null; reads.len()],
            reads,
            locks,
            refusals,
            granted: Value::Null,
        }
    }

    fn open() -> Read {
        Read::Attributes(json!({"writeEnabled": true, "deleteEnabled": true}))
    }

    const ARGV: [&str; 6] = [
        "--name",
        "reg",
        "--repository",
        "app:1.0",
        "--need",
        "pull,push,delete",
    ];

    #[test]
    fn only_writes_are_needed_from_locks() {
        let args = crate::check_args(&ARGV).unwrap();
        assert_eq!(write_needs(&args), ["push", "delete"]);
    }

    #[test]
    fn a_lock_on_the_tag_stops_the_writes() {
        crate::checks::with_test_cx(&ARGV, Lang::En, |cx| {
            let locked = Read::Attributes(json!({"writeEnabled": false, "deleteEnabled": true}));
            let o = verdict(cx, vec![open(), locked], vec![]).outcome(cx);
            assert_eq!(o.status, CheckStatus::Fail);
            assert_eq!(o.codes(), [Code::ARTIFACT_LOCKED]);
            let keys: Vec<&str> = o.evidence.keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                [
                    "attributes",
                    "checked",
                    "locked",
                    "needed",
                    "registry_calls",
                    "registry_refusals",
                    "repository"
                ]
            );
            assert_eq!(o.evidence["checked"], json!(true));
            assert_eq!(
                o.evidence["locked"],
                json!([{"on": "tag", "name": "app:1.0", "attribute": "writeEnabled",
                    "value": false, "blocks": ["push", "delete"]}])
            );
            assert_eq!(o.findings[0].commands.len(), 2);
        });
    }

    #[test]
    fn no_lock_passes_and_an_unread_attribute_is_not_guessed() {
        crate::checks::with_test_cx(&ARGV, Lang::En, |cx| {
            let o =
                verdict(cx, vec![open(), Read::Absent("TAG_UNKNOWN".into())], vec![]).outcome(cx);
            assert_eq!(o.status, CheckStatus::Pass);
            assert!(o.findings.is_empty());
            assert_eq!(o.evidence["checked"], json!(true));
            assert_eq!(o.evidence["locked"], json!([]));

            let unread = Read::Unreadable("403".into());
            let o = verdict(cx, vec![open(), unread], vec![]).outcome(cx);
            assert_eq!(o.status, CheckStatus::Info);
            assert!(o.findings.is_empty());
            assert_eq!(o.evidence["checked"], json!(false));
            assert_eq!(
                o.evidence["attributes"]["tag"],
                json!({"unreadable": "403"})
            );
        });
    }

    #[test]
    fn a_refused_write_without_a_lock_is_inferred() {
        crate::checks::with_test_cx(&ARGV, Lang::En, |cx| {
            let refusal = WriteRefusal {
                call: "PUT /v2/app/manifests/1.0".into(),
                status: 405,
                code: "DENIED".into(),
                message: "The operation is disallowed on this registry, repository or image."
                    .into(),
            };
            let o = verdict(cx, vec![open(), open()], vec![refusal]).outcome(cx);
            assert_eq!(o.status, CheckStatus::Fail);
            assert_eq!(o.codes(), [Code::ARTIFACT_LOCKED]);
            assert_eq!(
                o.findings[0].confidence,
                crate::finding::Confidence::Inferred
            );
            assert_eq!(o.evidence["checked"], json!(true));
        });
    }
}
