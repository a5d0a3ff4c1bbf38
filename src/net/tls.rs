//! TLS verification: a real handshake with the context's trust, and the certificates it saw.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::net::TcpStream;

use super::proxy::{proxy_connect, proxy_for};
use super::tcp::{tcp_connect, ConnectFailure};
use crate::context::Context;

/// A byte stream to `host:port`: through the proxy when one applies, else to the first of
/// `addresses` that accepts (at most three are tried).
async fn open_stream(
    ctx: &Context,
    host: &str,
    port: u16,
    addresses: &[IpAddr],
) -> Result<(TcpStream, String), ConnectFailure> {
    if let Some(proxy) = proxy_for(ctx, host) {
        let s = proxy_connect(ctx, &proxy, host, port).await?;
        return Ok((s, format!("proxy {}", proxy.display)));
    }
    let mut last = ConnectFailure::Tcp {
        target: format!("{host}:{port}"),
        detail: "no address".into(),
    };
    for addr in addresses.iter().take(3) {
        match tcp_connect(ctx, SocketAddr::new(*addr, port)).await {
            Ok(s) => return Ok((s, SocketAddr::new(*addr, port).to_string())),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The parts of a certificate a diagnosis shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub issuer_cn: Option<String>,
    pub sans: Vec<String>,
    pub not_before: i64,
    pub not_after: i64,
}

impl CertInfo {
    pub fn parse(der: &[u8]) -> Option<CertInfo> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let mut sans = Vec::new();
        if let Ok(Some(ext)) = cert.subject_alternative_name() {
            for name in &ext.value.general_names {
                match name {
                    x509_parser::extensions::GeneralName::DNSName(d) => sans.push(d.to_string()),
                    x509_parser::extensions::GeneralName::IPAddress(b) => {
                        let ip = match b.len() {
                            4 => <[u8; 4]>::try_from(*b).ok().map(IpAddr::from),
                            16 => <[u8; 16]>::try_from(*b).ok().map(IpAddr::from),
                            _ => None,
                        };
                        if let Some(ip) = ip {
                            sans.push(ip.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        let info = CertInfo {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            issuer_cn: cert
                .issuer()
                .iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok())
                .map(str::to_string),
            sans,
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
        };
        Some(info)
    }

    pub fn issuer_name(&self) -> &str {
        self.issuer_cn.as_deref().unwrap_or(&self.issuer)
    }

    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(86_400)
    }

    pub fn evidence(&self) -> Value {
        let fmt = |t: i64| {
            time::OffsetDateTime::from_unix_timestamp(t)
                .ok()
                .and_then(|d| {
                    d.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_else(|| t.to_string())
        };
        json!({
            "subject": self.subject,
            "issuer": self.issuer,
            "sans": self.sans,
            "not_before": fmt(self.not_before),
            "not_after": fmt(self.not_after),
        })
    }
}

/// Accepts any certificate and records the chain: used only to READ the certificate of a
/// failed handshake. Nothing is ever sent over a session it lets through.
#[derive(Debug)]
struct ChainRecorder {
    chain: Mutex<Vec<rustls_pki_types::CertificateDer<'static>>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for ChainRecorder {
    fn verify_server_cert(
        &self,
        end_entity: &rustls_pki_types::CertificateDer<'_>,
        intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if let Ok(mut chain) = self.chain.lock() {
            chain.push(end_entity.clone().into_owned());
            chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        }
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// What went wrong in a handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFault {
    UnknownIssuer,
    NameMismatch,
    Expired,
    NotYetValid,
    OtherCertificate(String),
    /// The server (or something in between) sent an alert.
    Alert(String),
    /// The connection was closed or reset during the handshake.
    CutOff(String),
    Timeout,
    Other(String),
}

impl TlsFault {
    fn from_io(e: &std::io::Error) -> TlsFault {
        use rustls::CertificateError as C;
        if let Some(r) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            return match r {
                rustls::Error::InvalidCertificate(c) => match c {
                    C::UnknownIssuer => TlsFault::UnknownIssuer,
                    C::NotValidForName | C::NotValidForNameContext { .. } => TlsFault::NameMismatch,
                    C::Expired | C::ExpiredContext { .. } => TlsFault::Expired,
                    C::NotValidYet | C::NotValidYetContext { .. } => TlsFault::NotYetValid,
                    other => TlsFault::OtherCertificate(format!("{other:?}")),
                },
                rustls::Error::AlertReceived(a) => TlsFault::Alert(format!("{a:?}")),
                other => TlsFault::Other(other.to_string()),
            };
        }
        match e.kind() {
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::BrokenPipe => TlsFault::CutOff(e.to_string()),
            _ => TlsFault::Other(e.to_string()),
        }
    }

    fn is_certificate(&self) -> bool {
        matches!(
            self,
            TlsFault::UnknownIssuer
                | TlsFault::NameMismatch
                | TlsFault::Expired
                | TlsFault::NotYetValid
                | TlsFault::OtherCertificate(_)
        )
    }
}

/// A finished handshake's facts.
#[derive(Debug, Clone)]
pub struct TlsSession {
    pub peer: String,
    pub version: String,
    pub chain: Vec<CertInfo>,
    pub elapsed: Duration,
}

/// Why a TLS probe failed.
#[derive(Debug, Clone)]
pub enum TlsProbeError {
    Connect(ConnectFailure),
    Handshake {
        peer: String,
        fault: TlsFault,
        /// The chain the server presented, read with a recording verifier.
        chain: Vec<CertInfo>,
    },
}

fn server_name(host: &str) -> Option<rustls_pki_types::ServerName<'static>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    rustls_pki_types::ServerName::try_from(bare.to_string()).ok()
}

async fn handshake(
    ctx: &Context,
    config: Arc<rustls::ClientConfig>,
    stream: TcpStream,
    host: &str,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, TlsFault> {
    let Some(name) = server_name(host) else {
        return Err(TlsFault::Other(format!(
            "{host:?} is not a valid TLS server name"
        )));
    };
    let connector = tokio_rustls::TlsConnector::from(config);
    match tokio::time::timeout(ctx.timeout, connector.connect(name, stream)).await {
        Err(_) => Err(TlsFault::Timeout),
        Ok(Err(e)) => Err(TlsFault::from_io(&e)),
        Ok(Ok(s)) => Ok(s),
    }
}

/// A real TLS handshake to `host:port` with the context's trust, through the proxy when one
/// applies. On a certificate fault the handshake is repeated with a recording verifier, only
/// to read the certificate.
pub async fn probe_tls(
    ctx: &Context,
    host: &str,
    port: u16,
    addresses: &[IpAddr],
) -> Result<TlsSession, TlsProbeError> {
    let started = Instant::now();
    let (stream, peer) = open_stream(ctx, host, port, addresses)
        .await
        .map_err(TlsProbeError::Connect)?;
    match handshake(ctx, ctx.tls.clone(), stream, host).await {
        Ok(tls) => {
            let (_, conn) = tls.get_ref();
            let version = conn
                .protocol_version()
                .map(|v| format!("{v:?}").replace("TLSv1_", "TLS 1."))
                .unwrap_or_default();
            let chain = conn
                .peer_certificates()
                .unwrap_or(&[])
                .iter()
                .filter_map(|c| CertInfo::parse(c))
                .collect();
            ctx.trace.push(format!(
                "tls {host}:{port} via {peer} -> {version} ({} ms)",
                started.elapsed().as_millis()
            ));
            // Dropped without sending anything.
            Ok(TlsSession {
                peer,
                version,
                chain,
                elapsed: started.elapsed(),
            })
        }
        Err(fault) => {
            ctx.trace
                .push(format!("tls {host}:{port} via {peer} -> {fault:?}"));
            let mut chain = Vec::new();
            if fault.is_certificate() {
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let recorder = Arc::new(ChainRecorder {
                    chain: Mutex::new(Vec::new()),
                    provider: provider.clone(),
                });
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map(|b| {
                        b.dangerous()
                            .with_custom_certificate_verifier(recorder.clone())
                            .with_no_client_auth()
                    });
                if let (Ok(config), Ok((stream, _))) =
                    (config, open_stream(ctx, host, port, addresses).await)
                {
                    // The session (if any) is dropped unused.
                    let _ = handshake(ctx, Arc::new(config), stream, host).await;
                }
                let recorded: Vec<rustls_pki_types::CertificateDer<'static>> =
                    recorder.chain.lock().map(|c| c.clone()).unwrap_or_default();
                chain = recorded.iter().filter_map(|c| CertInfo::parse(c)).collect();
            }
            Err(TlsProbeError::Handshake { peer, fault, chain })
        }
    }
}
