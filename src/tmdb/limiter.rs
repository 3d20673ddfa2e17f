//! A token bucket shared by every request of a client (threads included):
//! tokens refill at `rate` per second up to `burst`; a request waits for one.
//! With burst 1 no two requests are closer than 1/rate, so no window of a
//! second ever sees more than `rate` requests.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    pub fn new(rate: f64, burst: f64) -> RateLimiter {
        RateLimiter {
            rate,
            burst: burst.max(1.0),
            state: Mutex::new((burst.max(1.0), Instant::now())),
        }
    }

    /// Blocks until a request may go out.
    pub fn acquire(&self) {
        loop {
            let wait = {
                let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let (tokens, last) = *state;
                let tokens =
                    (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.burst);
                if tokens >= 1.0 {
                    *state = (tokens - 1.0, now);
                    return;
                }
                *state = (tokens, now);
                Duration::from_secs_f64((1.0 - tokens) / self.rate)
            };
            std::thread::sleep(wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_requests_at_the_rate() {
        let limiter = std::sync::Arc::new(RateLimiter::new(50.0, 1.0));
        let start = Instant::now();
        let times: Vec<Duration> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let l = limiter.clone();
                    s.spawn(move || {
                        (0..5)
                            .map(|_| {
                                l.acquire();
                                start.elapsed()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let mut times = times;
        times.sort();
        // 20 requests at 50/s: the first immediately, then one per 20 ms.
        assert!(times[19] >= Duration::from_millis(370), "{:?}", times[19]);
        for pair in times.windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_millis(19), "{pair:?}");
        }
    }
}
