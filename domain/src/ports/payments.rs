//! The payment gateway (PLANS.md B8): customers, cards saved for charging
//! off-session, charges and refunds, in Stripe's API shape. Card numbers
//! never pass through us: the browser hands them to the gateway's own
//! fields, and we keep the ids the gateway gives back.

use async_trait::async_trait;

pub mod stripe;

/// What the browser needs to show the gateway's own card fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardFields {
    /// The gateway's script (`https://js.stripe.com/v3/`).
    pub script_url: String,
    /// The key that script is started with (public by design).
    pub publishable_key: String,
}

/// A card being saved: the browser confirms it with `client_secret`, then
/// the server reads back what was saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupIntent {
    /// `seti_…`.
    pub id: String,
    /// Lets the browser confirm this one setup (never stored).
    pub client_secret: String,
    /// Where the setup stands.
    pub status: SetupStatus,
    /// The customer the card is saved to.
    pub customer: Option<String>,
    /// The saved card, once the setup succeeded.
    pub payment_method: Option<String>,
    /// Whose card it is, as [`PaymentGateway::create_setup_intent`] was told.
    pub owner: Option<String>,
}

/// Where a [`SetupIntent`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupStatus {
    /// The card is saved and may be charged off-session.
    Succeeded,
    /// Waiting for the owner (card details or an authentication).
    Pending,
    /// Abandoned.
    Canceled,
}

/// A saved card as the gateway describes it: never its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// `pm_…`.
    pub id: String,
    /// The customer it is attached to.
    pub customer: Option<String>,
    /// `visa`, `mastercard`, …
    pub brand: String,
    /// The number's last four digits.
    pub last4: String,
    /// Expiry month, 1 to 12.
    pub exp_month: i32,
    /// Expiry year, four digits.
    pub exp_year: i32,
}

/// One charge of a saved card with the owner away (a PaymentIntent
/// confirmed off-session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRequest {
    /// The attempt's id: the same key sent again gets the first answer
    /// again, never a second charge (PLANS.md B5).
    pub idempotency_key: String,
    /// `cus_…`.
    pub customer: String,
    /// `pm_…`.
    pub payment_method: String,
    /// In cents.
    pub amount_cents: i64,
    /// ISO 4217, lower case.
    pub currency: String,
    /// Ids the gateway echoes back in webhooks (`attempt_id`, `payment_id`, `practice_id`).
    pub metadata: Vec<(String, String)>,
}

/// How a charge went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// Charged.
    Succeeded {
        /// `pi_…`.
        intent: String,
    },
    /// Accepted but not yet settled: a webhook will say how it ends.
    Processing {
        /// `pi_…`.
        intent: String,
    },
    /// The card's bank said no.
    Declined {
        /// `pi_…`, when the gateway made one.
        intent: Option<String>,
        /// The gateway's error code (`card_declined`, `expired_card`, …).
        code: String,
        /// The bank's reason (`insufficient_funds`, `lost_card`, …).
        decline_code: Option<String>,
        /// The gateway's words.
        message: String,
    },
    /// The bank wants the owner to confirm this charge themselves.
    AuthenticationRequired {
        /// `pi_…`.
        intent: String,
    },
}

impl ChargeOutcome {
    /// The gateway's reason for a decline, the bank's if it gave one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            ChargeOutcome::Declined { code, decline_code, .. } => Some(decline_code.as_deref().unwrap_or(code)),
            ChargeOutcome::AuthenticationRequired { .. } => Some("authentication_required"),
            _ => None,
        }
    }
}

/// A PaymentIntent as the gateway reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentState {
    /// Stripe's status: `succeeded`, `processing`, `requires_action`, `requires_payment_method`, …
    pub status: String,
    /// Lets the owner's browser confirm this one charge with their bank.
    pub client_secret: String,
}

/// A refund of part or all of a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// Sent again after a timeout, the same key refunds once.
    pub idempotency_key: String,
    /// The charge's `pi_…`.
    pub intent: String,
    /// In cents.
    pub amount_cents: i64,
}

/// Why the gateway could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayError {
    /// Unreachable, timed out, overloaded or failing (5xx, 429): whether it
    /// acted is unknown, so the same request goes again with the same key.
    Unavailable(String),
    /// It refused the request itself (a missing card, a bad id): asking
    /// again will not help.
    Refused {
        /// The gateway's error code.
        code: String,
        /// The gateway's words.
        message: String,
    },
    /// No payment gateway is set up on this server.
    NotConfigured,
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GatewayError::Unavailable(why) => write!(f, "the payment gateway is unavailable: {why}"),
            GatewayError::Refused { code, message } => write!(f, "the payment gateway refused ({code}): {message}"),
            GatewayError::NotConfigured => f.write_str("no payment gateway is configured"),
        }
    }
}

impl std::error::Error for GatewayError {}

/// A payment gateway in Stripe's shape.
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// Its name, recorded on each attempt.
    fn name(&self) -> &'static str;
    /// The browser's card fields; none when cards cannot be saved here.
    fn card_fields(&self) -> Option<CardFields>;
    /// Makes a customer to save cards to.
    async fn create_customer(&self, name: &str, email: Option<&str>) -> Result<String, GatewayError>;
    /// Starts saving a card of `customer` for charges with the owner away,
    /// marked with `owner` (which client of which practice) to check when
    /// it is read back.
    async fn create_setup_intent(&self, customer: &str, owner: &str) -> Result<SetupIntent, GatewayError>;
    /// Reads a setup back.
    async fn setup_intent(&self, id: &str) -> Result<SetupIntent, GatewayError>;
    /// Reads a saved card.
    async fn card(&self, payment_method: &str) -> Result<Card, GatewayError>;
    /// Forgets a saved card.
    async fn detach(&self, payment_method: &str) -> Result<(), GatewayError>;
    /// Charges a saved card with the owner away. A decline is an outcome,
    /// not an error.
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, GatewayError>;
    /// Pays back part or all of a charge; answers the refund's id.
    async fn refund(&self, request: &RefundRequest) -> Result<String, GatewayError>;
    /// Reads a charge back (one the owner confirms with their bank).
    async fn payment_intent(&self, id: &str) -> Result<IntentState, GatewayError>;
}

/// The gateway of a server that takes no card payments: every call says so.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoGateway;

#[async_trait]
impl PaymentGateway for NoGateway {
    fn name(&self) -> &'static str {
        "none"
    }
    fn card_fields(&self) -> Option<CardFields> {
        None
    }
    async fn create_customer(&self, _: &str, _: Option<&str>) -> Result<String, GatewayError> {
        Err(GatewayError::NotConfigured)
    }
    async fn create_setup_intent(&self, _: &str, _: &str) -> Result<SetupIntent, GatewayError> {
        Err(GatewayError::NotConfigured)
    }
    async fn setup_intent(&self, _: &str) -> Result<SetupIntent, GatewayError> {
        Err(GatewayError::NotConfigured)
    }
    async fn card(&self, _: &str) -> Result<Card, GatewayError> {
        Err(GatewayError::NotConfigured)
    }
    async fn detach(&self, _: &str) -> Result<(), GatewayError> {
        Err(GatewayError::NotConfigured)
    }
    async fn charge(&self, _: &ChargeRequest) -> Result<ChargeOutcome, GatewayError> {
        Err(GatewayError::NotConfigured)
    }
    async fn refund(&self, _: &RefundRequest) -> Result<String, GatewayError> {
        Err(GatewayError::NotConfigured)
    }
    async fn payment_intent(&self, _: &str) -> Result<IntentState, GatewayError> {
        Err(GatewayError::NotConfigured)
    }
}
