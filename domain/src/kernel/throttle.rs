//! Per-address throttling of login attempts, on top of the per-account
//! lockout: one address guessing across many accounts is slowed down
//! before it locks them all.

use std::{num::NonZeroU32, sync::Arc};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Login attempts allowed per client address.
#[derive(Clone)]
pub struct LoginThrottle {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
}

impl LoginThrottle {
    /// Allows `per_minute` attempts a minute per address, in bursts of as many.
    pub fn per_minute(per_minute: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN));
        Self { limiter: Arc::new(RateLimiter::keyed(quota)) }
    }

    /// Whether an attempt from `ip` may go ahead now (no address: allowed).
    pub fn allow(&self, ip: Option<&str>) -> bool {
        match ip {
            Some(ip) => self.limiter.check_key(&ip.to_owned()).is_ok(),
            None => true,
        }
    }
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_allowance() {
        let throttle = LoginThrottle::per_minute(3);
        for _ in 0..3 {
            assert!(throttle.allow(Some("10.0.0.1")));
        }
        assert!(!throttle.allow(Some("10.0.0.1")));
        assert!(throttle.allow(Some("10.0.0.2")));
        assert!(throttle.allow(None));
    }
}
