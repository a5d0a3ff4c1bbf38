//! Listener plumbing: TLS, per-connection client address, request log and network faults.

use crate::fault::Fault;
use crate::{Inner, LoggedRequest};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower::Service;

/// The peer address of the connection a request came on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddr(pub SocketAddr);

/// Which listener a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listener {
    Entra,
    Arm,
    Graph,
    Identity,
    Registry,
}

impl Listener {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Listener::Entra => "entra",
            Listener::Arm => "arm",
            Listener::Graph => "graph",
            Listener::Identity => "identity",
            Listener::Registry => "registry",
        }
    }
}

/// A rustls server config presenting whatever `resolver` picks.
pub(crate) fn tls_config(resolver: Arc<dyn ResolvesServerCert>) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder =
        match ServerConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
            Ok(b) => b,
            // The aws-lc-rs provider always supports the default versions.
            Err(_) => ServerConfig::builder(),
        };
    let mut config = builder.with_no_client_auth().with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// Always the same certificate.
#[derive(Debug)]
pub(crate) struct FixedCert(pub Arc<CertifiedKey>);

impl ResolvesServerCert for FixedCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// The registry listener's certificate: normally the good leaf, or a broken one when a TLS fault
/// applies to the registry named by SNI (no SNI, e.g. an IP address: the default registry).
#[derive(Debug)]
pub(crate) struct RegistryCert(pub std::sync::Weak<Inner>);

impl ResolvesServerCert for RegistryCert {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let inner = self.0.upgrade()?;
        let registry = inner.registry_for_host(hello.server_name().unwrap_or(""));
        let faults = inner.faults_for(registry.as_deref());
        let pki = &inner.pki;
        let pick = if faults.contains(&Fault::TlsWrongName) {
            &pki.wrong_name
        } else if faults.contains(&Fault::TlsExpired) {
            &pki.expired
        } else if faults.contains(&Fault::TlsUntrusted) {
            &pki.untrusted
        } else {
            &pki.registry
        };
        Some(pick.clone())
    }
}

/// Accept connections forever (until the returned task is aborted; that also aborts every
/// connection task). A new connection first waits out its handshakes' round trips (the global
/// `rtt` fault), and is counted in the bed's connection log once its handshake is done.
pub(crate) fn spawn_listener(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    router: axum::Router,
    kind: Listener,
    bed: std::sync::Weak<Inner>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                },
                Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            };
            let _ = stream.set_nodelay(true);
            let router = router.clone();
            let acceptor = acceptor.clone();
            // TCP's handshake, and TLS 1.3's, each cost the client one round trip.
            let handshakes = if acceptor.is_some() { 2 } else { 1 };
            let rtt = bed.upgrade().map(|b| b.connection_rtt_ms()).unwrap_or(0);
            let setup = Duration::from_millis(rtt.saturating_mul(handshakes));
            let bed = bed.clone();
            conns.spawn(async move {
                if !setup.is_zero() {
                    tokio::time::sleep(setup).await;
                }
                let service = hyper::service::service_fn(
                    move |mut req: hyper::Request<hyper::body::Incoming>| {
                        req.extensions_mut().insert(ClientAddr(peer));
                        let mut router = router.clone();
                        async move { router.call(req.map(Body::new)).await }
                    },
                );
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                match acceptor {
                    Some(acceptor) => {
                        let tls = match tokio::time::timeout(
                            Duration::from_secs(10),
                            acceptor.accept(stream),
                        )
                        .await
                        {
                            Ok(Ok(s)) => s,
                            _ => return,
                        };
                        if let Some(bed) = bed.upgrade() {
                            let sni = tls.get_ref().1.server_name().map(str::to_string);
                            bed.log_connection(kind, sni);
                        }
                        let _ = builder
                            .serve_connection_with_upgrades(TokioIo::new(tls), service)
                            .await;
                    }
                    None => {
                        if let Some(bed) = bed.upgrade() {
                            bed.log_connection(kind, None);
                        }
                        let _ = builder
                            .serve_connection_with_upgrades(TokioIo::new(stream), service)
                            .await;
                    }
                }
            });
        }
    })
}

