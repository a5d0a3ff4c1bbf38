//! Registry calls that prove what a token allows, without changing anything: the tag list and
//! a manifest (pull), a delete of a digest that cannot exist and a write to an upload that does
//! not exist (only with `--probe-writes`), and where a layer download is sent.

use serde_json::{json, Value};

use crate::checks::{
    ArmRegistry, CheckCx, Credential, LayerDownload, LayerRedirect, LoginServer, Outcome,
    ReferenceProbe, WriteRefusal,
};
use crate::http::HttpResponse;
use crate::redact::Secret;
use crate::trust::Carry;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Proof {
    /// The registry let the call through.
    Allowed,
    /// The registry refused it (401/403).
    Refused,
    /// Not tried, or no clear answer.
    Unknown,
}

pub(super) struct Probes {
    pub(super) calls: Vec<Value>,
    pub(super) pull: Proof,
    pub(super) push: Proof,
    pub(super) delete: Proof,
    pub(super) tags: Vec<String>,
}

/// What the delete and push probes found.
struct WriteProbes {
    calls: Vec<Value>,
    delete: Proof,
    push: Proof,
    /// Writes the registry refused because of a lock (`REGISTRY_DISALLOWED_OPERATION`).
    locked: Vec<WriteRefusal>,
}

/// ACR's answer to a write on a locked repository or image: `405` with
/// `REGISTRY_DISALLOWED_OPERATION`, "The operation is disallowed on this registry, repository or
/// image." (The same words come back when a registry is over its storage quota.)
pub(crate) fn disallowed_by_lock(r: &crate::http::HttpResponse) -> Option<(String, String)> {
    r.registry_errors().into_iter().find(|(code, message)| {
        code == "REGISTRY_DISALLOWED_OPERATION"
            || message
                .to_ascii_lowercase()
                .contains("operation is disallowed on this registry")
    })
}

fn lock_refusal(
    method: &str,
    path: &str,
    r: &crate::http::HttpResponse,
    code: String,
    message: String,
) -> WriteRefusal {
    WriteRefusal {
        call: format!("{method} {path}"),
        status: r.status,
        code,
        message,
    }
}

pub(super) const MANIFEST_ACCEPT: &str =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// Follows one layer download as far as the login server takes it: reads the tag's manifest
/// (and, for a multi-platform index, its first image manifest), asks for the first byte of the
/// image's config blob, and records where the registry sends it (a `307` to a data endpoint or
/// storage account, which is not followed) as the `layer_download` fact. Reads only.
async fn layer_download(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    repo: &str,
    tag: &str,
) -> (Vec<Value>, Option<LayerDownload>) {
    let mut calls = Vec::new();
    let Some(digest) = image_blob(cx, login, token, repo, tag, &mut calls).await else {
        return (calls, None);
    };
    let path = format!("/v2/{repo}/blobs/{digest}");
    let range = [("Range", "bytes=0-0")];
    let Ok(r) = registry_get(cx, login, token, &path, &range, &mut calls).await else {
        return (calls, None);
    };
    let (redirect, note) = where_served(&r);
    let info = LayerDownload {
        repository: repo.to_string(),
        tag: tag.to_string(),
        blob: digest,
        status: r.status,
        redirect,
    };
    calls.push(probe_line("GET", &path, Some(r.status), &note));
    (calls, Some(info))
}

