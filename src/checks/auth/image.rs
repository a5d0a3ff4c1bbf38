//! `auth.image`: the image `--repository REPO:TAG` or `REPO@DIGEST` names exists, and with
//! `--platform` it has a variant for that platform. Access already works when this runs (it
//! needs `auth.repository` to pass), so a missing image is IMAGE_NOT_FOUND, not a permission
//! problem. Reads only: one manifest, and the tag list (bounded) when the manifest is missing.

use futures::future::BoxFuture;
use serde_json::Value;

use super::probes::{errors_text, probe_inputs, probe_line, registry_get, MANIFEST_ACCEPT};
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
    let headers: Vec<_> = accept.map(|a| ("Accept", a)).into_iter().collect();
    registry_get(cx, login, token, path, &headers, calls)
        .await
        .ok()
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
    let lookup = Lookup {
        lang: cx.lang,
        image: &image,
        shown: image.image(),
        path: format!("/v2/{repo}/manifests/{reference}"),
        reference,
    };
    let mut calls = Vec::new();
    // auth.repository already asked `HEAD` of this manifest: without a platform to check, its
    // answer settles existence and saves a round trip.
    let probe = cx
        .facts()
        .reference_probe
        .clone()
        .filter(|p| p.reference == lookup.reference);
    match probe.as_ref().map(|p| p.status) {
        Some(200) if cx.args.platform.is_none() => {
            let digest = probe.as_ref().and_then(|p| p.digest.as_deref());
            return lookup.found_by_probe(digest, calls);
        }
        Some(404) => {
            let note = "not found, as auth.repository found";
            calls.push(probe_line("HEAD", &lookup.path, Some(404), note));
            let listing = list_tags(cx, &login, &token, &repo, &mut calls).await;
            return missing(cx, &image, &lookup.shown, listing, calls);
        }
        _ => {}
    }
    let path = &lookup.path;
    let Some(r) = get(cx, &login, &token, path, Some(MANIFEST_ACCEPT), &mut calls).await else {
        return lookup.unanswered(calls);
    };
    match r.status {
        200 => image_read(cx, &lookup, &login, &token, &r, calls).await,
        404 => {
            calls.push(probe_line("GET", path, Some(404), &errors_text(&r)));
            let listing = list_tags(cx, &login, &token, &repo, &mut calls).await;
            missing(cx, &image, &lookup.shown, listing, calls)
        }
        _ => lookup.unreadable(&r, calls),
    }
}

/// The image looked up, as the outcomes word it.
struct Lookup<'a> {
    lang: Lang,
    image: &'a ImageRef,
    /// The image as the user named it.
    shown: String,
    /// Its tag or digest.
    reference: String,
    /// The path of its manifest.
    path: String,
}

impl Lookup<'_> {
    /// The evidence of an image that exists.
    fn exists(&self, o: Outcome, digest: impl Into<Value>, calls: Vec<Value>) -> Outcome {
        image_evidence(o, self.image)
            .evidence("checked", true)
            .evidence("exists", true)
            .evidence("manifest_digest", digest)
            .evidence("registry_calls", calls)
    }

    /// auth.repository read the manifest (`HEAD`, `digest`): the image exists.
    fn found_by_probe(&self, digest: Option<&str>, mut calls: Vec<Value>) -> Outcome {
        let (shown, digest) = (&self.shown, digest.unwrap_or("-").to_string());
        let note = format!("manifest readable ({digest}), as auth.repository found");
        calls.push(probe_line("HEAD", &self.path, Some(200), &note));
        let o = Outcome::pass(self.lang.t(
            format!("{shown} exists ({digest})"),
            format!("{shown} は存在します ({digest})"),
        ));
        self.exists(o, digest, calls)
    }

    /// The registry did not answer the manifest request.
    fn unanswered(&self, calls: Vec<Value>) -> Outcome {
        let shown = &self.shown;
        let o = Outcome::info(self.lang.t(
            format!("{shown}: could not be looked up: the registry did not answer"),
            format!("{shown}: レジストリが応答しなかったため確認できませんでした"),
        ));
        image_evidence(o, self.image)
            .evidence("checked", false)
            .evidence("registry_calls", calls)
    }

    /// The registry answered the manifest request with neither the manifest nor 404.
    fn unreadable(&self, r: &crate::http::HttpResponse, mut calls: Vec<Value>) -> Outcome {
        let (shown, s, said) = (&self.shown, r.status, errors_text(r));
        calls.push(probe_line("GET", &self.path, Some(s), &said));
        let o = Outcome::info(self.lang.t(
            format!("{shown}: could not be looked up: the registry answered {s} ({said})"),
            format!("{shown}: レジストリの応答が {s} ({said}) だったため確認できませんでした"),
        ));
        image_evidence(o, self.image)
            .evidence("checked", false)
            .evidence("registry_calls", calls)
    }
}