/// The request's Host (HTTP/1 Host header or HTTP/2 authority).
pub(crate) fn request_host(req_headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    req_headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_default()
}

/// Outer middleware of every listener: logs the request and applies the network faults
/// (slow, hang, trickle, and on the registry listener throttled).
pub(crate) async fn front(
    State((inner, listener)): State<(Arc<Inner>, Listener)>,
    req: Request,
    next: Next,
) -> Response {
    let host = request_host(req.headers(), req.uri());
    let registry = if listener == Listener::Registry {
        inner.registry_for_host(&host)
    } else {
        None
    };
    let faults = inner.faults_for(registry.as_deref());
    let mut entry = LoggedRequest {
        listener: listener.name().to_string(),
        method: req.method().to_string(),
        host,
        path: req.uri().path().to_string(),
        query: req.uri().query().map(str::to_string),
        status: 0,
        registry: registry.clone(),
    };
    for f in &faults {
        if let Fault::Slow { ms } | Fault::Rtt { ms } = f {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
        }
    }
    if faults.contains(&Fault::Hang) {
        inner.log(entry.clone());
        std::future::pending::<()>().await;
    }
    let throttle = faults.iter().find_map(|f| match f {
        Fault::Throttled { retry_after_secs } if listener == Listener::Registry => {
            Some(*retry_after_secs)
        }
        _ => None,
    });
    let redirect_to = faults.iter().find_map(|f| match f {
        Fault::Redirect { path, to } if crate::fault::path_matches(path, req.uri().path()) => {
            Some(to.clone())
        }
        _ => None,
    });
    if let Some(to) = redirect_to {
        let pq = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let resp = crate::hostile::redirect(&to, &pq);
        entry.status = resp.status().as_u16();
        inner.log(entry);
        return resp;
    }
    let mangle = faults.iter().find_map(|f| match f {
        Fault::Mangle { path, how } if crate::fault::path_matches(path, req.uri().path()) => {
            Some(*how)
        }
        _ => None,
    });
    let mut resp = match throttle {
        Some(secs) => {
            let mut r = acr_error(
                StatusCode::TOO_MANY_REQUESTS,
                "TOOMANYREQUESTS",
                "too many requests",
                None,
            );
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        None => next.run(req).await,
    };
    entry.status = resp.status().as_u16();
    inner.log(entry);
    if let Some(how) = mangle {
        resp = crate::hostile::mangle(resp, how).await;
    }
    if let Some(interval) = faults.iter().find_map(|f| match f {
        Fault::Trickle { interval_ms } => Some(*interval_ms),
        _ => None,
    }) {
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
            .await
            .unwrap_or_default();
        let stream =
            futures::stream::unfold((bytes, 0usize, true), move |(bytes, i, first)| async move {
                if i >= bytes.len() {
                    return None;
                }
                if !first {
                    tokio::time::sleep(Duration::from_millis(interval.max(1))).await;
                }
                let chunk = bytes.slice(i..i + 1);
                Some((Ok::<_, std::io::Error>(chunk), (bytes, i + 1, false)))
            });
        let mut parts = parts;
        parts.headers.remove(header::CONTENT_LENGTH);
        resp = Response::from_parts(parts, Body::from_stream(stream));
    }
    resp
}

/// ACR / distribution error envelope.
pub(crate) fn acr_error(
    status: StatusCode,
    code: &str,
    message: &str,
    detail: Option<serde_json::Value>,
) -> Response {
    let body =
        serde_json::json!({"errors": [{"code": code, "message": message, "detail": detail}]});
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, value: serde_json::Value) -> Response {
    let mut r = (status, value.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}
