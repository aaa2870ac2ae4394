//! Traits for the outside world, each with the adapters the runtime modes use:
//! the embedded default and production differ only here.

pub mod bus;
pub mod caches;
pub mod clock;
pub mod delivery;
pub mod payments;
pub mod platform;
pub mod storage;

pub use bus::{Bus, InProcessBus, RedisBus};
pub use clock::{Clock, SystemClock, TestClock};
pub use delivery::{Attachment, DeliveryProvider, DevProvider, SendOutcome};
pub use payments::{NoGateway, PaymentGateway};
pub use storage::Storage;