/// The manifest was read (`r`): the image exists, and with `--platform`, whether it has a
/// variant for it.
async fn image_read(
    cx: &CheckCx<'_>,
    lookup: &Lookup<'_>,
    login: &LoginServer,
    token: &Secret,
    r: &crate::http::HttpResponse,
    mut calls: Vec<Value>,
) -> Outcome {
    let digest = r.header("Docker-Content-Digest").map(str::to_string);
    let note = format!(
        "manifest read ({})",
        digest.as_deref().unwrap_or("no digest")
    );
    calls.push(probe_line("GET", &lookup.path, Some(200), &note));
    let shown = &lookup.shown;
    let wanted = cx
        .args
        .platform
        .as_deref()
        .and_then(|p| Platform::parse(p).ok());
    let Some(wanted) = wanted else {
        let shown_digest = digest.as_deref().unwrap_or("-");
        let o = Outcome::pass(cx.t(
            format!("{shown} exists ({shown_digest})"),
            format!("{shown} は存在します ({shown_digest})"),
        ));
        return lookup.exists(o, digest, calls);
    };
    let manifest = r.json().unwrap_or(Value::Null);
    let repo = &lookup.image.repository;
    let (verdict, calls) =
        platform_verdict(cx, login, token, repo, &manifest, &wanted, calls).await;
    let o = platform_outcome(cx, shown, repo, &lookup.reference, &wanted, verdict);
    let o = o.evidence("platform_wanted", wanted.to_string());
    lookup.exists(o, digest, calls)
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
    // Only a push is fine with an image that is not there yet: it creates it.
    let push_only = repository_needs(cx.args).iter().all(|n| *n == "push");
    NotFound::new(image, shown, listing, calls).outcome(cx.lang, push_only)
}

/// An image that is not there, and what the tag list says about it.
struct NotFound<'a> {
    image: &'a ImageRef,
    shown: &'a str,
    listing: Listing,
    /// The existing tag spelt most like the one asked for.
    nearest: Option<String>,
    /// The first existing tags, sorted.
    sample: Vec<String>,
    calls: Vec<Value>,
}

impl<'a> NotFound<'a> {
    fn new(image: &'a ImageRef, shown: &'a str, listing: Listing, calls: Vec<Value>) -> Self {
        let nearest = image
            .tag
            .as_deref()
            .filter(|_| image.digest.is_none())
            .and_then(|t| tag_listing::nearest(t, &listing.tags))
            .map(str::to_string);
        let mut sample = listing.tags.clone();
        sample.sort();
        sample.truncate(TAGS_SHOWN);
        NotFound {
            image,
            shown,
            listing,
            nearest,
            sample,
            calls,
        }
    }

    /// Information when only a push is needed (it creates the image), else IMAGE_NOT_FOUND.
    fn outcome(&self, lang: Lang, push_only: bool) -> Outcome {
        let (en, ja) = self.words();
        if push_only {
            return self.decorate(Outcome::info(lang.t(
                format!("{en}: the push will create it"),
                format!("{ja}。プッシュで作成されます"),
            )));
        }
        let msg = lang.t(en, ja);
        self.decorate(Outcome::fail(msg.clone(), self.finding(lang, msg)))
    }

    fn decorate(&self, o: Outcome) -> Outcome {
        let listing = &self.listing;
        image_evidence(o, self.image)
            .evidence("checked", true)
            .evidence("exists", false)
            .evidence("repository_exists", listing.repository_exists)
            .evidence("tags_found", listing.tags.len())
            .evidence("tags_sample", self.sample.clone())
            .evidence("tags_listing_complete", listing.complete)
            .evidence("nearest_tag", self.nearest.clone())
            .evidence("registry_calls", self.calls.clone())
    }

    /// What is missing, in English and Japanese: the repository, or the image in it.
    fn words(&self) -> (String, String) {
        let (repo, shown, listing) = (&self.image.repository, self.shown, &self.listing);
        if listing.repository_exists == Some(false) {
            return (
                format!("the registry has no repository {repo}, so {shown} does not exist"),
                format!("レジストリにリポジトリ {repo} がないため、{shown} は存在しません"),
            );
        }
        let count = if listing.complete {
            listing.tags.len().to_string()
        } else {
            format!("{}+", listing.tags.len())
        };
        let nearest = self.nearest.as_deref();
        let near_en = nearest
            .map(|n| format!("; the closest existing tag is {n}"))
            .unwrap_or_default();
        let near_ja = nearest
            .map(|n| format!("。最も近い既存のタグは {n} です"))
            .unwrap_or_default();
        (
            format!("{repo} exists ({count} tag(s)) but {shown} is not there{near_en}"),
            format!("{repo} は存在します (タグ {count} 個) が、{shown} はありません{near_ja}"),
        )
    }