/// The digest of the blob a layer download is tried with: the config (else first layer) of the
/// tag's image manifest, following a multi-platform index to its first image. `None`, with the
/// reason in `calls`, when the manifests do not lead to a well-formed `sha256` digest.
async fn image_blob(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    repo: &str,
    tag: &str,
    calls: &mut Vec<Value>,
) -> Option<String> {
    let mut reference = tag.to_string();
    for _ in 0..2 {
        // Tags and digests come from the registry: only well-formed ones go into a path.
        if !crate::protocol::registry_name::is_reference(&reference) {
            let note = "the registry named a malformed reference; not followed";
            calls.push(probe_line("GET", "-", None, note));
            return None;
        }
        let path = format!("/v2/{repo}/manifests/{reference}");
        let accept = [("Accept", MANIFEST_ACCEPT)];
        let r = registry_get(cx, login, token, &path, &accept, calls)
            .await
            .ok()?;
        let Some(json) = r.json().filter(|_| r.status == 200) else {
            calls.push(probe_line("GET", &path, Some(r.status), &errors_text(&r)));
            return None;
        };
        match manifest_names(&json) {
            Named::Blob(d) => {
                calls.push(probe_line("GET", &path, Some(200), "image manifest read"));
                return Some(d).filter(|d| d.starts_with("sha256:") && d.len() == 71);
            }
            Named::Image(c) => {
                let note = "multi-platform index read; following its first image";
                calls.push(probe_line("GET", &path, Some(200), note));
                reference = c;
            }
            Named::Nothing => {
                let note = "no blob named in the manifest";
                calls.push(probe_line("GET", &path, Some(200), note));
                return None;
            }
        }
    }
    None
}

/// What a manifest names for a layer download.
#[derive(Debug, PartialEq, Eq)]
enum Named {
    /// An image manifest: its config blob (else its first layer).
    Blob(String),
    /// A multi-platform index: its first image manifest.
    Image(String),
    Nothing,
}

fn manifest_names(json: &Value) -> Named {
    let child = json
        .get("manifests")
        .and_then(Value::as_array)
        .and_then(|m| m.first())
        .and_then(|m| m.get("digest"))
        .and_then(Value::as_str);
    let config = json
        .get("config")
        .and_then(|c| c.get("digest"))
        .and_then(Value::as_str)
        .or_else(|| {
            json.get("layers")
                .and_then(Value::as_array)
                .and_then(|l| l.first())
                .and_then(|l| l.get("digest"))
                .and_then(Value::as_str)
        });
    match (config, child) {
        (Some(d), _) => Named::Blob(d.to_string()),
        (None, Some(c)) => Named::Image(c.to_string()),
        (None, None) => Named::Nothing,
    }
}

/// Where the login server's answer to a blob request sends the download (a redirect's target,
/// the host only: the signature of a storage URL is a credential), and the call's note.
fn where_served(r: &crate::http::HttpResponse) -> (Option<LayerRedirect>, String) {
    match r.status {
        301 | 302 | 303 | 307 | 308 => {
            let target = r
                .header("Location")
                .and_then(|l| url::Url::parse(&r.url).ok()?.join(l).ok());
            let Some(t) = target else {
                return (None, "redirect without a usable Location".to_string());
            };
            let host = t.host_str().unwrap_or("").to_ascii_lowercase();
            let port = t.port_or_known_default().unwrap_or(443);
            let note = format!(
                "redirected to {}://{host}:{port} (not followed)",
                t.scheme()
            );
            let redirect = LayerRedirect {
                host,
                port,
                scheme: t.scheme().to_string(),
            };
            (Some(redirect), note)
        }
        200 | 206 => (None, "served by the login server itself".to_string()),
        _ => (None, errors_text(r)),
    }
}

/// An upload id no registry has handed out.
const NO_SUCH_UPLOAD: &str = "acr-doctor-probe-00000000-0000-0000-0000-000000000000";

/// A request to the login server at `path`, with the access token as bearer.
pub(super) fn registry_request(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    method: reqwest::Method,
    path: &str,
) -> reqwest::RequestBuilder {
    cx.ctx
        .http()
        .request(method, format!("{}{path}", login.base_url()))
        .bearer_auth(token.expose())
}

