//! The upstream token cache with an injectable clock: cached while valid, renewed five minutes
//! ahead of expiry, and token failures surface as errors (never as a forwarded request).

use emulator::{EmulatorConfig, Storage};
use gateway::{ClientCredentials, Clock, TokenCache, TokenError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug)]
struct FakeClock(AtomicU64);

impl Clock for FakeClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

async fn emulator() -> emulator::RunningEmulator {
    emulator::start(EmulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        org_url: None,
        storage: Storage::InMemory,
        clients: Vec::new(),
        seed: None,
        protection: None,
    })
    .await
    .unwrap()
}

fn credentials(e: &emulator::RunningEmulator, secret: Option<&str>) -> ClientCredentials {
    let c = &e.clients[0];
    ClientCredentials {
        token_url: emulator::token_url(&e.org_url, "contoso"),
        client_id: c.client_id.clone(),
        client_secret: secret.map_or_else(|| c.client_secret.clone(), str::to_owned),
        scope: format!("{}/.default", e.org_url),
    }
}

#[tokio::test]
async fn cached_until_five_minutes_before_expiry() {
    let e = emulator().await;
    let clock = Arc::new(FakeClock(AtomicU64::new(1_000_000)));
    let cache = TokenCache::new(gateway::http_client().unwrap(), credentials(&e, None), clock.clone());
    let first = cache.token().await.unwrap();
    e.shutdown().await;
    // The token endpoint is gone: a cached token is still served within its lifetime …
    clock.0.fetch_add(3599 - 301, Ordering::SeqCst);
    assert_eq!(cache.token().await.unwrap(), first);
    // … and five minutes before expiry the cache renews, which now fails.
    clock.0.fetch_add(2, Ordering::SeqCst);
    assert!(matches!(cache.token().await, Err(TokenError::Unreachable(_))));
}

#[tokio::test]
async fn a_wrong_secret_is_refused_without_leaking_it() {
    let e = emulator().await;
    let clock = Arc::new(FakeClock(AtomicU64::new(0)));
    let cache = TokenCache::new(gateway::http_client().unwrap(), credentials(&e, Some("wrong-secret-value")), clock);
    let err = cache.token().await.unwrap_err();
    assert!(matches!(err, TokenError::Refused(ref code) if code == "invalid_client"), "{err}");
    assert!(!err.to_string().contains("wrong-secret-value"));
    assert!(!format!("{:?}", credentials(&e, Some("wrong-secret-value"))).contains("wrong-secret-value"));
}
