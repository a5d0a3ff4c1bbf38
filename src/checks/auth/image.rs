//! `auth.image`: the image `--repository REPO:TAG` or `REPO@DIGEST` names exists, and with
//! `--platform` it has a variant for that platform. Access already works when this runs (it
//! needs `auth.repository` to pass), so a missing image is IMAGE_NOT_FOUND, not a permission
//! problem. Reads only: one manifest, and the tag list (bounded) when the manifest is missing.

use futures::future::BoxFuture;
use serde_json::Value;

use super::probes::{errors_text, probe_inputs, probe_line, MANIFEST_ACCEPT};
use super::repository_needs;
use crate::catalogue::Code;
use crate::checks::{Check, CheckCx, Fact, Group, LoginServer, Meta, Outcome};
use crate::finding::RawFinding;
use crate::lang::Lang;
use crate::protocol::platform::{self, Platform};
use crate::protocol::registry_name::ImageRef;
use crate::protocol::tag_listing;
use crate::redact::Secret;
use crate::request::CheckArgs;
use crate::trust::Carry;

/// Pages of a tag list read at most, and the page size asked for.
const MAX_TAG_PAGES: usize = 10;
const PAGE_SIZE: usize = 100;
/// Existing tags shown in the evidence.
const TAGS_SHOWN: usize = 20;

pub struct AuthImage;

impl Check for AuthImage {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new("auth.image", Group::Authorization, "image", "イメージ")
            .needs(&[Fact::Permissions]);
        &META
    }
    fn not_requested(&self, args: &CheckArgs, lang: Lang) -> Option<String> {
        if args.repository.is_none() {
            return Some(
                lang.pick(
                    "no --repository given: no image to look up",
                    "--repository が指定されていないため、確認するイメージはありません",
                )
                .to_string(),
            );
        }
        args.image().and_then(|i| i.reference().map(str::to_string)).is_none().then(|| {
            lang.pick(
                "--repository names no tag or digest (REPO:TAG or REPO@DIGEST): the image was not looked up",
                "--repository にタグもダイジェストもない (REPO:TAG または REPO@DIGEST) ため、イメージは確認していません",
            )
            .to_string()
        })
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { auth_image(cx).await })
    }
}

/// What the tag list said.
struct Listing {
    /// `Some(false)` when the registry does not know the repository (404), `None` when the list
    /// could not be read.
    repository_exists: Option<bool>,
    tags: Vec<String>,
    /// False when the page bound stopped the reading.
    complete: bool,
}

/// One GET to the login server with the access token; the call is recorded in `calls`.
async fn get(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    path: &str,
    accept: Option<&str>,
    calls: &mut Vec<Value>,
) -> Option<crate::http::HttpResponse> {
    let mut request = cx
        .ctx
        .http()
        .get(format!("{}{path}", login.base_url()))
        .bearer_auth(token.expose());
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    match cx
        .ctx
        .send_credential(Carry::Registry(login), request)
        .await
    {
        Ok(r) => Some(r),
        Err(e) => {
            calls.push(probe_line("GET", path, None, &e.to_string()));
            None
        }
    }
}

/// Reads the repository's tag list, following `Link` to at most [`MAX_TAG_PAGES`] pages.
async fn list_tags(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    repo: &str,
    calls: &mut Vec<Value>,
) -> Listing {
    let mut listing = Listing {
        repository_exists: None,
        tags: Vec::new(),
        complete: false,
    };
    let mut path = format!("/v2/{repo}/tags/list?n={PAGE_SIZE}");
    for page in 0..MAX_TAG_PAGES {
        let Some(r) = get(cx, login, token, &path, None, calls).await else {
            return listing;
        };
        match r.status {
            200 => {
                listing.repository_exists = Some(true);
                let tags = r
                    .json()
                    .map(|j| tag_listing::page_tags(&j))
                    .unwrap_or_default();
                calls.push(probe_line(
                    "GET",
                    &path,
                    Some(200),
                    &format!("{} tag(s)", tags.len()),
                ));
                listing.tags.extend(tags);
                match r
                    .header("Link")
                    .and_then(|l| tag_listing::next_link(l, repo))
                {
                    Some(next) if page + 1 < MAX_TAG_PAGES => path = next,
                    Some(_) => return listing,
                    None => {
                        listing.complete = true;
                        return listing;
                    }
                }
            }
            404 => {
                calls.push(probe_line("GET", &path, Some(404), &errors_text(&r)));
                listing.repository_exists = Some(false);
                listing.complete = true;
                return listing;
            }
            s => {
                calls.push(probe_line("GET", &path, Some(s), &errors_text(&r)));
                return listing;
            }
        }
    }
    listing
}