/// GETs `path` from the login server with the access token and `headers`, through the trust
/// gate (the token goes to the login server only). A GET that got no answer is recorded in
/// `calls` and returned as its error's text.
pub(super) async fn registry_get(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    path: &str,
    headers: &[(&str, &str)],
    calls: &mut Vec<Value>,
) -> Result<HttpResponse, String> {
    let mut request = registry_request(cx, login, token, reqwest::Method::GET, path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    registry_send(cx, login, request, "GET", path, calls).await
}

/// Sends a registry request (`method path`, as it is recorded) through the trust gate: the
/// token goes to the login server only. A request that got no answer is recorded in `calls`
/// and returned as its error's text.
async fn registry_send(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    request: reqwest::RequestBuilder,
    method: &str,
    path: &str,
    calls: &mut Vec<Value>,
) -> Result<HttpResponse, String> {
    cx.ctx
        .send_credential(Carry::Registry(login), request)
        .await
        .map_err(|e| {
            calls.push(probe_line(method, path, None, &e.to_string()));
            e.to_string()
        })
}

pub(super) fn probe_line(method: &str, path: &str, status: Option<u16>, note: &str) -> Value {
    json!({"call": format!("{method} {path}"), "status": status, "result": note})
}

pub(super) async fn probe_repository(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    repo: &str,
    reference: Option<&str>,
    try_push: bool,
    try_delete: bool,
) -> Probes {
    let mut p = Probes {
        calls: Vec::new(),
        pull: Proof::Unknown,
        push: Proof::Unknown,
        delete: Proof::Unknown,
        tags: Vec::new(),
    };
    // Pull: list tags, then read the first tag's manifest.
    list_tags(cx, login, token, repo, &mut p).await;
    p.tags
        .retain(|t| crate::protocol::registry_name::is_reference(t));
    // The image named in --repository, else the first tag.
    let probed = reference
        .map(str::to_string)
        .or_else(|| p.tags.first().cloned());
    let mut probed_readable = false;
    if let Some(tag) = probed.clone() {
        probed_readable =
            head_manifest(cx, login, token, repo, &tag, reference.is_some(), &mut p).await;
    }
    // Where layers come from, beside the write probes: one manifest and one blob request.
    let layer_tag = probed
        .filter(|_| probed_readable)
        .or_else(|| p.tags.first().cloned())
        .filter(|_| p.pull == Proof::Allowed);
    let layer = async {
        match &layer_tag {
            Some(tag) => Some(layer_download(cx, login, token, repo, tag).await),
            None => None,
        }
    };
    let writes = async {
        let mut w = WriteProbes {
            calls: Vec::new(),
            delete: Proof::Unknown,
            push: Proof::Unknown,
            locked: Vec::new(),
        };
        if try_delete {
            probe_delete(cx, login, token, repo, &mut w).await;
        }
        if try_push {
            probe_push(cx, login, token, repo, &mut w).await;
        }
        w
    };
    let (layer, w) = futures::join!(layer, writes);
    p.calls.extend(w.calls);
    p.delete = w.delete;
    p.push = w.push;
    if !w.locked.is_empty() {
        cx.facts().write_refusals = w.locked;
    }
    if let Some((calls, info)) = layer {
        p.calls.extend(calls);
        if let Some(info) = info {
            cx.facts().layer_download = Some(info);
        }
    }
    p
}

/// `GET /v2/<repo>/tags/list`: pull allowed (the tags, or no such repository yet) or refused.
async fn list_tags(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    repo: &str,
    p: &mut Probes,
) {
    let path = format!("/v2/{repo}/tags/list");
    let Ok(r) = registry_get(cx, login, token, &path, &[], &mut p.calls).await else {
        return;
    };
    let note = match r.status {
        200 => {
            p.pull = Proof::Allowed;
            p.tags = r
                .json()
                .and_then(|j| j.get("tags").cloned())
                .and_then(|t| t.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect();
            format!("{} tag(s)", p.tags.len())
        }
        404 => {
            p.pull = Proof::Allowed;
            "allowed; the repository does not exist yet".to_string()
        }
        401 | 403 => {
            p.pull = Proof::Refused;
            errors_text(&r)
        }
        _ => errors_text(&r),
    };
    p.calls
        .push(probe_line("GET", &path, Some(r.status), &note));
}

/// `HEAD` of the manifest of `tag`: whether it is readable (pull refused on 401/403); for the
/// image named in `--repository` (`named`), the answer auth.image starts from.
async fn head_manifest(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    repo: &str,
    tag: &str,
    named: bool,
    p: &mut Probes,
) -> bool {
    let path = format!("/v2/{repo}/manifests/{tag}");
    let request = registry_request(cx, login, token, reqwest::Method::HEAD, &path)
        .header("Accept", MANIFEST_ACCEPT);
    let Ok(r) = registry_send(cx, login, request, "HEAD", &path, &mut p.calls).await else {
        return false;
    };
    let note = match r.status {
        200 => format!(
            "manifest readable ({})",
            r.header("Docker-Content-Digest").unwrap_or("no digest")
        ),
        401 | 403 => {
            p.pull = Proof::Refused;
            "refused".to_string()
        }
        s => format!("status {s}"),
    };
    p.calls
        .push(probe_line("HEAD", &path, Some(r.status), &note));
    // The image named in --repository: auth.image starts from this answer.
    if named {
        cx.facts().reference_probe = Some(ReferenceProbe {
            reference: tag.to_string(),
            status: r.status,
            digest: r.header("Docker-Content-Digest").map(str::to_string),
        });
    }
    r.status == 200
}

/// Delete: a manifest whose digest cannot exist; the registry checks delete first.
async fn probe_delete(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    repo: &str,
    w: &mut WriteProbes,
) {
    let path = format!("/v2/{repo}/manifests/sha256:{}", "0".repeat(64));
    let request = registry_request(cx, login, token, reqwest::Method::DELETE, &path);
    let Ok(r) = registry_send(cx, login, request, "DELETE", &path, &mut w.calls).await else {
        return;
    };
    let note = match r.status {
        404 => {
            w.delete = Proof::Allowed;
            format!("delete allowed; nothing to delete ({})", errors_text(&r))
        }
        405 if disallowed_by_lock(&r).is_some() => {
            let (code, message) = disallowed_by_lock(&r).unwrap_or_default();
            w.locked
                .push(lock_refusal("DELETE", &path, &r, code, message));
            format!(
                "refused by a lock on the repository or image ({})",
                errors_text(&r)
            )
        }
        // Deletion switched off on the registry: the rights cannot be told.
        405 => format!(
            "could not prove: deletion is not enabled here ({})",
            errors_text(&r)
        ),
        401 | 403 => {
            w.delete = Proof::Refused;
            errors_text(&r)
        }
        _ => errors_text(&r),
    };
    w.calls
        .push(probe_line("DELETE", &path, Some(r.status), &note));
}

/// Push: touch an upload that does not exist (see below); nothing is written.
async fn probe_push(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    repo: &str,
    w: &mut WriteProbes,
) {
    // Push: touch an upload that does not exist. The registry checks push before it looks
    // the upload up, and writes nothing. (Opening a real upload session and cancelling it
    // is not clean: distribution 2.8 wants `delete` to cancel, and even a cancelled
    // session leaves its hash state in storage.)
    let path = format!("/v2/{repo}/blobs/uploads/{NO_SUCH_UPLOAD}");
    let request = registry_request(cx, login, token, reqwest::Method::PATCH, &path)
        .header("Content-Type", "application/octet-stream")
        .body(Vec::new());
    let Ok(r) = registry_send(cx, login, request, "PATCH", &path, &mut w.calls).await else {
        return;
    };
    let note = match r.status {
        400 | 404 => {
            w.push = Proof::Allowed;
            format!(
                "push allowed; no such upload ({}), nothing written",
                errors_text(&r)
            )
        }
        401 | 403 => {
            w.push = Proof::Refused;
            errors_text(&r)
        }
        _ => match disallowed_by_lock(&r) {
            Some((code, message)) => {
                w.locked
                    .push(lock_refusal("PATCH", &path, &r, code, message));
                format!(
                    "refused by a lock on the repository or image ({})",
                    errors_text(&r)
                )
            }
            None => errors_text(&r),
        },
    };
    w.calls
        .push(probe_line("PATCH", &path, Some(r.status), &note));
}

pub(super) fn errors_text(r: &crate::http::HttpResponse) -> String {
    let errors = r.registry_errors();
    if errors.is_empty() {
        format!("status {}", r.status)
    } else {
        errors
            .iter()
            .map(|(c, m)| format!("{c}: {m}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What the registry probes need: the access token and login server (else a skip), plus the
/// credential, ARM token and registry settings when known.
pub(super) type ProbeInputs = (
    crate::redact::Secret,
    LoginServer,
    Option<Credential>,
    Option<crate::redact::Secret>,
    Option<ArmRegistry>,
);

pub(super) fn probe_inputs(cx: &CheckCx<'_>) -> Result<ProbeInputs, Box<Outcome>> {
    let (token, login, credential, arm_token, reg) = {
        let f = cx.facts();
        (
            f.access_token.clone(),
            f.login_server.clone(),
            f.credential.clone(),
            f.arm_token.clone(),
            f.arm_registry.clone(),
        )
    };
    let (Some(token), Some(login)) = (token, login) else {
        return Err(Box::new(Outcome::skip(cx.t(
            "no access token or login server to test with",
            "確認に使うアクセス トークンまたはログイン サーバーがありません",
        ))));
    };
    cx.ctx.redactor.register(token.expose());
    Ok((token, login, credential, arm_token, reg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, location: Option<&str>, body: &str) -> crate::http::HttpResponse {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(l) = location {
            headers.insert("Location", l.parse().expect("header"));
        }
        crate::http::HttpResponse {
            status,
            headers,
            body: body.as_bytes().to_vec(),
            truncated: false,
            elapsed: Default::default(),
            url: "https://contosoreg.azurecr.io/v2/app/blobs/sha256:0".into(),
        }
    }

    #[test]
    fn an_image_manifest_names_its_config_then_its_first_layer() {
        let m = json!({"config": {"digest": "sha256:c"}, "layers": [{"digest": "sha256:l"}]});
        assert_eq!(manifest_names(&m), Named::Blob("sha256:c".into()));
        let m = json!({"layers": [{"digest": "sha256:l"}, {"digest": "sha256:m"}]});
        assert_eq!(manifest_names(&m), Named::Blob("sha256:l".into()));
        let m = json!({"manifests": [{"digest": "sha256:a"}, {"digest": "sha256:b"}]});
        assert_eq!(manifest_names(&m), Named::Image("sha256:a".into()));
        assert_eq!(manifest_names(&json!({"manifests": []})), Named::Nothing);
        assert_eq!(manifest_names(&json!({})), Named::Nothing);
    }

    #[test]
    fn a_redirect_keeps_only_the_target_host() {
        let r = response(
            307,
            Some("https://contosoreg.eastus.data.azurecr.io/blob?sig=SECRET"),
            "",
        );
        let (redirect, note) = where_served(&r);
        assert_eq!(
            redirect,
            Some(LayerRedirect {
                host: "contosoreg.eastus.data.azurecr.io".into(),
                port: 443,
                scheme: "https".into(),
            })
        );
        assert!(!note.contains("SECRET"));
        // A relative Location is taken against the login server.
        let (redirect, _) = where_served(&response(302, Some("/elsewhere"), ""));
        assert_eq!(redirect.expect("redirect").host, "contosoreg.azurecr.io");
        assert_eq!(where_served(&response(307, None, "")).0, None);
    }

    #[test]
    fn an_answer_without_a_redirect_has_no_target() {
        assert_eq!(where_served(&response(206, None, "")).0, None);
        assert_eq!(where_served(&response(200, None, "")).0, None);
        let body = r#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}"#;
        let (redirect, note) = where_served(&response(404, None, body));
        assert_eq!(redirect, None);
        assert_eq!(note, "BLOB_UNKNOWN: blob unknown");
    }
}
