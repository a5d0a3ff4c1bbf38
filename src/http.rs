//! HTTP through the context: every request traced, every body capped, every error classified.

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

use crate::context::{Context, BODY_CAP};

/// A response read within the time bound, its body capped at [`BODY_CAP`].
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// True when the body was longer than the cap and was cut.
    pub truncated: bool,
    pub elapsed: Duration,
    pub url: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of a header (a challenge may come in several `WWW-Authenticate` lines).
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The registry's error envelope `{"errors":[{"code","message"}]}`, as "CODE: message" lines.
    pub fn registry_errors(&self) -> Vec<(String, String)> {
        let Some(json) = self.json() else {
            return Vec::new();
        };
        json.get("errors")
            .and_then(|e| e.as_array())
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        (
                            e.get("code")
                                .and_then(|c| c.as_str())
                                .unwrap_or("")
                                .to_string(),
                            e.get("message")
                                .and_then(|c| c.as_str())
                                .unwrap_or("")
                                .to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("name resolution failed: {0}")]
    Dns(String),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("proxy failed: {0}")]
    Proxy(String),
    /// The trust gate refused to send: nothing left this machine.
    #[error("{0}")]
    Refused(crate::trust::Refusal),
    #[error("{0}")]
    Other(String),
}

impl Context {
    /// Sends a request that carries no credential. A request with an `Authorization` or
    /// identity header, or with a secret the run knows in its URL or body, is refused: such a
    /// request must name what it carries with [`Context::send_credential`].
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<HttpResponse, HttpError> {
        let built = request
            .build()
            .map_err(|e| HttpError::Other(error_chain(&e)))?;
        if let Some(what) = self.carries_credential(&built) {
            let refusal = crate::trust::Refusal {
                what,
                url: crate::trust::strip_query(built.url()),
                why: "the request did not say which credential it carries (a bug in acr-doctor)"
                    .into(),
            };
            self.trace.push(format!("{} {refusal}", built.method()));
            return Err(HttpError::Refused(refusal));
        }
        self.execute(built, false).await
    }

    /// Sends a request that carries `carry`, after the trust gate agreed that its URL may
    /// receive it ([`crate::trust::Gate::check`]). Managed identity requests never use a proxy.
    pub async fn send_credential(
        &self,
        carry: crate::trust::Carry<'_>,
        request: reqwest::RequestBuilder,
    ) -> Result<HttpResponse, HttpError> {
        let built = request
            .build()
            .map_err(|e| HttpError::Other(error_chain(&e)))?;
        if let Err(refusal) = self.gate.check(carry, built.url()) {
            self.trace.push(format!("{} {refusal}", built.method()));
            return Err(HttpError::Refused(refusal));
        }
        let direct = matches!(carry, crate::trust::Carry::ManagedIdentity);
        self.execute(built, direct).await
    }

    /// What credential a request carries without having said so, if any.
    fn carries_credential(&self, request: &reqwest::Request) -> Option<&'static str> {
        for name in ["authorization", "proxy-authorization", "x-identity-header"] {
            if request.headers().contains_key(name) {
                return Some("an authorization header");
            }
        }
        let body = request
            .body()
            .and_then(|b| b.as_bytes())
            .unwrap_or_default();
        if self.redactor.occurs_in(request.url().as_str().as_bytes())
            || self.redactor.occurs_in(body)
        {
            return Some("a secret of this run");
        }
        None
    }

    /// Sends a built request, reads the response within the time bound, caps the body and
    /// traces it. Loopback hosts (and `direct` requests) never go through a proxy.
    async fn execute(
        &self,
        built: reqwest::Request,
        direct: bool,
    ) -> Result<HttpResponse, HttpError> {
        let bound = self.timeout;
        let started = Instant::now();
        let method = built.method().clone();
        let url = built.url().clone();
        let url_text = url.to_string();
        let loopback = url.host_str().is_some_and(crate::trust::is_loopback_host);
        let client = if direct || loopback {
            self.direct()
        } else {
            self.http()
        };
        let result = tokio::time::timeout(bound, client.execute(built)).await;
        let response = match result {
            Err(_) => {
                self.trace
                    .push(format!("{method} {url_text} -> timeout after {bound:?}"));
                return Err(HttpError::Timeout(bound));
            }
            Ok(Err(e)) => {
                let err = classify(&e, bound);
                self.trace.push(format!(
                    "{method} {url_text} -> {err} ({} ms)",
                    started.elapsed().as_millis()
                ));
                return Err(err);
            }
            Ok(Ok(r)) => r,
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        let mut truncated = false;
        let mut response = response;
        let deadline = started + bound * 2;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(remaining, response.chunk()).await {
                Err(_) => {
                    self.trace.push(format!(
                        "{method} {url_text} -> {status}, body timed out after {:?}",
                        bound * 2
                    ));
                    return Err(HttpError::Timeout(bound * 2));
                }
                Ok(Err(e)) => {
                    let err = classify(&e, bound);
                    self.trace.push(format!(
                        "{method} {url_text} -> {status}, body failed: {err}"
                    ));
                    return Err(err);
                }
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => {
                    let room = BODY_CAP.saturating_sub(body.len());
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
            }
        }
        let elapsed = started.elapsed();
        self.trace.push(format!(
            "{method} {url_text} -> {status} ({} ms, {} bytes{})",
            elapsed.as_millis(),
            body.len(),
            if truncated { ", truncated" } else { "" }
        ));
        Ok(HttpResponse {
            status,
            headers,
            body,
            truncated,
            elapsed,
            url: url_text,
        })
    }
}

/// The whole `source()` chain of an error, joined: the detail a diagnosis needs.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

fn classify(e: &reqwest::Error, bound: Duration) -> HttpError {
    let chain = error_chain(e);
    let lower = chain.to_ascii_lowercase();
    if e.is_timeout() {
        return HttpError::Timeout(bound);
    }
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
        || lower.contains("no such host")
    {
        return HttpError::Dns(chain);
    }
    if lower.contains("proxy") {
        return HttpError::Proxy(chain);
    }
    if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("invalid peer")
        || lower.contains("alert")
    {
        return HttpError::Tls(chain);
    }
    if e.is_connect() {
        return HttpError::Connect(chain);
    }
    HttpError::Other(chain)
}