fn image_evidence(o: Outcome, image: &ImageRef) -> Outcome {
    let mut o = o.evidence("repository", image.repository.clone());
    if let Some(t) = &image.tag {
        o = o.evidence("tag", t.clone());
    }
    if let Some(d) = &image.digest {
        o = o.evidence("digest", d.clone());
    }
    o
}

async fn auth_image(cx: &CheckCx<'_>) -> Outcome {
    let Some(image) = cx.args.image() else {
        return Outcome::skip("no --repository");
    };
    let Some(reference) = image.reference().map(str::to_string) else {
        return Outcome::skip("no tag or digest");
    };
    let (token, login, ..) = match probe_inputs(cx) {
        Ok(inputs) => inputs,
        Err(skip) => return *skip,
    };
    let repo = image.repository.clone();
    let shown = image.image();
    let mut calls = Vec::new();

    let path = format!("/v2/{repo}/manifests/{reference}");
    // auth.repository already asked `HEAD` of this manifest: without a platform to check, its
    // answer settles existence and saves a round trip.
    let probe = cx
        .facts()
        .reference_probe
        .clone()
        .filter(|p| p.reference == reference);
    let probed = probe.as_ref().map(|p| p.status);
    if probed == Some(200) && cx.args.platform.is_none() {
        let digest = probe
            .as_ref()
            .and_then(|p| p.digest.as_deref())
            .unwrap_or("-")
            .to_string();
        calls.push(probe_line(
            "HEAD",
            &path,
            Some(200),
            &format!("manifest readable ({digest}), as auth.repository found"),
        ));
        return image_evidence(
            Outcome::pass(cx.t(
                format!("{shown} exists ({digest})"),
                format!("{shown} は存在します ({digest})"),
            )),
            &image,
        )
        .evidence("checked", true)
        .evidence("exists", true)
        .evidence("manifest_digest", digest)
        .evidence("registry_calls", calls);
    }
    if probed == Some(404) {
        calls.push(probe_line(
            "HEAD",
            &path,
            Some(404),
            "not found, as auth.repository found",
        ));
        let listing = list_tags(cx, &login, &token, &repo, &mut calls).await;
        return missing(cx, &image, &shown, listing, calls);
    }
    let Some(r) = get(cx, &login, &token, &path, Some(MANIFEST_ACCEPT), &mut calls).await else {
        return image_evidence(
            Outcome::info(cx.t(
                format!("{shown}: could not be looked up: the registry did not answer"),
                format!("{shown}: レジストリが応答しなかったため確認できませんでした"),
            )),
            &image,
        )
        .evidence("checked", false)
        .evidence("registry_calls", calls);
    };
    match r.status {
        200 => {
            let digest = r.header("Docker-Content-Digest").map(str::to_string);
            calls.push(probe_line(
                "GET",
                &path,
                Some(200),
                &format!(
                    "manifest read ({})",
                    digest.as_deref().unwrap_or("no digest")
                ),
            ));
            let exists = |o: Outcome, calls: Vec<Value>| {
                image_evidence(o, &image)
                    .evidence("checked", true)
                    .evidence("exists", true)
                    .evidence("manifest_digest", digest.clone())
                    .evidence("registry_calls", calls)
            };
            let wanted = cx
                .args
                .platform
                .as_deref()
                .and_then(|p| Platform::parse(p).ok());
            let Some(wanted) = wanted else {
                return exists(
                    Outcome::pass(cx.t(
                        format!("{shown} exists ({})", digest.as_deref().unwrap_or("-")),
                        format!(
                            "{shown} は存在します ({})",
                            digest.as_deref().unwrap_or("-")
                        ),
                    )),
                    calls,
                );
            };
            let manifest = r.json().unwrap_or(Value::Null);
            let (verdict, calls) =
                platform_verdict(cx, &login, &token, &repo, &manifest, &wanted, calls).await;
            let o = platform_outcome(cx, &shown, &repo, &reference, &wanted, verdict);
            exists(o.evidence("platform_wanted", wanted.to_string()), calls)
        }
        404 => {
            calls.push(probe_line("GET", &path, Some(404), &errors_text(&r)));
            let listing = list_tags(cx, &login, &token, &repo, &mut calls).await;
            missing(cx, &image, &shown, listing, calls)
        }
        s => {
            let said = errors_text(&r);
            calls.push(probe_line("GET", &path, Some(s), &said));
            image_evidence(
                Outcome::info(cx.t(
                    format!("{shown}: could not be looked up: the registry answered {s} ({said})"),
                    format!(
                        "{shown}: レジストリの応答が {s} ({said}) だったため確認できませんでした"
                    ),
                )),
                &image,
            )
            .evidence("checked", false)
            .evidence("registry_calls", calls)
        }
    }
}

