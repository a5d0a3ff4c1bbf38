//! Real CNCF distribution registries (`docker-registry` 2.8) behind the login server.

use crate::{BedError, Inner};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use sha2::Digest;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// The registry binary: `ACR_TESTBED_REGISTRY_BIN`, else `docker-registry` on PATH.
pub(crate) fn registry_bin() -> Result<PathBuf, BedError> {
    if let Some(bin) = std::env::var_os("ACR_TESTBED_REGISTRY_BIN") {
        let p = PathBuf::from(&bin);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(BedError::RegistryBinaryMissing(p.display().to_string()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("docker-registry"))
        .find(|p| p.is_file())
        .ok_or_else(|| BedError::RegistryBinaryMissing("docker-registry".into()))
}

pub(crate) struct Starting {
    name: String,
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

/// Write the registry's config and start it (not yet listening).
pub(crate) fn spawn(bin: &Path, dir: &Path, name: &str) -> Result<Starting, BedError> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let root = dir.join(format!("registry-{name}"));
    std::fs::create_dir_all(root.join("data"))?;
    let secret = uuid::Uuid::new_v4().simple().to_string();
    let config = format!(
        r#"version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: "{data}"
  delete:
    enabled: true
http:
  addr: "{addr}"
  secret: "{secret}"
auth:
  token:
    realm: "https://{name}.azurecr.io/oauth2/token"
    service: "{name}.azurecr.io"
    issuer: "Azure Container Registry"
    rootcertbundle: "{bundle}"
"#,
        data = root.join("data").display(),
        bundle = dir.join("token-signer.pem").display(),
    );
    let config_path = root.join("config.yml");
    std::fs::write(&config_path, config)?;
    let log = root.join("registry.log");
    let log_file = std::fs::File::create(&log)?;
    let child = Command::new(bin)
        .arg("serve")
        .arg(&config_path)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| BedError::Backend {
            registry: name.into(),
            detail: e.to_string(),
        })?;
    // kill_on_drop covers a normal end; this watchdog also stops the registry if our process is
    // killed outright (it ends by itself once either process is gone).
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("sh")
            .arg("-c")
            .arg("while kill -0 \"$0\" 2>/dev/null && kill -0 \"$1\" 2>/dev/null; do sleep 1; done; kill \"$1\" 2>/dev/null")
            .arg(std::process::id().to_string())
            .arg(pid.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }
    Ok(Starting {
        name: name.into(),
        child,
        addr,
        log,
    })
}

/// Poll until the registry accepts connections (at most 10 s).
pub(crate) async fn wait_ready(mut s: Starting) -> Result<(Child, (String, SocketAddr)), BedError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if tokio::net::TcpStream::connect(s.addr).await.is_ok() {
            return Ok((s.child, (s.name, s.addr)));
        }
        if let Ok(Some(status)) = s.child.try_wait() {
            let log = std::fs::read_to_string(&s.log).unwrap_or_default();
            return Err(BedError::Backend {
                registry: s.name,
                detail: format!("exited with {status}: {log}"),
            });
        }
        if Instant::now() > deadline {
            return Err(BedError::Backend {
                registry: s.name,
                detail: "not listening after 10 s".into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", sha2::Sha256::digest(bytes))
}

/// A gzip stream holding an empty tar archive (1024 zero bytes), built without a gzip crate by
/// using a stored (uncompressed) deflate block.
fn tiny_layer() -> Vec<u8> {
    let tar = vec![0u8; 1024];
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.push(1); // final stored block
    let len = tar.len() as u16;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(&tar);
    out.extend_from_slice(&crc32(&tar).to_le_bytes());
    out.extend_from_slice(&(tar.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

async fn call(
    inner: &Inner,
    method: Method,
    url: &str,
    token: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Result<(StatusCode, axum::http::HeaderMap), BedError> {
    let mut b = Request::builder()
        .method(method)
        .uri(url)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_LENGTH, body.len());
    if let Some(ct) = content_type {
        b = b.header(header::CONTENT_TYPE, ct);
    }
    let req = b
        .body(Body::from(body))
        .map_err(|e| BedError::Registry(e.to_string()))?;
    let resp = inner
        .client
        .request(req)
        .await
        .map_err(|e| BedError::Registry(e.to_string()))?;
    Ok((resp.status(), resp.headers().clone()))
}

async fn upload_blob(
    inner: &Inner,
    base: &str,
    repo: &str,
    token: &str,
    data: Vec<u8>,
) -> Result<String, BedError> {
    let d = digest(&data);
    let (status, headers) = call(
        inner,
        Method::POST,
        &format!("{base}/v2/{repo}/blobs/uploads/"),
        token,
        None,
        Vec::new(),
    )
    .await?;
    if status != StatusCode::ACCEPTED {
        return Err(BedError::Registry(format!(
            "starting a blob upload answered {status}"
        )));
    }
    let location = headers
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .ok_or_else(|| BedError::Registry("blob upload without Location".into()))?;
    // The Location is absolute, built from the Host we sent (the backend itself here).
    let path = match location.find("/v2/") {
        Some(i) => &location[i..],
        None => {
            return Err(BedError::Registry(format!(
                "odd upload location {location}"
            )))
        }
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    let url = format!("{base}{path}{sep}digest={d}");
    let (status, _) = call(
        inner,
        Method::PUT,
        &url,
        token,
        Some("application/octet-stream"),
        data,
    )
    .await?;
    if status != StatusCode::CREATED {
        return Err(BedError::Registry(format!(
            "finishing a blob upload answered {status}"
        )));
    }
    Ok(d)
}

/// Push a tiny image straight to the backend of `registry`.
pub(crate) async fn push_test_image(
    inner: &Inner,
    registry: &str,
    repo: &str,
    tag: &str,
) -> Result<String, BedError> {
    let addr = *inner
        .backends
        .get(&registry.to_ascii_lowercase())
        .ok_or_else(|| BedError::Registry(format!("registry '{registry}' has no real backend")))?;
    let token = crate::login::mint_access_for_test(
        inner,
        registry,
        &[("repository", repo, &["pull", "push"])],
    )?;
    let base = format!("http://{addr}");
    let layer = tiny_layer();
    let layer_size = layer.len();
    let layer_digest = upload_blob(inner, &base, repo, &token, layer.clone()).await?;
    let diff_id = digest(&vec![0u8; 1024]);
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "acr-testbed"}]
    })
    .to_string()
    .into_bytes();
    let config_size = config.len();
    let config_digest = upload_blob(inner, &base, repo, &token, config).await?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": config_size, "digest": config_digest},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": layer_size, "digest": layer_digest}]
    })
    .to_string()
    .into_bytes();
    let manifest_digest = digest(&manifest);
    let (status, _) = call(
        inner,
        Method::PUT,
        &format!("{base}/v2/{repo}/manifests/{tag}"),
        &token,
        Some("application/vnd.docker.distribution.manifest.v2+json"),
        manifest,
    )
    .await?;
    if status != StatusCode::CREATED {
        return Err(BedError::Registry(format!(
            "putting the manifest answered {status}"
        )));
    }
    Ok(manifest_digest)
}

