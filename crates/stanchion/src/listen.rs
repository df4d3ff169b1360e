//! Serving a router on a TCP listener, in plain HTTP or in TLS (rustls over ring), HTTP/1.1 with
//! hyper, stopping gracefully: no new connections once asked to stop, then requests in flight
//! finish.
//!
//! TLS is configured by `listen.tls_cert_file` (the certificate chain, PEM) and
//! `listen.tls_key_file` (its private key, PEM: PKCS#8, PKCS#1 or SEC1), both listeners with the
//! same certificate. What it does not do: client certificates, reloading the certificate without
//! a restart, or HTTP/2.

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS acceptor for `cert_file` and `key_file`.
pub fn tls_acceptor(cert_file: &Path, key_file: &Path) -> Result<TlsAcceptor> {
    let certs = CertificateDer::pem_file_iter(cert_file)
        .with_context(|| format!("listen.tls_cert_file: reading {}", cert_file.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("listen.tls_cert_file: {} is not PEM certificates", cert_file.display()))?;
    anyhow::ensure!(!certs.is_empty(), "listen.tls_cert_file: {} holds no certificate", cert_file.display());
    let key = PrivateKeyDer::from_pem_file(key_file)
        .with_context(|| format!("listen.tls_key_file: no private key in {}", key_file.display()))?;
    gateway::install_crypto_provider();
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("listen.tls_cert_file / tls_key_file: the key does not fit the certificate")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The URL a listener is reached at.
pub fn url(listener: &TcpListener, tls: bool) -> Result<String> {
    Ok(format!("{}://{}", if tls { "https" } else { "http" }, listener.local_addr()?))
}

/// Serves `router` on `listener` until `stop` completes, then lets requests in flight finish.
/// Plain and TLS connections take the same path: one task per connection, HTTP/1.1 with
/// keep-alive, 30 s for a request's headers; handlers see the peer address as
/// `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    stop: impl Future<Output = ()> + Send + 'static,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // Answers are written whole: no reason to hold small writes back.
        let _ = tcp.set_nodelay(true);
        let (tls, router, watcher) = (tls.clone(), router.clone(), graceful.watcher());
        tokio::spawn(async move {
            let Some(tls) = tls else {
                return connection(tcp, peer, router, watcher).await;
            };
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(tcp)).await {
                Ok(Ok(stream)) => connection(stream, peer, router, watcher).await,
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Serves one connection until the client closes it (or, once stopping, its request in flight
/// is answered).
async fn connection<I>(io: I, peer: SocketAddr, router: Router, watcher: hyper_util::server::graceful::Watcher)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request.map(axum::body::Body::new))
    });
    // The timer turns on hyper's 30 s limit for a request's headers (slow clients).
    let connection =
        hyper::server::conn::http1::Builder::new().timer(TokioTimer::new()).serve_connection(TokioIo::new(io), service);
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}