fn list(items: &[Platform]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        strings(items).join(", ")
    }
}

fn strings(items: &[Platform]) -> Vec<String> {
    items.iter().map(|p| p.to_string()).collect()
}

/// The manifest (or index) `reference` named was not found.
fn missing(
    cx: &CheckCx<'_>,
    image: &ImageRef,
    shown: &str,
    listing: Listing,
    calls: Vec<Value>,
) -> Outcome {
    let repo = &image.repository;
    let needs = repository_needs(cx.args);
    // Only a push is fine with an image that is not there yet: it creates it.
    let push_only = needs.iter().all(|n| *n == "push");
    let nearest = image
        .tag
        .as_deref()
        .filter(|_| image.digest.is_none())
        .and_then(|t| tag_listing::nearest(t, &listing.tags))
        .map(str::to_string);
    let mut sample = listing.tags.clone();
    sample.sort();
    sample.truncate(TAGS_SHOWN);
    let decorate = |o: Outcome| {
        image_evidence(o, image)
            .evidence("checked", true)
            .evidence("exists", false)
            .evidence("repository_exists", listing.repository_exists)
            .evidence("tags_found", listing.tags.len())
            .evidence("tags_sample", sample.clone())
            .evidence("tags_listing_complete", listing.complete)
            .evidence("nearest_tag", nearest.clone())
            .evidence("registry_calls", calls.clone())
    };
    let (en, ja) = match listing.repository_exists {
        Some(false) => (
            format!("the registry has no repository {repo}, so {shown} does not exist"),
            format!("レジストリにリポジトリ {repo} がないため、{shown} は存在しません"),
        ),
        _ => {
            let count = if listing.complete {
                listing.tags.len().to_string()
            } else {
                format!("{}+", listing.tags.len())
            };
            let near_en = nearest
                .as_deref()
                .map(|n| format!("; the closest existing tag is {n}"))
                .unwrap_or_default();
            let near_ja = nearest
                .as_deref()
                .map(|n| format!("。最も近い既存のタグは {n} です"))
                .unwrap_or_default();
            (
                format!("{repo} exists ({count} tag(s)) but {shown} is not there{near_en}"),
                format!("{repo} は存在します (タグ {count} 個) が、{shown} はありません{near_ja}"),
            )
        }
    };
    if push_only {
        return decorate(Outcome::info(cx.t(
            format!("{en}: the push will create it"),
            format!("{ja}。プッシュで作成されます"),
        )));
    }
    let msg = cx.t(en, ja);
    let mut f = RawFinding::new(Code::IMAGE_NOT_FOUND, msg.clone())
        .evidence("repository", repo.clone())
        .evidence("repository_exists", listing.repository_exists)
        .evidence("tags_found", listing.tags.len())
        .evidence("tags_sample", sample.clone())
        .evidence("nearest_tag", nearest.clone());
    if let Some(t) = &image.tag {
        f = f.evidence("tag", t.clone());
    }
    if let Some(d) = &image.digest {
        f = f.evidence("digest", d.clone());
    }
    if let (Some(n), Some(t)) = (&nearest, &image.tag) {
        f = f.step(if n.eq_ignore_ascii_case(t) {
            cx.t(
                format!("The repository has the tag {n}, which differs from {t} only in letter case: tags are case-sensitive."),
                format!("リポジトリには {t} と大文字小文字だけが異なるタグ {n} があります。タグは大文字と小文字を区別します。"),
            )
        } else {
            cx.t(
                format!("The repository has a tag {n}, spelt close to {t}: check which one the deployment should use."),
                format!("リポジトリには {t} とつづりの近いタグ {n} があります。デプロイで使うべきタグを確認してください。"),
            )
        });
    }
    decorate(Outcome::fail(msg, f))
}

/// Whether an image serves a platform.
enum PlatformVerdict {
    /// It does (the platforms offered).
    Serves(Vec<Platform>),
    /// It does not (the platforms offered).
    Missing(Vec<Platform>),
    /// Could not tell (why).
    Unknown(String),
}