    /// IMAGE_NOT_FOUND, with the closest tag as a step when there is one.
    fn finding(&self, lang: Lang, msg: String) -> RawFinding {
        let (image, listing) = (self.image, &self.listing);
        let mut f = RawFinding::new(Code::IMAGE_NOT_FOUND, msg)
            .evidence("repository", image.repository.clone())
            .evidence("repository_exists", listing.repository_exists)
            .evidence("tags_found", listing.tags.len())
            .evidence("tags_sample", self.sample.clone())
            .evidence("nearest_tag", self.nearest.clone());
        if let Some(t) = &image.tag {
            f = f.evidence("tag", t.clone());
        }
        if let Some(d) = &image.digest {
            f = f.evidence("digest", d.clone());
        }
        if let (Some(n), Some(t)) = (&self.nearest, &image.tag) {
            f = f.step(if n.eq_ignore_ascii_case(t) {
                lang.t(
                    format!("The repository has the tag {n}, which differs from {t} only in letter case: tags are case-sensitive."),
                    format!("リポジトリには {t} と大文字小文字だけが異なるタグ {n} があります。タグは大文字と小文字を区別します。"),
                )
            } else {
                lang.t(
                    format!("The repository has a tag {n}, spelt close to {t}: check which one the deployment should use."),
                    format!("リポジトリには {t} とつづりの近いタグ {n} があります。デプロイで使うべきタグを確認してください。"),
                )
            });
        }
        f
    }
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
    use crate::report::CheckStatus;

    fn image(tag: Option<&str>, digest: Option<&str>) -> ImageRef {
        ImageRef {
            repository: "app".into(),
            tag: tag.map(str::to_string),
            digest: digest.map(str::to_string),
        }
    }

    fn listing(exists: Option<bool>, tags: &[&str], complete: bool) -> Listing {
        Listing {
            repository_exists: exists,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            complete,
        }
    }

    fn lookup(image: &ImageRef) -> Lookup<'_> {
        Lookup {
            lang: Lang::En,
            image,
            shown: image.image(),
            reference: image.reference().unwrap_or_default().to_string(),
            path: "/v2/app/manifests/1.0".into(),
        }
    }

    #[test]
    fn auth_repository_s_answer_settles_existence() {
        let i = image(Some("1.0"), None);
        let o = lookup(&i).found_by_probe(Some("sha256:abc"), Vec::new());
        assert_eq!(o.status, CheckStatus::Pass);
        assert_eq!(o.evidence["exists"], true);
        assert_eq!(o.evidence["checked"], true);
        assert_eq!(o.evidence["manifest_digest"], "sha256:abc");
        assert_eq!(o.evidence["tag"], "1.0");
        assert_eq!(o.evidence["registry_calls"][0]["status"], 200);
        let o = lookup(&i).found_by_probe(None, Vec::new());
        assert_eq!(o.evidence["manifest_digest"], "-");
    }

    #[test]
    fn no_clear_answer_is_information_not_checked() {
        let i = image(None, Some("sha256:abc"));
        let o = lookup(&i).unanswered(Vec::new());
        assert_eq!(o.status, CheckStatus::Info);
        assert_eq!(o.evidence["checked"], false);
        assert_eq!(o.evidence["digest"], "sha256:abc");
        let r = crate::http::HttpResponse {
            status: 500,
            headers: Default::default(),
            body: Vec::new(),
            truncated: false,
            elapsed: Default::default(),
            url: String::new(),
        };
        let o = lookup(&i).unreadable(&r, Vec::new());
        assert_eq!(o.status, CheckStatus::Info);
        assert!(o.findings.is_empty());
        assert_eq!(o.evidence["checked"], false);
        assert_eq!(o.evidence["registry_calls"][0]["status"], 500);
    }

    #[test]
    fn a_missing_image_names_the_closest_tag() {
        let i = image(Some("Latest"), None);
        let l = listing(Some(true), &["v2", "latest", "v1"], true);
        let o = NotFound::new(&i, "app:Latest", l, Vec::new()).outcome(Lang::En, false);
        assert_eq!(o.status, CheckStatus::Fail);
        assert_eq!(o.evidence["exists"], false);
        assert_eq!(
            o.evidence["tags_sample"],
            serde_json::json!(["latest", "v1", "v2"])
        );
        assert_eq!(o.evidence["tags_listing_complete"], true);
        let f = &o.findings[0];
        assert_eq!(f.code, Code::IMAGE_NOT_FOUND);
        assert_eq!(f.evidence["nearest_tag"], "latest");
        assert_eq!(f.evidence["tag"], "Latest");
        assert_eq!(f.evidence["tags_found"], 3);
        assert_eq!(f.solution.len(), 1);
    }

    #[test]
    fn a_missing_image_is_fine_for_a_push_and_a_digest_has_no_closest_tag() {
        let i = image(None, Some("sha256:abc"));
        let l = listing(Some(false), &[], true);
        let o = NotFound::new(&i, "app@sha256:abc", l, Vec::new()).outcome(Lang::En, true);
        assert_eq!(o.status, CheckStatus::Info);
        assert!(o.findings.is_empty());
        assert_eq!(o.evidence["repository_exists"], false);
        assert_eq!(o.evidence["nearest_tag"], Value::Null);

        let l = listing(None, &["1.0"], false);
        let o = NotFound::new(&i, "app@sha256:abc", l, Vec::new()).outcome(Lang::En, false);
        let f = &o.findings[0];
        assert_eq!(f.code, Code::IMAGE_NOT_FOUND);
        assert_eq!(f.evidence["digest"], "sha256:abc");
        assert!(f.solution.is_empty());
        assert_eq!(o.evidence["tags_listing_complete"], false);
    }

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