/// What the registry's backend answered to a read of `path` (`/v2/...`), asked with a pull
/// token for `repo`: `None` when there is no backend or it did not answer.
pub(crate) async fn read(
    inner: &Inner,
    registry: &str,
    repo: &str,
    method: Method,
    path: &str,
) -> Option<(StatusCode, axum::http::HeaderMap, Vec<u8>)> {
    use http_body_util::BodyExt;
    let addr = *inner.backends.get(&registry.to_ascii_lowercase())?;
    let token =
        crate::login::mint_access_for_test(inner, registry, &[("repository", repo, &["pull"])])
            .ok()?;
    let req = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(
            header::ACCEPT,
            "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
             application/vnd.docker.distribution.manifest.list.v2+json, \
             application/vnd.docker.distribution.manifest.v2+json",
        )
        .body(Body::empty())
        .ok()?;
    let resp = inner.client.request(req).await.ok()?;
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.ok()?.to_bytes().to_vec();
    Some((parts.status, parts.headers, bytes))
}

/// The tags of `repo` in the backend: `None` when the repository does not exist (or there is no
/// backend).
pub(crate) async fn tags(inner: &Inner, registry: &str, repo: &str) -> Option<Vec<String>> {
    let (status, _, body) = read(
        inner,
        registry,
        repo,
        Method::GET,
        &format!("/v2/{repo}/tags/list"),
    )
    .await?;
    if status != StatusCode::OK {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
    Some(
        v.get("tags")
            .and_then(|t| t.as_array())
            .map(|t| {
                t.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    )
}

/// The digest `reference` (a tag or digest) resolves to in the backend, if it exists.
pub(crate) async fn manifest_digest(
    inner: &Inner,
    registry: &str,
    repo: &str,
    reference: &str,
) -> Option<String> {
    let (status, headers, _) = read(
        inner,
        registry,
        repo,
        Method::HEAD,
        &format!("/v2/{repo}/manifests/{reference}"),
    )
    .await?;
    (status == StatusCode::OK)
        .then(|| {
            headers
                .get("Docker-Content-Digest")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .flatten()
}