/// Reads the platforms of a manifest: an index lists them; a single image's configuration blob
/// names its own (read only when the login server serves it: a redirect is not followed).
async fn platform_verdict(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    repo: &str,
    manifest: &Value,
    wanted: &Platform,
    mut calls: Vec<Value>,
) -> (PlatformVerdict, Vec<Value>) {
    let judge = |offered: Vec<Platform>| {
        if offered.iter().any(|p| p.serves(wanted)) {
            PlatformVerdict::Serves(offered)
        } else {
            PlatformVerdict::Missing(offered)
        }
    };
    if let Some(offered) = platform::index_platforms(manifest) {
        return (judge(offered), calls);
    }
    let config = manifest
        .get("config")
        .and_then(|c| c.get("digest"))
        .and_then(Value::as_str)
        .filter(|d| crate::protocol::registry_name::check_digest(d).is_ok())
        .map(str::to_string);
    let Some(config) = config else {
        return (
            PlatformVerdict::Unknown(cx.t(
                "the manifest names no image configuration",
                "マニフェストにイメージ構成がありません",
            )),
            calls,
        );
    };
    let path = format!("/v2/{repo}/blobs/{config}");
    let Some(r) = get(cx, login, token, &path, None, &mut calls).await else {
        return (
            PlatformVerdict::Unknown(cx.t(
                "the image configuration could not be read",
                "イメージ構成を読み取れませんでした",
            )),
            calls,
        );
    };
    let own = r
        .json()
        .filter(|_| r.status == 200)
        .and_then(|c| Platform::from_json(&c));
    match own {
        Some(p) => {
            calls.push(probe_line(
                "GET",
                &path,
                Some(200),
                &format!("image configuration: {p}"),
            ));
            (judge(vec![p]), calls)
        }
        None => {
            let note = match r.status {
                301 | 302 | 303 | 307 | 308 => cx.t(
                    "the image configuration is served from another host (not followed)",
                    "イメージ構成は別のホストから提供されます (たどっていません)",
                ),
                s => cx.t(
                    format!("the image configuration answered {s}"),
                    format!("イメージ構成の応答は {s} でした"),
                ),
            };
            calls.push(probe_line("GET", &path, Some(r.status), &note));
            (PlatformVerdict::Unknown(note), calls)
        }
    }
}

/// The outcome for an image that exists, by whether it has the `--platform` asked for:
/// IMAGE_PLATFORM_MISMATCH when it does not.
fn platform_outcome(
    cx: &CheckCx<'_>,
    shown: &str,
    repo: &str,
    reference: &str,
    wanted: &Platform,
    verdict: PlatformVerdict,
) -> Outcome {
    match verdict {
        PlatformVerdict::Serves(offered) => Outcome::pass(cx.t(
            format!(
                "{shown} exists and has a {wanted} variant (offers {})",
                list(&offered)
            ),
            format!(
                "{shown} は存在し、{wanted} 用のイメージがあります (提供: {})",
                list(&offered)
            ),
        ))
        .evidence("platforms", strings(&offered)),
        PlatformVerdict::Missing(offered) => {
            let msg = cx.t(
                format!("{shown} exists but has no {wanted} variant: it offers {}", list(&offered)),
                format!("{shown} は存在しますが、{wanted} 用のイメージがありません。提供されているのは {} です", list(&offered)),
            );
            let f = RawFinding::new(Code::IMAGE_PLATFORM_MISMATCH, msg.clone())
                .evidence("repository", repo)
                .evidence("reference", reference)
                .evidence("platform_wanted", wanted.to_string())
                .evidence("platforms", strings(&offered));
            Outcome::fail(msg, f).evidence("platforms", strings(&offered))
        }
        PlatformVerdict::Unknown(why) => Outcome::info(cx.t(
            format!("{shown} exists; its platform could not be read ({why})"),
            format!("{shown} は存在しますが、プラットフォームを読み取れませんでした ({why})"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_checks_need_a_tag_or_digest() {
        let args = |r: &str| crate::check_args(&["--name", "x", "--repository", r]).unwrap();
        let check = AuthImage;
        assert!(check.not_requested(&args("app"), Lang::En).is_some());
        assert!(check.not_requested(&args("app:1.0"), Lang::En).is_none());
        let d = format!("app@sha256:{}", "0".repeat(64));
        assert!(check.not_requested(&args(&d), Lang::En).is_none());
        let none = crate::check_args(&["--name", "x"]).unwrap();
        assert!(check.not_requested(&none, Lang::En).is_some());
    }
}
